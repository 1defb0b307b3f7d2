"""Solutions to the exercises of lesson 01: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "posterior_mean": """
def posterior_mean(x0, x_t, alpha_prod_t, alpha_prod_prev):
    beta_t = 1 - alpha_prod_t / alpha_prod_prev
    coefficient_x0 = alpha_prod_prev.sqrt() * beta_t / (1 - alpha_prod_t)
    coefficient_xt = (1 - beta_t).sqrt() * (1 - alpha_prod_prev) / (1 - alpha_prod_t)
    return coefficient_x0 * x0 + coefficient_xt * x_t

check_posterior_mean(posterior_mean)
""",
    "timestep_embedding": """
import math

def timestep_embedding(timesteps, dim):
    half = dim // 2
    frequencies = torch.exp(-math.log(10000) * torch.arange(half) / half)
    angles = timesteps.float()[:, None] * frequencies[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)

check_timestep_embedding(timestep_embedding)
""",
}
