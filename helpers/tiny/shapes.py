"""A generated world of captioned pictures: coloured circles, squares and triangles on light backgrounds.

Tiny SDXL is trained on it (helpers/tiny/train.py) and lesson 03 trains its own model on it, so the
pictures tiny mode draws can be checked: "a red circle" should come out red and round. Everything is
deterministic given a `numpy.random.Generator`.

Besides plain pictures, the world makes the variations SDXL's conditioning is about:
- low-resolution pictures, upscaled (their `original_size` says how small they were);
- crops of a larger canvas (their `crops_coords_top_left` says where the crop started);
- degraded pictures (blurred, jittered or speckled), whose `aesthetic_score` says how degraded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 160, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 200, 30),
    "purple": (140, 60, 180),
    "orange": (245, 130, 20),
}
SHAPES = ("circle", "square", "triangle")
# Shapes `draw` (and `plain`, when asked) can make but the world's own generators never pick: tiny SDXL never saw
# them. Lesson 10 teaches the ring with a LoRA.
NEW_SHAPES = ("ring",)
RING_HOLE = 0.55  # the ring's hole: this share of its outer radius
CLEAN_SCORE = 6.0  # the aesthetic score of an undamaged picture; SDXL's default `aesthetic_score`
_SUPERSAMPLE = 4  # shapes are drawn 4x larger and shrunk, for smooth edges


def caption(colour: str, shape: str) -> str:
    """The world's caption, "a red circle" or "an orange square". (The committed models were trained on "a orange …"
    and draw both alike: 34 of 36 right either way, 12 seeds per shape.)"""
    return f"{'an' if colour[0] in 'aeiou' else 'a'} {colour} {shape}"


CAPTIONS = tuple(caption(colour, shape) for colour in COLOURS for shape in SHAPES)  # the world's 18 captions


@dataclass
class Picture:
    image: Image.Image
    colour: str
    shape: str
    original_size: tuple[int, int]  # (height, width) before any upscaling or cropping
    crops_coords_top_left: tuple[int, int] = (0, 0)
    aesthetic_score: float = CLEAN_SCORE

    @property
    def caption(self) -> str:
        return caption(self.colour, self.shape)


def draw(colour: str, shape: str, size: int, centre: tuple[float, float], radius: float,
         background: tuple[int, int, int] = (240, 240, 235)) -> Image.Image:
    """One shape on a plain background; `centre` is (x, y) and `radius` the half-width, in pixels."""
    if colour not in COLOURS or shape not in SHAPES + NEW_SHAPES:
        raise ValueError(f"Unknown colour or shape {colour!r}, {shape!r}: colours {list(COLOURS)}, "
                         f"shapes {list(SHAPES + NEW_SHAPES)}.")
    big = size * _SUPERSAMPLE
    x, y, r = (value * _SUPERSAMPLE for value in (*centre, radius))
    image = Image.new("RGB", (big, big), background)
    pen = ImageDraw.Draw(image)
    fill = COLOURS[colour]
    if shape == "circle":
        pen.ellipse([x - r, y - r, x + r, y + r], fill=fill)
    elif shape == "ring":
        pen.ellipse([x - r, y - r, x + r, y + r], fill=fill)
        hole = r * RING_HOLE
        pen.ellipse([x - hole, y - hole, x + hole, y + hole], fill=background)
    elif shape == "square":
        side = r * 0.9  # a square looks bigger than a circle of the same half-width
        pen.rectangle([x - side, y - side, x + side, y + side], fill=fill)
    else:
        pen.polygon([(x, y - r), (x + r * 1.05, y + r * 0.8), (x - r * 1.05, y + r * 0.8)], fill=fill)
    return image.resize((size, size), Image.Resampling.BOX)


def _light_background(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(value) for value in rng.integers(215, 251, size=3))


def plain(rng: np.random.Generator, size: int = 32, colour: str | None = None, shape: str | None = None) -> Picture:
    """A random shape of random size, fully inside the picture, at a random place.

    `shape` None picks one of the world's SHAPES; a NEW_SHAPES name (a ring) can be asked for by name.
    """
    colour = colour or str(rng.choice(list(COLOURS)))
    shape = shape or str(rng.choice(SHAPES))
    radius = rng.uniform(0.2, 0.36) * size
    margin = radius * 1.1
    centre = (rng.uniform(margin, size - margin), rng.uniform(margin, size - margin))
    return Picture(draw(colour, shape, size, centre, radius, _light_background(rng)), colour, shape, (size, size))


def low_resolution(rng: np.random.Generator, size: int = 32, colour: str | None = None, shape: str | None = None) -> Picture:
    """A picture made at a lower resolution and upscaled: blurrier, and `original_size` says so."""
    small = int(rng.choice([8, 12, 16, 20, 24]))
    picture = plain(rng, small, colour, shape)
    picture.image = picture.image.resize((size, size), Image.Resampling.BILINEAR)
    return picture


def cropped(rng: np.random.Generator, size: int = 32, colour: str | None = None, shape: str | None = None) -> Picture:
    """A crop of a larger canvas whose shape sits near its centre, as subjects in photographs do.

    The larger the crop offset, the further the shape moves towards the top-left, and the more it is cut.
    """
    canvas = int(rng.integers(size + 8, 2 * size + 1))
    colour = colour or str(rng.choice(list(COLOURS)))
    shape = shape or str(rng.choice(SHAPES))
    radius = rng.uniform(0.2, 0.36) * size
    centre = tuple(canvas / 2 + rng.uniform(-0.1, 0.1) * size for _ in range(2))
    whole = draw(colour, shape, canvas, centre, radius, _light_background(rng))
    top, left = (int(value) for value in rng.integers(0, canvas - size + 1, size=2))
    return Picture(whole.crop((left, top, left + size, top + size)), colour, shape, (canvas, canvas), (top, left))


def degrade(image: Image.Image, rng: np.random.Generator, level: float, kind: str | None = None) -> Image.Image:
    """Damage a picture: `blur`, `jitter` (ragged edges) or `speckle` (pixel noise), `level` in [0, 1]."""
    kind = kind or str(rng.choice(["blur", "jitter", "speckle"]))
    if kind == "blur":
        return image.filter(ImageFilter.GaussianBlur(0.6 + 1.6 * level))
    pixels = np.asarray(image).astype(np.float32)
    if kind == "speckle":
        pixels = pixels + rng.normal(0, 12 + 50 * level, size=pixels.shape)
    elif kind == "jitter":
        reach = 1 + int(round(2 * level))
        rows, cols = np.indices(pixels.shape[:2])
        rows = np.clip(rows + rng.integers(-reach, reach + 1, size=rows.shape), 0, pixels.shape[0] - 1)
        cols = np.clip(cols + rng.integers(-reach, reach + 1, size=cols.shape), 0, pixels.shape[1] - 1)
        pixels = pixels[rows, cols]
    else:
        raise ValueError(f"Unknown degradation {kind!r}: use 'blur', 'jitter' or 'speckle'.")
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def degraded(rng: np.random.Generator, size: int = 32, colour: str | None = None, shape: str | None = None) -> Picture:
    """A plain picture damaged by a random amount; its aesthetic score falls from 6 towards 2 with the damage."""
    picture = plain(rng, size, colour, shape)
    level = float(rng.uniform(0.2, 1.0))
    picture.image = degrade(picture.image, rng, level)
    picture.aesthetic_score = round(CLEAN_SCORE - 4.0 * level, 2)
    return picture


def dataset(count: int, seed: int, size: int = 32, kinds: dict | None = None) -> list[Picture]:
    """`count` pictures, deterministic by `seed`; `kinds` maps plain/low_resolution/cropped/degraded to shares."""
    makers = {"plain": plain, "low_resolution": low_resolution, "cropped": cropped, "degraded": degraded}
    kinds = kinds or {"plain": 1.0}
    unknown = set(kinds) - set(makers)
    if unknown:
        raise ValueError(f"Unknown kinds {sorted(unknown)}: use {sorted(makers)}.")
    rng = np.random.default_rng(seed)
    names, shares = list(kinds), np.array(list(kinds.values()), dtype=float)
    choices = rng.choice(len(names), size=count, p=shares / shares.sum())
    return [makers[names[choice]](rng, size) for choice in choices]


def to_tensor(pictures: list[Picture]):
    """The pictures as one float tensor (N, 3, H, W) in [-1, 1], the range diffusion models use."""
    import torch

    array = np.stack([np.asarray(picture.image, dtype=np.float32) for picture in pictures])
    return torch.from_numpy(array).permute(0, 3, 1, 2) / 127.5 - 1.0


# ---------------------------------------------------------------------------------------------
# Reading a picture of this world back: what lessons 04-07 and the tests use to check what tiny SDXL drew.


def parse_caption(prompt: str) -> tuple[str | None, str | None]:
    """The colour and shape a prompt names, e.g. "a red circle" -> ("red", "circle"); None where it names none."""
    words = prompt.lower().replace(",", " ").split()
    colour = next((word for word in words if word in COLOURS), None)
    shape = next((word for word in words if word in SHAPES), None)
    return colour, shape


def _pixels_and_border(picture) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.asarray(picture.convert("RGB"), dtype=float)
    return pixels, np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])


def foreground_mask(picture) -> np.ndarray:
    """Pixels far from the background colour (the median of the picture's border)."""
    pixels, border = _pixels_and_border(picture)
    return np.linalg.norm(pixels - np.median(border, axis=0), axis=2) > 60


def overlap(picture, other) -> float:
    """How well two pictures' objects coincide: the intersection over union of their foreground masks, 1 for the
    same silhouette in the same place, 0 when they do not touch (or neither picture has an object)."""
    drawn, wanted = foreground_mask(picture), foreground_mask(other)
    return float((drawn & wanted).sum() / max(1, (drawn | wanted).sum()))


def object_colour(picture) -> str | None:
    """The palette colour nearest to the object's mean colour; None when no object stands out."""
    mask = foreground_mask(picture)
    if mask.sum() < 4:
        return None
    mean = np.asarray(picture.convert("RGB"), dtype=float)[mask].mean(axis=0)
    return min(COLOURS, key=lambda name: np.linalg.norm(mean - np.array(COLOURS[name])))


def object_shape(picture) -> str | None:
    """circle, square or triangle, from how much of its bounding box the object fills (pi/4, 1, 1/2)."""
    mask = foreground_mask(picture)
    if mask.sum() < 4:
        return None
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    fill = mask.sum() / ((rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1))
    return "square" if fill > 0.88 else "circle" if fill > 0.64 else "triangle"


def object_centre(picture) -> np.ndarray:
    """(row, column) of the object's centre of mass, NaN when no object stands out."""
    mask = foreground_mask(picture)
    return np.argwhere(mask).mean(axis=0) if mask.any() else np.array([np.nan, np.nan])


def enclosed_background(picture) -> np.ndarray:
    """Background pixels the border cannot reach without crossing the object: the hole of a ring.

    A filled circle, square or triangle encloses none. (10_lora_fine_tuning)
    """
    foreground = foreground_mask(picture)
    reached = np.zeros_like(foreground)
    reached[0], reached[-1], reached[:, 0], reached[:, -1] = (~foreground[0], ~foreground[-1], ~foreground[:, 0],
                                                              ~foreground[:, -1])
    while True:  # grow the border's background into its background neighbours (4-connected) until nothing changes
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= ~foreground
        if (grown == reached).all():
            return ~foreground & ~reached
        reached = grown


def is_ring(picture, least_hole: int = 2) -> bool:
    """Does the object enclose a hole of at least `least_hole` background pixels? (10_lora_fine_tuning)"""
    return bool(foreground_mask(picture).sum() >= 4 and enclosed_background(picture).sum() >= least_hole)


def sharpness(picture) -> float:
    """Root-mean-square difference between neighbouring pixels: lower for blurrier pictures.

    (Squared, not absolute: a blur spreads an edge's step over several pixels, which keeps the sum of
    absolute differences but lowers the sum of squares.)
    """
    grey = np.asarray(picture.convert("L"), dtype=float)
    return float(np.sqrt((np.diff(grey, axis=0) ** 2).mean() + (np.diff(grey, axis=1) ** 2).mean()))


def looks_like_the_world(picture) -> tuple[bool, str | None]:
    """Does `picture` look like one of this world's: (verdict, the nearest palette colour's name or None)?

    A picture of the world has a light, plain border (its background) and a foreground covering 3-70% of
    it whose mean colour is near one of the six colours. Pure noise fails the border test; a blob of the
    wrong colour fails the colour test. Lesson 03 judges its samples with it (03_train_a_tiny_diffusion_model).
    """
    pixels, border = _pixels_and_border(picture)
    background = np.median(border, axis=0)
    foreground = foreground_mask(picture)
    if background.min() < 180 or np.abs(border - background).mean() > 25 or not 0.03 < foreground.mean() < 0.7:
        return False, None
    mean = pixels[foreground].mean(axis=0)
    nearest = min(COLOURS, key=lambda name: np.linalg.norm(mean - np.array(COLOURS[name])))
    return bool(np.linalg.norm(mean - np.array(COLOURS[nearest])) < 70), nearest
