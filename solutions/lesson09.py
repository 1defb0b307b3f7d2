"""Solutions to the exercises of lesson 09: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "jittered_wait": """
def jittered_wait(attempt, backoff, max_wait, rng):
    return rng.uniform(0, min(backoff * 2**attempt, max_wait))


check_jittered_wait(jittered_wait)
""",
    "what_to_do": """
def what_to_do(status):
    if status in (429, 502, 503, 504):
        return "retry"
    return {401: "token", 403: "token", 402: "credits", 404: "model", 410: "model"}[status]


check_what_to_do(what_to_do)
""",
}
