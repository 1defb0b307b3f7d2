"""Plumbing for LoRA fine-tuning: the training pictures, checks of what a learner passes in, the LoRA file.

The LoRA itself, the training loop and the loading are the lesson (10_lora_fine_tuning); this module only
makes the data, refuses a bad picture folder with a message that says what to do, and reads a LoRA file's shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .i18n import _

LORA_FILE = "pytorch_lora_weights.safetensors"  # the name save_lora_weights writes and load_lora_weights looks for
# LoRA parameters per unit of rank on the attention projections (to_q, to_k, to_v, to_out.0) of SDXL base's UNet:
# the sum of inputs + outputs over its 560 such layers, what helpers.memory.count_lora_parameters counts from the
# real config in a few seconds (tests/test_lora.py adds it up from that config). Lesson 10 plans SDXL on a T4 with it.
SDXL_BASE_LORA_PER_RANK = 1_451_520
CONCEPT_RADIUS = (0.28, 0.36)  # the tiny rings' outer radius, as a share of the picture's side
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


@dataclass
class TrainingPicture:
    """One training picture, its caption and SDXL's micro-conditioning for it."""

    image: object  # PIL.Image, already at the training size
    caption: str
    original_size: tuple[int, int]  # (height, width) of the picture before it was resized and cropped
    crops_coords_top_left: tuple[int, int]  # (top, left) of the crop, in the resized picture


def check_picture_folder(picture_folder, caption: str, size: int) -> Path | None:
    """`picture_folder` as a Path if it holds pictures the lesson can train on at `size`; None for None.

    Run by the lesson's settings cell, before anything loads: a ParameterError naming `picture_folder` for a
    folder that is missing or empty, or holds a file that is not a picture or a picture too small for `size`
    (the checks of load_picture_folder). (10_lora_fine_tuning)
    """
    from .checks import ParameterError, existing_path

    if picture_folder is None:
        return None
    folder = existing_path("picture_folder", picture_folder, folder=True,
                           hint=_("Create it and put 5 to 20 pictures of your subject in it, or use None for the "
                                  "lesson's own pictures."))
    try:
        load_picture_folder(folder, caption, size)
    except ValueError as error:
        raise ParameterError(f"picture_folder={picture_folder!r}: {error}") from None
    return folder


# ---------------------------------------------------------------------------------------------
# The pictures


def tiny_concept_pictures(count: int, seed: int, size: int = 32, shape: str = "ring") -> list[TrainingPicture]:
    """`count` pictures of a shape tiny SDXL never saw ("a {colour} ring"), deterministic by `seed`. (10_lora_fine_tuning)"""
    from .tiny import shapes

    rng = np.random.default_rng(seed)
    pictures = []
    for _picture in range(count):
        # Larger than the world's shapes (0.2-0.36 of the side): the tiny UNet's attention sees the picture at 1/4
        # and 1/8 of its size, where a small ring's hole is under a pixel.
        radius = rng.uniform(*CONCEPT_RADIUS) * size
        centre = tuple(rng.uniform(radius * 1.1, size - radius * 1.1, size=2))
        colour = str(rng.choice(list(shapes.COLOURS)))
        background = tuple(int(value) for value in rng.integers(215, 251, size=3))
        image = shapes.draw(colour, shape, size, centre, radius, background)
        pictures.append(TrainingPicture(image, shapes.caption(colour, shape), (size, size), (0, 0)))
    return pictures


def tiny_world_pictures(count: int, seed: int, size: int = 32) -> list[TrainingPicture]:
    """`count` pictures of what tiny SDXL already draws (circles, squares, triangles), for prior preservation."""
    from .tiny import shapes

    return [TrainingPicture(p.image, p.caption, p.original_size, p.crops_coords_top_left)
            for p in shapes.dataset(count, seed, size)]


def make_default_instance_pictures(folder, count: int = 6, size: int = 1024, seed: int = 0) -> Path:
    """Write `count` stand-in pictures into `folder` for full mode when the learner has none of their own.

    They are flat coloured rings on light backgrounds (the tiny world's ring, drawn at `size`), a look the real
    SDXL does not produce for a plain prompt: enough to watch a LoRA learn something. (10_lora_fine_tuning)
    """
    from .tiny import shapes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        picture = shapes.plain(rng, size, shape="ring")
        picture.image.save(folder / f"ring_{index:02d}.png")
    return folder


def load_picture_folder(folder, caption: str, size: int, min_pictures: int = 1) -> list[TrainingPicture]:
    """The pictures in `folder`, each resized so its short side is `size` and centre-cropped to size x size.

    Refuses, with what to do instead: a missing or empty folder, files that are not pictures, a picture whose short
    side is below half of `size` (it would be upscaled more than 2x). Records each picture's original size and crop
    corner, the micro-conditioning SDXL was trained with. (10_lora_fine_tuning)
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(_("The picture folder {folder!r} does not exist. Create it and put your pictures "
                                  "in it (PNG or JPEG, {size}x{size} or larger), or leave picture_folder as None for "
                                  "the lesson's own stand-in pictures.").format(folder=str(folder), size=size))
    files = sorted(path for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))
    if not files:
        raise ValueError(_("The picture folder {folder!r} is empty: put a handful of pictures of your subject in "
                           "it (5 to 20, {size}x{size} or larger).").format(folder=str(folder), size=size))
    pictures, unreadable, small = [], [], []
    for path in files:
        try:
            with Image.open(path) as opened:
                image = opened.convert("RGB")
        except (UnidentifiedImageError, OSError):
            unreadable.append(path.name)
            continue
        if min(image.size) < size / 2:
            small.append(f"{path.name} ({image.width}x{image.height})")
            continue
        pictures.append(_square(image, caption, size))
    if unreadable:
        raise ValueError(_("These files in {folder!r} are not pictures PIL can read: {files}. "
                           "Remove them, or save them as PNG or JPEG ({suffixes}).").format(
            folder=str(folder), files=", ".join(unreadable), suffixes=", ".join(PICTURE_SUFFIXES)))
    if small:
        raise ValueError(_("These pictures are too small for training at {size}x{size}: {files}. Their short "
                           "side should be at least {half} pixels (better: {size}); use larger pictures, or a "
                           "smaller training size.").format(size=size, files=", ".join(small), half=size // 2))
    if len(pictures) < min_pictures:
        raise ValueError(_("{count} picture(s) in {folder!r}; at least {minimum} are needed.").format(
            count=len(pictures), folder=str(folder), minimum=min_pictures))
    return pictures


def _square(image, caption: str, size: int) -> TrainingPicture:
    """Resize so the short side is `size`, then centre-crop: the crop corner is what SDXL's add_time_ids get."""
    from PIL import Image

    original = (image.height, image.width)
    scale = size / min(image.size)
    width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    resized = image.resize((width, height), Image.Resampling.LANCZOS)
    top, left = (height - size) // 2, (width - size) // 2
    return TrainingPicture(resized.crop((left, top, left + size, top + size)), caption, original, (top, left))


# ---------------------------------------------------------------------------------------------
# The LoRA file


_LORA_MARKERS = {".lora.down.": "A", ".lora.up.": "B", ".lora_A.": "A", ".lora_B.": "B"}  # diffusers' and peft's names


class LoraMismatchError(ValueError):
    """A LoRA file whose layers do not fit this model: made for another base model."""


def lora_file(path) -> Path:
    """The LoRA weights file: `path` itself, or the file save_lora_weights wrote in the folder `path`."""
    path = Path(path)
    file = path / LORA_FILE if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(_("No LoRA weights at {file!r}: save them with "
                                  "StableDiffusionXLPipeline.save_lora_weights(folder, unet_lora_layers=...).").format(
            file=str(file)))
    return file


def check_lora_file(path, unet) -> dict:
    """Check that every layer of a LoRA file fits a layer of `unet`; return its rank, layer count and size.

    `load_lora_weights` fails deep inside peft (a size mismatch) when a LoRA was made for another base model (an
    SD 1.5 LoRA, say, on SDXL), or silently ignores layers the model does not have. This reads only the file's
    header and says which layer does not fit, and what to do. (10_lora_fine_tuning)
    """
    from safetensors import safe_open

    file = lora_file(path)
    modules = dict(unet.named_modules())
    ranks, problems, layers = set(), [], set()
    with safe_open(str(file), "pt") as weights:
        keys = list(weights.keys())
        for key in keys:
            found = next((marker for marker in _LORA_MARKERS if marker in key), None)
            if not key.startswith("unet.") or found is None:
                continue  # text encoder layers, alphas: not the UNet's
            name, rest = key[len("unet."):].split(found)
            part = "A" if _LORA_MARKERS[found] == "A" else "B"
            shape = weights.get_slice(key).get_shape()
            layers.add(name)
            module = modules.get(name)
            if module is None or not hasattr(module, "in_features"):
                problems.append(_("{layer}: this UNet has no such linear layer").format(layer=name))
                continue
            if part.startswith("A"):
                ranks.add(shape[0])
                if shape[1] != module.in_features:
                    problems.append(_("{layer}: the LoRA expects {count} inputs, this UNet's layer has {has}").format(
                        layer=name, count=shape[1], has=module.in_features))
            elif shape[0] != module.out_features:
                problems.append(_("{layer}: the LoRA gives {count} outputs, this UNet's layer has {has}").format(
                    layer=name, count=shape[0], has=module.out_features))
    if not layers:
        raise LoraMismatchError(_("{file} holds no UNet LoRA layers (keys like 'unet.<layer>.lora.down.weight'); "
                                  "its keys start with: {keys}.").format(file=file.name,
                                                                         keys=", ".join(keys[:3]) or _("nothing")))
    if problems:
        raise LoraMismatchError(_(
            "This LoRA was made for another base model: {count} of its {total} weights do not fit "
            "this UNet, e.g. {example}. A LoRA only works on the model it was trained on (an SD 1.5 LoRA does "
            "not fit SDXL); load one trained on this base, or train your own.").format(
            count=len(problems), total=2 * len(layers), example=problems[0]))
    return {"layers": len(layers), "rank": max(ranks), "bytes": file.stat().st_size}
