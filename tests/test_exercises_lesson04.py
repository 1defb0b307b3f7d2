"""Lesson 04's exercise checks: each common mistake gets its own message, and none gives the answer away."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import exercises
from helpers.exercises import check_add_time_ids, check_attention_probabilities, check_classifier_free_guidance


def verdict(check, answer):
    exercises.RESULTS.clear()
    check(answer)
    (result,) = exercises.RESULTS.values()
    return result


# --- 1. classifier-free guidance -----------------------------------------------------------------


def right_guidance(noise_pred, guidance_scale):
    noise_pred_uncond, noise_pred_text = noise_pred.chunk(2)
    return noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond)


def test_guidance_right_answer_is_right():
    assert verdict(check_classifier_free_guidance, right_guidance).ok is True


def test_guidance_the_rearranged_formula_is_right_too():
    def rearranged(noise_pred, guidance_scale):
        uncond, text = noise_pred.chunk(2)
        return guidance_scale * text + (1 - guidance_scale) * uncond

    assert verdict(check_classifier_free_guidance, rearranged).ok is True


def test_guidance_unfilled_is_not_done_yet():
    def unfilled(noise_pred, guidance_scale):
        ...

    assert verdict(check_classifier_free_guidance, unfilled).ok is None


@pytest.mark.parametrize("wrong, words", [
    (lambda p, g: p.chunk(2)[1] + g * (p.chunk(2)[0] - p.chunk(2)[1]), "swapped"),
    (lambda p, g: p.chunk(2)[1] + g * (p.chunk(2)[1] - p.chunk(2)[0]), "start from the unconditional"),
    (lambda p, g: p.chunk(2)[0] + g * (p.chunk(2)[0] - p.chunk(2)[1]), "wrong way"),
    (lambda p, g: g * (p.chunk(2)[1] - p.chunk(2)[0]), "starting point"),
    (lambda p, g: p.chunk(2)[0] + g * p.chunk(2)[1], "difference between the two"),
    (lambda p, g: p.chunk(2)[1], "prompt's prediction unchanged"),
    (lambda p, g: p.chunk(2)[0], "unconditional prediction unchanged"),
    (lambda p, g: p.chunk(2)[0] + (p.chunk(2)[1] - p.chunk(2)[0]) / g, "divided"),
    (lambda p, g: p, "split"),
    (lambda p, g: p.chunk(2, dim=1)[0] + g * (p.chunk(2, dim=1)[1] - p.chunk(2, dim=1)[0]), "channels"),
    (lambda p, g: p.chunk(2), "one tensor"),
    (lambda p, g: p.chunk(2)[0] + 7.5 * (p.chunk(2)[1] - p.chunk(2)[0]), "nothing fixed"),
])
def test_guidance_common_mistakes_get_their_own_message(wrong, words):
    result = verdict(check_classifier_free_guidance, wrong)
    assert result.ok is False and words in result.message


def test_guidance_an_exception_is_reported_not_raised():
    def broken(noise_pred, guidance_scale):
        return noise_pred.chunk(3)[5]

    result = verdict(check_classifier_free_guidance, broken)
    assert result.ok is False and "IndexError" in result.message


# --- 2. add_time_ids from PIL conventions ----------------------------------------------------------


def right_time_ids(photo_size, box, picture_size):
    (photo_width, photo_height), (left, top, _, _), (width, height) = photo_size, box, picture_size
    return torch.tensor([[photo_height, photo_width, top, left, height, width]], dtype=torch.float32)


def time_ids_from(order):
    """An answer that builds the six numbers with `order(photo_w, photo_h, left, top, right, bottom, w, h)`."""
    def answer(photo_size, box, picture_size):
        return torch.tensor([order(*photo_size, *box, *picture_size)], dtype=torch.float32)

    return answer


def test_time_ids_right_answer_is_right():
    assert verdict(check_add_time_ids, right_time_ids).ok is True


@pytest.mark.parametrize("order, words", [
    (lambda pw, ph, l, t, r, b, w, h: [pw, ph, t, l, h, w], "PIL sizes are (width, height)"),
    (lambda pw, ph, l, t, r, b, w, h: [ph, pw, l, t, h, w], "(top, left)"),
    (lambda pw, ph, l, t, r, b, w, h: [ph, pw, t, l, w, h], "target_size is (height, width)"),
    (lambda pw, ph, l, t, r, b, w, h: [t, l, ph, pw, h, w], "wrong order"),
    (lambda pw, ph, l, t, r, b, w, h: [b - t, r - l, t, l, h, w], "whole photo"),
    (lambda pw, ph, l, t, r, b, w, h: [ph, pw, b, r, h, w], "top-left"),
    (lambda pw, ph, l, t, r, b, w, h: [ph, pw, t, l, b - t, r - l], "not the crop's"),
    (lambda pw, ph, l, t, r, b, w, h: [1024, 1536, 128, 256, 768, 1024], "nothing fixed"),
])
def test_time_ids_common_mistakes_get_their_own_message(order, words):
    result = verdict(check_add_time_ids, time_ids_from(order))
    assert result.ok is False and words in result.message


def test_time_ids_shape_type_and_count_are_explained():
    flat = lambda *args: right_time_ids(*args)[0]  # noqa: E731
    assert "(1, 6)" in verdict(check_add_time_ids, flat).message
    whole = lambda *args: right_time_ids(*args).long()  # noqa: E731
    assert "floats" in verdict(check_add_time_ids, whole).message
    listed = lambda *args: right_time_ids(*args).tolist()  # noqa: E731
    assert "torch tensor" in verdict(check_add_time_ids, listed).message
    four = lambda *args: right_time_ids(*args)[:, :4]  # noqa: E731
    assert "6 numbers" in verdict(check_add_time_ids, four).message


def test_time_ids_message_never_contains_the_numbers():
    result = verdict(check_add_time_ids, time_ids_from(lambda pw, ph, l, t, r, b, w, h: [pw, ph, t, l, h, w]))
    assert "1024" not in result.message and "1536" not in result.message


# --- 3. attention probabilities ------------------------------------------------------------------


def right_attention(query, key):
    return (query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1])).softmax(dim=-1)


def test_attention_right_answer_is_right():
    assert verdict(check_attention_probabilities, right_attention).ok is True


def test_attention_matches_diffusers_get_attention_scores():
    from diffusers.models.attention_processor import Attention

    attn = Attention(query_dim=16, heads=2, dim_head=8)
    query, key = torch.randn(2, 6, 8), torch.randn(2, 5, 8)
    assert torch.allclose(attn.get_attention_scores(query, key), right_attention(query, key), atol=1e-6)


@pytest.mark.parametrize("wrong, words", [
    (lambda q, k: (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(dim=-2), "over the positions"),
    (lambda q, k: (q @ k.transpose(-1, -2)).softmax(dim=-1), "1/√d"),
    (lambda q, k: (q @ k.transpose(-1, -2) / q.shape[-1]).softmax(dim=-1), "not 1/d"),
    (lambda q, k: (q @ k.transpose(-1, -2) * math.sqrt(q.shape[-1])).softmax(dim=-1), "multiplied by √d"),
    (lambda q, k: q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), "not probabilities yet"),
    (lambda q, k: (k @ q.transpose(-1, -2) / math.sqrt(q.shape[-1])).softmax(dim=-1), "(heads, positions, tokens)"),
    (lambda q, k: q.sum(), "shape"),
])
def test_attention_common_mistakes_get_their_own_message(wrong, words):
    result = verdict(check_attention_probabilities, wrong)
    assert result.ok is False and words in result.message


def test_attention_unfilled_is_not_done_yet():
    def unfilled(query, key):
        ...

    assert verdict(check_attention_probabilities, unfilled).ok is None
