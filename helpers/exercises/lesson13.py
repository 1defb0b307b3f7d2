"""Checks for the exercises of lesson 13 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import torch

from ..i18n import _
from . import call, compare_tensors, report, unfinished

__all__ = ["check_controlnet_keep", "check_weight_token"]


def _embeddings(seed: int = 13):
    """A prompt's and the empty prompt's embeddings, (2, 77, 8), and a copy of the first to see it left alone."""
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(2, 77, 8, generator=generator)
    empty_z = torch.randn(2, 77, 8, generator=generator)
    return z, empty_z


def _weighted(z, empty_z, position, weight):
    expected = z.clone()
    expected[:, position] = empty_z[:, position] + (z[:, position] - empty_z[:, position]) * weight
    return expected


WEIGHT_CASES = [(3, 1.5), (5, 2.0), (1, 1.0)]  # (position, weight)


def check_weight_token(weight_token):
    """Exercise: move one token's vector away from the empty prompt's by `weight` (compel's weighting, w >= 1)."""
    name = "weight_token"
    for position, weight in WEIGHT_CASES:
        z, empty_z = _embeddings()
        original = z.clone()
        answer, error = call(name, weight_token, z, empty_z, position, weight)
        if error:
            return report(name, False, error)
        if unfinished(answer):
            return report(name, None, _("replace `...`: copy z, then change the vectors at `position` (all of the batch)."))
        if not torch.equal(z, original):
            return report(name, False, _("your function changed `z` itself: work on a copy (z.clone()) and return that."))
        if not isinstance(answer, torch.Tensor) or answer.shape != z.shape:
            return report(name, False, compare_tensors(answer, z, _("the result")) or _("return a tensor shaped like z."))
        expected = _weighted(z, empty_z, position, weight)
        if compare_tensors(answer, expected, _("the result")) is None:
            continue
        others = [i for i in range(z.shape[1]) if i != position]
        if not torch.allclose(answer[:, others], z[:, others]):
            return report(name, False, _("vectors other than the one at `position` changed: only that token is weighted."))
        got = answer[:, position]
        if torch.allclose(got, z[:, position] * weight):
            return report(name, False, _("that scales the vector itself; compel scales its difference from the empty "
                                         "prompt's vector, then adds the empty prompt's back."))
        if torch.allclose(got, (z[:, position] - empty_z[:, position]) * weight):
            return report(name, False, _("almost: the difference is scaled, but the empty prompt's vector must be added back."))
        if torch.allclose(got, empty_z[:, position] + (z[:, position] - empty_z[:, position]) / weight):
            return report(name, False, _("that divides by the weight: a weight above 1 should push the vector further away."))
        if torch.allclose(answer[0], expected[0]) and not torch.allclose(answer[1], expected[1]):
            return report(name, False, _("only the first prompt of the batch was weighted: index as z[:, position]."))
        return report(name, False, _("with weight {weight} at position {position} the vector there is off: it should "
                                     "be empty + (z - empty) * weight.").format(weight=weight, position=position))
    return report(name, True, _("weight 1 leaves the prompt as it was; 1.5 pushes the word's vector 50% further from "
                                "the empty prompt's, which is what `(word)1.5` does in compel for each text encoder."))


KEEP_CASES = [(10, 0.0, 1.0), (10, 0.0, 0.3), (10, 0.3, 1.0), (20, 0.25, 0.75), (7, 0.5, 1.0), (30, 0.1, 0.9)]


def _keep(steps: int, start: float, end: float, late_end: bool = False, inclusive: bool = False) -> list[float]:
    """diffusers' controlnet_keep (the slips the check recognises: the end tested on i / n; <= instead of <)."""
    if inclusive:
        return [1.0 - float(i / steps <= start or (i + 1) / steps >= end) for i in range(steps)]
    last = (lambda i: i / steps > end) if late_end else (lambda i: (i + 1) / steps > end)
    return [1.0 - float(i / steps < start or last(i)) for i in range(steps)]


def check_controlnet_keep(controlnet_keep):
    """Exercise: 1.0 at the steps where the ControlNet acts, 0.0 elsewhere (control_guidance_start/end)."""
    name = "controlnet_keep"
    answers = []
    for steps, start, end in KEEP_CASES:
        answer, error = call(name, controlnet_keep, steps, start, end)
        if error:
            return report(name, False, error)
        if unfinished(answer):
            return report(name, None, _("replace `...`: one number per step, 1.0 where the ControlNet acts."))
        try:
            values = [float(v) for v in answer]
        except (TypeError, ValueError):
            return report(name, False, _("return a list of numbers (one per step), got {kind}.")
                          .format(kind=type(answer).__name__))
        if len(values) != steps:
            return report(name, False, _("with {steps} steps the list should have {steps} entries, not {count}.")
                          .format(steps=steps, count=len(values)))
        answers.append(values)
    expected = [_keep(*case) for case in KEEP_CASES]
    if answers == expected:
        on = int(sum(_keep(10, 0.0, 0.3)))
        return report(name, True, _("with 10 steps and the window 0 to 0.3 the ControlNet acts at the first {on} "
                                    "steps: a step runs only if it lies wholly inside the window.").format(on=on))
    if answers == [[1.0 - v for v in values] for values in expected]:
        return report(name, False, _("inverted: 1.0 is where the ControlNet *acts*, inside the window."))
    if answers == [_keep(*case, late_end=True) for case in KEEP_CASES]:
        return report(name, False, _("one step too many at the end: step i runs from i / n to (i + 1) / n, and it must "
                                     "end by `end`."))
    if answers == [_keep(*case, inclusive=True) for case in KEEP_CASES]:
        return report(name, False, _("a step that starts exactly at `start` or ends exactly at `end` is inside the window."))
    steps, start, end = next(case for case, a, e in zip(KEEP_CASES, answers, expected) if a != e)
    return report(name, False, _("for {steps} steps and the window {start} to {end} your list is off. Step i covers "
                                 "the share i / n to (i + 1) / n of the "
                                 "steps.").format(steps=steps, start=start, end=end))
