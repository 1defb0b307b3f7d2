"""helpers.edges: Canny-like edge maps with Pillow, for the canny ControlNet."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from helpers.edges import edge_map
from helpers.tiny import shapes


def near(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Every pixel within `pixels` (a square neighbourhood) of a True pixel of `mask`."""
    grown = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * pixels + 1))
    return np.asarray(grown) > 0


def white(edges: Image.Image) -> np.ndarray:
    return np.asarray(edges)[..., 0] > 0


def textured_photograph(size: int = 1024):
    """A stand-in photograph: a lit, grainy, finely checkered background, a blue disc and a yellow board, and the
    true contours drawn one pixel wide."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size]
    grey = 120 + 60 * x / size + rng.normal(0, 20, (size, size)) + 20 * (((x // 3) + (y // 3)) % 2)
    image = Image.fromarray(np.clip(np.stack([grey, grey * 0.9, grey * 0.8], -1), 0, 255).astype(np.uint8))
    contours = Image.new("L", (size, size), 0)
    for canvas, fill, outline in ((ImageDraw.Draw(image), True, None), (ImageDraw.Draw(contours), False, 255)):
        canvas.ellipse([200, 200, 600, 600], fill=(30, 60, 200) if fill else None, outline=outline)
        canvas.rectangle([650, 300, 900, 800], fill=(230, 220, 60) if fill else None, outline=outline)
    return image, np.asarray(contours) > 0


def test_an_edge_map_is_white_on_black_rgb_of_the_pictures_size():
    picture = shapes.draw("red", "square", 32, (16, 16), 8)
    edges = edge_map(picture)
    assert edges.mode == "RGB" and edges.size == picture.size
    assert set(np.unique(np.asarray(edges))) <= {0, 255}


def test_a_shape_becomes_a_thin_closed_outline_and_nothing_else():
    picture = shapes.draw("blue", "circle", 32, (16, 16), 9)
    edges, shape = white(edge_map(picture)), shapes.foreground_mask(picture)
    boundary = near(shape, 1) & near(~shape, 1)  # the pixels on either side of the shape's edge
    assert edges.any() and not (edges & ~boundary).any(), "every edge pixel lies on the shape's boundary"
    assert near(edges, 1)[boundary].mean() > 0.95, "the outline goes all round"
    assert edges.sum() < 2.5 * np.pi * 2 * 9, "at most two pixels wide"


def test_a_photographs_contours_are_found_and_its_texture_is_not():
    image, contours = textured_photograph()
    edges = white(edge_map(image))
    precision = near(contours, 4)[edges].mean()  # edge pixels that lie on a true contour
    recall = near(edges, 4)[contours].mean()  # contour pixels with an edge found beside them
    assert precision > 0.95 and recall > 0.95, (precision, recall)
    assert edges.mean() < 0.01, "lines, not areas"


def test_a_plain_picture_has_no_edges_not_even_on_its_frame():
    assert not white(edge_map(Image.new("RGB", (64, 48), (200, 120, 40)))).any()


@pytest.mark.parametrize("bad", [np.zeros((32, 32, 3), np.uint8), "picture.png", None])
def test_anything_but_a_picture_is_refused_with_the_way_to_make_one(bad):
    with pytest.raises(TypeError, match="needs a PIL image.*Image.open.*Image.fromarray"):
        edge_map(bad)


def test_a_picture_too_small_to_have_edges_is_refused():
    with pytest.raises(ValueError, match="at least 3x3"):
        edge_map(Image.new("RGB", (2, 64)))


@pytest.mark.parametrize("mode", ["I;16", "I", "F", "CMYK"])
def test_a_picture_that_is_not_8_bit_grey_rgb_or_palette_is_refused_not_clipped(mode):
    picture = Image.new(mode, (32, 32))
    with pytest.raises(ValueError, match=f"8-bit picture.*'{mode}'.*0-255"):
        edge_map(picture)


def test_a_transparent_picture_is_refused_with_the_way_to_put_it_on_a_background():
    square = shapes.draw("red", "square", 32, (16, 16), 8).convert("RGBA")
    see_through = square.copy()
    see_through.putpixel((0, 0), (0, 0, 0, 0))
    with pytest.raises(ValueError, match="transparency.*'RGBA'.*prepare_image"):
        edge_map(see_through)
    palette = see_through.convert("RGB").quantize(8)
    palette.info["transparency"] = palette.getpixel((0, 0))
    with pytest.raises(ValueError, match="transparency.*'P'"):
        edge_map(palette)


def test_opaque_rgba_grey_and_palette_pictures_give_the_rgb_pictures_edges():
    square = shapes.draw("red", "square", 32, (16, 16), 8)
    edges = np.asarray(edge_map(square))
    assert edges.any()
    assert np.array_equal(np.asarray(edge_map(square.convert("RGBA"))), edges)  # alpha 255 everywhere: no transparency
    assert np.array_equal(np.asarray(edge_map(square.convert("P"))), np.asarray(edge_map(square.convert("P").convert("RGB"))))
    grey = square.convert("L")
    assert np.array_equal(np.asarray(edge_map(grey)), np.asarray(edge_map(grey.convert("RGB"))))
