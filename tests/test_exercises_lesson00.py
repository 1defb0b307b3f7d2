"""Lesson 00's exercise checks name the usual slips without giving the answer."""

import pytest

from helpers import exercises
from helpers.exercises import check_latent_shape, check_unet_gib


def verdict(check, answer):
    exercises.RESULTS.clear()
    assert check(answer) is None  # a cell shows only the printed verdict
    (result,) = exercises.RESULTS.values()
    return result


@pytest.mark.parametrize("answer, hint", [
    ((1, 4, 128, 96), "swapped"),
    ((1, 3, 96, 128), "latent_channels"),
    ((4, 96, 128), "4 dimensions"),
    ((1, 4, 768, 1024), "divide the picture's sides by 8"),
    ((1, 4, 384, 512), "tiny mode's VAE"),
    ("big", "tuple of four whole numbers"),
])
def test_latent_shape_names_the_slip(answer, hint):
    result = verdict(check_latent_shape, answer)
    assert result.ok is False and hint in result.message and "96×128" not in result.message


@pytest.mark.parametrize("answer, hint", [
    (2_567_463_684 * 4 / 2**30, "fp32"),
    (2_567_463_684 * 2 / 1e9, "GiB is 2³⁰"),
    (1.0, "too small"),
])
def test_unet_gib_names_the_slip(answer, hint):
    result = verdict(check_unet_gib, answer)
    assert result.ok is False and hint in result.message and "4.78" not in result.message


def test_lesson_00_answers_are_accepted_and_placeholders_wait():
    assert verdict(check_latent_shape, (1, 4, 96, 128)).ok is True
    assert verdict(check_unet_gib, 2_567_463_684 * 2 / 2**30).ok is True
    assert verdict(check_latent_shape, ...).ok is None
