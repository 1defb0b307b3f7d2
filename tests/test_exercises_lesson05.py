"""Lesson 05's exercise checks: each common mistake gets a message that says what is wrong, never the answer."""

import pytest
import torch

from helpers import exercises
from helpers.exercises import check_closest_bucket, check_crop_time_ids


def verdict(check, answer):
    exercises.RESULTS.clear()
    check(answer)
    (result,) = exercises.RESULTS.values()
    return result


def by_ratio(width, height, buckets):
    return min(buckets, key=lambda b: abs(b[0] / b[1] - width / height))


def test_the_nearest_aspect_ratio_is_right_by_ratio_or_by_list():
    assert verdict(check_closest_bucket, by_ratio).ok is True
    assert verdict(check_closest_bucket, lambda w, h, buckets: list(by_ratio(w, h, buckets))).ok is True


@pytest.mark.parametrize("answer, expected", [
    (lambda w, h, buckets: ..., None),
    (lambda w, h, buckets: by_ratio(w, h, buckets)[::-1], "turned"),
    (lambda w, h, buckets: min(buckets, key=lambda b: abs(b[0] - w) + abs(b[1] - h)), "nearest in *size*"),
    (lambda w, h, buckets: min(buckets, key=lambda b: abs(b[1] / b[0] - w / h)), "turned"),
    (lambda w, h, buckets: min(buckets, key=lambda b: abs(b[0] // b[1] - w // h)), "closer to"),
    (lambda w, h, buckets: (w // 64 * 64, h // 64 * 64), "not one of the buckets"),
    (lambda w, h, buckets: w / h, "a (width, height) pair"),
    (lambda w, h: (1024, 1024), "raised TypeError"),
])
def test_bucket_mistakes_are_named(answer, expected):
    result = verdict(check_closest_bucket, answer)
    if expected is None:
        assert result.ok is None
    else:
        assert result.ok is False and expected in result.message
        assert "1344" not in result.message  # the answer to the 16:9 question is never given away


def test_the_crops_time_ids_are_right_as_tuple_list_or_tensor():
    assert verdict(check_crop_time_ids, (2000, 3000) + (0, 256) + (1024, 1024)).ok is True
    assert verdict(check_crop_time_ids, [2000, 3000, 0, 256, 1024, 1024]).ok is True
    assert verdict(check_crop_time_ids, torch.tensor([[2000.0, 3000.0, 0.0, 256.0, 1024.0, 1024.0]])).ok is True


@pytest.mark.parametrize("answer, expected", [
    ((3000, 2000, 0, 256, 1024, 1024), "(height, width): the photo is 2000 high"),
    ((1024, 1536, 0, 256, 1024, 1024), "before any scaling"),
    ((2000, 3000, 256, 0, 1024, 1024), "(top, left)"),
    ((2000, 3000, 0, 512, 1024, 1024), "only what was cut on the left"),
    ((0, 256, 2000, 3000, 1024, 1024), "wrong places"),
    ((2000, 3000, 0, 256, 1536, 1024), "target_size"),
    ((2000, 3000, 0, 256), "6 numbers"),
    ("2000x3000", "six numbers"),
])
def test_time_ids_mistakes_are_named(answer, expected):
    result = verdict(check_crop_time_ids, answer)
    assert result.ok is False and expected in result.message


def test_unanswered_time_ids_are_not_done_yet():
    assert verdict(check_crop_time_ids, ...).ok is None
