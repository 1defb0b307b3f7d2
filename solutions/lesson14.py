"""Solutions to the exercises of lesson 14: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "boundary_scalings": """
def boundary_scalings(timestep, sigma_data=0.5, timestep_scaling=10.0):
    scaled_timestep = timestep * timestep_scaling
    c_skip = sigma_data**2 / (scaled_timestep**2 + sigma_data**2)
    c_out = scaled_timestep / (scaled_timestep**2 + sigma_data**2) ** 0.5
    return c_skip, c_out

check_boundary_scalings(boundary_scalings)
""",
    "ddim_solver_step": """
def ddim_solver_step(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
    alpha_bar_t = alphas_cumprod[timestep].view(-1, 1, 1, 1)
    alpha_bar_prev = alphas_cumprod[previous_timestep].view(-1, 1, 1, 1)
    pred_x0 = (latents - (1 - alpha_bar_t) ** 0.5 * noise_pred) / alpha_bar_t**0.5
    return alpha_bar_prev**0.5 * pred_x0 + (1 - alpha_bar_prev) ** 0.5 * noise_pred

check_ddim_solver_step(ddim_solver_step)
""",
}
