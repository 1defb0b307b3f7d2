"""Lesson 12's exercise checks: each common mistake gets its own message, and none gives the answer away."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import exercises
from helpers.exercises import check_ddim_inversion_step, check_mask_to_latent_grid


def verdict(check, answer):
    check(answer)
    return exercises.RESULTS[check.__name__.removeprefix("check_")]


# 1. the mask on the latent grid


def pixels_of(mask):
    return torch.from_numpy(np.asarray(mask.convert("L"), dtype=np.float32) / 255)[None, None]


def right_grid(mask, vae_scale_factor):
    binary = (pixels_of(mask) >= 0.5).float()
    return torch.nn.functional.interpolate(binary, size=(mask.height // vae_scale_factor, mask.width // vae_scale_factor))


def strided(mask, vae_scale_factor):  # the same cells, read by slicing
    return (pixels_of(mask) >= 0.5).float()[..., ::vae_scale_factor, ::vae_scale_factor]


def inverted(mask, f):
    return 1 - right_grid(mask, f)


def averaged(mask, f):
    return torch.nn.functional.avg_pool2d((pixels_of(mask) >= 0.5).float(), f)


def not_rounded(mask, f):
    return torch.nn.functional.interpolate(pixels_of(mask), size=(mask.height // f, mask.width // f))


def not_divided(mask, f):
    return right_grid(mask, f) * 255


def no_batch(mask, f):
    return right_grid(mask, f)[0, 0]


def an_array(mask, f):
    return right_grid(mask, f).numpy()


def broken(mask, f):
    return mask.no_such_thing


@pytest.mark.parametrize("function", [right_grid, strided])
def test_mask_to_latent_grid_accepts_nearest_neighbour_or_slicing(function):
    assert verdict(check_mask_to_latent_grid, function).ok is True


def test_mask_to_latent_grid_not_done_yet_while_the_body_is_a_placeholder():
    def mask_to_latent_grid(mask, vae_scale_factor):
        ...

    assert verdict(check_mask_to_latent_grid, mask_to_latent_grid).ok is None


@pytest.mark.parametrize("function, says", [
    (inverted, "inverted"), (averaged, "averages each block"), (not_rounded, "neither 0 nor 1"),
    (not_divided, "divide the pixels by 255"), (no_batch, "[None, None]"), (an_array, "torch tensor"),
    (broken, "your function raised AttributeError"),
])
def test_mask_to_latent_grid_names_the_common_mistakes(function, says):
    result = verdict(check_mask_to_latent_grid, function)
    assert result.ok is False and says in result.message


# 2. one DDIM inversion step


def right_step(latents, noise_pred, alpha_bar, alpha_bar_next):
    x0 = (latents - (1 - alpha_bar) ** 0.5 * noise_pred) / alpha_bar**0.5
    return alpha_bar_next**0.5 * x0 + (1 - alpha_bar_next) ** 0.5 * noise_pred


def denoising(latents, noise_pred, alpha_bar, alpha_bar_next):
    return right_step(latents, noise_pred, alpha_bar_next, alpha_bar)


def no_roots(latents, noise_pred, alpha_bar, alpha_bar_next):
    x0 = (latents - (1 - alpha_bar) * noise_pred) / alpha_bar
    return alpha_bar_next * x0 + (1 - alpha_bar_next) * noise_pred


def latents_as_x0(latents, noise_pred, alpha_bar, alpha_bar_next):
    return alpha_bar_next**0.5 * latents + (1 - alpha_bar_next) ** 0.5 * noise_pred


def test_ddim_inversion_step_accepts_the_formula():
    assert verdict(check_ddim_inversion_step, right_step).ok is True


def test_ddim_inversion_step_not_done_yet_while_the_body_is_a_placeholder():
    def ddim_inversion_step(latents, noise_pred, alpha_bar, alpha_bar_next):
        ...

    assert verdict(check_ddim_inversion_step, ddim_inversion_step).ok is None


@pytest.mark.parametrize("function, says", [
    (denoising, "denoising step"), (no_roots, "square root"), (latents_as_x0, "not x0 yet"),
    (lambda latents, noise_pred, a, b: latents[0], "shape"),
])
def test_ddim_inversion_step_names_the_common_mistakes(function, says):
    result = verdict(check_ddim_inversion_step, function)
    assert result.ok is False and says in result.message
