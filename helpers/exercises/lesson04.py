"""Checks for the exercises of lesson 04 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import math

import torch

from ..i18n import _
from . import call, compare_tensors, report, unfinished

__all__ = ["check_classifier_free_guidance", "check_add_time_ids", "check_attention_probabilities"]


def _close(answer, expected, atol=1e-5) -> bool:
    return (isinstance(answer, torch.Tensor) and answer.shape == expected.shape
            and bool(((answer.double() - expected.double()).abs() <= atol).all()))


# ---------------------------------------------------------------------------------------------
# 1. Classifier-free guidance: split the doubled batch, combine the two predictions.


def _guidance_case(seed: int = 0, pictures: int = 2):
    generator = torch.Generator().manual_seed(seed)
    noise_pred_uncond = torch.randn((pictures, 4, 6, 5), generator=generator)
    noise_pred_text = noise_pred_uncond + 0.5 * torch.randn((pictures, 4, 6, 5), generator=generator)
    return noise_pred_uncond, noise_pred_text


def _guidance_variants(uncond, text, scale) -> dict[str, torch.Tensor]:
    """The combination with the usual slips made, each with what to tell the learner."""
    return {
        _("the two halves are swapped: the lesson's batch (and the pipeline's) puts the negative, unconditional branch "
          "first and the prompt's second."): text + scale * (uncond - text),
        _("start from the unconditional prediction and add the scaled difference; starting from the prompt's "
          "prediction overshoots (at guidance 1 the result must be the prompt's prediction exactly)."):
            text + scale * (text - uncond),
        _("the difference points the wrong way: guidance pushes *away* from the unconditional prediction, towards the "
          "prompt's (text − uncond)."): uncond + scale * (uncond - text),
        _("the scaled difference needs a starting point: add it to the unconditional prediction."): scale * (text - uncond),
        _("guidance scales the difference between the two predictions, not the prompt's prediction alone."):
            uncond + scale * text,
        _("averaging the two predictions is not guidance: scale their difference by guidance_scale."): (uncond + text) / 2,
        _("you returned the prompt's prediction unchanged: guidance combines both halves."): text,
        _("you returned the unconditional prediction unchanged: guidance combines both halves."): uncond,
        _("guidance multiplies the difference by guidance_scale; you divided by it."): uncond + (text - uncond) / scale,
    }


def check_classifier_free_guidance(classifier_free_guidance) -> None:
    """Exercise: split the UNet's doubled batch and combine the two noise predictions with guidance_scale."""
    name = "classifier_free_guidance"
    uncond, text = _guidance_case()
    scale = 7.5
    noise_pred = torch.cat([uncond, text])
    answer, error = call(name, classifier_free_guidance, noise_pred.clone(), scale)
    if error:
        return report(name, False, error)
    if unfinished(answer):
        return report(name, None, _("replace `...` with your lines: split `noise_pred` into its two halves, then "
                                    "combine them (and return the result)."))
    expected = uncond + scale * (text - uncond)
    if isinstance(answer, (tuple, list)):
        return report(name, False, _("return one tensor, the guided prediction, not the two halves."))
    if isinstance(answer, torch.Tensor) and answer.shape == noise_pred.shape:
        return report(name, False, _("the result has the doubled batch's shape {shape}: split `noise_pred` into its "
                                     "two halves (`.chunk(2)`) and return one combined prediction.")
                      .format(shape=tuple(noise_pred.shape)))
    if isinstance(answer, torch.Tensor) and answer.shape == (uncond.shape[0] * 2, uncond.shape[1] // 2, *uncond.shape[2:]):
        return report(name, False, _("the split went along the channels: the two branches are the two halves of the "
                                     "*batch* (dimension 0)."))
    if _close(answer, expected):
        for seed, pictures, other_scale in ((1, 1, 3.0), (2, 3, 1.0)):
            uncond, text = _guidance_case(seed, pictures)
            again, error = call(name, classifier_free_guidance, torch.cat([uncond, text]), other_scale)
            if error:
                return report(name, False, error + " " + _("(with guidance_scale={scale} and a batch of {pictures})")
                              .format(scale=other_scale, pictures=pictures))
            if not _close(again, uncond + other_scale * (text - uncond)):
                return report(name, False, _("right for guidance_scale={scale} but not for {other} (batch of "
                                             "{pictures} pictures): use the arguments, nothing fixed.")
                              .format(scale=scale, other=other_scale, pictures=pictures))
        return report(name, True, _("the guided prediction, as the lesson's loop and StableDiffusionXLPipeline "
                                    "compute it (at guidance 1 it is the prompt's own)."))
    for hint, variant in _guidance_variants(uncond, text, scale).items():
        if _close(answer, variant):
            return report(name, False, hint)
    return report(name, False, compare_tensors(answer, expected, _("the guided prediction"), atol=1e-5)
                  + " " + _("Split the batch (negative first), then noise_pred_uncond + guidance_scale × (text − uncond)."))


# ---------------------------------------------------------------------------------------------
# 2. Micro-conditioning from a PIL crop: PIL's (width, height) and boxes to SDXL's (height, width) and (top, left).

_TIME_ID_CASES = [  # photo_size (w, h), box (left, top, right, bottom), picture_size (w, h)
    ((1536, 1024), (256, 128, 1152, 800), (1024, 768)),
    ((800, 1200), (40, 300, 760, 1260), (832, 1216)),
]


def _expected_time_ids(photo_size, box, picture_size) -> list[float]:
    (photo_width, photo_height), (left, top, _right, _bottom), (width, height) = photo_size, box, picture_size
    return [photo_height, photo_width, top, left, height, width]


def _time_id_hints(values: list[float], photo_size, box, picture_size) -> str | None:
    """What is wrong in a 6-number answer, pair by pair; None if nothing recognisable."""
    expected = _expected_time_ids(photo_size, box, picture_size)
    left, top, right, bottom = box
    names = ("original_size", "crops_coords_top_left", "target_size")
    wanted = [expected[0:2], expected[2:4], expected[4:6]]
    given = [values[0:2], values[2:4], values[4:6]]
    if given != wanted and sorted(given) == sorted(wanted):
        return _("the three pairs are in the wrong order: original_size, then crops_coords_top_left, then target_size.")
    for number, (what, want, got) in enumerate(zip(names, wanted, given)):
        if got == want:
            continue
        if got == want[::-1]:
            if what == "crops_coords_top_left":
                return _("crops_coords_top_left is (top, left), i.e. (y, x): a PIL box starts with left, then top.")
            return _("{what} is (height, width) in SDXL; PIL sizes are (width, height): swap them.").format(what=what)
        if what == "crops_coords_top_left" and got in ([bottom, right], [right, bottom], [bottom - top, right - left]):
            return _("crops_coords_top_left is the crop's *top-left* corner: the box's first two numbers (left, top).")
        if what == "original_size" and got in ([bottom - top, right - left], [right - left, bottom - top]):
            return _("original_size is the size of the whole photo the crop came from, not the crop's.")
        if what == "target_size" and got in ([bottom - top, right - left], [right - left, bottom - top]):
            return _("target_size is the size of the picture SDXL should draw (picture_size), not the crop's.")
        return _("{what} (numbers {first} and {second}) is not right: check which argument it comes from.").format(
            what=what, first=2 * number + 1, second=2 * number + 2)
    return None


def check_add_time_ids(make_add_time_ids) -> None:
    """Exercise: SDXL's add_time_ids for a crop of a photo described in PIL's conventions."""
    name = "add_time_ids"
    photo_size, box, picture_size = _TIME_ID_CASES[0]
    answer, error = call(name, make_add_time_ids, photo_size, box, picture_size)
    if error:
        return report(name, False, error)
    if unfinished(answer):
        return report(name, None, _("replace `...` with your lines: six numbers in SDXL's order, as a (1, 6) tensor."))
    if not isinstance(answer, torch.Tensor):
        return report(name, False, _("return a torch tensor (torch.tensor([[...]])), got {kind}.")
                      .format(kind=type(answer).__name__))
    if answer.numel() != 6:
        return report(name, False, _("add_time_ids holds 6 numbers (original size, crop corner, target size); yours "
                                     "has {count}.").format(count=answer.numel()))
    values = [float(v) for v in answer.flatten().tolist()]
    hint = _time_id_hints(values, photo_size, box, picture_size)
    if hint:
        return report(name, False, hint)
    if tuple(answer.shape) != (1, 6):
        return report(name, False, _("the numbers are right, but the shape is {shape}: the UNet wants a batch of rows, "
                                     "(1, 6), one row per picture.").format(shape=tuple(answer.shape)))
    if not answer.is_floating_point():
        return report(name, False, _("the numbers are right, but the tensor holds whole numbers: the UNet embeds them "
                                     "with sines and cosines, so make them floats (dtype=torch.float32)."))
    photo_size, box, picture_size = _TIME_ID_CASES[1]
    again, error = call(name, make_add_time_ids, photo_size, box, picture_size)
    if error:
        return report(name, False, error + " " + _("(for a portrait photo)"))
    expected = torch.tensor([_expected_time_ids(photo_size, box, picture_size)])
    if not _close(again, expected):
        return report(name, False, _("right for the first photo but not for a portrait one: use the arguments, nothing fixed."))
    return report(name, True, _("(height, width) of the photo, (top, left) of the crop, (height, width) of the "
                                "picture: the six numbers the pipeline builds from original_size, "
                                "crops_coords_top_left, target_size."))


# ---------------------------------------------------------------------------------------------
# 3. Cross-attention probabilities: which tokens each position of the picture listens to.


def _attention_case(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    heads, positions, tokens, dim = 2, 6, 5, 16
    query = torch.randn((heads, positions, dim), generator=generator)
    key = torch.randn((heads, tokens, dim), generator=generator)
    return query, key


def check_attention_probabilities(attention_probabilities) -> None:
    """Exercise: softmax(q kᵀ / √d) over the tokens, as Attention.get_attention_scores computes it."""
    name = "attention_probabilities"
    query, key = _attention_case()
    answer, error = call(name, attention_probabilities, query.clone(), key.clone())
    if error:
        return report(name, False, error)
    if unfinished(answer):
        return report(name, None, _("replace `...` with your lines: the scores q·k, scaled, then a softmax (and return it)."))
    if not isinstance(answer, torch.Tensor):
        return report(name, False, _("return a torch tensor, got {kind}.").format(kind=type(answer).__name__))
    heads, positions, dim = query.shape
    tokens = key.shape[1]
    scores = query @ key.transpose(-1, -2)
    expected = (scores / math.sqrt(dim)).softmax(dim=-1)
    if answer.shape == (heads, tokens, positions):
        return report(name, False, _("the result is (heads, tokens, positions) = {shape}: each picture position asks "
                                     "the tokens, so it should be (heads, positions, tokens): query @ keyᵀ.")
                      .format(shape=tuple(answer.shape)))
    if answer.shape != expected.shape:
        return report(name, False, _("the result has shape {shape}; it should be (heads, positions, tokens) = "
                                     "{expected}: multiply the query by the transposed key.")
                      .format(shape=tuple(answer.shape), expected=tuple(expected.shape)))
    if _close(answer, expected, atol=1e-5):
        query, key = _attention_case(seed=1)
        again, error = call(name, attention_probabilities, query, key)
        if error or not _close(again, (query @ key.transpose(-1, -2) / math.sqrt(dim)).softmax(dim=-1), atol=1e-5):
            return report(name, False, _("right for one input but not another: use the arguments, nothing fixed."))
        return report(name, True, _("each position's probabilities over the tokens, as diffusers' get_attention_scores "
                                    "computes them: the recorder of section 10 averages these."))
    variants = {
        _("each row should sum to 1 over the *tokens* (the last dimension): the softmax went over the positions."):
            (scores / math.sqrt(dim)).softmax(dim=-2),
        _("scale the scores by 1/√d (d = the query's last dimension) before the softmax; without it the softmax is too "
          "peaked."): scores.softmax(dim=-1),
        _("the scale is 1/√d, not 1/d."): (scores / dim).softmax(dim=-1),
        _("the scale multiplies by 1/√d; you multiplied by √d."): (scores * math.sqrt(dim)).softmax(dim=-1),
        _("the scores are not probabilities yet: apply a softmax over the tokens (the last dimension)."): scores / math.sqrt(dim),
        _("the scores need a softmax over the tokens (the last dimension), after the 1/√d scale."): scores,
    }
    for hint, variant in variants.items():
        if _close(answer, variant, atol=1e-5):
            return report(name, False, hint)
    if not torch.allclose(answer.sum(-1), torch.ones(heads, positions), atol=1e-4):
        return report(name, False, _("each position's probabilities over the tokens should sum to 1: a softmax over "
                                     "the last dimension."))
    return report(name, False, compare_tensors(answer, expected, _("the probabilities"), atol=1e-5)
                  + " " + _("Scores are query @ keyᵀ, scaled by 1/√d, then softmax over the tokens."))
