"""Checks for the exercises of lesson 01 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import math

import torch

from ..i18n import _
from . import call, compare_tensors, report, unfinished

__all__ = ["check_posterior_mean", "check_timestep_embedding"]


def _ddpm_case(steps: int, index: int, seed: int = 0):
    """A DDPM step of a small scheduler: (x0, x_t, alpha_prod_t, alpha_prod_prev, the library's mean)."""
    from diffusers import DDPMScheduler

    scheduler = DDPMScheduler(beta_schedule="linear", clip_sample=False, prediction_type="epsilon")
    scheduler.set_timesteps(steps)
    t = scheduler.timesteps[index]
    t_prev = int(scheduler.previous_timestep(t))
    generator = torch.Generator().manual_seed(seed)
    x_t = torch.randn((2, 3, 4, 4), generator=generator)
    model_output = torch.randn((2, 3, 4, 4), generator=generator)
    step = scheduler.step(model_output, t, x_t, generator=torch.Generator().manual_seed(seed + 1))
    # The library returns mean + std * z, with z drawn from the generator it was given: take the noise off again.
    z = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(seed + 1))
    std = scheduler._get_variance(t) ** 0.5 if t > 0 else torch.tensor(0.0)
    alpha_prod_t = scheduler.alphas_cumprod[int(t)]
    alpha_prod_prev = scheduler.alphas_cumprod[t_prev] if t_prev >= 0 else torch.tensor(1.0)
    return step.pred_original_sample, x_t, alpha_prod_t, alpha_prod_prev, step.prev_sample - std * z


def _posterior_variants(x0, x_t, alpha_prod_t, alpha_prod_prev) -> dict[str, torch.Tensor]:
    """The mean with the usual slips made, each with what to tell the learner."""
    beta_t = 1 - alpha_prod_t / alpha_prod_prev
    coefficient_x0 = alpha_prod_prev.sqrt() * beta_t / (1 - alpha_prod_t)
    coefficient_xt = (1 - beta_t).sqrt() * (1 - alpha_prod_prev) / (1 - alpha_prod_t)
    return {
        _("the two coefficients are swapped: the one with √ᾱ_t′ and β_t multiplies the predicted x̂₀, "
          "the one with √α_t multiplies x_t."): coefficient_xt * x0 + coefficient_x0 * x_t,
        _("the x̂₀ coefficient needs the square root of ᾱ_t′ (the signal share where the step lands), not ᾱ_t′ itself."):
            alpha_prod_prev * beta_t / (1 - alpha_prod_t) * x0 + coefficient_xt * x_t,
        _("the x̂₀ coefficient uses ᾱ at the previous timestep t′ (where the step lands), not at t."):
            alpha_prod_t.sqrt() * beta_t / (1 - alpha_prod_t) * x0 + coefficient_xt * x_t,
        _("the x_t coefficient needs the square root of α_t = 1 − β_t."):
            coefficient_x0 * x0 + (1 - beta_t) * (1 - alpha_prod_prev) / (1 - alpha_prod_t) * x_t,
        _("the x_t coefficient uses α_t = 1 − β_t (one step's share of signal), not ᾱ_t (the share left after all steps)."):
            coefficient_x0 * x0 + alpha_prod_t.sqrt() * (1 - alpha_prod_prev) / (1 - alpha_prod_t) * x_t,
        _("you returned the predicted x̂₀ unchanged: the mean mixes x̂₀ and x_t."): x0,
        _("you returned x_t unchanged: the mean mixes x̂₀ and x_t."): x_t,
    }


def check_posterior_mean(posterior_mean) -> None:
    """Exercise: DDPM's posterior mean μ from x̂₀, x_t, ᾱ_t and ᾱ_t′, checked against DDPMScheduler.step."""
    name = "posterior_mean"
    cases = [_ddpm_case(steps=50, index=10), _ddpm_case(steps=50, index=40, seed=2), _ddpm_case(steps=50, index=49, seed=4)]
    x0, x_t, alpha_prod_t, alpha_prod_prev, expected = cases[0]
    answer, error = call(name, posterior_mean, x0.clone(), x_t.clone(), alpha_prod_t, alpha_prod_prev)
    if error:
        return report(name, False, error)
    if unfinished(answer):
        return report(name, None, _("replace `...` with the two coefficients of section 4's formula and return μ."))
    again, _error = call(name, posterior_mean, x0.clone(), x_t.clone(), alpha_prod_t, alpha_prod_prev)
    if isinstance(answer, torch.Tensor) and isinstance(again, torch.Tensor) and not torch.equal(answer, again):
        return report(name, False, _("two calls with the same inputs gave different answers: the mean has no noise in "
                                     "it (the scheduler adds the noise after computing the mean)."))
    wrong = compare_tensors(answer, expected, "μ", atol=1e-4)
    if wrong is None:
        for x0, x_t, alpha_prod_t, alpha_prod_prev, expected in cases[1:]:
            answer, error = call(name, posterior_mean, x0.clone(), x_t.clone(), alpha_prod_t, alpha_prod_prev)
            if error:
                return report(name, False, error + " " + _("(at a later step of the loop)"))
            if compare_tensors(answer, expected, "μ", atol=1e-4) is not None:
                last = alpha_prod_prev == 1
                where = _("at the last step, where ᾱ_t′ = 1 and μ must equal x̂₀") if last else _("at a later step of the loop")
                return report(name, False, _("right at one step but not {where}: use only the four inputs, nothing fixed.")
                              .format(where=where))
        return report(name, True, _("μ equals the mean inside DDPMScheduler.step, at a middle step and at the last one."))
    if isinstance(answer, torch.Tensor) and answer.shape == expected.shape:
        for hint, variant in _posterior_variants(x0, x_t, alpha_prod_t, alpha_prod_prev).items():
            if torch.allclose(answer.double(), variant.double(), atol=1e-4):
                return report(name, False, hint)
    return report(name, False, (wrong or "") + " " + _("Compare term by term with step 2 of section 4's formula."))


def _embedding(timesteps: torch.Tensor, dim: int, cos_first: bool = True, shift: float = 0.0) -> torch.Tensor:
    half = dim // 2
    frequencies = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / (half - shift))
    angles = timesteps.float()[:, None] * frequencies[None, :]
    parts = [torch.cos(angles), torch.sin(angles)] if cos_first else [torch.sin(angles), torch.cos(angles)]
    return torch.cat(parts, dim=-1)


def check_timestep_embedding(timestep_embedding) -> None:
    """Exercise: the sinusoidal timestep embedding of diffusers' UNets (flip_sin_to_cos=True, freq_shift=0)."""
    from diffusers.models.embeddings import get_timestep_embedding

    name = "timestep_embedding"
    timesteps, dim = torch.tensor([0, 1, 10, 250, 999]), 32
    expected = get_timestep_embedding(timesteps, dim, flip_sin_to_cos=True, downscale_freq_shift=0)
    answer, error = call(name, timestep_embedding, timesteps.clone(), dim)
    if error:
        return report(name, False, error)
    if unfinished(answer):
        return report(name, None, _("replace `...` with the frequencies, the angles t × frequency, and their cosines and sines."))
    if isinstance(answer, torch.Tensor) and answer.shape == (dim, len(timesteps)):
        return report(name, False, _("the shape is transposed: one row per timestep, one column per channel, "
                                     "({rows}, {columns}) here.").format(rows=len(timesteps), columns=dim))
    wrong = compare_tensors(answer, expected, _("the embedding"), atol=1e-4)
    if wrong is None:
        other, error = call(name, timestep_embedding, torch.tensor([3, 500]), 64)
        if error or compare_tensors(other, get_timestep_embedding(torch.tensor([3, 500]), 64, True, 0), "", 1e-4):
            return report(name, False, _("right for 32 channels but not for 64: use `dim`, nothing fixed."))
        return report(name, True, _("your embedding equals diffusers' get_timestep_embedding (and so the UNet's time_proj)."))
    if isinstance(answer, torch.Tensor) and answer.shape == expected.shape:
        half = dim // 2
        interleaved = torch.stack([expected[:, :half], expected[:, half:]], dim=-1).flatten(1)
        variants = {
            _("the halves are swapped: these UNets put the cosines first (flip_sin_to_cos=True), then the sines."):
                _embedding(timesteps, dim, cos_first=False),
            _("the frequencies are slightly off: divide the exponent by dim/2 (freq_shift = 0), not dim/2 − 1."):
                _embedding(timesteps, dim, shift=1.0),
            _("cosines and sines are interleaved: diffusers puts all the cosines, then all the sines (torch.cat)."): interleaved,
            _("the frequencies should fall from 1 towards 1/10000: the exponent is −ln(10000) × i / (dim/2)."):
                torch.cat([torch.cos(timesteps.float()[:, None] * torch.exp(math.log(10000) * torch.arange(half) / half)),
                           torch.sin(timesteps.float()[:, None] * torch.exp(math.log(10000) * torch.arange(half) / half))], -1),
        }
        for hint, variant in variants.items():
            if torch.allclose(answer.double(), variant.double(), atol=1e-4):
                return report(name, False, hint)
        if not torch.allclose(answer[0].double(), expected[0].double(), atol=1e-4):
            return report(name, False, _("look at t = 0 first: every cosine there is 1 and every sine 0."))
    return report(name, False, (wrong or "") + " " + _("Compare with the formula in the markdown above."))

