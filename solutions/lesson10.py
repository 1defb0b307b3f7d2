"""Solutions to the exercises of lesson 10: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "lora_forward": """
from helpers.exercises import check_lora_forward, check_training_target


def lora_forward(x, W, A, B, alpha, rank):
    return x @ W.T + (alpha / rank) * (x @ A.T) @ B.T


check_lora_forward(lora_forward)
""",
    "training_target": """
def training_target(latents, noise, timesteps, scheduler):
    if scheduler.config.prediction_type == "epsilon":
        return noise
    alphas_cumprod = scheduler.alphas_cumprod[timesteps].view(-1, 1, 1, 1)
    return alphas_cumprod.sqrt() * noise - (1 - alphas_cumprod).sqrt() * latents


check_training_target(training_target)
""",
}
