"""Solutions to the exercises of lesson 02: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "euler_step": """
def euler_step(sample, noise_pred, sigma, sigma_next):
    pred_original_sample = sample - sigma * noise_pred
    derivative = (sample - pred_original_sample) / sigma
    return sample + derivative * (sigma_next - sigma)

check_euler_step(euler_step)
""",
    "init_noise_sigma": """
betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000) ** 2  # SDXL's scaled_linear schedule
alphas_cumprod = torch.cumprod(1 - betas, dim=0)
first_timestep = 958  # where SDXL's 30 steps start (leading spacing, section 2)
sigma = ((1 - alphas_cumprod[first_timestep]) / alphas_cumprod[first_timestep]) ** 0.5
init_noise_sigma = (sigma**2 + 1) ** 0.5
check_init_noise_sigma(init_noise_sigma)
""",
}
