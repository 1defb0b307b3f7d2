"""Lesson 01's exercise checks: they say right, or which common slip was made, without the answer."""

import math

import pytest
import torch

from helpers import exercises
from helpers.exercises import check_posterior_mean, check_timestep_embedding


def verdict(name):
    return exercises.RESULTS[name]


def posterior_mean_right(x0, x_t, alpha_prod_t, alpha_prod_prev):
    beta_t = 1 - alpha_prod_t / alpha_prod_prev
    return (alpha_prod_prev.sqrt() * beta_t / (1 - alpha_prod_t)) * x0 \
        + ((1 - beta_t).sqrt() * (1 - alpha_prod_prev) / (1 - alpha_prod_t)) * x_t


def test_the_right_posterior_mean_passes():
    check_posterior_mean(posterior_mean_right)
    assert verdict("posterior_mean").ok is True


def test_an_unfilled_posterior_mean_is_not_done_yet():
    def posterior_mean(x0, x_t, alpha_prod_t, alpha_prod_prev):
        ...

    check_posterior_mean(posterior_mean)
    assert verdict("posterior_mean").ok is None


@pytest.mark.parametrize("wrong, hint", [
    (lambda x0, x_t, a, p: posterior_mean_right(x_t, x0, a, p), "swapped"),
    (lambda x0, x_t, a, p: (p * (1 - a / p) / (1 - a)) * x0 + ((a / p).sqrt() * (1 - p) / (1 - a)) * x_t, "square root of ᾱ_t′"),
    (lambda x0, x_t, a, p: (a.sqrt() * (1 - a / p) / (1 - a)) * x0 + ((a / p).sqrt() * (1 - p) / (1 - a)) * x_t, "not at t"),
    (lambda x0, x_t, a, p: (p.sqrt() * (1 - a / p) / (1 - a)) * x0 + ((a / p) * (1 - p) / (1 - a)) * x_t, "square root of α_t"),
    (lambda x0, x_t, a, p: (p.sqrt() * (1 - a / p) / (1 - a)) * x0 + (a.sqrt() * (1 - p) / (1 - a)) * x_t, "not ᾱ_t"),
    (lambda x0, x_t, a, p: x0, "returned the predicted x̂₀"),
    (lambda x0, x_t, a, p: posterior_mean_right(x0, x_t, a, p) + 0.1 * torch.randn_like(x0), "no noise in it"),
])
def test_a_common_slip_in_the_posterior_mean_is_named(wrong, hint):
    check_posterior_mean(wrong)
    result = verdict("posterior_mean")
    assert result.ok is False and hint in result.message


def test_a_posterior_mean_with_the_wrong_shape_says_the_shape():
    check_posterior_mean(lambda x0, x_t, a, p: posterior_mean_right(x0, x_t, a, p)[0])
    assert "shape" in verdict("posterior_mean").message


def test_a_posterior_mean_that_raises_is_reported_not_raised():
    check_posterior_mean(lambda x0, x_t, a, p: x0.reshape(7))
    assert verdict("posterior_mean").message.startswith("your function raised RuntimeError")


def embedding(timesteps, dim, cos_first=True, shift=0):
    half = dim // 2
    angles = timesteps.float()[:, None] * torch.exp(-math.log(10000) * torch.arange(half) / (half - shift))[None, :]
    parts = [torch.cos(angles), torch.sin(angles)]
    return torch.cat(parts if cos_first else parts[::-1], dim=-1)


def test_the_right_timestep_embedding_passes_and_an_unfilled_one_is_not_done_yet():
    check_timestep_embedding(embedding)
    assert verdict("timestep_embedding").ok is True
    check_timestep_embedding(lambda timesteps, dim: ...)
    assert verdict("timestep_embedding").ok is None


@pytest.mark.parametrize("wrong, hint", [
    (lambda t, d: embedding(t, d, cos_first=False), "cosines first"),
    (lambda t, d: embedding(t, d, shift=1), "dim/2 − 1"),
    (lambda t, d: embedding(t, d).T, "transposed"),
    (lambda t, d: torch.stack([embedding(t, d)[:, : d // 2], embedding(t, d)[:, d // 2:]], -1).flatten(1), "interleaved"),
    (lambda t, d: embedding(t, 32), "use `dim`"),
    (lambda t, d: torch.zeros(len(t), d), "t = 0"),
])
def test_a_common_slip_in_the_timestep_embedding_is_named(wrong, hint):
    check_timestep_embedding(wrong)
    result = verdict("timestep_embedding")
    assert result.ok is False and hint in result.message
