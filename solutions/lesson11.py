"""Solutions to the exercises of lesson 11: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "padded_batches": """
from helpers.exercises import check_gpus_needed, check_padded_batches


def padded_batches(items, batch_size):
    batches = []
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        batches.append((batch + [batch[-1]] * (batch_size - len(batch)), len(batch)))
    return batches


check_padded_batches(padded_batches)
""",
    "gpus_needed": """
import math


def gpus_needed(pictures, seconds_per_picture, hours, startup_seconds):
    seconds_each = hours * 3600 - startup_seconds  # what every GPU has left after its own start-up
    return math.ceil(pictures * seconds_per_picture / seconds_each)


check_gpus_needed(gpus_needed)
""",
}
