"""Specification of helpers.display: grids, tensor conversion, latent views, the step recorder."""

import ast
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no window, no frontend needed

import IPython  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from helpers.display import (  # noqa: E402
    SDXL_LATENT_RGB_BIAS,
    SDXL_LATENT_RGB_FACTORS,
    StepRecorder,
    image_grid,
    latents_to_rgb,
    show,
    show_latents,
    to_pil,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def static_mode(monkeypatch):
    monkeypatch.setenv("SDXL_TUTORIAL_STATIC", "1")


@pytest.fixture
def live_kernel(monkeypatch):
    """Pretend to run in a Jupyter kernel, so that only the other conditions decide the fallback."""
    monkeypatch.setattr(IPython, "get_ipython", lambda: types.SimpleNamespace(kernel=object()))


def solid(colour, size=(4, 4)):
    return Image.new("RGB", size, colour)


def pixel_space_sample(value, size=8):
    """A (1, 3, size, size) sample in [-1, 1] filled with one value, recognisable after conversion."""
    return torch.full((1, 3, size, size), float(value))


# to_pil


def test_to_pil_maps_minus_one_to_black_and_plus_one_to_white():
    assert np.all(np.asarray(to_pil(torch.full((3, 2, 2), -1.0))) == 0)
    assert np.all(np.asarray(to_pil(torch.full((3, 2, 2), 1.0))) == 255)


def test_to_pil_maps_zero_to_mid_grey_in_model_space():
    assert np.all(np.asarray(to_pil(torch.zeros(3, 2, 2))) == 128)


def test_to_pil_reads_zero_to_one_when_value_range_says_so():
    image = to_pil(torch.full((3, 2, 2), 1.0), value_range=(0, 1))
    assert np.all(np.asarray(image) == 255)
    assert np.all(np.asarray(to_pil(torch.zeros(3, 2, 2), value_range=(0, 1))) == 0)


def test_to_pil_clamps_values_outside_the_range():
    pixels = np.asarray(to_pil(torch.tensor([-5.0, 5.0]).reshape(1, 1, 2).expand(3, 1, 2)))
    assert pixels[0, 0].tolist() == [0, 0, 0]
    assert pixels[0, 1].tolist() == [255, 255, 255]


def test_to_pil_keeps_height_and_width_of_a_channels_first_tensor():
    image = to_pil(torch.zeros(3, 5, 7))
    assert (image.mode, image.size) == ("RGB", (7, 5))


def test_to_pil_turns_a_batch_of_one_into_a_single_image():
    assert isinstance(to_pil(torch.zeros(1, 3, 4, 4)), Image.Image)


def test_to_pil_turns_a_batch_into_a_list_of_images():
    images = to_pil(torch.zeros(2, 3, 4, 4))
    assert isinstance(images, list) and len(images) == 2


def test_to_pil_turns_a_single_channel_tensor_into_greyscale():
    assert to_pil(torch.zeros(1, 4, 4)).mode == "L"


def test_to_pil_detaches_tensors_that_require_grad():
    assert np.all(np.asarray(to_pil(torch.ones(3, 2, 2, requires_grad=True))) == 255)


def test_to_pil_reads_float_numpy_arrays_channels_last_in_zero_to_one():
    image = to_pil(np.ones((2, 3, 3), dtype=np.float32))
    assert image.size == (3, 2)
    assert np.all(np.asarray(image) == 255)


def test_to_pil_returns_a_pil_image_unchanged():
    image = solid("red")
    assert to_pil(image) is image


def test_to_pil_rejects_four_channel_tensors_and_points_to_the_latent_views():
    with pytest.raises(ValueError, match="latents_to_rgb") as error:
        to_pil(torch.zeros(1, 4, 8, 8))
    assert "show_latents" in str(error.value)


@pytest.mark.parametrize("shape", [(8, 8), (2, 8, 8), (8, 8, 3), (1, 1, 3, 8, 8)])
def test_to_pil_rejects_tensors_of_other_shapes(shape):
    with pytest.raises(ValueError, match="expects"):
        to_pil(torch.zeros(shape))


def test_to_pil_rejects_things_that_are_not_images():
    with pytest.raises(TypeError, match="list"):
        to_pil([[0, 0], [0, 0]])


# image_grid


def test_image_grid_places_images_row_by_row():
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    grid = image_grid([solid(colour) for colour in colours], rows=2, cols=2, padding=0)
    assert grid.size == (8, 8)
    assert grid.getpixel((1, 1)) == colours[0]
    assert grid.getpixel((5, 1)) == colours[1]
    assert grid.getpixel((1, 5)) == colours[2]
    assert grid.getpixel((5, 5)) == colours[3]


def test_image_grid_puts_all_images_in_one_row_by_default():
    grid = image_grid([solid("red"), solid("blue"), solid("green")], padding=0)
    assert grid.size == (12, 4)


def test_image_grid_computes_rows_from_cols():
    grid = image_grid([solid("red")] * 5, cols=2, padding=0)
    assert grid.size == (8, 12)


def test_image_grid_leaves_padding_in_the_background_colour():
    grid = image_grid([solid("red"), solid("blue")], padding=2, background="white")
    assert grid.size == (2 * 4 + 3 * 2, 4 + 2 * 2)
    assert grid.getpixel((0, 0)) == (255, 255, 255)
    assert grid.getpixel((2, 2)) == (255, 0, 0)


def test_image_grid_accepts_tensors():
    grid = image_grid([torch.ones(3, 4, 4), torch.full((3, 4, 4), -1.0)], padding=0)
    assert grid.getpixel((1, 1)) == (255, 255, 255)
    assert grid.getpixel((5, 1)) == (0, 0, 0)


def test_image_grid_draws_each_title_in_a_band_above_its_image():
    white = [solid("white", (64, 64)), solid("white", (64, 64))]
    plain = image_grid(white, padding=0)
    titled = image_grid(white, titles=["step 1", "step 2"], padding=0)
    band_height = titled.height - plain.height
    assert band_height > 0
    band = np.asarray(titled)[:band_height]
    assert (band[:, :64] < 128).any(), "no dark title pixels above the first image"
    assert (band[:, 64:] < 128).any(), "no dark title pixels above the second image"


def test_image_grid_rejects_an_empty_list():
    with pytest.raises(ValueError, match="no images"):
        image_grid([])


def test_image_grid_rejects_a_grid_too_small_for_the_images():
    with pytest.raises(ValueError, match="room for 4 images, but 5"):
        image_grid([solid("red")] * 5, rows=2, cols=2)


def test_image_grid_rejects_titles_that_do_not_match_the_images():
    with pytest.raises(ValueError, match="one title per image"):
        image_grid([solid("red"), solid("blue")], titles=["only one"])


# show and show_latents


def test_show_returns_a_figure_with_one_titled_axis_per_image_and_no_axes_drawn():
    figure = show([solid("red"), torch.zeros(3, 4, 4)], titles=["a", "b"], suptitle="two images")
    assert [ax.get_title() for ax in figure.axes] == ["a", "b"]
    assert not any(ax.axison for ax in figure.axes)
    assert figure.get_suptitle() == "two images"


def test_show_wraps_images_into_rows_of_cols():
    figure = show([solid("red")] * 5, cols=2)
    assert len(figure.axes) == 6  # 3 rows of 2, the last cell left empty
    assert sum(len(ax.images) for ax in figure.axes) == 5


def test_show_latents_draws_each_channel_titled_and_stretched_to_its_own_range():
    latents = torch.stack([torch.linspace(0, 1, 16), torch.linspace(-9, 9, 16)]).reshape(1, 2, 4, 4)
    figure = show_latents(latents, title="x_T")
    assert [ax.get_title() for ax in figure.axes] == ["channel 0", "channel 1"]
    for ax in figure.axes:
        values = ax.images[0].get_array()
        assert values.min() == pytest.approx(0) and values.max() == pytest.approx(1)
    assert figure.get_suptitle() == "x_T"


def test_show_latents_rejects_a_batch_of_several_latents():
    with pytest.raises(ValueError, match=r"latents\[0\]"):
        show_latents(torch.zeros(2, 4, 8, 8))


# latents_to_rgb


def expected_rgb(latent_vector):
    rgb = torch.tensor(latent_vector) @ SDXL_LATENT_RGB_FACTORS + SDXL_LATENT_RGB_BIAS
    return tuple(((rgb.clamp(-1, 1) + 1) / 2 * 255).round().int().tolist())


def test_latents_to_rgb_maps_zero_latents_to_the_bias_colour():
    image = latents_to_rgb(torch.zeros(4, 2, 2))
    assert image.getpixel((0, 0)) == expected_rgb([0.0, 0.0, 0.0, 0.0])


def test_latents_to_rgb_applies_the_sdxl_factors_channel_by_channel():
    latents = torch.zeros(1, 4, 1, 2)
    latents[0, :, 0, 1] = torch.tensor([1.0, -0.5, 0.25, 0.5])
    image = latents_to_rgb(latents)
    assert image.getpixel((1, 0)) == expected_rgb([1.0, -0.5, 0.25, 0.5])
    assert image.getpixel((1, 0)) != image.getpixel((0, 0))


def test_latents_to_rgb_keeps_any_spatial_size_and_enlarges_by_scale():
    assert latents_to_rgb(torch.randn(4, 3, 5)).size == (5, 3)
    assert latents_to_rgb(torch.randn(4, 3, 5), scale=8).size == (40, 24)


def test_latents_to_rgb_returns_a_list_for_a_batch():
    images = latents_to_rgb(torch.randn(3, 4, 2, 2), scale=2)
    assert len(images) == 3 and all(image.size == (4, 4) for image in images)


@pytest.mark.parametrize("shape", [(3, 8, 8), (1, 16, 8, 8), (8, 8)])
def test_latents_to_rgb_rejects_a_channel_count_other_than_four(shape):
    with pytest.raises(ValueError, match="4 channels"):
        latents_to_rgb(torch.zeros(shape))


# StepRecorder


def test_recorder_keeps_every_nth_step():
    recorder = StepRecorder(every=3)
    for step in range(10):
        recorder.record(step, 1000 - 100 * step, torch.zeros(1, 4, 2, 2))
    assert recorder.steps == [0, 3, 6, 9]
    assert recorder.timesteps == [1000, 700, 400, 100]
    assert len(recorder) == 4


def test_recorder_always_keeps_the_latest_step_so_the_final_one_is_there():
    recorder = StepRecorder(every=3)
    for step in range(8):
        recorder.record(step, 1000 - 100 * step, torch.full((1, 4, 2, 2), float(step)))
    assert recorder.steps == [0, 3, 6, 7]
    assert recorder.samples[-1].max().item() == 7
    assert len(recorder.samples) == len(recorder.pred_original_samples) == 4


def test_recorder_keeps_a_copy_that_later_in_place_updates_do_not_change():
    latents = torch.zeros(1, 4, 2, 2)
    recorder = StepRecorder()
    recorder.record(0, 999, latents)
    latents.add_(1)  # what an in-place loop update would do to the tensor the loop goes on with
    assert recorder.samples[0].abs().max().item() == 0


def test_recorder_stores_detached_cpu_float32_copies():
    sample = torch.zeros(1, 4, 2, 2, dtype=torch.float16, requires_grad=True)
    recorder = StepRecorder()
    recorder.record(0, torch.tensor(999), sample)
    with torch.no_grad():
        sample.add_(1)
    stored = recorder.samples[0]
    assert stored.dtype == torch.float32 and stored.device.type == "cpu" and not stored.requires_grad
    assert stored.abs().max().item() == 0, "the recorder kept a view of the loop's tensor, not a copy"
    assert recorder.timesteps == [999]


def test_recorder_fed_by_a_hand_written_loop_keeps_sample_and_pred_original_sample():
    # a deterministic DDIM-style loop (eta = 0) towards a known x0, written out as a lesson would
    alphas_cumprod = torch.linspace(0.01, 0.99, 5)
    target = torch.full((1, 3, 4, 4), 0.5)
    sample = torch.randn(1, 3, 4, 4)
    recorder = StepRecorder()
    for step, alpha_prod in enumerate(alphas_cumprod):
        timestep = 800 - 200 * step
        noise_pred = (sample - alpha_prod.sqrt() * target) / (1 - alpha_prod).sqrt()
        pred_original_sample = (sample - (1 - alpha_prod).sqrt() * noise_pred) / alpha_prod.sqrt()
        alpha_prod_prev = alphas_cumprod[step + 1] if step + 1 < len(alphas_cumprod) else torch.tensor(1.0)
        sample = alpha_prod_prev.sqrt() * pred_original_sample + (1 - alpha_prod_prev).sqrt() * noise_pred
        recorder.record(step, timestep, sample, pred_original_sample=pred_original_sample)
    assert recorder.steps == [0, 1, 2, 3, 4]
    assert recorder.timesteps == [800, 600, 400, 200, 0]
    assert torch.allclose(recorder.pred_original_samples[0], target, atol=1e-5)
    assert torch.allclose(recorder.samples[-1], target, atol=1e-5)


def test_recorder_callback_follows_the_diffusers_signature_and_returns_the_kwargs_unchanged():
    recorder = StepRecorder()
    latents = torch.randn(1, 4, 8, 8)
    callback_kwargs = {"latents": latents}
    returned = recorder.callback(object(), 0, torch.tensor(999.0), callback_kwargs)
    assert returned is callback_kwargs
    assert returned == {"latents": latents}


def test_recorder_callback_records_the_latents_of_each_step():
    recorder = StepRecorder()
    steps = [torch.full((1, 4, 8, 8), float(i)) for i in range(3)]
    for i, (t, latents) in enumerate(zip([999.0, 666.0, 333.0], steps)):
        recorder.callback(None, i, torch.tensor(t), {"latents": latents})
    assert recorder.steps == [0, 1, 2]
    assert recorder.timesteps == [999.0, 666.0, 333.0]
    assert all(torch.equal(kept, given) for kept, given in zip(recorder.samples, steps))
    assert recorder.pred_original_samples == [None, None, None]


def test_recorder_rejects_a_step_interval_below_one():
    with pytest.raises(ValueError, match="every"):
        StepRecorder(every=0)


def test_strip_shows_the_recorded_steps_side_by_side():
    recorder = StepRecorder()
    for step in range(3):
        recorder.record(step, 999 - step, torch.zeros(1, 4, 8, 8))
    strip = recorder.strip()
    single = StepRecorder()
    single.record(0, 999, torch.zeros(1, 4, 8, 8))
    one_cell = single.strip()
    assert strip.height == one_cell.height
    assert strip.width > 2.5 * one_cell.width


def test_strip_picks_at_most_max_images_evenly_including_the_first_and_last_step():
    recorder = StepRecorder()
    for step in range(10):
        recorder.record(step, 999 - step, pixel_space_sample(-1 + step * 0.2))  # brighter each step
    strip = np.asarray(recorder.strip(max_images=4))
    middle_row = strip[strip.shape[0] - 64]
    greys = sorted({int(value) for value in middle_row[:, 0] if value != 255})
    expected = sorted(int(to_pil(pixel_space_sample(-1 + step * 0.2)).getpixel((0, 0))[0]) for step in (0, 3, 6, 9))
    assert greys == expected


def test_strip_with_both_puts_x_t_on_the_top_row_and_the_predicted_x0_below():
    recorder = StepRecorder()
    for step in range(2):
        recorder.record(step, 999 - step, pixel_space_sample(-1), pred_original_sample=pixel_space_sample(1))
    strip = np.asarray(recorder.strip(what="both"))
    for x in (strip.shape[1] // 4, 3 * strip.shape[1] // 4):  # one pixel column through each step's cells
        column = strip[:, x, 0]
        top_half, bottom_half = column[: len(column) // 2], column[len(column) // 2 :]
        assert (top_half == 0).sum() > 100, "a black x_t is missing from the top row"
        assert (bottom_half == 255).sum() > 100 and (bottom_half == 0).sum() < 20, "a white x0 is missing below"


def test_strip_uses_the_decode_function_when_one_is_given():
    decoded_shapes = []

    def decode(latents):
        decoded_shapes.append(tuple(latents.shape))
        return Image.new("RGB", (128, 128), (255, 0, 0))

    recorder = StepRecorder(decode=decode)
    recorder.record(0, 999, torch.zeros(2, 4, 8, 8))
    strip = recorder.strip()
    assert decoded_shapes == [(1, 4, 8, 8)]
    assert strip.getpixel((strip.width // 2, strip.height - 10)) == (255, 0, 0)


def test_strip_enlarges_tiny_latents_so_they_can_be_seen():
    recorder = StepRecorder()
    recorder.record(0, 999, torch.zeros(1, 4, 8, 8))
    assert recorder.strip().height > 128


def test_strip_shrinks_full_size_decodes_so_saved_notebooks_stay_light():
    recorder = StepRecorder(decode=lambda latents: Image.new("RGB", (1024, 1024), "red"))
    recorder.record(0, 999, torch.zeros(1, 4, 128, 128))
    strip = recorder.strip()
    assert 256 <= strip.width < 300 and strip.height < 400  # not 1024 and more


def test_strip_raises_when_nothing_was_recorded():
    with pytest.raises(ValueError, match="Nothing was recorded"):
        StepRecorder().strip()


def test_strip_raises_when_pred_original_sample_was_requested_but_never_recorded():
    recorder = StepRecorder()
    recorder.callback(None, 0, 999, {"latents": torch.zeros(1, 4, 8, 8)})
    with pytest.raises(ValueError, match="pred_original_sample"):
        recorder.strip(what="both")


def test_strip_rejects_an_unknown_what():
    recorder = StepRecorder()
    recorder.record(0, 999, torch.zeros(1, 4, 8, 8))
    with pytest.raises(ValueError, match="what must be"):
        recorder.strip(what="x0")


def test_slider_falls_back_to_the_static_strip_when_SDXL_TUTORIAL_STATIC_is_set(static_mode, live_kernel, capsys):
    recorder = StepRecorder()
    for step in range(3):
        recorder.record(step, 999 - step, torch.randn(1, 4, 8, 8), pred_original_sample=torch.randn(1, 4, 8, 8))
    result = recorder.slider()
    assert isinstance(result, Image.Image)
    assert np.array_equal(np.asarray(result), np.asarray(recorder.strip(what="both")))
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "live Jupyter frontend" in printed[0]


def test_slider_falls_back_to_the_static_strip_outside_ipython(monkeypatch, capsys):
    monkeypatch.delenv("SDXL_TUTORIAL_STATIC", raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    recorder = StepRecorder()
    recorder.record(0, 999, torch.zeros(1, 4, 8, 8), pred_original_sample=torch.zeros(1, 4, 8, 8))
    assert isinstance(recorder.slider(), Image.Image)
    assert "live Jupyter frontend" in capsys.readouterr().out


def test_slider_in_a_live_kernel_returns_a_widget_whose_image_follows_the_slider(live_kernel, monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    monkeypatch.delenv("SDXL_TUTORIAL_STATIC", raising=False)
    recorder = StepRecorder()
    for step in range(3):
        recorder.record(step, 999 - step, pixel_space_sample(-1 + step), pred_original_sample=pixel_space_sample(1))
    box = recorder.slider()
    slider, frame = box.children
    assert isinstance(slider, ipywidgets.IntSlider) and (slider.min, slider.max) == (0, 2)
    last_frame = frame.value
    slider.value = 0
    assert frame.value != last_frame


# the module boundary


def test_display_imports_neither_diffusers_nor_transformers():
    tree = ast.parse((REPO_ROOT / "helpers" / "display.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert "torch" in imported, "the import scan found nothing: it is not reading display.py"
    assert not {name.split(".")[0] for name in imported} & {"diffusers", "transformers"}


def test_show_sizes_cells_to_the_images_so_strips_are_not_padded_into_squares():
    from PIL import Image

    strip = Image.new("RGB", (256, 32))
    width, height = show([strip, strip], cols=1, scale=4).get_size_inches()
    assert width == 4 and height == pytest.approx(2 * 4 * 32 / 256)
    width, height = show([Image.new("RGB", (32, 32))], titles=["square"], scale=3).get_size_inches()
    assert (width, height) == pytest.approx((3, 3.4))


# the speed ladder's table and chart (lesson 08)


def measured(seconds, peak_gib, kind="process RSS"):
    from helpers.device import Measurement

    return Measurement(label="rung", seconds=seconds, peak_bytes=int(peak_gib * 2**30), memory_kind=kind)


LADDER = {"fp32": measured(4.0, 1.5), "fp16": "skipped: fp16 needs a CUDA or MPS accelerator", "channels_last": measured(3.0, 1.25)}


def test_ladder_table_gives_seconds_per_picture_and_peak_memory_per_rung_in_order():
    from helpers.display import ladder_table

    lines = ladder_table(LADDER, per=2).splitlines()
    assert lines[0].split() == ["rung", "s", "/", "picture", "peak", "GiB"]
    assert [line.split()[0] for line in lines[1:]] == ["fp32", "fp16", "channels_last"]
    assert lines[1].split()[1:] == ["2.000", "1.50"]
    assert lines[3].split()[1:] == ["1.500", "1.25"]


def test_ladder_table_says_why_a_rung_was_skipped():
    from helpers.display import ladder_table

    assert "fp16 needs a CUDA or MPS accelerator" in ladder_table(LADDER).splitlines()[2]


def test_ladder_table_names_its_unit():
    from helpers.display import ladder_table

    assert "s / decode" in ladder_table(LADDER, unit="decode").splitlines()[0]


def test_ladder_row_prints_one_rung_as_the_ladder_climbs():
    from helpers.display import ladder_row

    assert ladder_row("fp32", LADDER["fp32"], per=4).split()[1:5] == ["1.000", "s", "per", "picture"]
    assert "(process RSS)" in ladder_row("fp32", LADDER["fp32"])
    assert ladder_row("fp16", LADDER["fp16"]).endswith("skipped: fp16 needs a CUDA or MPS accelerator")


@pytest.mark.parametrize("results, per, error", [
    ({}, 1, ValueError), ([("fp32", 1.0)], 1, ValueError), (LADDER, 0, ValueError), (LADDER, 1.5, ValueError),
    ({"fp32": 3.5}, 1, TypeError),
])
def test_ladder_helpers_reject_what_is_not_a_ladder(results, per, error):
    from helpers.display import ladder_chart, ladder_table

    for draw in (ladder_table, ladder_chart):
        with pytest.raises(error):
            draw(results, per=per)


def test_ladder_chart_draws_one_bar_per_rung_for_time_and_for_memory():
    from helpers.display import ladder_chart

    figure = ladder_chart(LADDER, per=2, title="tiny mode on cpu")
    seconds_axis, memory_axis = figure.axes
    assert [bar.get_width() for bar in seconds_axis.patches] == [2.0, 0.0, 1.5]
    assert [round(bar.get_width(), 2) for bar in memory_axis.patches] == [1.5, 0.0, 1.25]
    assert "process RSS" in memory_axis.get_xlabel() and seconds_axis.get_xlabel() == "seconds per picture"
    assert figure._suptitle.get_text() == "tiny mode on cpu"


def test_ladder_chart_labels_skipped_rungs_and_the_values_of_the_others():
    from helpers.display import ladder_chart

    texts = [text.get_text().strip() for text in ladder_chart(LADDER, per=2).axes[0].texts]
    assert texts == ["2 s", "skipped here", "1.5 s"]


def test_ladder_chart_draws_even_when_every_rung_was_skipped():
    from helpers.display import ladder_chart

    figure = ladder_chart({"fp16": "skipped: no GPU"})
    assert [text.get_text().strip() for text in figure.axes[1].texts] == ["skipped here"]
