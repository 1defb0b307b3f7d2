"""Lesson 10's exercise checks: each common mistake gets a message that says what is wrong, never the answer."""

import pytest
import torch

from helpers import exercises
from helpers.exercises import check_lora_forward, check_training_target


def verdict(check, answer):
    exercises.RESULTS.clear()
    check(answer)
    (result,) = exercises.RESULTS.values()
    return result


def right_forward(x, W, A, B, alpha, rank):
    return x @ W.T + (alpha / rank) * (x @ A.T) @ B.T


def test_the_lora_forward_is_right_in_any_equivalent_form():
    assert verdict(check_lora_forward, right_forward).ok is True
    assert verdict(check_lora_forward, lambda x, W, A, B, alpha, rank: x @ (W + alpha / rank * B @ A).T).ok is True


@pytest.mark.parametrize("answer, expected", [
    (lambda x, W, A, B, alpha, rank: ..., None),
    (lambda x, W, A, B, alpha, rank: x @ W.T, "frozen layer alone"),
    (lambda x, W, A, B, alpha, rank: alpha / rank * (x @ A.T) @ B.T, "only the LoRA's update"),
    (lambda x, W, A, B, alpha, rank: x @ W.T + (x @ A.T) @ B.T, "not scaled"),
    (lambda x, W, A, B, alpha, rank: x @ W.T + rank / alpha * (x @ A.T) @ B.T, "upside down"),
    (lambda x, W, A, B, alpha, rank: x @ W.T + alpha * (x @ A.T) @ B.T, "not alpha alone"),
    (lambda x, W, A, B, alpha, rank: x @ W + (alpha / rank) * (x @ A.T) @ B.T, "transposes"),
    (lambda x, W, A, B, alpha, rank: (x @ W.T)[:, :3], "shape"),
    (lambda x, W, A, B, alpha, rank: right_forward(x, W, A, B, alpha, rank).tolist(), "torch tensor"),
])
def test_lora_forward_mistakes_are_named(answer, expected):
    result = verdict(check_lora_forward, answer)
    if expected is None:
        assert result.ok is None
    else:
        assert result.ok is False and expected in result.message


def right_target(latents, noise, timesteps, scheduler):
    if scheduler.config.prediction_type == "epsilon":
        return noise
    return scheduler.get_velocity(latents, noise, timesteps)


def test_the_training_target_is_right_written_out_or_with_get_velocity():
    assert verdict(check_training_target, right_target).ok is True


def _velocity(latents, noise, timesteps, scheduler, swap=False, sign=1, roots=True):
    a = scheduler.alphas_cumprod[timesteps].view(-1, 1, 1, 1)
    alpha, sigma = (a.sqrt(), (1 - a).sqrt()) if roots else (a, 1 - a)
    if swap:
        return alpha * latents - sigma * noise
    return sign * (alpha * noise - sigma * latents)


@pytest.mark.parametrize("answer, expected", [
    (lambda latents, noise, t, s: ..., None),
    (lambda latents, noise, t, s: noise, "whatever the scheduler"),
    (lambda latents, noise, t, s: latents, "not the clean latents"),
    (lambda latents, noise, t, s: noise if s.config.prediction_type == "epsilon" else _velocity(latents, noise, t, s, sign=-1), "sign is flipped"),
    (lambda latents, noise, t, s: noise if s.config.prediction_type == "epsilon" else _velocity(latents, noise, t, s, swap=True), "swapped"),
    (lambda latents, noise, t, s: noise if s.config.prediction_type == "epsilon" else _velocity(latents, noise, t, s, roots=False), "square roots"),
    (lambda latents, noise, t, s: noise if s.config.prediction_type == "epsilon" else latents, "mixes noise and latents"),
    (lambda latents, noise, t, s: noise[0], "shape"),
    (lambda latents, noise, t, s: 1 / 0, "raised ZeroDivisionError"),
])
def test_training_target_mistakes_are_named(answer, expected):
    result = verdict(check_training_target, answer)
    if expected is None:
        assert result.ok is None
    else:
        assert result.ok is False and expected in result.message, result.message
