"""Checks for the exercises of lesson 02 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import torch

from ..i18n import _
from . import call, compare_number, compare_tensors, report, unfinished

__all__ = ["check_euler_step", "check_init_noise_sigma"]

SDXL_SCHEDULER = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
                      prediction_type="epsilon", steps_offset=1, timestep_spacing="leading")


def _sdxl_euler(steps: int):
    from diffusers import EulerDiscreteScheduler

    scheduler = EulerDiscreteScheduler(**SDXL_SCHEDULER)
    scheduler.set_timesteps(steps)
    return scheduler


def _euler_case(index: int, seed: int):
    """(sample, noise_pred, sigma, sigma_next, the library's prev_sample) at step `index` of SDXL's Euler, 30 steps."""
    scheduler = _sdxl_euler(30)
    generator = torch.Generator().manual_seed(seed)
    sigma, sigma_next = scheduler.sigmas[index], scheduler.sigmas[index + 1]
    sample = torch.randn((2, 4, 4, 4), generator=generator) * (sigma**2 + 1) ** 0.5
    noise_pred = torch.randn((2, 4, 4, 4), generator=generator)
    t = scheduler.timesteps[index]
    scheduler.scale_model_input(sample, t)  # finds its place from t (and the library warns if a loop skips this)
    prev_sample = scheduler.step(noise_pred, t, sample).prev_sample
    return sample, noise_pred, sigma, sigma_next, prev_sample


def check_euler_step(euler_step) -> None:
    """Exercise: one step of SDXL's Euler scheduler (epsilon prediction), checked against EulerDiscreteScheduler.step."""
    name = "euler_step"
    cases = [_euler_case(5, seed=0), _euler_case(20, seed=1), _euler_case(29, seed=2)]
    sample, noise_pred, sigma, sigma_next, expected = cases[0]
    answer, error = call(name, euler_step, sample.clone(), noise_pred.clone(), sigma, sigma_next)
    if error:
        return report(name, False, error)
    if unfinished(answer):
        return report(name, None, _("replace `...` with the predicted x̂₀, the derivative and the step from σ to σ_next."))
    wrong = compare_tensors(answer, expected, _("the new sample"), atol=1e-4)
    if wrong is None:
        for sample, noise_pred, sigma, sigma_next, expected in cases[1:]:
            answer, error = call(name, euler_step, sample.clone(), noise_pred.clone(), sigma, sigma_next)
            if error or compare_tensors(answer, expected, "", atol=1e-4) is not None:
                where = _("the last step (σ_next = 0)") if sigma_next == 0 else _("a later step")
                return report(name, False, _("right at one step but not at {where}: use only the four inputs.")
                              .format(where=where) + " " + (error or ""))
        return report(name, True, _("your step equals EulerDiscreteScheduler.step at three steps of SDXL's 30, the last included."))
    if isinstance(answer, torch.Tensor) and answer.shape == expected.shape:
        x0 = sample - sigma * noise_pred
        variants = {
            _("you returned the predicted x̂₀: the step moves only from σ to σ_next along the derivative, not all the way."): x0,
            _("the sample moved the wrong way: Δσ = σ_next − σ, which is negative (the noise shrinks)."):
                sample + (sample - x0) / sigma * (sigma - sigma_next),
            _("the derivative is (x − x̂₀) / σ: divide by σ."): sample + (sample - x0) * (sigma_next - sigma),
            _("in σ-space x̂₀ = x − σ·ε̂; the division by √(σ²+1) is for the model's input only."):
                sample + (sample - (sample / (sigma**2 + 1) ** 0.5 - sigma * noise_pred)) / sigma * (sigma_next - sigma),
            _("x̂₀ uses σ of the current step, not σ_next."):
                sample + (sample - (sample - sigma_next * noise_pred)) / sigma * (sigma_next - sigma),
        }
        for hint, variant in variants.items():
            if torch.allclose(answer.double(), variant.double(), atol=1e-4):
                return report(name, False, hint)
    return report(name, False, (wrong or "") + " " + _("Write x̂₀ first, then the derivative (x − x̂₀)/σ, then x + derivative·Δσ."))


def check_init_noise_sigma(init_noise_sigma) -> None:
    """Exercise: SDXL's init_noise_sigma at 30 steps, from alphas_cumprod and the first timestep (958)."""
    name = "init_noise_sigma"
    if unfinished(init_noise_sigma):
        return report(name, None, _("replace `...` with an expression: σ at first_timestep from alphas_cumprod, then the starting noise's scale."))
    scheduler = _sdxl_euler(30)
    expected = float(scheduler.init_noise_sigma)
    sigma = float(scheduler.sigmas[0])
    sigma_999 = float(((1 - scheduler.alphas_cumprod[-1]) / scheduler.alphas_cumprod[-1]) ** 0.5)
    wrong = compare_number(init_noise_sigma, expected, "init_noise_sigma", rel=1e-4)
    if wrong is None:
        return report(name, True, _("{expected:.2f}: the starting noise of SDXL's 30 steps, as EulerDiscreteScheduler computes it.")
                      .format(expected=expected))
    if isinstance(init_noise_sigma, torch.Tensor) and init_noise_sigma.numel() == 1:
        init_noise_sigma = init_noise_sigma.item()
    if isinstance(init_noise_sigma, (int, float)) and not isinstance(init_noise_sigma, bool):
        near = lambda value: abs(init_noise_sigma - value) <= 1e-3 * abs(value)  # noqa: E731
        hints = [
            (sigma, _("that is σ at the first timestep; the starting sample is x_ddpm·√(σ²+1), where x_ddpm is unit noise (section 5).")),
            (sigma_999, _("that is σ at t = 999, the largest training sigma; with leading spacing the loop starts at first_timestep.")),
            ((sigma_999**2 + 1) ** 0.5, _("right formula, wrong timestep: with leading spacing the loop starts at first_timestep, not 999.")),
            (sigma**2 + 1, _("take the square root: the starting noise's scale is √(σ² + 1).")),
            (1 / sigma, _("σ is the noise relative to the signal, √((1 − ᾱ)/ᾱ): your fraction is upside down.")),
            (1 / (sigma**2 + 1) ** 0.5, _("that is √ᾱ, the signal's share; the starting noise's scale is its inverse.")),
        ]
        for value, hint in hints:
            if near(value):
                return report(name, False, hint)
    return report(name, False, wrong + " " + _("σ = √((1 − ᾱ)/ᾱ) at first_timestep; then the scale that turns unit noise into σ-space."))

