"""Lesson 12 refuses bad parameters in its settings cell, before any model is loaded, naming the parameter."""

import numpy as np
import pytest
from PIL import Image

from lesson_parameters import assert_refused, settings_error

LESSON = "12"

BAD_VALUES = [
    ("mode", "Unknown mode", {"mode": "gpu"}),
    ("seed", "not a whole number", {"seed": 1.5}),
    ("prompt", "non-empty text", {"prompt": ""}),
    ("source_prompt", "non-empty text", {"source_prompt": "  "}),
    ("source_prompt", "colour and a shape", {"source_prompt": "a cat"}),
    ("edit_prompt", "non-empty text", {"edit_prompt": None}),
    ("negative_prompt", "not a text", {"negative_prompt": ["blurry"]}),
    ("height", "divisible by 8", {"height": 36}),
    ("width", "positive whole number", {"width": -8}),
    ("num_inference_steps", "whole number >= 1", {"num_inference_steps": 0}),
    ("guidance_scale", "not a finite number", {"guidance_scale": "high"}),
    ("strength", "(0, 1]", {"strength": 0}),
    ("mask_box", "four numbers", {"mask_box": [0.2, 0.8]}),
    ("mask_box", "four numbers", {"mask_box": "middle"}),
    ("mask_box", "between 0 and 1", {"mask_box": [0.2, 0.2, 1.5, 0.8]}),
    ("mask_box", "too thin", {"mask_box": [0.6, 0.2, 0.4, 0.8]}),
    ("mask_box", "whole picture", {"mask_box": [0, 0, 1, 1]}),
    ("measure_seeds", "out of range", {"measure_seeds": 0}),
    ("padding_mask_crop", "not a whole number", {"padding_mask_crop": 4.5}),
    ("input_image", "not an existing file", {"input_image": "/nonexistent.png"}),
    ("input_image", "not a picture", {"input_image": __file__}),
    ("mask_image", "not an existing file", {"mask_image": "/nonexistent.png"}),
]


def save(path, array):
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)  # the mode follows the array: L, RGB or RGBA
    return str(path)


def a_mask(height=32, width=32):
    pixels = np.zeros((height, width), dtype=np.uint8)
    pixels[8:24, 8:24] = 255
    return pixels


@pytest.mark.parametrize("name, fragment, parameters", BAD_VALUES, ids=[f"{n}={p[n]!r}" for n, _, p in BAD_VALUES])
def test_a_bad_value_is_refused_with_a_message_naming_it(name, fragment, parameters):
    assert_refused(LESSON, name, fragment, **parameters)


def test_a_picture_and_a_mask_of_ones_own_pass(tmp_path):
    picture = save(tmp_path / "mine.png", np.full((24, 40, 3), 200))
    assert settings_error(LESSON, input_image=picture, mask_image=save(tmp_path / "m.png", a_mask(24, 40)),
                          source_prompt="a grey wall") is None


def test_a_mask_with_the_drawn_pictures_size_passes_without_input_image(tmp_path):
    assert settings_error(LESSON, mode="tiny", mask_image=save(tmp_path / "m.png", a_mask())) is None


@pytest.mark.parametrize("pixels, fragment", [
    (np.zeros((32, 32)), "all black"),
    (np.full((32, 32), 255), "all white"),
    (a_mask(16, 32), "must match"),
    (np.dstack([a_mask(), np.zeros((32, 32)), a_mask()]), "colour picture"),
    (np.dstack([a_mask()] * 4), "transparency"),
], ids=["empty", "full", "wrong size", "colour", "transparent"])
def test_a_mask_that_cannot_work_is_refused(tmp_path, pixels, fragment):
    assert_refused(LESSON, "mask_image", fragment, mode="tiny", mask_image=save(tmp_path / "m.png", pixels))


def test_a_mask_must_match_ones_own_picture_not_the_drawn_size(tmp_path):
    picture = save(tmp_path / "mine.png", np.full((48, 40, 3), 200))
    assert_refused(LESSON, "mask_image", "48", input_image=picture, mask_image=save(tmp_path / "m.png", a_mask()),
                   source_prompt="a grey wall")
