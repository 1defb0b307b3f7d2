"""Lesson 04 refuses bad parameters in its settings cell, before any model is loaded, naming the parameter."""

import pytest

from lesson_parameters import assert_refused, settings_error

LESSON = "04"

BAD_VALUES = [
    ("mode", "Valid modes", {"mode": "gpu"}),
    ("seed", "out of range", {"seed": -1}),
    ("seed", "not a whole number", {"seed": 1.5}),
    ("prompt", "non-empty text", {"prompt": "   "}),
    ("prompt", "non-empty text", {"prompt": 42}),
    ("negative_prompt", "not a text", {"negative_prompt": ["blurry"]}),
    ("height", "not divisible by 8", {"height": 36}),
    ("width", "positive whole number", {"width": 0}),
    ("num_inference_steps", "out of range", {"num_inference_steps": 0}),
    ("num_inference_steps", "not a whole number", {"num_inference_steps": 2.5}),
    ("num_inference_steps", "1000 timesteps", {"num_inference_steps": 5000}),
    ("guidance_scale", "out of range", {"guidance_scale": -1}),
    ("guidance_scale", "not a finite number", {"guidance_scale": "high"}),
]


def test_an_empty_negative_prompt_and_guidance_off_are_valid():
    assert settings_error(LESSON, negative_prompt="", guidance_scale=1.0, num_inference_steps=1, height=24, width=40) is None


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters)
