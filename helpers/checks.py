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


# ---------------------------------------------------------------------------------------------
# A lesson's parameters: each lesson's settings cell checks every one before any work starts, so a bad value
# (from the form, a papermill -p, a typo) stops at once with what was wrong and what to do, instead of being
# silently replaced by a default (`x or default` turns 0 into the default) or failing deep inside a library.

class ParameterError(ValueError):
    """A lesson parameter that cannot work: the message names it, says why, and what to use instead."""


def _refuse(name: str, value, problem: str, hint: str) -> None:
    raise ParameterError(f"{name}={value!r} {problem}." + (f" {hint}" if hint else ""))


def whole_number(name: str, value, minimum: int = 1, maximum: int | None = None, multiple_of: int | None = None,
                 hint: str = "") -> int:
    """`value` if it is a whole number in [minimum, maximum] (and a multiple of `multiple_of`); else a ParameterError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        _refuse(name, value, "is not a whole number", hint or f"Use e.g. {name}={max(minimum, 1)}.")
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        _refuse(name, value, f"is out of range: it must be {allowed}", hint)
    if multiple_of and value % multiple_of:
        lower = value // multiple_of * multiple_of
        nearest = " or ".join(str(v) for v in (lower, lower + multiple_of) if v >= max(minimum, 1))
        _refuse(name, value, f"is not a multiple of {multiple_of}", hint or f"Try {name}={nearest}.")
    return int(value)


def number(name: str, value, low: float | None = None, high: float | None = None, low_open: bool = False,
           high_open: bool = False, hint: str = "") -> float:
    """`value` if it is a finite number in the interval low..high (`*_open`: that end excluded); else a ParameterError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        _refuse(name, value, "is not a finite number", hint)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        interval = f"in {left or '(-inf'}, {right or 'inf)'}"
        _refuse(name, value, f"is out of range: it must be {interval}", hint)
    return value


def one_of(name: str, value, choices, hint: str = ""):
    """`value` if it is one of `choices`; else a ParameterError listing them."""
    if value not in choices:
        _refuse(name, value, "is not one of " + ", ".join(repr(c) for c in choices), hint)
    return value


def text(name: str, value, hint: str = "") -> str:
    """`value` if it is a string with something in it; else a ParameterError."""
    if not isinstance(value, str) or not value.strip():
        _refuse(name, value, "is not a non-empty text", hint)
    return value


def list_of(name: str, value, check, minimum_length: int = 1, hint: str = "") -> list:
    """`value` as a list if it is a list or tuple of at least `minimum_length` items, each passing `check(label, item)`."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        _refuse(name, value, "is not a list", hint or f"Write it in square brackets, e.g. {name}=[...].")
    if len(value) < minimum_length:
        _refuse(name, value, f"has {len(value)} item(s); it needs at least {minimum_length}", hint)
    return [check(f"{name}[{index}]", item) for index, item in enumerate(value)]


def existing_path(name: str, value, folder: bool = False, hint: str = "") -> Path:
    """`value` as a Path if that file (or, with `folder=True`, folder) exists; else a ParameterError."""
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        _refuse(name, value, f"is not a {'folder' if folder else 'file'} path", hint)
    path = Path(value).expanduser()
    if not (path.is_dir() if folder else path.is_file()):
        where = f" (relative paths start from {Path.cwd()})" if not path.is_absolute() else ""
        _refuse(name, value, f"is not an existing {'folder' if folder else 'file'}{where}", hint)
    return path


def open_picture(name: str, value, hint: str = "Give the path of a picture (PNG, JPEG, ...), or None.",
                 use: str = "a PNG or JPEG file") -> Image.Image:
    """The picture file `value`, opened and read whole; a ParameterError naming `name` if there is no such file or
    PIL cannot read it (`hint` says what to give, `use` which kind of file)."""
    path = existing_path(name, value, hint=hint)
    try:
        picture = Image.open(path)
        picture.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ParameterError(f"{name}={str(path)!r} is not a picture PIL can read ({error}). Use {use}.") from None
    return picture


def check_size(height: int, width: int) -> None:
    """Raise a clear error unless height and width are positive whole multiples of 8. (05_sdxl_base)"""
    for label, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{label} must be a positive whole number of pixels, got {value!r}.")
        if value % 8:
            lower, upper = value // 8 * 8, value // 8 * 8 + 8
            suggestion = f"{lower} or {upper}" if lower else f"{upper}"
            raise ValueError(
                f"{label}={value} is not divisible by 8: the VAE shrinks pictures by a power of two and the "
                f"UNet halves them again, so sizes must be multiples of 8. Try {label}={suggestion}."
            )


def check_prompt(prompt, tokenizer=None) -> str:
    """Refuse an empty prompt; warn, saying what is lost, when CLIP's 77 tokens cut it. (05_sdxl_base)

    Returns the part that was cut ("" when nothing was). Pass the pipeline's `tokenizer` to check length.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(
            f"The prompt is empty ({prompt!r}): describe the picture you want, e.g. 'a red circle'. "
            "(To generate without text, use guidance_scale=1 with a short neutral prompt.)"
        )
    if tokenizer is None:
        return ""
    ids = tokenizer(prompt, verbose=False).input_ids  # we say what is cut, below; no "Token indices" log too
    limit = tokenizer.model_max_length
    if len(ids) <= limit:
        return ""
    lost = tokenizer.decode(ids[limit - 1 : -1])
    warnings.warn(
        f"The prompt has {len(ids)} tokens but CLIP reads only {limit} (start and end included), so this part "
        f"was cut: {lost!r}. Shorten the prompt or move what matters to the front.",
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
            f"strength must be a number in (0, 1], got {strength!r}: it is the share of the denoising steps to redo "
            "(0.3 keeps most of the picture; 1.0 runs every step, and even then a little of the picture survives)."
        )
    steps = min(int(num_inference_steps * strength), num_inference_steps)
    if steps == 0:
        smallest = 1 / num_inference_steps
        raise ValueError(
            f"strength={strength} with num_inference_steps={num_inference_steps} runs int({num_inference_steps} x {strength}) = 0 "
            f"denoising steps, so nothing would happen. Use strength >= {smallest:.3g} or more steps."
        )
    return steps


def _pixels(count: int) -> str:
    """A pixel count as people say it: megapixels from 0.1 MP up, else the count itself (tiny mode's pictures)."""
    return f"{count / 1e6:.1f} MP" if count >= 100_000 else f"{count:,} pixels"


def prepare_image(image, multiple: int = 8, max_pixels: int | None = 1024 * 1024) -> Image.Image:
    """An RGB picture whose sides are multiples of `multiple`, ready for img2img. (07_img2img_sdedit)

    diffusers treats a 4-channel input as *latents* and crashes deep inside on greyscale, so: RGBA is
    composited onto white, greyscale and palette pictures become RGB, a picture of more than `max_pixels`
    (default about one megapixel, SDXL's training size) is scaled down to about that many, keeping its shape
    (a 12 MP phone photo would need 12 times the memory and run out on a T4), and odd sizes are cropped to
    the nearest multiple of 8 (centred); each change is reported with a UserWarning. Anything else is refused.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if not isinstance(image, Image.Image):
        raise TypeError(f"Expected a PIL image (or a numpy array), got {type(image).__name__}. Open files with PIL.Image.open(path).")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        warnings.warn(f"The picture has transparency ({image.mode}): composited onto white to make it RGB.", UserWarning, stacklevel=2)
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA")).convert("RGB")
    elif image.mode != "RGB":
        warnings.warn(f"The picture is {image.mode}, not RGB: converted to RGB.", UserWarning, stacklevel=2)
        image = image.convert("RGB")
    width, height = image.size
    if max_pixels is not None and width * height > max_pixels:
        scale = (max_pixels / (width * height)) ** 0.5
        size = (max(multiple, int(width * scale)), max(multiple, int(height * scale)))
        warnings.warn(f"The picture is {width}x{height} ({_pixels(width * height)}): scaled down to {size[0]}x{size[1]}, "
                      f"about {_pixels(max_pixels)}, the size the model is made for (pass max_pixels to change it).",
                      UserWarning, stacklevel=2)
        image = image.resize(size, Image.LANCZOS)
        width, height = image.size
    if width < multiple or height < multiple:
        raise ValueError(f"The picture is {width}x{height}: too small, it needs at least {multiple} pixels a side.")
    new_width, new_height = width // multiple * multiple, height // multiple * multiple
    if (new_width, new_height) != (width, height):
        warnings.warn(
            f"The picture is {width}x{height}; sides must be multiples of {multiple}: cropped to {new_width}x{new_height} (centred).",
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
        raise ValueError(f"neighbour_correlation needs pictures at least 2 pixels wide, shaped (..., height, width); got {tuple(x.shape)}.")
    left, right = x[..., :, :-1].flatten(), x[..., :, 1:].flatten()
    return torch.corrcoef(torch.stack([left, right]))[0, 1].nan_to_num(0.0).item()
