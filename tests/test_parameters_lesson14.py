"""Lesson 14 refuses bad parameters in its settings cell, before any model is loaded, naming the parameter."""

import pytest

from lesson_parameters import assert_refused, settings_error

LESSON = "14"

BAD_VALUES = [
    ("mode", "Unknown mode", {"mode": "gpu"}),
    ("seed", "not a whole number", {"seed": 1.5}),
    ("prompt", "non-empty text", {"prompt": ""}),
    ("height", "divisible by 8", {"height": 36}),
    ("width", "positive whole number", {"width": -8}),
    ("num_inference_steps", "whole number >= 1", {"num_inference_steps": 0}),
    ("few_steps", "out of range", {"few_steps": [4, 60]}),
    ("few_steps", "not a list", {"few_steps": 4}),
    ("guidance_scale", "not a finite number", {"guidance_scale": "high"}),
    ("lcm_guidance_scale", "out of range", {"lcm_guidance_scale": 5}),
    ("distill_steps", "at least 1", {"distill_steps": 0}),
    ("batch_size", "not a whole number", {"batch_size": 2.5}),
    ("rank", "at least 1", {"rank": 0}),
    ("learning_rate", "out of range", {"learning_rate": 0}),
    ("ema_decay", "out of range", {"ema_decay": 1.0}),
    ("evaluation_seeds", "out of range", {"evaluation_seeds": 50}),
    ("output_dir", "non-empty text", {"output_dir": ""}),
]


def test_own_choices_pass():
    assert settings_error(LESSON, prompt="a blue square", few_steps=[2, 4], lcm_guidance_scale=1.0, distill_steps=5,
                          batch_size=4, rank=4, learning_rate=1e-4, ema_decay=0.0, evaluation_seeds=1) is None


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters)
