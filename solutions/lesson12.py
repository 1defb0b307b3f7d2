"""Solutions to the exercises of lesson 12: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "mask_to_latent_grid": """
def mask_to_latent_grid(mask, vae_scale_factor):
    pixels = torch.from_numpy(np.asarray(mask.convert("L"), dtype=np.float32) / 255)[None, None]
    binary = (pixels >= 0.5).float()  # the pipeline's mask processor rounds at half brightness
    size = (mask.height // vae_scale_factor, mask.width // vae_scale_factor)
    return torch.nn.functional.interpolate(binary, size=size)  # nearest neighbour: one pixel per cell

check_mask_to_latent_grid(mask_to_latent_grid)
""",
    "ddim_inversion_step": """
def ddim_inversion_step(latents, noise_pred, alpha_bar, alpha_bar_next):
    x0 = (latents - (1 - alpha_bar) ** 0.5 * noise_pred) / alpha_bar**0.5
    return alpha_bar_next**0.5 * x0 + (1 - alpha_bar_next) ** 0.5 * noise_pred

check_ddim_inversion_step(ddim_inversion_step)
""",
}
