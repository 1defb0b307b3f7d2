"""Solutions to the exercises of lesson 07: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "strength_for_six_steps": """
strength_for_six_steps = 6 / 30  # any strength in [0.2, 0.2333...) runs int(30 × strength) = 6 steps
check_strength_for_six_steps(strength_for_six_steps)
""",
    "surviving_share": """
def surviving_share(scheduler, strength, num_inference_steps):
    scheduler.set_timesteps(num_inference_steps)
    t_start = num_inference_steps - int(num_inference_steps * strength)  # the first step that runs
    sigma = scheduler.sigmas[t_start]
    return 1 / (1 + sigma**2) ** 0.5

check_surviving_share(surviving_share)
""",
}
