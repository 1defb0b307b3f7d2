"""helpers.checks: bad input is refused or converted with a clear message."""

import re
import warnings

import numpy as np
import pytest
from PIL import Image

import helpers


def test_a_size_not_divisible_by_8_suggests_the_nearest_valid_ones():
    with pytest.raises(ValueError, match="height=100 is not divisible by 8.*Try height=96 or 104"):
        helpers.check_size(100, 64)


@pytest.mark.parametrize("strength", [0, -0.1, 1.5, "0.5", True, None])
def test_strength_outside_zero_to_one_is_refused(strength):
    with pytest.raises(ValueError, match=r"strength must be a number in \(0, 1\]"):
        helpers.check_strength(strength, 20)


def test_a_strength_too_small_to_run_a_step_says_the_smallest_that_works():
    with pytest.raises(ValueError, match=r"runs int\(20 x 0.04\) = 0 denoising steps.*strength >= 0.05"):
        helpers.check_strength(0.04, 20)


@pytest.mark.parametrize("strength, steps, expected", [(0.3, 20, 6), (1.0, 20, 20), (0.05, 20, 1), (0.5, 3, 1)])
def test_check_strength_returns_the_steps_that_will_run(strength, steps, expected):
    assert helpers.check_strength(strength, steps) == expected


def test_an_rgb_picture_of_a_good_size_passes_unchanged():
    image = Image.new("RGB", (32, 48), "red")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert helpers.prepare_image(image) is image


def test_rgba_is_composited_onto_white_with_a_warning():
    image = Image.new("RGBA", (16, 16), (255, 0, 0, 0))  # fully transparent red
    with pytest.warns(UserWarning, match="transparency"):
        result = helpers.prepare_image(image)
    assert result.mode == "RGB" and result.getpixel((0, 0)) == (255, 255, 255)


def test_greyscale_becomes_rgb_with_a_warning():
    with pytest.warns(UserWarning, match="is L, not RGB"):
        result = helpers.prepare_image(Image.new("L", (16, 16), 128))
    assert result.mode == "RGB" and result.getpixel((3, 3)) == (128, 128, 128)


def test_odd_sizes_are_cropped_to_multiples_of_8_centred():
    image = Image.new("RGB", (37, 50), "blue")
    with pytest.warns(UserWarning, match="37x50.*cropped to 32x48"):
        result = helpers.prepare_image(image)
    assert result.size == (32, 48)


def test_numpy_arrays_are_accepted_and_other_things_refused():
    assert helpers.prepare_image(np.zeros((16, 16, 3), dtype=np.uint8)).size == (16, 16)
    with pytest.raises(TypeError, match="Expected a PIL image"):
        helpers.prepare_image("picture.png")


def test_a_picture_smaller_than_8_pixels_is_refused():
    with pytest.raises(ValueError, match="too small"):
        helpers.prepare_image(Image.new("RGB", (4, 16)))


@pytest.fixture(scope="module")
def clip_tokenizer(tmp_path_factory):
    from transformers import CLIPTokenizer

    from helpers.tiny.clip_tokenizer import PAD_TOKEN, write_tokenizer

    folder = tmp_path_factory.mktemp("tokenizer")
    write_tokenizer(folder, PAD_TOKEN)
    return CLIPTokenizer.from_pretrained(folder)


@pytest.mark.parametrize("prompt", ["", "   ", None])
def test_an_empty_prompt_is_refused_with_an_example(prompt):
    with pytest.raises(ValueError, match="The prompt is empty.*a red circle"):
        helpers.check_prompt(prompt)


def test_a_short_prompt_passes_silently(clip_tokenizer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert helpers.check_prompt("a red circle", clip_tokenizer) == ""


def test_a_prompt_longer_than_77_tokens_warns_with_what_was_cut(clip_tokenizer):
    prompt = "a red circle, " + " ".join(f"word{i}" for i in range(60)) + " the very end"
    with pytest.warns(UserWarning, match="CLIP reads only 77.*the very end") as record:
        lost = helpers.check_prompt(prompt, clip_tokenizer)
    assert lost.endswith("the very end") and "a red circle" not in lost
    assert len(record) == 1


def test_a_12_megapixel_photo_is_scaled_down_to_about_one_megapixel_keeping_its_shape():
    photo = Image.new("RGB", (4032, 3024), "white")
    with pytest.warns(UserWarning) as record:
        result = helpers.prepare_image(photo)
    scaled, cropped = (str(warning.message) for warning in record if warning.category is UserWarning)  # one a change, in order
    assert re.search(r"4032x3024 \(12.2 MP\): scaled down to 1182x886", scaled)
    assert cropped.startswith("The picture is 1182x886; sides must be multiples of 8: cropped to 1176x880")
    assert result.width * result.height <= 1024 * 1024
    assert result.width * result.height > 0.9 * 1024 * 1024
    assert abs(result.width / result.height - 4 / 3) < 0.02
    assert result.width % 8 == 0 and result.height % 8 == 0


def test_max_pixels_follows_the_mode_and_none_keeps_the_size():
    photo = Image.new("RGB", (640, 480), "white")
    with pytest.warns(UserWarning) as record:
        assert helpers.prepare_image(photo, max_pixels=32 * 32).width <= 40
    said = [str(warning.message) for warning in record if warning.category is UserWarning]
    assert ["scaled down" in message for message in said] == [True, False]  # then cropped to 32x24
    assert helpers.prepare_image(photo, max_pixels=None).size == (640, 480)


def test_neighbour_correlation_is_near_zero_for_noise_and_near_one_for_a_smooth_picture():
    import torch

    from helpers.checks import neighbour_correlation

    noise = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    ramp = torch.linspace(-1, 1, 32).expand(1, 3, 32, 32)
    assert abs(neighbour_correlation(noise)) < 0.1
    assert neighbour_correlation(ramp) > 0.99


def test_neighbour_correlation_counts_a_flat_picture_as_zero_and_refuses_a_one_pixel_row():
    import torch

    from helpers.checks import neighbour_correlation

    assert neighbour_correlation(torch.zeros(1, 3, 8, 8)) == 0.0
    with pytest.raises(ValueError, match="at least 2 pixels wide"):
        neighbour_correlation(torch.zeros(3, 8, 1))


def test_a_small_picture_scaled_down_is_counted_in_pixels_not_in_zero_megapixels():
    with pytest.warns(UserWarning) as record:
        helpers.prepare_image(Image.new("RGB", (48, 36)), max_pixels=32 * 32)
    assert re.search(r"48x36 \(1,728 pixels\): scaled down to .* about 1,024 pixels", str(record[0].message))
