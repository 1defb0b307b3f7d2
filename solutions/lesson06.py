"""Solutions to the exercises of lesson 06: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "steps_of_the_base": """
def steps_of_the_base(scheduler, denoising_end, num_inference_steps):
    scheduler.set_timesteps(num_inference_steps)
    cutoff = int(round(scheduler.config.num_train_timesteps * (1 - denoising_end)))
    return sum(int(t) >= cutoff for t in scheduler.timesteps)

check_steps_of_the_base(steps_of_the_base)
""",
    "refiner_strength": """
refiner_strength = 7 / 30  # the refiner ran 30 - 23 = 7 steps; any strength in [7/30, 8/30) runs int(30 × strength) = 7
check_refiner_strength(refiner_strength)
""",
}
