"""helpers.tiny.shapes: the generated world, deterministic, and the readers lessons use to check pictures."""

import numpy as np
import pytest
from PIL import ImageFilter

from helpers.tiny import shapes


def test_the_world_is_deterministic_by_seed():
    first = shapes.dataset(20, seed=3, kinds={"plain": 1, "cropped": 1, "low_resolution": 1, "degraded": 1})
    second = shapes.dataset(20, seed=3, kinds={"plain": 1, "cropped": 1, "low_resolution": 1, "degraded": 1})
    assert [p.caption for p in first] == [p.caption for p in second]
    assert all(np.array_equal(np.asarray(a.image), np.asarray(b.image)) for a, b in zip(first, second))
    assert [p.caption for p in shapes.dataset(20, seed=4)] != [p.caption for p in first]


def test_captions_name_the_colour_and_shape_of_six_colours_and_three_shapes():
    pictures = shapes.dataset(400, seed=0)
    assert {p.colour for p in pictures} == set(shapes.COLOURS) and len(shapes.COLOURS) >= 6
    assert {p.shape for p in pictures} == set(shapes.SHAPES) == {"circle", "square", "triangle"}
    assert all(p.caption == f"{'an' if p.colour == 'orange' else 'a'} {p.colour} {p.shape}" for p in pictures)


def test_plain_pictures_have_a_light_background_and_the_given_size():
    rng = np.random.default_rng(0)
    picture = shapes.plain(rng, size=24)
    pixels = np.asarray(picture.image)
    assert picture.image.size == (24, 24) and pixels[0, 0].min() >= 200
    assert picture.original_size == (24, 24) and picture.crops_coords_top_left == (0, 0)


def test_low_resolution_pictures_record_their_small_original_size_and_are_blurrier():
    rng = np.random.default_rng(1)
    small = [shapes.low_resolution(rng) for _ in range(20)]
    sharp = [shapes.plain(rng) for _ in range(20)]
    assert all(p.original_size[0] < 32 and p.image.size == (32, 32) for p in small)
    assert np.mean([shapes.sharpness(p.image) for p in small]) < np.mean([shapes.sharpness(p.image) for p in sharp])


def test_crops_record_the_canvas_and_offset_and_move_the_shape_up_left():
    rng = np.random.default_rng(2)
    crops = [shapes.cropped(rng) for _ in range(60)]
    assert all(p.original_size[0] > 32 and p.image.size == (32, 32) for p in crops)
    offsets = np.array([sum(p.crops_coords_top_left) for p in crops])
    centres = np.array([np.nansum(shapes.object_centre(p.image)) for p in crops])
    assert np.corrcoef(offsets, centres)[0, 1] < -0.5


def test_degraded_pictures_score_lower_the_more_they_are_damaged():
    rng = np.random.default_rng(3)
    pictures = [shapes.degraded(rng) for _ in range(30)]
    assert all(2.0 <= p.aesthetic_score < shapes.CLEAN_SCORE for p in pictures)
    assert shapes.plain(rng).aesthetic_score == shapes.CLEAN_SCORE


@pytest.mark.parametrize("kind", ["blur", "jitter", "speckle"])
def test_each_degradation_changes_the_picture(kind):
    rng = np.random.default_rng(4)
    picture = shapes.plain(rng).image
    assert not np.array_equal(np.asarray(shapes.degrade(picture, rng, 0.8, kind)), np.asarray(picture))


def test_unknown_kinds_colours_and_degradations_are_refused():
    with pytest.raises(ValueError, match="Unknown kinds"):
        shapes.dataset(2, 0, kinds={"sketchy": 1})
    with pytest.raises(ValueError, match="Unknown colour or shape"):
        shapes.draw("pink", "circle", 32, (16, 16), 8)
    with pytest.raises(ValueError, match="Unknown degradation"):
        shapes.degrade(shapes.plain(np.random.default_rng(0)).image, np.random.default_rng(0), 0.5, "smudge")


def test_to_tensor_gives_the_minus_one_to_one_range():
    tensor = shapes.to_tensor(shapes.dataset(4, seed=0))
    assert tuple(tensor.shape) == (4, 3, 32, 32) and tensor.min() >= -1 and tensor.max() <= 1


def test_the_readers_recover_colour_and_shape_of_the_world():
    rng = np.random.default_rng(5)
    pictures = [shapes.plain(rng) for _ in range(200)]
    assert np.mean([shapes.object_colour(p.image) == p.colour for p in pictures]) >= 0.98
    assert np.mean([shapes.object_shape(p.image) == p.shape for p in pictures]) >= 0.93


def test_the_readers_find_no_object_on_a_plain_background():
    from PIL import Image

    empty = Image.new("RGB", (32, 32), (240, 240, 235))
    assert shapes.object_colour(empty) is None and shapes.object_shape(empty) is None
    assert np.isnan(shapes.object_centre(empty)).all()


def test_overlap_is_the_intersection_over_union_of_the_two_objects():
    from PIL import Image

    square = shapes.draw("red", "square", 32, (12, 16), 6)
    moved = shapes.draw("blue", "square", 32, (16, 16), 6)  # the same square, 4 px to the right, another colour
    a, b = shapes.foreground_mask(square), shapes.foreground_mask(moved)
    assert shapes.overlap(square, square) == 1.0 and shapes.overlap(square, moved) == shapes.overlap(moved, square)
    assert shapes.overlap(square, moved) == pytest.approx((a & b).sum() / (a | b).sum()) and 0.4 < shapes.overlap(square, moved) < 0.8
    far = shapes.draw("red", "square", 32, (26, 26), 4)
    empty = Image.new("RGB", (32, 32), (240, 240, 235))
    assert shapes.overlap(square, far) == 0.0 and shapes.overlap(empty, empty) == 0.0
    assert isinstance(shapes.overlap(square, moved), float)


def test_parse_caption_finds_the_world_words_in_a_prompt():
    assert shapes.parse_caption("A Red circle, please") == ("red", "circle")
    assert shapes.parse_caption("An astronaut riding a green horse") == ("green", None)
    assert shapes.parse_caption("a cat") == (None, None)


def test_sharpness_is_lower_after_a_blur():
    picture = shapes.plain(np.random.default_rng(6)).image
    assert shapes.sharpness(picture.filter(ImageFilter.GaussianBlur(2))) < shapes.sharpness(picture)


def test_the_world_check_accepts_the_world_and_names_the_colour():
    pictures = shapes.dataset(200, seed=5, size=16)
    verdicts = [shapes.looks_like_the_world(p.image) for p in pictures]
    assert np.mean([ok for ok, _ in verdicts]) >= 0.9
    assert np.mean([colour == p.colour for (ok, colour), p in zip(verdicts, pictures) if ok]) >= 0.95


def test_the_world_check_rejects_noise_an_empty_picture_and_a_dark_background():
    from PIL import Image

    rng = np.random.default_rng(7)
    noise = Image.fromarray(rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8))
    assert shapes.looks_like_the_world(noise) == (False, None)
    assert shapes.looks_like_the_world(Image.new("RGB", (16, 16), (240, 240, 235)))[0] is False
    dark = shapes.draw("yellow", "circle", 16, (8, 8), 4, background=(30, 30, 30))
    assert shapes.looks_like_the_world(dark)[0] is False


def test_the_world_check_rejects_an_object_of_a_colour_outside_the_palette():
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (16, 16), (240, 240, 235))
    ImageDraw.Draw(picture).ellipse([4, 4, 11, 11], fill=(20, 20, 20))  # black: far from all six colours
    assert shapes.looks_like_the_world(picture)[0] is False


def test_a_ring_is_a_new_shape_the_worlds_own_generators_never_pick():
    assert "ring" in shapes.NEW_SHAPES and "ring" not in shapes.SHAPES
    assert {p.shape for p in shapes.dataset(300, seed=0)} == set(shapes.SHAPES)
    ring = shapes.plain(np.random.default_rng(0), colour="blue", shape="ring")
    assert ring.caption == "a blue ring" and shapes.object_colour(ring.image) == "blue"


def test_asking_for_a_ring_leaves_the_worlds_pictures_unchanged():
    before = shapes.dataset(12, seed=5)
    shapes.plain(np.random.default_rng(0), shape="ring")
    after = shapes.dataset(12, seed=5)
    assert all(np.array_equal(np.asarray(a.image), np.asarray(b.image)) for a, b in zip(before, after))


def test_a_ring_encloses_background_and_the_worlds_shapes_do_not():
    rng = np.random.default_rng(2)
    assert all(shapes.is_ring(shapes.plain(rng, shape="ring").image) for _ in range(30))
    assert not any(shapes.is_ring(p.image) for p in shapes.dataset(60, seed=2))


def test_an_empty_picture_is_not_a_ring():
    from PIL import Image

    assert not shapes.is_ring(Image.new("RGB", (32, 32), (240, 240, 235)))


def test_an_unknown_shape_is_refused_with_the_known_ones_listed():
    with pytest.raises(ValueError, match="ring"):
        shapes.draw("red", "star", 32, (16, 16), 8)
