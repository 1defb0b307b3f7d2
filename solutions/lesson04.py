"""Solutions to the exercises of lesson 04: for instructors. Each entry is the filled-in exercise cell."""

SOLUTIONS: dict[str, str] = {
    "classifier_free_guidance": '''
def classifier_free_guidance(noise_pred, guidance_scale):
    """noise_pred: the UNet's output for the doubled batch, the negative branch first, then the prompt's."""
    noise_pred_uncond, noise_pred_text = noise_pred.chunk(2)
    return noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond)

check_classifier_free_guidance(classifier_free_guidance)
''',
    "add_time_ids": '''
def make_add_time_ids(photo_size, box, picture_size):
    """photo_size, picture_size: PIL sizes (width, height); box: a PIL crop box (left, top, right, bottom)."""
    (photo_width, photo_height), (left, top, right, bottom), (width, height) = photo_size, box, picture_size
    original_size, crops_coords_top_left, target_size = (photo_height, photo_width), (top, left), (height, width)
    return torch.tensor([list(original_size + crops_coords_top_left + target_size)], dtype=torch.float32)

check_add_time_ids(make_add_time_ids)
''',
    "attention_probabilities": '''
def attention_probabilities(query, key):
    """query: (heads, positions, d); key: (heads, tokens, d). Returns (heads, positions, tokens)."""
    scores = query @ key.transpose(-1, -2) / query.shape[-1] ** 0.5
    return scores.softmax(dim=-1)

check_attention_probabilities(attention_probabilities)
''',
}
