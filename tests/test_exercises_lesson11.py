"""Lesson 11's exercise checks name the usual slips without giving the answer."""

import math

import pytest

from helpers import exercises
from helpers.exercises import check_gpus_needed, check_padded_batches


def verdict(check, answer):
    exercises.RESULTS.clear()
    assert check(answer) is None  # a cell shows only the printed verdict
    (result,) = exercises.RESULTS.values()
    return result


def padded_right(items, batch_size):
    batches = []
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        batches.append((batch + [batch[-1]] * (batch_size - len(batch)), len(batch)))
    return batches


def not_padded(items, batch_size):
    return [(items[start:start + batch_size], len(items[start:start + batch_size])) for start in range(0, len(items), batch_size)]


def keep_is_batch_size(items, batch_size):
    return [(batch, batch_size) for batch, _ in padded_right(items, batch_size)]


def padded_from_elsewhere(items, batch_size):
    return [(batch[:keep] + [items[0]] * (batch_size - keep), keep) for batch, keep in padded_right(items, batch_size)]


def reversed_order(items, batch_size):
    return padded_right(items[::-1], batch_size)


def one_batch_too_many(items, batch_size):
    return padded_right(items, batch_size) + [([None] * batch_size, 0)]


def raises(items, batch_size):
    return items[len(items)]


@pytest.mark.parametrize("answer, hint", [
    (not_padded, "exactly batch_size"),
    (keep_is_batch_size, "`keep` is wrong"),
    (padded_from_elsewhere, "pad with an item of the same batch"),
    (reversed_order, "not in order"),
    (one_batch_too_many, "batches"),
    (raises, "IndexError"),
    (lambda items, batch_size: 3, "list of pairs"),
])
def test_padded_batches_names_the_slip(answer, hint):
    result = verdict(check_padded_batches, answer)
    assert result.ok is False and hint in result.message


def gpus_right(pictures, seconds_per_picture, hours, startup_seconds):
    return math.ceil(pictures * seconds_per_picture / (hours * 3600 - startup_seconds))


@pytest.mark.parametrize("answer, hint", [
    (lambda p, s, h, u: p * s / (h * 3600 - u), "fraction of a GPU"),
    (lambda p, s, h, u: math.floor(p * s / (h * 3600 - u)), "round down"),
    (lambda p, s, h, u: math.ceil(p * s / (h * 3600)), "start-up"),
    (lambda p, s, h, u: math.ceil(p * s / h), "hours"),
    (lambda p, s, h, u: math.ceil(p * s / (h * 3600 - u)) + 1, "too many"),
    (lambda p, s, h, u: "8", "whole number"),
    (lambda p, s, h, u: p / 0, "ZeroDivisionError"),
])
def test_gpus_needed_names_the_slip(answer, hint):
    result = verdict(check_gpus_needed, answer)
    assert result.ok is False and hint in result.message


def test_lesson_11_answers_are_accepted_and_placeholders_wait():
    def unfinished(*args):
        ...

    assert verdict(check_padded_batches, padded_right).ok is True
    assert verdict(check_gpus_needed, gpus_right).ok is True
    assert verdict(check_gpus_needed, lambda p, s, h, u: float(gpus_right(p, s, h, u))).ok is True
    assert verdict(check_padded_batches, unfinished).ok is None
    assert verdict(check_gpus_needed, unfinished).ok is None
    assert verdict(check_gpus_needed, ...).ok is None
