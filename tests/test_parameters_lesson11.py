"""Lesson 11's settings cell refuses every bad parameter before any work, with what was wrong and what to do.

Each case feeds the lesson a value through papermill's own parameter injection and runs its cells through the
settings cell in this process (tests/lesson_parameters.py): nothing is loaded, no process is launched.
"""

import pytest

from lesson_parameters import assert_refused

LESSON = "11"

BAD = [
    ("mode", "gpu", "is not one of"),
    ("seed", -1, "out of range"),
    ("prompts", "a red circle", "is not a list"),
    ("prompts", [], "needs at least 1"),
    ("prompts", ["a red\ncircle"], "line break"),
    ("prompts", ["a red circle", ""], "prompts[1]"),
    ("seeds_per_prompt", 0, "out of range"),  # was a ZeroDivisionError in section 2
    ("height", 36, "not divisible by 8"),
    ("width", "32", "positive whole number"),
    ("num_inference_steps", 0, "whole number >= 1"),
    ("guidance_scale", -1.0, "out of range"),
    ("batch_sizes", [2, 0], "batch_sizes[1]"),
    ("batch_sizes", 4, "is not a list"),
    ("batch_size", 0, "out of range"),
    ("processes", 0, "out of range"),  # was the lesson's own AssertionError about split_between_processes
    ("processes", 1, "compares one process with this many"),
    ("processes", 999, "out of range"),  # tiny mode: at most one per core
    ("output_dir", "", "not a non-empty text"),
]


@pytest.mark.parametrize("name, value, fragment", BAD, ids=[f"{name}={value!r}" for name, value, _ in BAD])
def test_a_bad_parameter_is_refused_with_its_name(name, value, fragment):
    assert_refused(LESSON, name, fragment, **{name: value})
