"""Solutions to the exercises of lesson 00: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "latent_shape": """
latent_shape = (1, 4, 768 // 8, 1024 // 8)
check_latent_shape(latent_shape)
""",
    "unet_gib": """
unet_parameters = 2_567_463_684
unet_gib = unet_parameters * 2 / 2**30
check_unet_gib(unet_gib)
""",
}
