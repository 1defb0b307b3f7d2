"""Checks for the exercises of lesson 09 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import numpy as np

from ..i18n import _
from . import call, report, unfinished

__all__ = ["check_jittered_wait", "check_what_to_do"]

# (attempt, backoff, max_wait): the cap is reached at attempt 4 with backoff 2 (2 * 2**4 = 32 > 30)
JITTER_CASES = [(0, 2.0, 30.0), (1, 2.0, 30.0), (2, 2.0, 30.0), (3, 1.5, 60.0), (4, 2.0, 30.0), (6, 1.0, 20.0)]
DRAWS = 400


def _returns_placeholder(name, function, *args) -> bool:
    """True while a learner's function still returns nothing (its body is the `...` placeholder)."""
    value, problem = call(name, function, *args)
    return problem is None and unfinished(value)


def _draws(function, attempt, backoff, max_wait):
    rng = np.random.default_rng(attempt + 10)
    waits = []
    for _draw in range(DRAWS):
        value, problem = call("jittered_wait", function, attempt, backoff, max_wait, rng)
        if problem:
            return None, problem
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            return None, _("jittered_wait should return a number of seconds, got {kind}.").format(
                kind=type(value).__name__)
        waits.append(float(value))
    return np.array(waits), None


def check_jittered_wait(jittered_wait) -> None:
    """Exercise: full-jitter backoff, a random wait between 0 and min(backoff * 2**attempt, max_wait)."""
    name = "jittered_wait"
    if unfinished(jittered_wait) or _returns_placeholder(name, jittered_wait, 0, 2.0, 30.0, np.random.default_rng(0)):
        return report(name, None, _("replace `...` in jittered_wait with a line that returns a random wait."))
    for attempt, backoff, max_wait in JITTER_CASES:
        waits, problem = _draws(jittered_wait, attempt, backoff, max_wait)
        where = _("for attempt={attempt}, backoff={backoff}, max_wait={max_wait}").format(
            attempt=attempt, backoff=backoff, max_wait=max_wait)
        if problem:
            return report(name, False, problem)
        ceiling = min(backoff * 2**attempt, max_wait)
        if not np.isfinite(waits).all():
            return report(name, False, _("{where} some waits are not finite numbers.").format(where=where))
        if waits.min() < 0:
            return report(name, False, _("{where} a wait came out negative: a wait starts at 0 seconds.").format(where=where))
        if np.ptp(waits) < 1e-9:
            return report(name, False, _("{where} every wait is the same: the point of jitter is a *random* wait "
                                         "(draw it with rng).").format(where=where))
        if waits.max() > ceiling * (1 + 1e-9):
            if waits.max() <= min(backoff * 2 ** (attempt + 1), max_wait) * (1 + 1e-9) and attempt < 4:
                return report(name, False, _("{where} waits go above the exponential wait of that attempt: is the "
                                             "exponent one too large? Attempt 0 waits at most `backoff`.")
                              .format(where=where))
            return report(name, False, _("{where} waits go above the cap: never wait more than max_wait, and never "
                                         "more than backoff * 2**attempt.").format(where=where))
        if waits.max() < 0.75 * ceiling:
            hint = (" " + _("Is the exponent one too small, or the growth linear? The wait doubles with each attempt.")
                    if attempt >= 2 else "")
            return report(name, False, _("{where} the waits stay well below what they may reach.").format(where=where)
                          + hint)
        if waits.min() > 0.25 * ceiling:
            return report(name, False, _("{where} the waits never come near 0: full jitter draws from the whole range "
                                         "from 0 up to the exponential wait.").format(where=where))
    return report(name, True, _("random waits from 0 up to the capped exponential wait: clients that failed together "
                                "now come back at different moments."))


# status -> the answer the exercise expects; the messages below say *why* a wrong answer is wrong
WHAT_TO_DO = {401: "token", 403: "token", 402: "credits", 404: "model", 410: "model",
              429: "retry", 502: "retry", 503: "retry", 504: "retry"}


def _why() -> dict[int, str]:
    """Why each status gets its answer (built when a check runs, in the language chosen then)."""
    return {
        401: _("a 401 means the server did not accept who you are."),
        403: _("a 403 means the token was read but may not do this (a missing permission)."),
        402: _("402 is 'payment required'."),
        404: _("a 404 means nothing is there under that name: waiting will not make it appear."),
        410: _("a 410 ('gone') means the provider retired the model: it will not come back by waiting."),
        429: _("a 429 is a rate limit: the same request a little later is fine, and credits are a different status."),
        502: _("a 502 comes from a gateway whose model did not answer properly: usually a passing problem."),
        503: _("a 503 while the model loads is the classic case for waiting."),
        504: _("a 504 is a gateway that gave up waiting: usually a passing problem."),
    }


ANSWERS = ("retry", "token", "credits", "model")


def check_what_to_do(what_to_do) -> None:
    """Exercise: sort an HTTP status into retry / token / credits / model."""
    name = "what_to_do"
    if unfinished(what_to_do) or all(_returns_placeholder(name, what_to_do, status) for status in WHAT_TO_DO):
        return report(name, None, _("replace `...` in what_to_do with code that returns one of "
                                    "'retry', 'token', 'credits', 'model'."))
    wrong = []
    for status, expected in WHAT_TO_DO.items():
        answer, problem = call(name, what_to_do, status)
        if problem:
            return report(name, False, _("for status {status} {problem}").format(status=status, problem=problem))
        if answer not in ANSWERS:
            return report(name, False, _("what_to_do({status}) returned {answer!r}; return one of the strings "
                                         "{answers}.").format(status=status, answer=answer,
                                                             answers=", ".join(repr(a) for a in ANSWERS)))
        if answer != expected:
            wrong.append(status)
    if not wrong:
        return report(name, True, _("retry only what time can fix (429, 502, 503, 504); for the rest, tell the user "
                                    "what to change."))
    first = wrong[0]
    others = ""
    if len(wrong) == 2:
        others = " " + _("(1 more status also wrong)")
    elif len(wrong) > 2:
        others = " " + _("({count} more statuses also wrong)").format(count=len(wrong) - 1)
    return report(name, False, _("what_to_do({status}) is not right: {why}").format(status=first, why=_why()[first])
                  + others)
