"""Solutions to the exercises of lesson 13: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "weight_token": """
def weight_token(z, empty_z, position, weight):
    weighted = z.clone()
    weighted[:, position] = empty_z[:, position] + (z[:, position] - empty_z[:, position]) * weight
    return weighted

check_weight_token(weight_token)
""",
    "controlnet_keep": """
def controlnet_keep(num_inference_steps, start, end):
    n = num_inference_steps
    return [1.0 - float(i / n < start or (i + 1) / n > end) for i in range(n)]

check_controlnet_keep(controlnet_keep)
""",
}
