"""Checks for the exercises of lesson 05 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

from ..i18n import _
from . import call, report, unfinished

__all__ = ["check_closest_bucket", "check_crop_time_ids"]

# SDXL's aspect-ratio buckets used in lesson 05, as (width, height)
BUCKETS = [(1024, 1024), (1152, 896), (896, 1152), (1216, 832), (832, 1216), (1344, 768), (768, 1344), (1536, 640),
           (640, 1536)]
# asked (width, height) -> the bucket with the nearest width / height (the same by ratio or by log-ratio)
BUCKET_CASES = {(1920, 1080): (1344, 768), (1080, 1920): (768, 1344), (800, 800): (1024, 1024),
                (1600, 1200): (1152, 896), (2400, 1000): (1536, 640), (1000, 1300): (896, 1152)}


def check_closest_bucket(closest_bucket) -> None:
    """Exercise: the bucket (width, height) whose aspect ratio is nearest to a requested size's."""
    name = "closest_bucket"
    first, problem = call(name, closest_bucket, 1920, 1080, list(BUCKETS))
    if unfinished(closest_bucket) or (problem is None and unfinished(first)):
        return report(name, None, _("replace `...` in closest_bucket with code that returns one (width, height) of buckets."))
    for (width, height), expected in BUCKET_CASES.items():
        answer, problem = call(name, closest_bucket, width, height, list(BUCKETS))
        asked = dict(width=width, height=height)
        if problem:
            return report(name, False, _("for {width}×{height} {problem}").format(problem=problem, **asked))
        try:
            answer = tuple(int(n) for n in answer)
        except (TypeError, ValueError):
            return report(name, False, _("for {width}×{height} it returned {answer!r}: return a (width, height) pair "
                                         "from buckets.").format(answer=answer, **asked))
        if answer not in BUCKETS:
            return report(name, False, _("for {width}×{height} it returned {answer}, which is not one of the buckets: "
                                         "pick from the list.").format(answer=answer, **asked))
        if answer == expected:
            continue
        if answer == expected[::-1]:
            shape = _("wide") if width > height else _("tall")
            return report(name, False, _("for {width}×{height} the shape is right but turned: a {shape} request needs "
                                         "a bucket that is wide (or tall) too. Width / height, in that order.")
                          .format(shape=shape, **asked))
        if answer == min(BUCKETS, key=lambda b: abs(b[0] - width) + abs(b[1] - height)):
            return report(name, False, _("for {width}×{height} it picked the bucket nearest in *size*; the question is "
                                         "the nearest *shape*: compare width / height ratios.").format(**asked))
        return report(name, False, _("for {width}×{height} another bucket has an aspect ratio closer to {ratio:.2f}.")
                      .format(ratio=width / height, **asked))
    return report(name, True, _("1920×1080 (16:9, 1.78) goes to 1344×768 (1.75): draw there, then resize or crop the result."))


EXPECTED_TIME_IDS = (2000, 3000, 0, 256, 1024, 1024)


def _six_numbers(value):
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().flatten().tolist()
    try:
        numbers = tuple(float(n) for n in value)
    except (TypeError, ValueError):
        return None
    return numbers


def check_crop_time_ids(add_time_ids) -> None:
    """Exercise: SDXL's add_time_ids for a 3000x2000 photo, scaled to 1536x1024 and cropped 256 px from the left."""
    name = "crop_time_ids"
    if unfinished(add_time_ids):
        return report(name, None, _("replace `...` with six numbers: original_size, then crops_coords_top_left, then target_size."))
    numbers = _six_numbers(add_time_ids)
    if numbers is None:
        return report(name, False, _("write six numbers (a list, tuple or tensor), got {kind}.")
                      .format(kind=type(add_time_ids).__name__))
    if len(numbers) != 6:
        return report(name, False, _("add_time_ids has 6 numbers (3 pairs); you gave {count}.").format(count=len(numbers)))
    original, crop, target = numbers[:2], numbers[2:4], numbers[4:]
    if numbers == EXPECTED_TIME_IDS:
        return report(name, True, _("(2000, 3000) + (0, 256) + (1024, 1024): what the photo was, where the crop began, "
                                    "what came out. Passing (0, 0) at generation asks for an uncropped picture."))
    if sorted(numbers) == sorted(EXPECTED_TIME_IDS) and original != (2000, 3000) and set(original) != {2000, 3000}:
        return report(name, False, _("the right numbers in the wrong places: original_size first, then the crop's "
                                     "corner, then target_size."))
    if original == (3000, 2000):
        return report(name, False, _("original_size is (height, width): the photo is 2000 high."))
    if original in ((1024, 1536), (1536, 1024)):
        return report(name, False, _("original_size is the size before any scaling: what the photographer's file had."))
    if original != (2000, 3000):
        return report(name, False, _("original_size should be the photograph's own size, as (height, width)."))
    if crop == (256, 0):
        return report(name, False, _("crops_coords_top_left is (top, left): the picture was cut at the sides, not at the top."))
    if crop == (0, 512) or crop == (512, 0):
        return report(name, False, _("the crop's corner is where the kept part starts, measured from the scaled "
                                     "picture's top-left: only what was cut on the left (and top) counts."))
    if crop != (0, 256):
        return report(name, False, _("crops_coords_top_left should be how far the kept square's top-left corner is "
                                     "from the scaled picture's, as (top, left), in pixels of the scaled picture."))
    return report(name, False, _("target_size is the size of the picture the model learns to draw, as (height, width)."))
