"""Checks for lesson 11's exercises (see helpers/exercises/__init__.py for the framework)."""

from __future__ import annotations

import math

from ..i18n import _
from . import call, report, unfinished

__all__ = ["check_padded_batches", "check_gpus_needed"]


def _returns_nothing(name, function, *args) -> bool:
    """True for a function whose body is still only `...` (it returns None); a function that raises is not 'nothing'."""
    if not callable(function):
        return False
    value, error = call(name, function, *args)
    return error is None and unfinished(value)


def _expected_batches(items, batch_size):
    result = []
    for start in range(0, len(items), batch_size):
        chunk = list(items[start:start + batch_size])
        result.append((chunk + [chunk[-1]] * (batch_size - len(chunk)), len(chunk)))
    return result


def check_padded_batches(padded_batches) -> None:
    """Exercise: cut the list of pictures into batches of exactly `batch_size`, the last one padded."""
    name = "padded_batches"
    if unfinished(padded_batches) or _returns_nothing(name, padded_batches, ["a"], 1):
        return report(name, None, _("replace `...` in `padded_batches` with your lines; it returns a list of (batch, keep) pairs."))
    cases = [(list("abcdefg"), 3), (list("abcdef"), 3), (list("ab"), 4), (list("abcde"), 1), ([], 2)]
    for items, batch_size in cases:
        answer, error = call(name, padded_batches, list(items), batch_size)
        if error:
            return report(name, False, _("with {count} items and batch_size={batch_size}: {error}").format(
                count=len(items), batch_size=batch_size, error=error))
        try:
            answer = [(list(batch), keep) for batch, keep in answer]
        except (TypeError, ValueError):
            return report(name, False, _("return a list of pairs (batch, keep): the batch (a list) and how many of it are real items."))
        expected = _expected_batches(items, batch_size)
        case = _("with {count} items and batch_size={batch_size}").format(count=len(items), batch_size=batch_size)
        if len(answer) != len(expected):
            return report(name, False, _("{case} you made {count} batches; one call per `batch_size` items, the last "
                                         "one possibly short before padding, makes a different number.")
                          .format(case=case, count=len(answer)))
        short = [batch for batch, _ in answer if len(batch) != batch_size]
        if short:
            return report(name, False, _("{case} a batch has {count} entries: every batch must have exactly "
                                         "batch_size, or the pictures of a short last batch can differ in their last "
                                         "bits.").format(case=case, count=len(short[0])))
        kept = [entry for batch, keep in answer for entry in batch[:keep]]
        if kept != list(items):
            if sorted(kept) == sorted(items):
                return report(name, False, _("{case} every item is kept once, but not in order: keep the order of the "
                                             "list.").format(case=case))
            if [keep for _, keep in answer] != [keep for _, keep in expected]:
                return report(name, False, _("{case} `keep` is wrong in some batch: it counts the real items, which "
                                             "come first; the padding after them is thrown away.").format(case=case))
            return report(name, False, _("{case} the first `keep` entries of the batches are not the items, each once, "
                                         "in order.").format(case=case))
        for batch, keep in answer:
            if any(entry not in batch[:keep] for entry in batch[keep:]):
                return report(name, False, _("{case} pad with an item of the same batch (e.g. its last one): padding "
                                             "from elsewhere may need other settings (size, steps) than the batch has.")
                              .format(case=case))
    return report(name, True, _("every batch full, the padding thrown away: cut from the whole list, the calls are "
                                "the same however the work is split between processes or resumed."))


def _gpus(pictures, seconds_per_picture, hours, startup_seconds):
    return math.ceil(pictures * seconds_per_picture / (hours * 3600 - startup_seconds))


def check_gpus_needed(gpus_needed) -> None:
    """Exercise: the fewest GPUs (one process each) that make `pictures` pictures within `hours`."""
    name = "gpus_needed"
    if unfinished(gpus_needed) or _returns_nothing(name, gpus_needed, 100, 1.0, 1.0, 60):
        return report(name, None, _("replace `...` in `gpus_needed` with your lines; it returns a whole number of GPUs."))
    cases = [(20_000, 15.0, 8, 300), (10_000, 4.0, 2, 120), (1_000, 30.0, 1, 600), (500, 2.0, 1, 60), (3_600, 1.0, 1, 0)]
    for pictures, seconds, hours, startup in cases:
        answer, error = call(name, gpus_needed, pictures, seconds, hours, startup)
        case = _("for {pictures:,} pictures at {seconds} s each in {hours} h with {startup} s of start-up").format(
            pictures=pictures, seconds=seconds, hours=hours, startup=startup)
        if error:
            return report(name, False, _("{case}: {error}").format(case=case, error=error))
        expected = _gpus(pictures, seconds, hours, startup)
        if isinstance(answer, float) and answer.is_integer():
            answer = int(answer)
        if isinstance(answer, bool) or not isinstance(answer, int):
            exact = pictures * seconds / (hours * 3600 - startup)
            if isinstance(answer, float) and abs(answer - exact) < 1e-6 * exact:
                return report(name, False, _("{case} you return {answer:.3f}: there is no such thing as a fraction of "
                                             "a GPU; round up.").format(case=case, answer=answer))
            return report(name, False, _("{case} you return a {kind}; return a whole number (an int).").format(
                case=case, kind=type(answer).__name__))
        if answer == expected:
            continue
        without_startup = math.ceil(pictures * seconds / (hours * 3600))
        if answer == math.floor(pictures * seconds / (hours * 3600 - startup)) and answer < expected:
            return report(name, False, _("{case} you round down: with that many GPUs the last pictures come too late. "
                                         "Round up.").format(case=case))
        if answer == without_startup and startup:
            return report(name, False, _("{case} you forgot the start-up: every process loses it once before its first "
                                         "picture.").format(case=case))
        if answer in (math.ceil(pictures * seconds / hours), math.ceil(pictures * seconds / (hours * 60))):
            return report(name, False, _("{case} the time is in hours and a picture's time in seconds: convert one of "
                                         "them.").format(case=case))
        amount = _("too many") if answer > expected else _("too few")
        return report(name, False, _("{case} you return {answer}, which is {amount}. Each GPU has the time left after "
                                     "its start-up; the pictures' total time is shared between them.")
                      .format(case=case, answer=answer, amount=amount))
    return report(name, True, _("the work is shared, the start-up is not: every GPU pays it, and a whole GPU is the unit."))
