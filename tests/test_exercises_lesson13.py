"""Lesson 13's exercise checks: each common mistake gets a message that says what is wrong, never the answer."""

import pytest
import torch

from helpers import exercises
from helpers.exercises import check_controlnet_keep, check_weight_token


def verdict(check, answer):
    exercises.RESULTS.clear()
    check(answer)
    (result,) = exercises.RESULTS.values()
    return result


# 1. weight one token


def right_weight(z, empty_z, position, weight):
    weighted = z.clone()
    weighted[:, position] = empty_z[:, position] + (z[:, position] - empty_z[:, position]) * weight
    return weighted


def with_where(z, empty_z, position, weight):
    weights = torch.ones(z.shape[1], 1)
    weights[position] = weight
    return empty_z + (z - empty_z) * weights if weight != 1 else z.clone()


def test_weight_token_accepts_any_correct_form():
    assert verdict(check_weight_token, right_weight).ok is True


def test_weight_token_not_done_yet_while_the_body_is_a_placeholder():
    def weight_token(z, empty_z, position, weight):
        ...

    assert verdict(check_weight_token, weight_token).ok is None


def in_place(z, empty_z, position, weight):
    z[:, position] = empty_z[:, position] + (z[:, position] - empty_z[:, position]) * weight
    return z


def scaled_vector(z, empty_z, position, weight):
    weighted = z.clone()
    weighted[:, position] = z[:, position] * weight
    return weighted


def difference_only(z, empty_z, position, weight):
    weighted = z.clone()
    weighted[:, position] = (z[:, position] - empty_z[:, position]) * weight
    return weighted


def divided(z, empty_z, position, weight):
    weighted = z.clone()
    weighted[:, position] = empty_z[:, position] + (z[:, position] - empty_z[:, position]) / weight
    return weighted


def every_position(z, empty_z, position, weight):
    return empty_z + (z - empty_z) * weight


def first_prompt_only(z, empty_z, position, weight):
    weighted = z.clone()
    weighted[0, position] = empty_z[0, position] + (z[0, position] - empty_z[0, position]) * weight
    return weighted


@pytest.mark.parametrize("function, says", [
    (in_place, "changed `z` itself"),
    (scaled_vector, "scales the vector itself"),
    (difference_only, "must be added back"),
    (divided, "divides by the weight"),
    (every_position, "other than the one at `position`"),
    (first_prompt_only, "only the first prompt"),
    (lambda z, empty_z, position, weight: z[:, position], "shape"),
    (lambda z, empty_z, position, weight: z.tolist(), "torch tensor"),
    (lambda z, empty_z, position, weight: z.no_such_thing, "your function raised AttributeError"),
])
def test_weight_token_names_the_common_mistakes(function, says):
    result = verdict(check_weight_token, function)
    assert result.ok is False and says in result.message


# 2. when the ControlNet acts


def right_keep(num_inference_steps, start, end):
    n = num_inference_steps
    return [1.0 - float(i / n < start or (i + 1) / n > end) for i in range(n)]


def test_controlnet_keep_accepts_floats_or_booleans():
    assert verdict(check_controlnet_keep, right_keep).ok is True
    assert verdict(check_controlnet_keep, lambda n, s, e: [bool(v) for v in right_keep(n, s, e)]).ok is True


def test_controlnet_keep_not_done_yet_while_the_body_is_a_placeholder():
    assert verdict(check_controlnet_keep, lambda n, s, e: ...).ok is None


@pytest.mark.parametrize("function, says", [
    (lambda n, s, e: [1.0 - v for v in right_keep(n, s, e)], "inverted"),
    (lambda n, s, e: [1.0 - float(i / n < s or i / n > e) for i in range(n)], "one step too many at the end"),
    (lambda n, s, e: [1.0 - float(i / n <= s or (i + 1) / n >= e) for i in range(n)], "exactly at `start`"),
    (lambda n, s, e: right_keep(n, s, e)[1:], "entries"),
    (lambda n, s, e: 1.0, "a list of numbers"),
    (lambda n, s, e: [1.0 - float(i / n < s) for i in range(n)], "your list is off"),
])
def test_controlnet_keep_names_the_common_mistakes(function, says):
    result = verdict(check_controlnet_keep, function)
    assert result.ok is False and says in result.message


def test_controlnet_keep_says_what_a_short_window_does():
    result = verdict(check_controlnet_keep, right_keep)
    assert "first 3 steps" in result.message
