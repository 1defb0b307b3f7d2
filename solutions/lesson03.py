"""Solutions to the exercises of lesson 03: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {}
