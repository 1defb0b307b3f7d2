"""Checks for the exercises of lesson 03 (see helpers/exercises/__init__.py).

Each check builds its own small cosine-schedule `DDPMScheduler` and a few tensors, runs the learner's
function on them and compares with what diffusers computes; when the answer is wrong it recognises the
usual slips (a square root forgotten, ᾱ and 1 − ᾱ swapped, a sign flipped, ᾱ not reshaped for the batch).
"""

from __future__ import annotations

import torch

from ..i18n import _
from . import call, compare_tensors, report, unfinished

__all__ = ["check_add_noise", "check_velocity", "check_ema_update"]


_BATCH, _SIZE = 4, 6  # a batch of 4 pictures, 3x6x6: the batch differs from every picture side


def _inputs():
    from diffusers import DDPMScheduler

    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")
    generator = torch.Generator().manual_seed(3)
    x0 = torch.rand((_BATCH, 3, _SIZE, _SIZE), generator=generator) * 2 - 1
    noise = torch.randn((_BATCH, 3, _SIZE, _SIZE), generator=generator)
    timesteps = torch.tensor([20, 250, 600, 900])  # little noise to almost only noise
    return scheduler, x0, noise, timesteps


def _coefficients(scheduler, timesteps):
    alpha_bar = scheduler.alphas_cumprod[timesteps].view(-1, 1, 1, 1)
    return alpha_bar, 1 - alpha_bar


def _slip(answer, x0, noise, candidates) -> str | None:
    """The hint of the first wrong formula in `candidates` (pairs: (coefficient of x0, of noise), hint) that `answer` equals."""
    for (a, b), hint in candidates:
        expected = a * x0 + b * noise
        if answer.shape == expected.shape and torch.allclose(answer.double(), expected.double(), atol=1e-5):
            return hint
    return None


def _shape_hint(message: str) -> str:
    if "size of tensor" in message or "must match" in message:
        return _("{message}. `scheduler.alphas_cumprod[t]` has one number per picture, shape (batch,): reshape it to "
                 "(batch, 1, 1, 1) so that it multiplies whole pictures.").format(message=message)
    return message


def check_add_noise(add_noise) -> None:
    """Exercise: the forward process q(x_t | x_0), as `DDPMScheduler.add_noise` computes it."""
    name = "add_noise"
    if unfinished(add_noise):
        return report(name, None, _("define the function add_noise(x0, noise, timesteps, scheduler) and pass it to the check."))
    scheduler, x0, noise, timesteps = _inputs()
    answer, problem = call(name, add_noise, x0, noise, timesteps, scheduler)
    if unfinished(answer) and not problem:
        return report(name, None, _("replace `...` in add_noise with a return statement: x_t from x0, noise and ᾱ."))
    if problem:
        return report(name, False, _shape_hint(problem))
    expected = scheduler.add_noise(x0, noise, timesteps)
    alpha_bar, one_minus = _coefficients(scheduler, timesteps)
    wrong = compare_tensors(answer, expected, "x_t")
    if wrong is None:
        return report(name, True, _("x_t = √ᾱ·x0 + √(1−ᾱ)·ε, exactly what scheduler.add_noise computes, for every picture's own t."))
    if isinstance(answer, torch.Tensor):
        alphas = scheduler.alphas[timesteps].view(-1, 1, 1, 1)
        hint = _slip(answer, x0, noise, [
            ((alpha_bar, one_minus), _("the square roots are missing: the coefficients of x0 and ε are √ᾱ and √(1−ᾱ), "
                                       "whose squares add up to 1, so that x_t keeps the variance of its inputs.")),
            ((one_minus.sqrt(), alpha_bar.sqrt()), _("ᾱ and 1 − ᾱ are swapped: ᾱ is the share of the *picture* that "
                                                     "survives (close to 1 at small t), so √ᾱ multiplies x0.")),
            ((alphas.sqrt(), (1 - alphas).sqrt()), _("you used `scheduler.alphas`, one step's α; the forward process "
                                                     "jumps from x0 to step t at once with the cumulative product ᾱ "
                                                     "(`alphas_cumprod`).")),
            ((alpha_bar.sqrt(), -one_minus.sqrt()), _("the noise is added, not subtracted.")),
        ])
        if hint:
            return report(name, False, hint)
    return report(name, False, wrong + " " + _("Use ᾱ = scheduler.alphas_cumprod at each picture's timestep."))


def check_velocity(velocity) -> None:
    """Exercise: the v-prediction target, as `DDPMScheduler.get_velocity` computes it."""
    name = "velocity"
    if unfinished(velocity):
        return report(name, None, _("define the function velocity(x0, noise, timesteps, scheduler) and pass it to the check."))
    scheduler, x0, noise, timesteps = _inputs()
    answer, problem = call(name, velocity, x0, noise, timesteps, scheduler)
    if unfinished(answer) and not problem:
        return report(name, None, _("replace `...` in velocity with a return statement: v from x0, noise and ᾱ."))
    if problem:
        return report(name, False, _shape_hint(problem))
    expected = scheduler.get_velocity(x0, noise, timesteps)
    alpha_bar, one_minus = _coefficients(scheduler, timesteps)
    wrong = compare_tensors(answer, expected, "v")
    if wrong is None:
        return report(name, True, _("v = √ᾱ·ε − √(1−ᾱ)·x0, as scheduler.get_velocity computes: mostly noise at small "
                                    "t, mostly (minus) the picture at large t."))
    if isinstance(answer, torch.Tensor):
        one = torch.ones_like(alpha_bar)
        hint = _slip(answer, x0, noise, [
            ((0 * one, one), _("that is the noise ε itself, the epsilon target; v mixes the noise and the picture.")),
            ((one_minus.sqrt(), -alpha_bar.sqrt()), _("the sign is flipped: v points along the noise and away from the picture.")),
            ((-alpha_bar.sqrt(), one_minus.sqrt()), _("ᾱ and 1 − ᾱ are swapped: at small t (ᾱ close to 1) v should be "
                                                      "mostly noise, so √ᾱ multiplies ε.")),
            ((-one_minus, alpha_bar), _("the square roots are missing: v uses √ᾱ and √(1−ᾱ), like add_noise.")),
            ((alpha_bar.sqrt(), one_minus.sqrt()), _("that is x_t, the noisy picture (add_noise); v is another mix "
                                                     "of the same two tensors.")),
        ])
        if hint:
            return report(name, False, hint)
    return report(name, False, wrong + " " + _("Start from ᾱ = scheduler.alphas_cumprod at each picture's timestep."))


def check_ema_update(ema_update) -> None:
    """Exercise: one step of an exponential moving average of the weights, as EMAModel.step does it."""
    name = "ema_update"
    if unfinished(ema_update):
        return report(name, None, _("define the function ema_update(average, weights, decay) and pass it to the check."))
    generator = torch.Generator().manual_seed(5)
    average, weights, decay = torch.randn(5, 4, generator=generator), torch.randn(5, 4, generator=generator), 0.9
    kept = average.clone()
    answer, problem = call(name, ema_update, average.clone(), weights.clone(), decay)
    if unfinished(answer) and not problem:
        return report(name, None, _("replace `...` in ema_update with a return statement: the new average."))
    if problem:
        return report(name, False, problem)
    expected = decay * kept + (1 - decay) * weights
    wrong = compare_tensors(answer, expected, _("the new average"))
    if wrong is None:
        return report(name, True, _("the average keeps `decay` of itself and takes (1 − decay) of the new weights: "
                                    "with decay 0.99 it remembers about the last 100 steps."))
    if isinstance(answer, torch.Tensor) and answer.shape == expected.shape:
        if torch.allclose(answer, (1 - decay) * kept + decay * weights, atol=1e-6):
            return report(name, False, _("decay and 1 − decay are swapped: a decay close to 1 means the average "
                                         "changes slowly, so it keeps `decay` of *itself*."))
        if torch.allclose(answer, weights) or torch.allclose(answer, kept):
            return report(name, False, _("the result is one of the two inputs unchanged: mix them, with weights decay and 1 − decay."))
        if torch.allclose(answer, decay * kept + decay * weights, atol=1e-6):
            return report(name, False, _("the two weights of the mix should add up to 1: decay for the average, and the rest for the new weights."))
    return report(name, False, wrong)

