"""Solutions to the exercises of lesson 08: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "base_gpu_gib": """
parameters = helpers.memory.PARAMETERS["sdxl-base"]  # parameters of each part of SDXL base
working_gib = helpers.memory.WORKING_GIB  # GiB of working memory of each stage at 1024x1024

weights_gib = sum(parameters.values()) * 2 / 2**30
gpu_gib = (weights_gib + max(working_gib.values())) * 1.1
check_base_gpu_gib(gpu_gib)
""",
    "pick_placement": """
def pick_placement(needs, gpu_gib, host_gib):
    for placement, (gpu_need, host_need) in needs.items():
        if gpu_need <= gpu_gib and host_need <= host_gib:
            return placement
    return None


check_pick_placement(pick_placement)
""",
    "break_even": """
import math


def pictures_to_break_even(compile_seconds, eager_seconds, compiled_seconds):
    saved = eager_seconds - compiled_seconds
    if saved <= 0:
        return None
    return math.ceil(compile_seconds / saved)


check_break_even(pictures_to_break_even)
""",
}
