"""Clear errors for bad input, before it reaches a pipeline: sizes, prompts, img2img pictures and strengths;
and one measure the lessons use to tell a picture from noise.

Used by the lessons' forms and checks (01_denoising_loop, 02_schedulers, 05_sdxl_base, 07_img2img_sdedit).
Each error says what was wrong and what to do; conversions that change a picture say what they did.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .i18n import _


# ---------------------------------------------------------------------------------------------
# A lesson's parameters: each lesson's settings cell checks every one before any work starts, so a bad value
# (from the form, a papermill -p, a typo) stops at once with what was wrong and what to do, instead of being
# silently replaced by a default (`x or default` turns 0 into the default) or failing deep inside a library.

class ParameterError(ValueError):
    """A lesson parameter that cannot work: the message names it, says why, and what to use instead."""


def _refuse(name: str, value, problem: str, hint: str) -> None:
    message = _("{name}={value!r} {problem}.").format(name=name, value=value, problem=problem)
    raise ParameterError(message + (f" {hint}" if hint else ""))


def whole_number(name: str, value, minimum: int = 1, maximum: int | None = None, multiple_of: int | None = None,
                 hint: str = "") -> int:
    """`value` if it is a whole number in [minimum, maximum] (and a multiple of `multiple_of`); else a ParameterError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        _refuse(name, value, _("is not a whole number"),
                hint or _("Use e.g. {name}={example}.").format(name=name, example=max(minimum, 1)))
    if value < minimum or (maximum is not None and value > maximum):
        allowed = (_("between {minimum} and {maximum}").format(minimum=minimum, maximum=maximum) if maximum is not None
                   else _("at least {minimum}").format(minimum=minimum))
        _refuse(name, value, _("is out of range: it must be {allowed}").format(allowed=allowed), hint)
    if multiple_of and value % multiple_of:
        lower = value // multiple_of * multiple_of
        near = [v for v in (lower, lower + multiple_of) if v >= max(minimum, 1)]
        nearest = _("{lower} or {upper}").format(lower=near[0], upper=near[1]) if len(near) == 2 else str(near[0])
        _refuse(name, value, _("is not a multiple of {multiple}").format(multiple=multiple_of),
                hint or _("Try {name}={nearest}.").format(name=name, nearest=nearest))
    return int(value)


def number(name: str, value, low: float | None = None, high: float | None = None, low_open: bool = False,
           high_open: bool = False, hint: str = "") -> float:
    """`value` if it is a finite number in the interval low..high (`*_open`: that end excluded); else a ParameterError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        _refuse(name, value, _("is not a finite number"), hint)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        interval = _("in {low}, {high}").format(low=left or "(-inf", high=right or "inf)")
        _refuse(name, value, _("is out of range: it must be {allowed}").format(allowed=interval), hint)
    return value


def one_of(name: str, value, choices, hint: str = ""):
    """`value` if it is one of `choices`; else a ParameterError listing them."""
    if value not in choices:
        _refuse(name, value, _("is not one of {choices}").format(choices=", ".join(repr(c) for c in choices)), hint)
    return value


def text(name: str, value, hint: str = "") -> str:
    """`value` if it is a string with something in it; else a ParameterError."""
    if not isinstance(value, str) or not value.strip():
        _refuse(name, value, _("is not a non-empty text"), hint)
    return value


def list_of(name: str, value, check, minimum_length: int = 1, hint: str = "") -> list:
    """`value` as a list if it is a list or tuple of at least `minimum_length` items, each passing `check(label, item)`."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        _refuse(name, value, _("is not a list"), hint or _("Write it in square brackets, e.g. {name}=[...].").format(name=name))
    if len(value) < minimum_length:
        _refuse(name, value, _("has {count} item(s); it needs at least {minimum}").format(count=len(value),
                                                                                          minimum=minimum_length), hint)
    return [check(f"{name}[{index}]", item) for index, item in enumerate(value)]


def existing_path(name: str, value, folder: bool = False, hint: str = "") -> Path:
    """`value` as a Path if that file (or, with `folder=True`, folder) exists; else a ParameterError."""
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        _refuse(name, value, _("is not a folder path") if folder else _("is not a file path"), hint)
    path = Path(value).expanduser()
    if not (path.is_dir() if folder else path.is_file()):
        problem = _("is not an existing folder") if folder else _("is not an existing file")
        if not path.is_absolute():
            problem += " " + _("(relative paths start from {folder})").format(folder=Path.cwd())
        _refuse(name, value, problem, hint)
    return path


def open_picture(name: str, value, hint: str | None = None, use: str | None = None) -> Image.Image:
    """The picture file `value`, opened and read whole; a ParameterError naming `name` if there is no such file or
    PIL cannot read it (`hint` says what to give, `use` which kind of file; by default any picture, PNG or JPEG)."""
    hint = _("Give the path of a picture (PNG, JPEG, ...), or None.") if hint is None else hint
    use = _("a PNG or JPEG file") if use is None else use
    path = existing_path(name, value, hint=hint)
    try:
        picture = Image.open(path)
        picture.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ParameterError(_("{name}={path!r} is not a picture PIL can read ({error}). Use {use}.").format(
            name=name, path=str(path), error=error, use=use)) from None
    return picture


def check_size(height: int, width: int) -> None:
    """Raise a clear error unless height and width are positive whole multiples of 8. (05_sdxl_base)"""
    for label, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(_("{label} must be a positive whole number of pixels, got {value!r}.").format(
                label=label, value=value))
        if value % 8:
            lower, upper = value // 8 * 8, value // 8 * 8 + 8
            suggestion = _("{lower} or {upper}").format(lower=lower, upper=upper) if lower else f"{upper}"
            raise ValueError(
                _("{label}={value} is not divisible by 8: the VAE shrinks pictures by a power of two and the "
                  "UNet halves them again, so sizes must be multiples of 8. Try {label}={suggestion}.").format(
                    label=label, value=value, suggestion=suggestion)
            )


def check_prompt(prompt, tokenizer=None) -> str:
    """Refuse an empty prompt; warn, saying what is lost, when CLIP's 77 tokens cut it. (05_sdxl_base)

    Returns the part that was cut ("" when nothing was). Pass the pipeline's `tokenizer` to check length.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(
            _("The prompt is empty ({prompt!r}): describe the picture you want, e.g. 'a red circle'. "
              "(To generate without text, use guidance_scale=1 with a short neutral prompt.)").format(prompt=prompt)
        )
    if tokenizer is None:
        return ""
    ids = tokenizer(prompt, verbose=False).input_ids  # we say what is cut, below; no "Token indices" log too
    limit = tokenizer.model_max_length
    if len(ids) <= limit:
        return ""
    lost = tokenizer.decode(ids[limit - 1 : -1])
    warnings.warn(
        _("The prompt has {count} tokens but CLIP reads only {limit} (start and end included), so this part "
          "was cut: {lost!r}. Shorten the prompt or move what matters to the front.").format(
            count=len(ids), limit=limit, lost=lost),
        UserWarning,
        stacklevel=2,
    )
    return lost


def check_strength(strength, num_inference_steps: int) -> int:
    """Refuse a strength outside (0, 1] or too small to run a step; return how many steps will run. (07_img2img_sdedit)

    img2img runs `int(num_inference_steps * strength)` steps; at 0 diffusers fails with a cryptic
    reshape error, so say it plainly instead.
    """
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 < strength <= 1:
        raise ValueError(
            _("strength must be a number in (0, 1], got {strength!r}: it is the share of the denoising steps to redo "
              "(0.3 keeps most of the picture; 1.0 runs every step, and even then a little of the picture "
              "survives).").format(strength=strength)
        )
    steps = min(int(num_inference_steps * strength), num_inference_steps)
    if steps == 0:
        smallest = 1 / num_inference_steps
        raise ValueError(
            _("strength={strength} with num_inference_steps={steps} runs int({steps} x {strength}) = 0 "
              "denoising steps, so nothing would happen. Use strength >= {smallest:.3g} or more steps.").format(
                strength=strength, steps=num_inference_steps, smallest=smallest)
        )
    return steps


def _pixels(count: int) -> str:
    """A pixel count as people say it: megapixels from 0.1 MP up, else the count itself (tiny mode's pictures)."""
    return f"{count / 1e6:.1f} MP" if count >= 100_000 else _("{count:,} pixels").format(count=count)


def prepare_image(image, multiple: int = 8, max_pixels: int | None = 1024 * 1024, *, report_size: bool = True) -> Image.Image:
    """An RGB picture whose sides are multiples of `multiple`, ready for img2img. (07_img2img_sdedit)

    diffusers treats a 4-channel input as *latents* and crashes deep inside on greyscale, so: RGBA is
    composited onto white, greyscale and palette pictures become RGB, a picture of more than `max_pixels`
    (default about one megapixel, SDXL's training size) is scaled down to about that many, keeping its shape
    (a 12 MP phone photo would need 12 times the memory and run out on a T4), and odd sizes are cropped to
    the nearest multiple of 8 (centred); each change is reported with a UserWarning. Anything else is refused.
    `report_size=False` scales and crops without the two size warnings (a mask following its picture, which said them).
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if not isinstance(image, Image.Image):
        raise TypeError(_("Expected a PIL image (or a numpy array), got {kind}. Open files with PIL.Image.open(path).")
                        .format(kind=type(image).__name__))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        warnings.warn(_("The picture has transparency ({mode}): composited onto white to make it RGB.").format(mode=image.mode),
                      UserWarning, stacklevel=2)
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA")).convert("RGB")
    elif image.mode != "RGB":
        warnings.warn(_("The picture is {mode}, not RGB: converted to RGB.").format(mode=image.mode), UserWarning, stacklevel=2)
        image = image.convert("RGB")
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        scale = (max_pixels / (width * height)) ** 0.5
        size = (max(multiple, int(width * scale)), max(multiple, int(height * scale)))
        if report_size:
            warnings.warn(_("The picture is {width}x{height} ({pixels}): scaled down to {new_width}x{new_height}, "
                            "about {max_pixels}, the size the model is made for (pass max_pixels to change it).").format(
                              width=width, height=height, pixels=_pixels(width * height), new_width=size[0],
                              new_height=size[1], max_pixels=_pixels(max_pixels)),
                          UserWarning, stacklevel=2)
        image = image.resize(size, Image.LANCZOS)
        width, height = image.size
    if width < multiple or height < multiple:
        raise ValueError(_("The picture is {width}x{height}: too small, it needs at least {multiple} pixels a side.")
                         .format(width=width, height=height, multiple=multiple))
    new_width, new_height = width // multiple * multiple, height // multiple * multiple
    if (new_width, new_height) != (width, height):
        if report_size:
            warnings.warn(
                _("The picture is {width}x{height}; sides must be multiples of {multiple}: cropped to "
                  "{new_width}x{new_height} (centred).").format(width=width, height=height, multiple=multiple,
                                                                new_width=new_width, new_height=new_height),
                UserWarning, stacklevel=2,
            )
        left, top = (width - new_width) // 2, (height - new_height) // 2
        image = image.crop((left, top, left + new_width, top + new_height))
    return image


def neighbour_correlation(x: torch.Tensor) -> float:
    """The correlation between each pixel and its right-hand neighbour, over a batch of pictures (..., height, width).

    About 0 for noise, near 1 for pictures (real pictures are smooth). It tells pictures from noise, not good
    pictures from bad ones: a blurry picture scores high too. A flat picture has no correlation; it counts as 0.
    (01_denoising_loop, 02_schedulers)
    """
    x = torch.as_tensor(x).detach().float().cpu()
    if x.dim() < 2 or x.shape[-1] < 2:
        raise ValueError(_("neighbour_correlation needs pictures at least 2 pixels wide, shaped (..., height, width); "
                           "got {shape}.").format(shape=tuple(x.shape)))
    left, right = x[..., :, :-1].flatten(), x[..., :, 1:].flatten()
    return torch.corrcoef(torch.stack([left, right]))[0, 1].nan_to_num(0.0).item()
