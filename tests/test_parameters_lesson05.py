"""Lesson 05 refuses bad parameters in its settings cell, before any model is loaded, naming the parameter."""

import pytest

from lesson_parameters import assert_refused, settings_error

LESSON = "05"

BAD_VALUES = [
    ("mode", "Unknown mode", {"mode": "gpu"}),
    ("seed", "out of range", {"seed": -1}),
    ("prompt", "non-empty text", {"prompt": ""}),
    ("negative_prompt", "not a text", {"negative_prompt": 0}),
    ("height", "not divisible by 8", {"height": 36}),
    ("width", "positive whole number", {"width": "wide"}),
    ("num_inference_steps", "out of range", {"num_inference_steps": 0}),
    ("guidance_scale", "out of range", {"guidance_scale": -2.0}),
    ("images_per_setting", "out of range", {"images_per_setting": 0}),
    ("images_per_setting", "not a whole number", {"images_per_setting": 2.5}),
    ("batch_size", "out of range", {"batch_size": 0}),
    ("crop_seeds", "out of range", {"crop_seeds": 0}),
    ("output_dir", "non-empty text", {"output_dir": ""}),
    ("output_dir", "is a file", {"output_dir": __file__}),
]


def test_the_smallest_values_that_work_are_kept_not_replaced_by_defaults():
    # "" is a valid negative prompt and 1 a valid count: `x or default` would have swapped "" for None
    assert settings_error(LESSON, seed=0, negative_prompt="", crop_seeds=1, images_per_setting=1, batch_size=1) is None


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters)
