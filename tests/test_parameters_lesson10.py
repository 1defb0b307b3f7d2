"""Lesson 10's settings cell refuses every bad parameter before any work, with what was wrong and what to do.

Each case feeds the lesson a value through papermill's own parameter injection and runs its cells through the
settings cell in this process (tests/lesson_parameters.py): nothing is loaded or trained. Before these checks,
train_steps=0 and batch_size=0 were silently replaced by the defaults (`x or default`), a missing picture_folder
was silently ignored in tiny mode, and train_size=30 trained for minutes, then failed the ring count.
"""

import pytest
from PIL import Image

from lesson_parameters import assert_refused, settings_error

LESSON = "10"

BAD = [
    ("mode", "cpu", "is not one of"),
    ("seed", -1, "out of range"),
    ("concept", "star", "is not one of 'ring'"),  # tiny mode teaches the ring only
    ("concept", "", "not a non-empty text"),
    ("picture_folder", "/nonexistent/pictures", "is not an existing folder"),  # checked in tiny mode too
    ("instance_prompt", "", "not a non-empty text"),
    ("train_steps", 0, "out of range"),
    ("rank", 0, "out of range"),
    ("rank", 2.5, "not a whole number"),
    ("learning_rate", -0.001, "out of range"),
    ("learning_rate", 1.5, "out of range"),
    ("batch_size", 0, "out of range"),
    ("gradient_accumulation_steps", 1.5, "not a whole number"),
    ("later_timesteps_weight", 0, "out of range"),
    ("train_size", 30, "not a multiple of 8"),
    ("sample_every", 0, "out of range"),
    ("evaluation_seeds", 0, "out of range"),
    ("pictures_per_call", 0, "out of range"),
    ("height", 36, "not divisible by 8"),
    ("width", 0, "positive whole number"),
    ("num_inference_steps", 0, "whole number >= 1"),
    ("guidance_scale", -1.0, "out of range"),
    ("output_dir", "", "not a non-empty text"),
]


@pytest.mark.parametrize("name, value, fragment", BAD, ids=[f"{name}={value!r}" for name, value, _ in BAD])
def test_a_bad_parameter_is_refused_with_its_name(name, value, fragment):
    assert_refused(LESSON, name, fragment, **{name: value})


def test_a_picture_folder_without_pictures_is_refused_before_anything_loads(tmp_path):
    (tmp_path / "notes.txt").write_text("not a picture")
    assert_refused(LESSON, "picture_folder", "not pictures PIL can read", picture_folder=str(tmp_path))


def test_a_picture_folder_with_pictures_passes(tmp_path):
    Image.new("RGB", (64, 64), "red").save(tmp_path / "one.png")
    assert settings_error(LESSON, picture_folder=str(tmp_path)) is None
