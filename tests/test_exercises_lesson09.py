"""Lesson 09's exercise checks: each common mistake gets a message that says what is wrong, never the answer."""

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import check_jittered_wait, check_what_to_do


def verdict(check, answer):
    exercises.RESULTS.clear()
    check(answer)
    (result,) = exercises.RESULTS.values()
    return result


def test_full_jitter_is_right():
    assert verdict(check_jittered_wait, lambda a, b, m, rng: rng.uniform(0, min(b * 2**a, m))).ok is True
    assert verdict(check_jittered_wait, lambda a, b, m, rng: rng.random() * min(b * 2**a, m)).ok is True


@pytest.mark.parametrize("answer, expected", [
    (lambda a, b, m, rng: ..., "Not done yet"),
    (lambda a, b, m, rng: min(b * 2**a, m), "every wait is the same"),
    (lambda a, b, m, rng: rng.uniform(0, min(b * 2 ** (a + 1), m)), "exponent one too large"),
    (lambda a, b, m, rng: rng.uniform(0, b * 2**a), "above the cap"),
    (lambda a, b, m, rng: rng.uniform(0, min(b * (a + 1), m)), "growth linear"),
    (lambda a, b, m, rng: rng.uniform(min(b * 2**a, m) / 2, min(b * 2**a, m)), "never come near 0"),
    (lambda a, b, m, rng: rng.uniform(-1, min(b * 2**a, m)), "negative"),
    (lambda a, b, m, rng: "2 s", "a number of seconds"),
    (lambda a, b, m: 1.0, "raised TypeError"),
])
def test_jitter_mistakes_are_named(answer, expected, capsys):
    result = verdict(check_jittered_wait, answer)
    assert result.ok is not True
    assert expected in result.message or expected in capsys.readouterr().out


def right_what_to_do(status):
    return {401: "token", 403: "token", 402: "credits", 404: "model", 410: "model"}.get(status, "retry")


def test_sorting_the_statuses_is_right():
    assert verdict(check_what_to_do, right_what_to_do).ok is True


@pytest.mark.parametrize("mistake, expected", [
    ({429: "credits"}, "a 429 is a rate limit"),
    ({403: "model"}, "a 403 means the token was read"),
    ({410: "retry"}, "retired the model"),
    ({504: "model", 502: "model"}, "a 502 comes from a gateway"),
    ({402: "token"}, "'payment required'"),
])
def test_a_wrong_status_is_named_with_why_not_with_the_answer(mistake, expected):
    result = verdict(check_what_to_do, lambda status: mistake.get(status, right_what_to_do(status)))
    assert result.ok is False and expected in result.message
    assert "should be" not in result.message  # the message explains the status, it does not give the answer


def test_answers_outside_the_four_and_crashes_are_reported_politely():
    assert "return one of the strings" in verdict(check_what_to_do, lambda status: "wait").message
    assert "raised KeyError" in verdict(check_what_to_do, lambda status: {}[status]).message
    assert verdict(check_what_to_do, lambda status: None).ok is None
