"""Checks for the exercises of lesson 07 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import math

from ..i18n import _
from . import call, compare_number, report, unfinished

__all__ = ["check_strength_for_six_steps", "check_surviving_share"]

SDXL_SCHEDULER = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
                      prediction_type="epsilon", steps_offset=1, timestep_spacing="leading")


def _sdxl_euler():
    """A fresh EulerDiscreteScheduler with SDXL's configuration (timesteps not set yet)."""
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(**SDXL_SCHEDULER)


def _as_number(value):
    """A plain float from an int, float or one-element tensor; None otherwise."""
    if hasattr(value, "numel") and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def check_strength_for_six_steps(strength):
    """Exercise: a strength that makes img2img run exactly 6 of 30 steps."""
    name = "strength_for_six_steps"
    steps, wanted = 30, 6
    if unfinished(strength):
        return report(name, None, _("replace `...` with a strength: a number between 0 and 1."))
    value = _as_number(strength)
    if value is None:
        return report(name, False, _("a strength is one number, got {kind}.").format(kind=type(strength).__name__))
    if value == wanted:
        return report(name, False, _("that is the number of steps; strength is a fraction of the steps, between 0 and 1."))
    if not 0 < value <= 1:
        return report(name, False, _("strength must lie in (0, 1]; {strength:g} does not.").format(strength=value))
    runs = int(steps * value)
    if runs == wanted:
        return report(name, True, _("int({steps} × {strength:g}) = {wanted}: img2img starts {skipped} steps into the "
                                    "schedule and runs the last 6.").format(steps=steps, strength=value, wanted=wanted,
                                                                            skipped=steps - wanted))
    if int(steps * (1 - value)) == wanted or round(steps * (1 - value)) == wanted:
        return report(name, False, _("that strength skips 6 steps and runs the rest: strength is the share of steps that *run*."))
    if round(steps * value) == wanted:
        return report(name, False, _("{steps} × {strength!r} = {product!r}, and img2img truncates with int(), it does "
                                     "not round: that runs {runs} steps.").format(steps=steps, strength=value,
                                                                                 product=steps * value, runs=runs))
    return report(name, False, _("that strength runs int({steps} × {strength:g}) = {runs} steps, not {wanted}.")
                  .format(steps=steps, strength=value, runs=runs, wanted=wanted))


# (strength, num_inference_steps) cases, chosen so that the common slips give different answers:
# 0.38 x 20 = 7.6 (int 7, round 8); strength 1.0 starts at the top of the schedule; 4 steps start lower.
SHARE_CASES = [(1.0, 30), (0.6, 20), (0.38, 20), (1.0, 4), (0.3, 50)]


def _share(strength: float, steps: int, offset: int = 0, rounding=int) -> float:
    """sqrt(alpha-bar) at the first step img2img runs (offset/rounding: the slips the check recognises)."""
    scheduler = _sdxl_euler()
    scheduler.set_timesteps(steps)
    start = steps - rounding(steps * strength) + offset
    sigma = float(scheduler.sigmas[min(max(start, 0), steps)])
    return 1 / math.sqrt(1 + sigma**2)


def check_surviving_share(surviving_share):
    """Exercise: the share of the input, sqrt(alpha-bar), left at the first step img2img runs."""
    name = "surviving_share"
    answers = []
    for strength, steps in SHARE_CASES:
        answer, error = call(name, surviving_share, _sdxl_euler(), strength, steps)
        if error:
            return report(name, False, error)
        if unfinished(answer):
            return report(name, None, _("replace `...`: set the timesteps, find the first step that runs, its σ, then √ᾱ."))
        if _as_number(answer) is None:
            return report(name, False, _("return one number (the share), got {kind}.").format(kind=type(answer).__name__))
        answers.append(_as_number(answer))
    expected = [_share(s, n) for s, n in SHARE_CASES]
    wrong = [(case, a) for case, a, e in zip(SHARE_CASES, answers, expected) if compare_number(a, e, "share", rel=1e-3)]
    if not wrong:
        return report(name, True, _("strength 1.0 with 30 steps leaves {share:.1%} of the input: never pure noise.")
                      .format(share=expected[0]))

    def all_match(values):
        return all(abs(a - v) <= 1e-3 * max(abs(v), 1e-6) for a, v in zip(answers, values))

    sigmas = [1 / e**2 - 1 for e in expected]  # σ² from the share
    slips = [
        ([math.sqrt(s2) for s2 in sigmas], _("that is σ, the noise's scale in Euler's latents x₀ + σ·ε; the UNet sees "
                                             "them divided by √(1 + σ²): what share of x₀ is that?")),
        ([math.sqrt(s2) / math.sqrt(1 + s2) for s2 in sigmas], _("that is the noise's share, √(1 − ᾱ); the input's is √ᾱ.")),
        ([e**2 for e in expected], _("that is ᾱ; the input is multiplied by its square root.")),
        ([1 - s for s, _ in SHARE_CASES], _("strength does not set the noise level directly: it picks the first step; "
                                            "read that step's σ from the scheduler.")),
        ([_share(s, n, offset=1) for s, n in SHARE_CASES], _("one step too late: the first step that runs is "
                                                             "num_inference_steps − int(num_inference_steps × "
                                                             "strength), counted from 0.")),
        ([_share(s, n, offset=-1) for s, n in SHARE_CASES], _("one step too early: the first step that runs is "
                                                              "num_inference_steps − int(num_inference_steps × "
                                                              "strength), counted from 0.")),
        ([_share(s, n, rounding=round) for s, n in SHARE_CASES], _("img2img counts its steps with int(), which "
                                                                   "truncates; round() is one step off when the "
                                                                   "fraction is .5 or more (0.38 × 20 = 7.6 runs 7 "
                                                                   "steps).")),
    ]
    for values, hint in slips:
        if all_match(values):
            return report(name, False, hint)
    (strength, steps), answer = wrong[0]
    return report(name, False, _("for strength {strength} and {steps} steps your share {answer:.4g} is off. Did you "
                                 "call scheduler.set_timesteps(num_inference_steps) before reading its sigmas?")
                  .format(strength=strength, steps=steps, answer=answer))

