"""Lesson 07's exercise checks: each common mistake gets its own message, and none gives the answer away."""

from __future__ import annotations

import math

import pytest

from helpers import exercises
from helpers.exercises import check_strength_for_six_steps, check_surviving_share
from helpers.exercises.lesson07 import _sdxl_euler


def verdict(check, answer):
    """Run `check` on `answer`; return its verdict (the exercise's name is the check's, less "check_")."""
    check(answer)
    return exercises.RESULTS[check.__name__.removeprefix("check_")]


# 1. the strength that runs exactly 6 of 30 steps


@pytest.mark.parametrize("strength", [0.2, 6 / 30, 0.21, 0.233])
def test_strength_for_six_steps_accepts_every_strength_that_runs_six_steps(strength):
    assert verdict(check_strength_for_six_steps, strength).ok is True


def test_strength_for_six_steps_not_done_yet_while_the_placeholder_is_there():
    assert verdict(check_strength_for_six_steps, ...).ok is None


@pytest.mark.parametrize("answer, says", [
    (6, "number of steps"),
    (0.8, "skips 6 steps"),
    (0.19, "truncates with int()"),
    (1 - 0.8, "truncates with int()"),  # 30 × 0.19999999999999996 = 5.999999999999999
    (0.5, "runs int(30 × 0.5) = 15 steps"),
    (1.5, "must lie in (0, 1]"),
    (-0.2, "must lie in (0, 1]"),
    ("0.2", "one number"),
])
def test_strength_for_six_steps_names_the_common_mistakes(answer, says):
    result = verdict(check_strength_for_six_steps, answer)
    assert result.ok is False and says in result.message


# 2. the share of the input left at the first step


def right_share(scheduler, strength, num_inference_steps):
    scheduler.set_timesteps(num_inference_steps)
    sigma = scheduler.sigmas[num_inference_steps - int(num_inference_steps * strength)]
    return 1 / (1 + sigma**2) ** 0.5


def share_from_alphas(scheduler, strength, num_inference_steps):
    scheduler.set_timesteps(num_inference_steps)
    t = int(scheduler.timesteps[num_inference_steps - int(num_inference_steps * strength)])
    return scheduler.alphas_cumprod[t].sqrt()


def sigma_only(scheduler, strength, num_inference_steps):
    scheduler.set_timesteps(num_inference_steps)
    return float(scheduler.sigmas[num_inference_steps - int(num_inference_steps * strength)])


def noise_share(scheduler, strength, num_inference_steps):
    share = right_share(scheduler, strength, num_inference_steps)
    return (1 - share**2) ** 0.5


def alpha_bar(scheduler, strength, num_inference_steps):
    return right_share(scheduler, strength, num_inference_steps) ** 2


def one_minus_strength(scheduler, strength, num_inference_steps):
    return 1 - strength


def one_step_late(scheduler, strength, num_inference_steps):
    scheduler.set_timesteps(num_inference_steps)
    sigma = scheduler.sigmas[num_inference_steps - int(num_inference_steps * strength) + 1]
    return 1 / (1 + sigma**2) ** 0.5


def rounded(scheduler, strength, num_inference_steps):
    scheduler.set_timesteps(num_inference_steps)
    sigma = scheduler.sigmas[num_inference_steps - round(num_inference_steps * strength)]
    return 1 / (1 + sigma**2) ** 0.5


def without_set_timesteps(scheduler, strength, num_inference_steps):
    sigma = scheduler.sigmas[num_inference_steps - int(num_inference_steps * strength)]
    return 1 / (1 + sigma**2) ** 0.5


def a_list(scheduler, strength, num_inference_steps):
    return [0.1]


def broken(scheduler, strength, num_inference_steps):
    return scheduler.no_such_thing


@pytest.mark.parametrize("function", [right_share, share_from_alphas])
def test_surviving_share_accepts_sigma_or_alphas_cumprod(function):
    assert verdict(check_surviving_share, function).ok is True


def test_surviving_share_not_done_yet_while_the_body_is_a_placeholder():
    def surviving_share(scheduler, strength, num_inference_steps):
        ...

    assert verdict(check_surviving_share, surviving_share).ok is None


@pytest.mark.parametrize("function, says", [
    (sigma_only, "that is σ"),
    (noise_share, "the noise's share"),
    (alpha_bar, "that is ᾱ"),
    (one_minus_strength, "does not set the noise level directly"),
    (one_step_late, "one step too late"),
    (rounded, "truncates"),
    (without_set_timesteps, "set_timesteps"),
    (a_list, "return one number"),
    (broken, "your function raised AttributeError"),
])
def test_surviving_share_names_the_common_mistakes(function, says):
    result = verdict(check_surviving_share, function)
    assert result.ok is False and says in result.message


def test_surviving_share_says_strength_one_is_not_pure_noise_without_printing_other_cases():
    result = verdict(check_surviving_share, right_share)
    share = right_share(_sdxl_euler(), 1.0, 30)
    assert f"{share:.1%}" in result.message and math.isclose(float(share), 0.0868, abs_tol=5e-4)
