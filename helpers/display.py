"""Looking at images and tensors: grids, latent views and previews, the step recorder and its slider.

Plumbing only: this module knows nothing of models. It turns tensors into pictures so that a
lesson can *look* at every intermediate result of the loop it writes out by hand.
"""

import functools
import io
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from .i18n import _

# SDXL latent -> RGB preview: a fixed linear map fitted by the ComfyUI authors
# (comfy/latent_formats.py, class SDXL: latent_rgb_factors and latent_rgb_factors_bias).
# Rows are the 4 latent channels, columns are R, G, B; the result lies roughly in [-1, 1].
SDXL_LATENT_RGB_FACTORS = torch.tensor([
    [0.3651, 0.4232, 0.4341],
    [-0.2533, -0.0042, 0.1068],
    [0.1076, 0.1111, -0.0362],
    [-0.3165, -0.2492, -0.2188],
])
SDXL_LATENT_RGB_BIAS = torch.tensor([0.1084, -0.0175, -0.0011])

# Strip cells are at least this tall, so tiny-mode latents (8x8...) are visible, and at most this tall,
# so a strip of full-size decodes stays light in a saved notebook.
SMALLEST_CELL, LARGEST_CELL = 128, 256


def to_pil(x, value_range=None):
    """Convert a PIL image, numpy array or torch tensor to a PIL image (a list for a batch).

    Tensors are channels-first, (C, H, W) or (B, C, H, W) with 1 or 3 channels, and are taken to be
    in diffusers' model space [-1, 1]. Numpy arrays are channels-last, (H, W), (H, W, C) or
    (B, H, W, C), as `output_type="np"` returns them: uint8 is used as is, floats are taken to be in
    [0, 1]. Pass `value_range=(low, high)` to say otherwise; values outside are clamped.
    Introduced in 01_denoising_loop.
    """
    if isinstance(x, Image.Image):
        return x
    if isinstance(x, np.ndarray):
        return _array_to_pil(x, value_range or (0, 1))
    if isinstance(x, torch.Tensor):
        return _tensor_to_pil(x, value_range or (-1, 1))
    raise TypeError(_("to_pil needs a PIL image, numpy array or torch tensor, got {kind}.").format(kind=type(x).__name__))


def _tensor_to_pil(tensor, value_range):
    tensor = tensor.detach().cpu().float()
    if tensor.ndim == 4:
        images = [_tensor_to_pil(item, value_range) for item in tensor]
        return images[0] if len(images) == 1 else images
    if tensor.ndim != 3:
        raise ValueError(_("to_pil expects a tensor shaped (C, H, W) or (B, C, H, W), got {shape}.").format(
            shape=tuple(tensor.shape)))
    channels = tensor.shape[0]
    if channels == 4:
        raise ValueError(
            _("This tensor has 4 channels {shape}: it looks like SDXL latents, not an image. "
              "Use latents_to_rgb(latents) for a quick colour preview, show_latents(latents) to see each "
              "channel, or decode it with the VAE first.").format(shape=tuple(tensor.shape))
        )
    if channels not in (1, 3):
        raise ValueError(
            _("to_pil expects 1 or 3 channels first, (C, H, W), got shape {shape}. "
              "If the channels are last, use tensor.permute(2, 0, 1) first.").format(shape=tuple(tensor.shape))
        )
    pixels = _scale_to_uint8(tensor.permute(1, 2, 0), value_range).numpy()
    return Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels)


def _array_to_pil(array, value_range):
    if array.ndim == 4:
        images = [_array_to_pil(item, value_range) for item in array]
        return images[0] if len(images) == 1 else images
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            _("to_pil expects a numpy image shaped (H, W), (H, W, 3) or (B, H, W, 3), got {shape}. "
              "Numpy images are channels-last; for channels-first data use a torch tensor.").format(shape=array.shape)
        )
    if array.dtype != np.uint8:
        array = _scale_to_uint8(torch.from_numpy(array.astype(np.float32)), value_range).numpy()
    return Image.fromarray(array)


def _scale_to_uint8(tensor, value_range):
    low, high = value_range
    if not high > low:
        raise ValueError(_("value_range must be (low, high) with low < high, got {value_range}.").format(
            value_range=value_range))
    unit = ((tensor - low) / (high - low)).clamp(0, 1)
    return (unit * 255).round().to(torch.uint8)


def _image_list(images):
    """Flatten one image, a batch, or a list of either into a list of PIL images."""
    items = images if isinstance(images, (list, tuple)) else [images]
    result = []
    for item in items:
        image = to_pil(item)
        result.extend(image if isinstance(image, list) else [image])
    return result


def _grid_shape(count, rows, cols):
    for name, value in (("rows", rows), ("cols", cols)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(_("{name} must be a positive whole number, got {value!r}.").format(name=name, value=value))
    if rows is None and cols is None:
        rows, cols = 1, count
    elif cols is None:
        cols = -(-count // rows)
    elif rows is None:
        rows = -(-count // cols)
    if rows * cols < count:
        raise ValueError(
            _("A {rows}x{cols} grid has room for {room} images, but {count} were given. "
              "Increase rows or cols, or leave one of them out to have it computed.").format(
                rows=rows, cols=cols, room=rows * cols, count=count)
        )
    return rows, cols


def _font_for(titles, cell_width):
    """PIL's default font, as large as reads well, shrunk until the widest title line fits a cell."""
    size = max(10, min(24, cell_width // 10))
    lines = [line for title in titles for line in str(title).split("\n")]
    while True:
        font = ImageFont.load_default(size=size)
        widest = max(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(line, font=font) for line in lines)
        if widest <= cell_width or size <= 8:
            return font
        size -= 1


def image_grid(images, rows=None, cols=None, titles=None, padding=4, background="white"):
    """Paste images into one PIL image, filling row by row, with an optional small title above each.

    `images` is a list of anything `to_pil` accepts (or one batch). Without `rows` and `cols` the
    images form one row; give one of them and the other is computed. Cells take the size of the
    largest image. Titles may span lines with "\\n". Introduced in 01_denoising_loop.
    """
    images = _image_list(images)
    if not images:
        raise ValueError(_("image_grid got no images: pass a list with at least one image."))
    rows, cols = _grid_shape(len(images), rows, cols)
    if titles is not None and len(titles) != len(images):
        raise ValueError(_("Got {titles} titles for {images} images: give one title per image.").format(
            titles=len(titles), images=len(images)))
    cell_width = max(image.width for image in images)
    cell_height = max(image.height for image in images)
    font = _font_for(titles, cell_width) if titles else None
    title_height = 0
    if titles:
        measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        title_height = max(measure.multiline_textbbox((0, 0), str(t), font=font)[3] for t in titles) + 4
    grid = Image.new(
        "RGB",
        (cols * cell_width + (cols + 1) * padding, rows * (title_height + cell_height + padding) + padding),
        background,
    )
    draw = ImageDraw.Draw(grid)
    for index, image in enumerate(images):
        row, col = divmod(index, cols)
        left = padding + col * (cell_width + padding)
        top = padding + row * (title_height + cell_height + padding)
        if titles:
            draw.multiline_text((left + cell_width / 2, top), str(titles[index]), fill="black",
                                font=font, anchor="ma", align="center")
        grid.paste(image.convert("RGB"), (left + (cell_width - image.width) // 2,
                                          top + title_height + (cell_height - image.height) // 2))
    return grid


def show(images, titles=None, suptitle=None, cols=None, scale=3.0):
    """Show one or more images in a matplotlib figure, with titles and no axes; returns the figure.

    Accepts what `image_grid` accepts. `scale` is the width of each image in inches.
    In a notebook, end the line with `;` (or assign the result) so the figure is not drawn twice.
    Introduced in 00_setup.
    """
    images = _image_list(images)
    if not images:
        raise ValueError(_("show got no images: pass an image or a list with at least one image."))
    if titles is not None and len(titles) != len(images):
        raise ValueError(_("Got {titles} titles for {images} images: give one title per image.").format(
            titles=len(titles), images=len(images)))
    rows, cols = _grid_shape(len(images), None, cols)
    # Each cell is `scale` inches wide and as tall as its tallest image needs, so strips are not padded
    # into squares; titles get a little room of their own.
    height = scale * max(image.height / image.width for image in images) + (0.4 if titles or suptitle else 0.0)
    # constrained layout keeps a suptitle clear of two-line titles (tight_layout ignores the suptitle)
    figure, axes = plt.subplots(rows, cols, figsize=(cols * scale, rows * height), squeeze=False, layout="constrained")
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            ax.imshow(images[index], cmap="gray" if images[index].mode == "L" else None)
            if titles:
                ax.set_title(titles[index], fontsize=10)
    if suptitle:
        figure.suptitle(suptitle)
    plt.show()
    return figure


def _one_latent(latents):
    latents = torch.as_tensor(latents).detach().cpu().float()
    if latents.ndim == 4 and latents.shape[0] == 1:
        latents = latents[0]
    if latents.ndim != 3:
        raise ValueError(
            _("Expected one latent shaped (C, h, w) or (1, C, h, w), got {shape}. "
              "For a batch, pick one: latents[0].").format(shape=tuple(latents.shape))
        )
    return latents


def show_latents(latents, title=None):
    """Show each channel of one latent as a greyscale image, each stretched to its own min/max.

    Takes (C, h, w) or (1, C, h, w); returns the figure. Introduced in 04_sdxl_by_hand.
    """
    latents = _one_latent(latents)
    channels = latents.shape[0]
    figure, axes = plt.subplots(1, channels, figsize=(2.5 * channels, 2.8), squeeze=False)
    for channel, ax in enumerate(axes[0]):
        values = latents[channel]
        spread = (values.max() - values.min()).clamp(min=1e-8)
        ax.imshow(((values - values.min()) / spread).numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(_("channel {channel}").format(channel=channel), fontsize=10)
        ax.axis("off")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    plt.show()
    return figure


def latents_to_rgb(latents, scale=1):
    """A fast colour preview of SDXL latents without the VAE: a fixed linear map from 4 channels to RGB.

    Takes (4, h, w) or (B, 4, h, w) of any size; returns a PIL image (a list for a batch) of h x w
    pixels, enlarged `scale` times with nearest neighbour so that small latents are visible.
    Introduced in 04_sdxl_by_hand.
    """
    latents = torch.as_tensor(latents).detach().cpu().float()
    if latents.ndim not in (3, 4) or latents.shape[-3] != 4:
        raise ValueError(
            _("latents_to_rgb expects SDXL latents with 4 channels, (4, h, w) or (B, 4, h, w), "
              "got shape {shape}. For a pixel-space image use to_pil instead.").format(shape=tuple(latents.shape))
        )
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(_("{name} must be a positive whole number, got {value!r}.").format(name="scale", value=scale))
    rgb = torch.einsum("...chw,cr->...rhw", latents, SDXL_LATENT_RGB_FACTORS)
    rgb = rgb + SDXL_LATENT_RGB_BIAS[:, None, None]
    images = to_pil(rgb, value_range=(-1, 1))
    if isinstance(images, list):
        return [_enlarge(image, scale) for image in images]
    return _enlarge(images, scale)


def _enlarge(image, factor):
    """Nearest-neighbour enlargement: every latent pixel stays a crisp square."""
    return image.resize((image.width * factor, image.height * factor), Image.NEAREST) if factor > 1 else image


def live_frontend():
    """True only in a Jupyter kernel whose widgets a frontend can draw (05_sdxl_base uses it for its form)."""
    if os.environ.get("SDXL_TUTORIAL_STATIC", "") not in ("", "0"):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    # A terminal IPython has a shell but no kernel, so nothing could draw a widget.
    return shell is not None and getattr(shell, "kernel", None) is not None


def _copy(tensor):
    return tensor.detach().to("cpu", torch.float32).clone()


def _timestep_number(timestep):
    return timestep.item() if isinstance(timestep, torch.Tensor) else timestep


class StepRecorder:
    """Records a denoising trajectory (x_t and the predicted x0 at each step) to look at afterwards.

    Keeps steps 0, every, 2*every, ... and always the most recent step, so the final step is there
    without any finish() call. `decode`, if given, turns a recorded latent, a CPU float32 tensor
    shaped (1, C, h, w), into a PIL image (a VAE decode, say); without it 4-channel latents are
    previewed with `latents_to_rgb` and 1- or 3-channel pixel samples go through `to_pil`.
    Introduced in 01_denoising_loop; its `callback` is used with pipelines from 05_sdxl_base on.
    """

    def __init__(self, every=1, decode=None):
        if not isinstance(every, int) or every < 1:
            raise ValueError(_("{name} must be a positive whole number, got {value!r}.").format(name="every", value=every))
        if decode is not None and not callable(decode):
            raise TypeError(_("decode must be a function taking a latent tensor and returning a PIL image."))
        self.every = every
        self.decode = decode
        self.steps, self.timesteps = [], []
        self.samples, self.pred_original_samples = [], []
        self._last_is_extra = False  # the latest record is kept only because it is the latest so far

    def __len__(self):
        return len(self.steps)

    def record(self, step, timestep, sample, pred_original_sample=None):
        """Store copies of `sample` (x_t after this step) and of the predicted x0 `scheduler.step` returned."""
        if not isinstance(sample, torch.Tensor):
            raise TypeError(_("sample must be a torch tensor, got {kind}.").format(kind=type(sample).__name__))
        if self._last_is_extra:
            for stored in (self.steps, self.timesteps, self.samples, self.pred_original_samples):
                stored.pop()
        self.steps.append(int(step))
        self.timesteps.append(_timestep_number(timestep))
        self.samples.append(_copy(sample))
        self.pred_original_samples.append(None if pred_original_sample is None else _copy(pred_original_sample))
        self._last_is_extra = int(step) % self.every != 0

    def callback(self, pipe, step, timestep, callback_kwargs):
        """Use as `pipe(..., callback_on_step_end=recorder.callback)`; records the latents only."""
        if "latents" not in callback_kwargs:
            raise KeyError(_("callback_kwargs has no 'latents': pass callback_on_step_end_tensor_inputs=['latents']."))
        self.record(step, timestep, callback_kwargs["latents"])
        return callback_kwargs

    def _image(self, tensor):
        """The first image of a recorded batch as PIL, between SMALLEST_CELL and LARGEST_CELL pixels tall."""
        tensor = tensor[:1] if tensor.ndim == 4 else tensor[None]
        if self.decode is not None:
            image = to_pil(self.decode(tensor))
        elif tensor.shape[1] == 4:
            image = latents_to_rgb(tensor)
        else:
            image = to_pil(tensor)
        image = image[0] if isinstance(image, list) else image
        if image.height > LARGEST_CELL:
            return image.resize((round(image.width * LARGEST_CELL / image.height), LARGEST_CELL), Image.BILINEAR)
        return _enlarge(image, -(-SMALLEST_CELL // image.height))

    def _check(self, what, indices):
        if what not in ("sample", "pred_original_sample", "both"):
            raise ValueError(_('what must be "sample", "pred_original_sample" or "both", got {what!r}.').format(what=what))
        if not self.steps:
            raise ValueError(_(
                "Nothing was recorded yet: call recorder.record(step, timestep, sample, pred_original_sample) "
                "inside your loop, or pass callback_on_step_end=recorder.callback to a pipeline."
            ))
        if what != "sample" and any(self.pred_original_samples[i] is None for i in indices):
            raise ValueError(_(
                "No pred_original_sample was recorded for these steps: pass "
                "pred_original_sample=output.pred_original_sample to record() (a pipeline callback only "
                'sees latents), or ask for what="sample".'
            ))

    def _cells(self, index, what):
        step, timestep = self.steps[index], self.timesteps[index]
        cells = []
        if what in ("sample", "both"):
            # the sample a step returns is the next, less noisy one: x after the step that started at t
            cells.append((self._image(self.samples[index]),
                          _("after step {step} (t={timestep:g})\nsample").format(step=step, timestep=timestep)))
        if what in ("pred_original_sample", "both"):
            cells.append((self._image(self.pred_original_samples[index]),
                          _("step {step}, t={timestep:g}\npredicted x0").format(step=step, timestep=timestep)))
        return cells

    def strip(self, max_images=8, what="sample"):
        """The recorded steps side by side (up to `max_images`, evenly chosen, first and last included).

        `what` is "sample" (x_t), "pred_original_sample" (predicted x0) or "both" (x_t above, x0 below).
        """
        if not isinstance(max_images, int) or max_images < 1:
            raise ValueError(_("{name} must be a positive whole number, got {value!r}.").format(name="max_images",
                                                                                                value=max_images))
        indices = sorted(set(np.linspace(0, len(self.steps) - 1, min(len(self.steps), max_images)).round().astype(int)))
        self._check(what, indices)
        columns = [self._cells(index, what) for index in indices]
        rows = [[column[row] for column in columns] for row in range(len(columns[0]))]
        cells = [cell for row in rows for cell in row]
        return image_grid([image for image, _ in cells], rows=len(rows), titles=[title for _, title in cells])

    def slider(self, what="both"):
        """A slider over the recorded steps showing x_t and the predicted x0 side by side.

        Without a live Jupyter frontend (no ipywidgets, no kernel, or SDXL_TUTORIAL_STATIC set) it
        prints one line and returns the static `strip` instead. Either way the result is returned,
        not displayed: leave it as the last line of a cell.
        """
        self._check(what, range(len(self.steps)))
        if not live_frontend():
            print(_("The step slider needs a live Jupyter frontend; showing a static strip instead."))
            return self.strip(what=what)
        import ipywidgets

        @functools.cache  # a decode may be a slow VAE call: do each step once
        def frame_png(index):
            cells = self._cells(index, what)
            buffer = io.BytesIO()
            image_grid([image for image, _ in cells], titles=[title for _, title in cells]).save(buffer, "png")
            return buffer.getvalue()

        last = len(self.steps) - 1
        frame = ipywidgets.Image(value=frame_png(last), format="png")
        slider = ipywidgets.IntSlider(value=last, min=0, max=last, description=_("recorded"), continuous_update=False)
        slider.observe(lambda change: setattr(frame, "value", frame_png(change["new"])), names="value")
        return ipywidgets.VBox([slider, frame])


# ---------------------------------------------------------------------------------------------
# The speed ladder's table and chart (08_speed_and_memory)
#
# A ladder's results map each rung's name to what `helpers.measure` returned for `per` repeated calls
# (anything with `.seconds`, `.peak_gib` and `.memory_kind`), or to a string: why that rung was skipped.

LADDER_NAME_WIDTH = 34


def _check_ladder(results, per):
    if not isinstance(results, dict) or not results:
        shape = "{" + _("rung name") + ": " + _("measurement or skip reason") + "}"
        raise ValueError(_("The ladder's results should be a dict {shape} with at least one rung.").format(shape=shape))
    if isinstance(per, bool) or not isinstance(per, int) or per < 1:
        raise ValueError(_("per must be a positive whole number (the timed calls per rung), got {per!r}.").format(per=per))
    for name, result in results.items():
        if not isinstance(result, str) and not all(hasattr(result, key) for key in ("seconds", "peak_gib", "memory_kind")):
            raise TypeError(_("Rung {name!r}: expected what helpers.measure returns, or a string saying why it was "
                              "skipped, got {kind}.").format(name=name, kind=type(result).__name__))


def ladder_row(name, result, per=1, unit=None):
    """One line for one rung: seconds per `unit` (the measured time over `per` calls; default a picture) and peak
    memory, or the reason it was skipped. Introduced in 08_speed_and_memory."""
    _check_ladder({name: result}, per)
    unit = _("picture") if unit is None else unit
    if isinstance(result, str):
        return f"{name:{LADDER_NAME_WIDTH}}{result}"
    return f"{name:{LADDER_NAME_WIDTH}}" + _("{seconds:8.3f} s per {unit} · peak {peak:6.2f} GiB ({kind})").format(
        seconds=result.seconds / per, unit=unit, peak=result.peak_gib, kind=result.memory_label)


def ladder_table(results, per=1, unit=None):
    """The ladder as a text table: one row per rung, seconds per `unit` (default a picture) and peak GiB, skipped
    rungs with their reason. Returns the text (print it). Introduced in 08_speed_and_memory."""
    _check_ladder(results, per)
    unit = _("picture") if unit is None else unit
    rung, header, peak = _("rung"), _("s / {unit}").format(unit=unit), _("peak GiB")
    lines = [f"{rung:{LADDER_NAME_WIDTH}}{header:>14}{peak:>10}"]
    for name, result in results.items():
        if isinstance(result, str):
            lines.append(f"{name:{LADDER_NAME_WIDTH}}{'—':>14}{'—':>10}   {result}")
        else:
            lines.append(f"{name:{LADDER_NAME_WIDTH}}{result.seconds / per:14.3f}{result.peak_gib:10.2f}")
    return "\n".join(lines)


def ladder_chart(results, per=1, unit=None, title=None):
    """Two bar charts side by side, seconds per `unit` (default a picture) and peak memory, one bar per rung in
    order, each bar labelled with its value; skipped rungs say "skipped here". Returns the figure. Introduced in
    08_speed_and_memory."""
    _check_ladder(results, per)
    unit = _("picture") if unit is None else unit
    labels = list(results)
    ran = [name for name in labels if not isinstance(results[name], str)]
    seconds = [0.0 if name not in ran else results[name].seconds / per for name in labels]
    memory = [0.0 if name not in ran else results[name].peak_gib for name in labels]
    kind = results[ran[0]].memory_label if ran else _("memory")
    figure, axes = plt.subplots(1, 2, figsize=(13, 0.45 * len(labels) + 1.2), sharey=True)
    for ax, values, colour, label, form in ((axes[0], seconds, "tab:blue", _("seconds per {unit}").format(unit=unit),
                                             "{:.3g} s"),
                                            (axes[1], memory, "tab:orange", _("peak GiB ({kind})").format(kind=kind),
                                             "{:.2f} GiB")):
        ax.barh(labels, values, color=colour)
        ax.set_xlabel(label)
        for row, (name, value) in enumerate(zip(labels, values)):
            text = "  " + _("skipped here") if name not in ran else " " + form.format(value)
            ax.text(value, row, text, va="center", color="grey" if name not in ran else "black", fontsize=9)
        ax.margins(x=0.25)
    axes[0].invert_yaxis()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    plt.show()
    return figure
