"""Lesson 00 refuses bad parameters in its settings cell, before any work, naming the parameter."""

import pytest

from lesson_parameters import assert_refused, settings_error

LESSON = "00"

BAD_VALUES = [
    ("mode", "Unknown mode", {"mode": "gpu"}),
    ("seed", "at least 0", {"seed": -1}),
    ("prompt", "non-empty text", {"prompt": "   "}),
    ("height", "divisible by 8", {"height": 30}),
    ("width", "positive whole number", {"width": "wide"}),
    ("num_inference_steps", "whole number", {"num_inference_steps": 2.5}),
    ("guidance_scale", "out of range", {"guidance_scale": -1.0}),
    ("models", "not a list", {"models": "sdxl-base"}),
    ("models", "not one of", {"models": ["sdxl-base", "sdxl-vae-fp16-fix"]}),  # full mode only: tiny mode has no copy
]


def test_every_model_with_a_tiny_version_may_be_prepared():
    assert settings_error(LESSON, mode="tiny", models=["sdxl-base", "sdxl-refiner", "ddpm", "sdxl-base-random"]) is None


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters | {"mode": parameters.get("mode", "tiny")})
