"""Lesson 09's settings cell refuses every bad parameter before any work, with what was wrong and what to do.

Each case feeds the lesson a value through papermill's own parameter injection and runs its cells through the
settings cell in this process (tests/lesson_parameters.py): no kernel, no server, no network.
"""

import pytest

from lesson_parameters import assert_refused

LESSON = "09"

BAD = [
    ("mode", "medium", "is not one of"),
    ("seed", -1, "out of range"),
    ("seed", 1.5, "not a whole number"),
    ("prompt", "", "not a non-empty text"),
    ("prompt", 3, "not a non-empty text"),
    ("negative_prompt", "", "Use None for none"),
    ("height", 36, "not divisible by 8"),
    ("width", 0, "positive whole number"),
    ("num_inference_steps", 0, "out of range"),
    ("num_inference_steps", "4", "not a whole number"),
    ("guidance_scale", -1.0, "out of range"),
    ("guidance_scale", "5", "not a finite number"),
    ("model", "bad id!", "not a Hub model id"),  # checked in tiny mode too, where it is not used
    ("provider", "nscal", "is not one of 'auto'"),  # the same
    ("base_url", "127.0.0.1:8000", "not an http(s) URL"),
    ("timeout", 0, "out of range"),
    ("output_dir", "", "not a non-empty text"),
]


@pytest.mark.parametrize("name, value, fragment", BAD, ids=[f"{name}={value!r}" for name, value, _ in BAD])
def test_a_bad_parameter_is_refused_with_its_name(name, value, fragment):
    assert_refused(LESSON, name, fragment, **{name: value})
