"""Lesson 13 refuses bad parameters in its settings cell, before any model is loaded, naming the parameter."""

import pytest

from lesson_parameters import assert_refused, settings_error

LESSON = "13"

BAD_VALUES = [
    ("mode", "Unknown mode", {"mode": "gpu"}),
    ("seed", "not a whole number", {"seed": 1.5}),
    ("prompt", "non-empty text", {"prompt": ""}),
    ("weighted_word", "not a word of the prompt", {"weighted_word": "green"}),
    ("weighted_word", "non-empty text", {"weighted_word": 3}),
    ("word_weights", "out of range", {"word_weights": [0, 5]}),
    ("word_weights", "not a list", {"word_weights": 1.5}),
    ("blend_colour", "is not one of", {"blend_colour": "pink"}),
    ("blend_colour", "the prompt's own colour", {"blend_colour": "blue"}),
    ("height", "divisible by 8", {"height": 36}),
    ("width", "positive whole number", {"width": -8}),
    ("num_inference_steps", "whole number >= 1", {"num_inference_steps": 0}),
    ("guidance_scale", "not a finite number", {"guidance_scale": "high"}),
    ("measure_seeds", "out of range", {"measure_seeds": 0}),
    ("input_image", "not an existing file", {"input_image": "/nonexistent.png"}),
    ("input_image", "not a picture", {"input_image": __file__}),
    ("controlnet_conditioning_scale", "out of range", {"controlnet_conditioning_scale": -1}),
    ("control_guidance_start", "out of range", {"control_guidance_start": 1.0}),
    ("control_guidance_end", "out of range", {"control_guidance_start": 0.5, "control_guidance_end": 0.5}),
]


def test_the_default_blend_colour_is_never_the_prompts_own():
    assert settings_error(LESSON, prompt="a yellow circle") is None


def test_own_choices_pass(tmp_path):
    from PIL import Image

    Image.new("RGB", (40, 24), "white").save(tmp_path / "mine.png")
    assert settings_error(LESSON, input_image=str(tmp_path / "mine.png"), prompt="a red circle", word_weights=[0, 2],
                          weighted_word="circle", control_guidance_start=0.2, control_guidance_end=0.6) is None


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters)
