"""Lesson 08 refuses bad parameters in its settings cell, before any model is loaded, naming the parameter."""

import pytest

from lesson_parameters import assert_refused, settings_error

LESSON = "08"

BAD_VALUES = [
    ("mode", "Unknown mode", {"mode": "fast"}),
    ("seed", "not a whole number", {"seed": "0"}),
    ("prompt", "non-empty text", {"prompt": ""}),
    ("height", "divisible by 8", {"height": 20}),
    ("width", "positive whole number", {"width": 0}),
    ("num_inference_steps", "whole number >= 1", {"num_inference_steps": -3}),
    ("guidance_scale", "out of range", {"guidance_scale": -5.0}),
    ("repeats", "out of range", {"repeats": 0}),
    ("run_compile", "not True or False", {"run_compile": "yes"}),
]


def test_one_repeat_passes_as_the_rehearsals_use_it():
    assert settings_error(LESSON, repeats=1, run_compile=True) is None


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters)
