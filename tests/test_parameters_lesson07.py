"""Lesson 07 refuses bad parameters in its settings cell, before any model is loaded, naming the parameter."""

import pytest

from lesson_parameters import assert_refused, settings_error

LESSON = "07"

BAD_VALUES = [
    ("mode", "Unknown mode", {"mode": "gpu"}),
    ("seed", "not a whole number", {"seed": 1.5}),
    ("prompt", "non-empty text", {"prompt": ""}),
    ("negative_prompt", "not a text", {"negative_prompt": ["blurry"]}),
    ("height", "divisible by 8", {"height": 36}),
    ("width", "positive whole number", {"width": -8}),
    ("num_inference_steps", "whole number >= 1", {"num_inference_steps": 0}),
    ("guidance_scale", "not a finite number", {"guidance_scale": "high"}),
    ("strength", "(0, 1]", {"strength": 0}),
    ("strength", "0 denoising steps", {"strength": 0.6, "num_inference_steps": 1}),
    ("input_image", "not an existing file", {"input_image": "/nonexistent.png"}),
    ("input_image", "not a picture", {"input_image": __file__}),
    ("sweep_strengths", "out of range", {"sweep_strengths": [0.5, 0.01]}),
    ("sweep_strengths", "not a list", {"sweep_strengths": "0.5"}),
]


def test_a_picture_of_ones_own_and_a_sweep_of_ones_own_pass(tmp_path):
    from PIL import Image

    Image.new("RGB", (40, 24), "white").save(tmp_path / "mine.png")
    assert settings_error(LESSON, input_image=str(tmp_path / "mine.png"), sweep_strengths=[0.05, 0.5]) is None


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters)
