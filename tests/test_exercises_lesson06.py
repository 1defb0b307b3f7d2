"""Lesson 06's exercise checks: each common mistake gets its own message, and none gives the answer away."""

from __future__ import annotations

import pytest

from helpers import exercises
from helpers.exercises import check_refiner_strength, check_steps_of_the_base


def verdict(check, answer):
    """Run `check` on `answer`; return its verdict (the exercise's name is the check's, less "check_")."""
    check(answer)
    return exercises.RESULTS[check.__name__.removeprefix("check_")]


# 1. how many steps the base runs


def counted(scheduler, denoising_end, num_inference_steps, above=lambda t, cutoff: t >= cutoff, trained=None):
    scheduler.set_timesteps(num_inference_steps)
    trained = trained or scheduler.config.num_train_timesteps
    cutoff = int(round(trained * (1 - denoising_end)))
    return sum(above(int(t), cutoff) for t in scheduler.timesteps)


def right(scheduler, denoising_end, num_inference_steps):
    return counted(scheduler, denoising_end, num_inference_steps)


def share_of_the_steps(scheduler, denoising_end, num_inference_steps):
    return int(num_inference_steps * denoising_end)


def rounded_share_of_the_steps(scheduler, denoising_end, num_inference_steps):
    return round(num_inference_steps * denoising_end)


def the_refiners_count(scheduler, denoising_end, num_inference_steps):
    return num_inference_steps - right(scheduler, denoising_end, num_inference_steps)


def strictly_above(scheduler, denoising_end, num_inference_steps):
    return counted(scheduler, denoising_end, num_inference_steps, above=lambda t, cutoff: t > cutoff)


def cutoff_from_the_wrong_end(scheduler, denoising_end, num_inference_steps):
    scheduler.set_timesteps(num_inference_steps)
    cutoff = round(scheduler.config.num_train_timesteps * denoising_end)
    return sum(int(t) >= cutoff for t in scheduler.timesteps)


def hard_coded_1000(scheduler, denoising_end, num_inference_steps):
    return counted(scheduler, denoising_end, num_inference_steps, trained=1000)


def a_list(scheduler, denoising_end, num_inference_steps):
    return [1, 2, 3]


def test_steps_of_the_base_accepts_the_count_of_timesteps_at_or_above_the_cutoff():
    assert verdict(check_steps_of_the_base, right).ok is True


def test_steps_of_the_base_not_done_yet_while_the_body_is_a_placeholder():
    def steps_of_the_base(scheduler, denoising_end, num_inference_steps):
        ...

    assert verdict(check_steps_of_the_base, steps_of_the_base).ok is None


@pytest.mark.parametrize("function, says", [
    (share_of_the_steps, "a share of the *steps*"),
    (rounded_share_of_the_steps, "a share of the *steps*"),
    (the_refiners_count, "the refiner's count"),
    (strictly_above, "belongs to the base"),
    (cutoff_from_the_wrong_end, "measured from the noisy end"),
    (hard_coded_1000, "num_train_timesteps instead of writing 1000"),
    (a_list, "whole number of steps"),
])
def test_steps_of_the_base_names_the_common_mistakes(function, says):
    result = verdict(check_steps_of_the_base, function)
    assert result.ok is False and says in result.message
    assert "23" not in result.message  # the answer to the lesson's own case


# 2. the strength that runs the refiner's share


@pytest.mark.parametrize("strength", [7 / 30, 0.25, 0.26])
def test_refiner_strength_accepts_every_strength_that_runs_seven_steps(strength):
    assert verdict(check_refiner_strength, strength).ok is True


def test_refiner_strength_not_done_yet_while_the_placeholder_is_there():
    assert verdict(check_refiner_strength, ...).ok is None


@pytest.mark.parametrize("answer, says", [
    (0.2, "1 − denoising_end of the steps"),
    (0.23, "truncates with int()"),
    (0.8, "the base's share"),
    (7, "a number of steps"),
    (1.2, "must lie in (0, 1]"),
    (0.5, "a different number"),
    ("7/30", "one number"),
])
def test_refiner_strength_names_the_common_mistakes(answer, says):
    result = verdict(check_refiner_strength, answer)
    assert result.ok is False and says in result.message
    assert "7 /" not in result.message and "7/30" not in result.message
