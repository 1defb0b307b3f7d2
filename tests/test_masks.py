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


@pytest.mark.parametrize("width, height, says", [
    (0, 20, "width=0 is out of range"), (-4, 20, "width=-4 is out of range"), (40, 0, "height=0 is out of range"),
    (40.5, 20, "width=40.5 is not a whole number"), (True, 20, "width=True is not a whole number"),
])
def test_a_rectangle_mask_of_no_size_is_refused(width, height, says):
    with pytest.raises(ParameterError, match=says):
        masks.rectangle_mask(width, height, (0.25, 0.25, 0.75, 0.75))


def test_a_box_too_small_for_the_pictures_pixels_is_refused_not_an_empty_mask():
    with pytest.raises(ParameterError, match="covers no pixel of a 8x8 picture.*larger"):
        masks.rectangle_mask(8, 8, (0.1, 0.1, 0.18, 0.9))  # columns round(0.8) to round(1.44): none
    with pytest.raises(ParameterError, match="covers every pixel of a 8x8 picture.*Everything would be repainted"):
        masks.rectangle_mask(8, 8, (0.05, 0.0, 1.0, 1.0))  # rounds to the whole picture


@pytest.mark.parametrize("bad", [np.zeros((16, 16), np.uint8), "mask.png", None])
def test_prepare_mask_refuses_anything_but_a_picture_with_the_way_to_make_one(bad):
    with pytest.raises(TypeError, match="prepare_mask needs the mask as a PIL image.*rectangle_mask.*Image.fromarray"):
        masks.prepare_mask(bad)


def test_prepare_mask_hides_only_prepare_images_size_warnings(monkeypatch):
    def prepare_image_that_also_deprecates(image, **options):
        warnings.warn("something our own call should not use", DeprecationWarning, stacklevel=2)
        return prepare_image(image, **options)

    monkeypatch.setattr(masks, "prepare_image", prepare_image_that_also_deprecates)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        masks.prepare_mask(masks.rectangle_mask(1203, 901, (0.2, 0.2, 0.6, 0.5)), max_pixels=256 * 256)  # scaled and cropped
    assert [type(w.message) for w in caught] == [DeprecationWarning]


def test_a_file_that_is_not_a_picture_is_refused_as_the_input_image(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_text("not a picture")
    with pytest.raises(ParameterError, match="input_image=.*photo.jpg.* is not a picture PIL can read.*PNG or JPEG"):
        masks.open_picture_and_mask(path, None, (32, 32))
    with pytest.raises(ParameterError, match="input_image=.*missing.png.* is not an existing file"):
        masks.open_picture_and_mask(tmp_path / "missing.png", None, (32, 32))


def test_a_picture_and_its_mask_are_opened_from_files(tmp_path):
    masks.rectangle_mask(32, 32, (0.25, 0.25, 0.75, 0.75)).save(tmp_path / "mask.png")
    Image.new("RGB", (32, 32), "white").save(tmp_path / "picture.png")
    picture, mask = masks.open_picture_and_mask(tmp_path / "picture.png", tmp_path / "mask.png", (64, 64))
    assert picture.size == mask.size == (32, 32) and mask.mode == "L"
