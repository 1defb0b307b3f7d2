"""Masks for inpainting: a rectangle drawn from shares of the picture, a learner's mask file checked, and a mask
scaled the way `prepare_image` scaled its picture. (12_inpainting_and_inversion)

A mask is a black-and-white picture of the same size as the picture it edits: **white is repainted, black is
kept** (diffusers' convention). diffusers reads any picture as a mask: it converts it to grey and rounds each pixel
to 0 or 1 at half brightness, so a colour photo passed by mistake, a transparent PNG or a mask of the wrong size
runs without complaint and repaints the wrong place. These checks say what is wrong instead, before any work.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .checks import ParameterError, open_picture, prepare_image, whole_number
from .i18n import _

MASK_MODES = ("1", "L", "RGB")  # black and white, grey, or a grey picture saved as RGB (paint programs do that)
SMALLEST_SHARE = 1 / 16  # a rectangle's side, as a share of the picture's: one cell of tiny mode's 16x16 latent grid


def check_box(name: str, box) -> tuple[float, float, float, float]:
    """`box` = (left, top, right, bottom) as shares of the picture's width and height, each in [0, 1]; else an error."""
    hint = _("Give four numbers from 0 to 1, (left, top, right, bottom), e.g. {name}=[0.25, 0.25, 0.75, 0.75] for the "
             "middle.").format(name=name)
    if isinstance(box, (str, bytes)) or not isinstance(box, (list, tuple)) or len(box) != 4:
        raise ParameterError(_("{name}={box!r} is not four numbers (left, top, right, bottom).").format(name=name, box=box)
                             + " " + hint)
    for value in box:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 1:
            raise ParameterError(_("{name}={box!r}: {value!r} is not a share between 0 and 1.").format(
                name=name, box=box, value=value) + " " + hint)
    left, top, right, bottom = (float(value) for value in box)
    if right - left < SMALLEST_SHARE or bottom - top < SMALLEST_SHARE:
        raise ParameterError(_("{name}={box!r} is empty or too thin: right must exceed left and bottom exceed top by at "
                               "least {smallest:g} (a cell of the latent grid in tiny mode).").format(
            name=name, box=box, smallest=SMALLEST_SHARE) + " " + hint)
    if (left, top, right, bottom) == (0, 0, 1, 1):
        raise ParameterError(_("{name}={box!r} covers the whole picture: everything would be repainted, which is "
                               "text-to-image (lesson 05). Leave part of the picture outside the rectangle.").format(
            name=name, box=box))
    return left, top, right, bottom


def rectangle_mask(width: int, height: int, box) -> Image.Image:
    """A width x height mask ("L"), white inside `box` (shares of the picture: left, top, right, bottom), black elsewhere."""
    width = whole_number("width", width, hint=_("The mask's width in pixels: the picture's width, e.g. picture.width."))
    height = whole_number("height", height, hint=_("The mask's height in pixels: the picture's height, e.g. "
                                                   "picture.height."))
    left, top, right, bottom = check_box("box", box)
    pixels = np.zeros((height, width), dtype=np.uint8)
    pixels[round(top * height):round(bottom * height), round(left * width):round(right * width)] = 255
    share = float((pixels > 0).mean())
    if share in (0.0, 1.0):  # a box can round to no pixel, or to all of them, on a small picture
        if share == 0:
            message = _("box={box!r} covers no pixel of a {width}x{height} picture once rounded to pixels. Make the box "
                        "larger, or the picture.")
        else:
            message = _("box={box!r} covers every pixel of a {width}x{height} picture once rounded to pixels. Everything "
                        "would be repainted: leave part of the picture outside the box.")
        raise ParameterError(message.format(box=box, width=width, height=height))
    return Image.fromarray(pixels)


def open_mask(name: str, path, size: tuple[int, int] | None = None) -> Image.Image:
    """The mask file at `path`, opened and checked to be a black-and-white picture of `size` if given (see `check_mask`)."""
    mask = open_picture(name, path, hint=_("Give the path of a black-and-white PNG (white = repaint), or None."),
                        use=_("a PNG file"))
    return check_mask(name, mask, size=size)


def check_mask(name: str, mask: Image.Image, size: tuple[int, int] | None = None) -> Image.Image:
    """`mask` as a 0/255 "L" picture if it is a usable mask (of `size` = (width, height), when given); else an error.

    Refused: transparency or a palette (say it with black and white instead), a colour picture (a photo passed
    by mistake), a size other than the picture's, and a mask with nothing or everything to repaint.
    """
    saving = _("Save the mask as a black-and-white (or greyscale) PNG: white where the picture is repainted, black where "
               "it is kept.")
    if mask.mode not in MASK_MODES:
        if mask.mode in ("RGBA", "LA", "PA") or "transparency" in mask.info:
            problem = _("{name}: the mask has transparency; a mask is read as grey levels, not as transparency or "
                        "colours.").format(name=name)
        else:
            problem = _("{name}: the mask is in mode {mode}; a mask is read as grey levels, not as transparency or "
                        "colours.").format(name=name, mode=mask.mode)
        raise ParameterError(problem + " " + saving)
    if mask.mode == "RGB":
        pixels = np.asarray(mask, dtype=np.int16)
        if np.abs(pixels - pixels[..., :1]).max() > 8:
            raise ParameterError(_("{name}: the mask is a colour picture (its red, green and blue differ), not black and "
                                   "white: is it the photo rather than its mask?").format(name=name) + " " + saving)
    if size is not None and mask.size != tuple(size):
        raise ParameterError(_("{name}: the mask is {width}x{height} pixels but the picture is {picture_width}x"
                               "{picture_height} (width x height): they must match pixel for pixel. Draw the mask on the "
                               "picture itself, or resize it to the picture's size.").format(
            name=name, width=mask.width, height=mask.height, picture_width=size[0], picture_height=size[1]))
    binary = np.asarray(mask.convert("L")) >= 128  # what diffusers does: grey to 0 or 1 at half brightness
    if not binary.any():
        raise ParameterError(_("{name}: the mask is all black, so nothing would be repainted. Paint white where the "
                               "picture should change.").format(name=name))
    if binary.all():
        raise ParameterError(_("{name}: the mask is all white, so the whole picture would be repainted: that is "
                               "text-to-image (lesson 05). Leave black what should be kept.").format(name=name))
    return Image.fromarray(np.where(binary, 255, 0).astype(np.uint8))


def prepare_mask(mask: Image.Image, max_pixels: int | None = 1024 * 1024) -> Image.Image:
    """`mask` scaled and cropped exactly as `prepare_image` scales and crops a picture of the same size, still 0/255.

    prepare_image scales a large picture down to about `max_pixels` and crops its sides to multiples of 8; a mask
    drawn on the original must follow it pixel for pixel. (Its warnings about the size are the picture's, said once
    there; any other warning still shows.)
    """
    if not isinstance(mask, Image.Image):
        raise TypeError(_("prepare_mask needs the mask as a PIL image, got {kind}. Make one with rectangle_mask, open a "
                          "file with open_mask, or turn an array into one with PIL.Image.fromarray.").format(
            kind=type(mask).__name__))
    scaled = prepare_image(mask.convert("RGB"), max_pixels=max_pixels, report_size=False)
    return Image.fromarray(np.where(np.asarray(scaled.convert("L")) >= 128, 255, 0).astype(np.uint8))


def open_picture_and_mask(input_image, mask_image, drawn_size: tuple[int, int]):
    """A lesson's `input_image` and `mask_image` parameters (paths or None), opened and checked before any work.

    Returns (the picture or None, the mask as 0/255 "L" or None). The mask must have the picture's size, or
    `drawn_size` = (width, height) when the lesson draws its own picture. Every problem is a ParameterError that
    names the parameter.
    """
    picture = None if input_image is None else open_picture("input_image", input_image)
    if mask_image is None:
        return picture, None
    size = picture.size if picture is not None else tuple(drawn_size)
    return picture, open_mask("mask_image", mask_image, size)
