"""Self-checking exercises: the learner writes a few lines, a `check_...` call says right, or what is wrong.

An exercise cell in a lesson defines something (a function or a value) where the learner's code goes,
with `...` as the placeholder, and ends with its check, e.g.

    def posterior_mean(x_t, x0, t, scheduler):
        ...  # your code: two or three lines
    check_posterior_mean(posterior_mean)

A check never raises and never gives the answer away. It prints one line:
- "not done yet" while the placeholder is still there (so a lesson runs from top to bottom unfilled),
- "right" with what was checked, or
- what is wrong (a shape, a sign, which case fails) and a hint.

Checks bring their own inputs (a small scheduler, a few tensors), so an exercise cell needs nothing from
the lesson but its imports, and the test suite can run it alone: once as committed (it must say "not done
yet") and once with the instructor's solution (it must say "right"). The solutions are in the repository's
`solutions/` folder, one file per lesson, never in the lessons.

Each lesson's checks live in `lessonNN.py` beside this file; all are importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..i18n import _

RESULTS: dict[str, "Result"] = {}  # the latest verdict of each exercise, by name (read by the tests)


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool | None  # None: not attempted yet (the placeholder is still there)
    message: str


def report(name: str, ok: bool | None, message: str) -> None:
    """Record and print the verdict on exercise `name` (nothing is returned: a cell shows only the verdict line)."""
    mark = {True: _("✅ Right"), False: _("❌ Not yet"), None: _("✏️  Not done yet")}[ok]
    result = Result(name, ok, message)
    RESULTS[name] = result
    print(f"{mark} ({name}): {message}")


def unfinished(value) -> bool:
    """True while the answer is still the placeholder: the value `...`, or None (what a function whose body is
    only `...` returns when a check calls it)."""
    return value is Ellipsis or value is None


def call(name: str, function, *args, **kwargs):
    """Call the learner's function; return (value, None), or (None, a polite message) if it raised.

    The message names the exception and its text, never a traceback into the course's code.
    """
    if not callable(function):
        return None, _("expected a function, got {kind}. Define it with `def` and pass its name.").format(
            kind=type(function).__name__)
    try:
        return function(*args, **kwargs), None
    except Exception as error:  # the learner's code: report it, do not crash the lesson
        return None, _("your function raised {kind}: {error}").format(kind=type(error).__name__, error=error)


def compare_tensors(answer, expected: torch.Tensor, what: str, atol: float = 1e-5) -> str | None:
    """None if `answer` is a tensor matching `expected`; otherwise what differs (type, shape, values)."""
    if not isinstance(answer, torch.Tensor):
        return _("{what} should be a torch tensor, got {kind}.").format(what=what, kind=type(answer).__name__)
    if answer.shape != expected.shape:
        return _("{what} has shape {shape}; it should have shape {expected}.").format(
            what=what, shape=tuple(answer.shape), expected=tuple(expected.shape))
    difference = (answer.double() - expected.double()).abs().max().item()
    if not difference <= atol:  # also catches NaN
        scale = expected.double().abs().max().item() or 1.0
        return _("{what} has the right shape but its values are off by up to {difference:.3g} (values are about "
                 "{scale:.3g} in size).").format(what=what, difference=difference, scale=scale)
    return None


def compare_number(answer, expected: float, what: str, rel: float = 1e-4) -> str | None:
    """None if `answer` is a number equal to `expected` (relatively); otherwise what is wrong, without the value."""
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return _("{what} should be a number, got {kind}.").format(what=what, kind=type(answer).__name__)
    if abs(answer - expected) > rel * max(abs(expected), 1e-12):
        direction = _("too large") if answer > expected else _("too small")
        return _("{what} = {answer:.4g} is {direction}.").format(what=what, answer=answer, direction=direction)
    return None


from .lesson00 import *  # noqa: E402,F401,F403
from .lesson01 import *  # noqa: E402,F401,F403
from .lesson02 import *  # noqa: E402,F401,F403
from .lesson03 import *  # noqa: E402,F401,F403
from .lesson04 import *  # noqa: E402,F401,F403
from .lesson05 import *  # noqa: E402,F401,F403
from .lesson06 import *  # noqa: E402,F401,F403
from .lesson07 import *  # noqa: E402,F401,F403
from .lesson08 import *  # noqa: E402,F401,F403
from .lesson09 import *  # noqa: E402,F401,F403
from .lesson10 import *  # noqa: E402,F401,F403
from .lesson11 import *  # noqa: E402,F401,F403
from .lesson12 import *  # noqa: E402,F401,F403
from .lesson13 import *  # noqa: E402,F401,F403
from .lesson14 import *  # noqa: E402,F401,F403
