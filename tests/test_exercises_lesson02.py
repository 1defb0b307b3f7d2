"""Lesson 02's exercise checks: they say right, or which common slip was made, without the answer."""

import pytest
import torch

from helpers import exercises
from helpers.exercises import check_euler_step, check_init_noise_sigma


def verdict(name):
    return exercises.RESULTS[name]


def euler_step_right(sample, noise_pred, sigma, sigma_next):
    pred_original_sample = sample - sigma * noise_pred
    return sample + (sample - pred_original_sample) / sigma * (sigma_next - sigma)


def test_the_right_euler_step_passes_and_an_unfilled_one_is_not_done_yet():
    check_euler_step(euler_step_right)
    assert verdict("euler_step").ok is True
    check_euler_step(lambda sample, noise_pred, sigma, sigma_next: ...)
    assert verdict("euler_step").ok is None


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, e, s, n: x - s * e, "returned the predicted x̂₀"),
    (lambda x, e, s, n: x + e * (s - n), "wrong way"),
    (lambda x, e, s, n: x + s * e * (n - s), "divide by σ"),
    (lambda x, e, s, n: x + (x - (x / (s**2 + 1) ** 0.5 - s * e)) / s * (n - s), "model's input only"),
    (lambda x, e, s, n: x + n * e / s * (n - s), "not σ_next"),
])
def test_a_common_slip_in_the_euler_step_is_named(wrong, hint):
    check_euler_step(wrong)
    result = verdict("euler_step")
    assert result.ok is False and hint in result.message


def test_an_euler_step_that_only_works_with_a_fixed_sigma_fails_at_the_other_steps():
    first = {}

    def remembers_the_first_sigma(x, e, s, n):
        first.setdefault("sigma", s)
        first.setdefault("next", n)
        return euler_step_right(x, e, first["sigma"], first["next"])

    check_euler_step(remembers_the_first_sigma)
    assert verdict("euler_step").ok is False and "right at one step" in verdict("euler_step").message




def sdxl_sigma(t):
    alphas_cumprod = torch.cumprod(1 - torch.linspace(0.00085**0.5, 0.012**0.5, 1000) ** 2, dim=0)
    return float(((1 - alphas_cumprod[t]) / alphas_cumprod[t]) ** 0.5)


def test_sdxls_init_noise_sigma_at_30_steps_passes():
    check_init_noise_sigma((sdxl_sigma(958) ** 2 + 1) ** 0.5)
    result = verdict("init_noise_sigma")
    assert result.ok is True and "11.52" in result.message
    check_init_noise_sigma(...)
    assert verdict("init_noise_sigma").ok is None


@pytest.mark.parametrize("wrong, hint", [
    (lambda: sdxl_sigma(958), "σ at the first timestep"),
    (lambda: sdxl_sigma(999), "t = 999"),
    (lambda: (sdxl_sigma(999) ** 2 + 1) ** 0.5, "wrong timestep"),
    (lambda: sdxl_sigma(958) ** 2 + 1, "square root"),
    (lambda: 1 / sdxl_sigma(958), "upside down"),
    (lambda: 1 / (sdxl_sigma(958) ** 2 + 1) ** 0.5, "√ᾱ"),
    (lambda: "11.5", "should be a number"),
    (lambda: 3.0, "too small"),
])
def test_a_common_slip_in_init_noise_sigma_is_named_without_the_answer(wrong, hint):
    check_init_noise_sigma(wrong())
    result = verdict("init_noise_sigma")
    assert result.ok is False and hint in result.message and "11.52" not in result.message
