"""Solutions to the exercises of lesson 03: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "add_noise": """
def add_noise(x0, noise, timesteps, scheduler):
    alpha_bar = scheduler.alphas_cumprod[timesteps].view(-1, 1, 1, 1)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise

check_add_noise(add_noise)
""",
    "velocity": """
def velocity(x0, noise, timesteps, scheduler):
    alpha_bar = scheduler.alphas_cumprod[timesteps].view(-1, 1, 1, 1)
    return alpha_bar.sqrt() * noise - (1 - alpha_bar).sqrt() * x0

check_velocity(velocity)
""",
    "ema_update": """
def ema_update(average, weights, decay):
    return decay * average + (1 - decay) * weights

check_ema_update(ema_update)
""",
}
