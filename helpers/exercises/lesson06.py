"""Checks for the exercises of lesson 06 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

from ..i18n import _
from . import call, report, unfinished

__all__ = ["check_steps_of_the_base", "check_refiner_strength"]

SDXL_SCHEDULER = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
                      prediction_type="epsilon", steps_offset=1, timestep_spacing="leading")


def _sdxl_euler(num_train_timesteps: int = 1000):
    """A fresh EulerDiscreteScheduler with SDXL's configuration (or another training length)."""
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(**{**SDXL_SCHEDULER, "num_train_timesteps": num_train_timesteps})


def _timesteps(steps: int, num_train_timesteps: int = 1000) -> list[int]:
    scheduler = _sdxl_euler(num_train_timesteps)
    scheduler.set_timesteps(steps)
    return [int(t) for t in scheduler.timesteps]


def _cutoff(denoising_end: float, num_train_timesteps: int) -> int:
    """The timestep where the experts meet, as diffusers computes it."""
    return int(round(num_train_timesteps - denoising_end * num_train_timesteps))


def _base_steps(denoising_end: float, steps: int, num_train_timesteps: int = 1000) -> int:
    """How many steps the base runs: the scheduled timesteps at or above the cut-off."""
    cutoff = _cutoff(denoising_end, num_train_timesteps)
    return sum(t >= cutoff for t in _timesteps(steps, num_train_timesteps))


# (denoising_end, num_inference_steps, num_train_timesteps): 0.8 of 30 is 23 steps, not 24; with 30 steps
# timestep 100 is scheduled, exactly the cut-off of 0.9; the last case trains on 2000 timesteps.
BASE_CASES = [(0.8, 30, 1000), (0.7, 40, 1000), (0.9, 30, 1000), (0.8, 20, 1000), (0.8, 30, 2000)]


def check_steps_of_the_base(steps_of_the_base):
    """Exercise: how many of the steps the base runs before it hands over, for any denoising_end."""
    name = "steps_of_the_base"
    answers = []
    for denoising_end, steps, trained in BASE_CASES:
        answer, error = call(name, steps_of_the_base, _sdxl_euler(trained), denoising_end, steps)
        if error:
            return report(name, False, error)
        if unfinished(answer):
            return report(name, None, _("replace `...`: set the timesteps, find the cut-off timestep, count."))
        if hasattr(answer, "numel") and answer.numel() == 1:
            answer = answer.item()
        if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
            return report(name, False, _("return a whole number of steps, got {answer!r}.").format(answer=answer))
        answers.append(int(answer))
    expected = [_base_steps(*case) for case in BASE_CASES]
    if answers == expected:
        return report(name, True, _("denoising_end=0.8 with 30 steps: the base runs 23, the refiner 7. denoising_end "
                                    "cuts the timesteps, not the list of steps."))

    def strictly_above(end, steps, trained):
        return sum(t > _cutoff(end, trained) for t in _timesteps(steps, trained))

    def from_the_wrong_end(end, steps, trained):
        return sum(t >= round(end * trained) for t in _timesteps(steps, trained))

    share_of_the_steps = (_("that is steps × denoising_end, a share of the *steps*. denoising_end is a share of the "
                            "training timesteps: find the cut-off timestep and count the scheduled ones."))
    slips = [
        ([int(steps * end) for end, steps, _ in BASE_CASES], share_of_the_steps),
        ([round(steps * end) for end, steps, _ in BASE_CASES], share_of_the_steps),
        ([steps - e for (_, steps, _), e in zip(BASE_CASES, expected)], _("that is the refiner's count: the base runs "
                                                                          "the noisy start, the timesteps at or above "
                                                                          "the cut-off.")),
        ([strictly_above(*case) for case in BASE_CASES], _("a timestep equal to the cut-off belongs to the base (with "
                                                           "30 steps, denoising_end=0.9 puts the cut-off on a "
                                                           "scheduled timestep): count t >= cut-off.")),
        ([from_the_wrong_end(*case) for case in BASE_CASES], _("the cut-off is measured from the noisy end: timestep "
                                                               "num_train_timesteps × (1 − denoising_end).")),
        ([_base_steps(end, steps, trained) if trained == 1000 else sum(t >= _cutoff(end, 1000) for t in _timesteps(steps, trained))
          for end, steps, trained in BASE_CASES], _("right for SDXL, wrong for a scheduler trained on 2000 timesteps: "
                                                    "read scheduler.config.num_train_timesteps instead of writing "
                                                    "1000.")),
    ]
    for values, hint in slips:
        if answers == values:
            return report(name, False, hint)
    (end, steps, trained), answer = next((case, a) for case, a, e in zip(BASE_CASES, answers, expected) if a != e)
    return report(name, False, _("with denoising_end={end}, {steps} steps and {trained} training timesteps your count "
                                 "({answer}) is off. Did you call scheduler.set_timesteps(num_inference_steps) first?")
                  .format(end=end, steps=steps, trained=trained, answer=answer))


def check_refiner_strength(strength):
    """Exercise: the strength that makes the refiner, used as img2img, run as many steps as in the hand-off."""
    name = "refiner_strength"
    steps, end = 30, 0.8
    wanted = steps - _base_steps(end, steps)
    if unfinished(strength):
        return report(name, None, _("replace `...` with a strength: a number between 0 and 1."))
    if hasattr(strength, "numel") and strength.numel() == 1:
        strength = strength.item()
    if isinstance(strength, bool) or not isinstance(strength, (int, float)):
        return report(name, False, _("a strength is one number, got {kind}.").format(kind=type(strength).__name__))
    if strength == wanted:
        return report(name, False, _("that is a number of steps; strength is a fraction of the steps, between 0 and 1."))
    if not 0 < strength <= 1:
        return report(name, False, _("strength must lie in (0, 1]; {strength:g} does not.").format(strength=strength))
    runs = int(steps * strength)
    if runs == wanted:
        return report(name, True, _("int({steps} × {strength:g}) = {wanted}, the refiner's share of the hand-off; it "
                                    "starts from the noised finished picture instead of the base's half-done latents.")
                      .format(steps=steps, strength=strength, wanted=wanted))
    if round(steps * strength) == wanted:
        return report(name, False, _("{steps} × {strength!r} = {product!r}, and img2img truncates with int(): that "
                                     "runs {runs} steps.").format(steps=steps, strength=strength,
                                                                  product=steps * strength, runs=runs))
    if runs == int(steps * (1 - end)) or runs == round(steps * (1 - end)):
        return report(name, False, _("that runs {runs} steps, 1 − denoising_end of the steps. Count the refiner's "
                                     "steps in the hand-off: denoising_end cuts the timesteps, not the list of steps.")
                      .format(runs=runs))
    if runs == steps - wanted or runs == int(steps * end):
        return report(name, False, _("that runs {runs} steps, the base's share; the refiner polishes the low-noise end.")
                      .format(runs=runs))
    return report(name, False, _("that strength runs int({steps} × {strength:g}) = {runs} steps; the refiner ran a "
                                 "different number in the hand-off.").format(steps=steps, strength=strength, runs=runs))

