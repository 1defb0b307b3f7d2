"""helpers.masks: rectangles from shares of the picture, a learner's mask checked, a mask scaled with its picture."""

import warnings

import numpy as np
import pytest
from PIL import Image

from helpers import masks, prepare_image
from helpers.checks import ParameterError


def test_a_rectangle_mask_is_white_inside_the_box_and_black_outside():
    mask = np.asarray(masks.rectangle_mask(40, 20, (0.25, 0.5, 0.75, 1.0)))
    assert mask.shape == (20, 40) and set(np.unique(mask)) == {0, 255}
    assert mask[10:20, 10:30].min() == 255 and mask[:10].max() == 0 and mask[:, :10].max() == 0


@pytest.mark.parametrize("box, says", [
    ("middle", "four numbers"), ((0.1, 0.2, 0.3), "four numbers"), ((0.1, 0.2, 0.9, -0.1), "between 0 and 1"),
    ((0.5, 0.1, 0.52, 0.9), "too thin"), ((0.0, 0.0, 1.0, 1.0), "whole picture"), ((0.1, 0.1, True, 0.9), "between 0 and 1"),
])
def test_a_box_that_cannot_work_is_refused(box, says):
    with pytest.raises(ParameterError, match=says):
        masks.check_box("mask_box", box)


def grey(pixels):
    return Image.fromarray(np.asarray(pixels, dtype=np.uint8))  # the mode follows the array


def test_a_grey_mask_is_rounded_at_half_brightness_as_diffusers_does():
    pixels = np.zeros((8, 8)); pixels[2, 2], pixels[3, 3], pixels[4, 4] = 127, 128, 255
    checked = np.asarray(masks.check_mask("m", grey(pixels)))
    assert checked[2, 2] == 0 and checked[3, 3] == 255 and checked[4, 4] == 255


def test_a_grey_picture_saved_as_rgb_is_a_mask():
    pixels = np.zeros((8, 8)); pixels[:4] = 255
    assert masks.check_mask("m", grey(np.dstack([pixels] * 3))).mode == "L"


@pytest.mark.parametrize("mask, says", [
    (grey(np.zeros((8, 8))), "all black"), (grey(np.full((8, 8), 255)), "all white"),
    (grey(np.dstack([np.full((8, 8), 200), np.zeros((8, 8)), np.zeros((8, 8))])), "colour picture"),
    (grey(np.full((8, 8, 4), 255)), "transparency"), (Image.new("P", (8, 8)), "mode P"),
])
def test_a_mask_that_cannot_work_says_why(mask, says):
    with pytest.raises(ParameterError, match=says):
        masks.check_mask("mask_image", mask)


def test_a_mask_of_another_size_than_the_picture_is_refused_with_both_sizes():
    pixels = np.zeros((8, 16)); pixels[:, :4] = 255
    with pytest.raises(ParameterError, match="16x8 pixels but the picture is 8x8"):
        masks.check_mask("mask_image", grey(pixels), size=(8, 8))


def test_a_mask_follows_its_picture_through_prepare_image():
    picture = Image.new("RGB", (1203, 901), "white")  # scaled down, then cropped to multiples of 8
    pixels = np.zeros((901, 1203)); pixels[100:400, 200:700] = 255
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare_image(picture, max_pixels=256 * 256)
    mask = masks.prepare_mask(grey(pixels), max_pixels=256 * 256)
    assert mask.size == prepared.size and set(np.unique(np.asarray(mask))) <= {0, 255}
    share = (np.asarray(mask) > 0).mean()
    assert abs(share - (pixels > 0).mean()) < 0.02


def test_open_picture_and_mask_returns_nothing_for_nothing():
    assert masks.open_picture_and_mask(None, None, (32, 32)) == (None, None)


def test_a_file_that_is_not_a_picture_is_refused_as_a_mask(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    with pytest.raises(ParameterError, match="not a picture PIL can read"):
        masks.open_mask("mask_image", path)
