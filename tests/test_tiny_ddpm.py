"""Lesson 03's committed model (helpers/tiny/checkpoints/ddpm), which lessons 01 and 02 load in tiny mode.

It must be small, in the flat layout of google/ddpm-cat-256, made by lesson 03's own settings, and it
must draw the world of shapes: judged by a check written here, which random weights must fail.
"""

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel

import helpers
from helpers.tiny import shapes
from helpers.tiny.standins import CHECKPOINTS

FOLDER = CHECKPOINTS / "ddpm"
PALETTE = np.array(list(shapes.COLOURS.values()), dtype=float)


def looks_like_the_world(pixels: np.ndarray) -> tuple[bool, int | None]:
    """A light, plain border and a foreground whose mean colour is near one of the six colours."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    foreground = np.linalg.norm(pixels - background, axis=2) > 60
    if background.min() < 180 or np.abs(border - background).mean() > 25 or not 0.03 < foreground.mean() < 0.7:
        return False, None
    distances = np.linalg.norm(PALETTE - pixels[foreground].mean(axis=0), axis=1)
    return bool(distances.min() < 70), int(distances.argmin())


def world_share(samples: torch.Tensor) -> tuple[float, int]:
    pixels = ((samples.clamp(-1, 1) + 1) * 127.5).permute(0, 2, 3, 1).numpy().astype(float)
    verdicts = [looks_like_the_world(picture) for picture in pixels]
    return float(np.mean([ok for ok, _ in verdicts])), len({colour for ok, colour in verdicts if ok})


def sample(unet, count=64, steps=50, seed=1):
    scheduler = DDIMScheduler.from_pretrained(FOLDER)
    scheduler.set_timesteps(steps)
    size = unet.config.sample_size
    x = torch.randn((count, 3, size, size), generator=helpers.generator(seed))
    with torch.no_grad():
        for t in scheduler.timesteps:
            x = scheduler.step(unet(x, t).sample, t, x).prev_sample
    return x


def test_the_check_accepts_the_world_and_rejects_noise():
    world = shapes.to_tensor(shapes.dataset(200, seed=5, size=16))
    assert world_share(world)[0] >= 0.9
    assert world_share(torch.randn(64, 3, 16, 16, generator=helpers.generator(0)))[0] == 0


def test_committed_checkpoint_is_small_and_in_the_flat_layout():
    names = {path.name for path in FOLDER.iterdir()}
    assert names == {"config.json", "scheduler_config.json", "diffusion_pytorch_model.safetensors"}
    assert sum(path.stat().st_size for path in FOLDER.iterdir()) <= 5 * 1024**2


def test_committed_checkpoint_was_made_with_lesson_03s_tiny_settings():
    settings = helpers.training_defaults("tiny")
    unet = UNet2DModel.from_pretrained(FOLDER, dtype=torch.float32, use_safetensors=True)
    scheduler = DDPMScheduler.from_pretrained(FOLDER)
    assert unet.config.sample_size == settings.image_size == helpers.defaults("ddpm", "tiny").height
    assert list(unet.config.block_out_channels) == [settings.base_channels, 2 * settings.base_channels, 2 * settings.base_channels]
    assert (scheduler.config.beta_schedule, scheduler.config.prediction_type) == ("squaredcos_cap_v2", "v_prediction")


@pytest.fixture(scope="module")
def trained():
    return UNet2DModel.from_pretrained(FOLDER, dtype=torch.float32, use_safetensors=True).eval()


def test_committed_model_draws_the_world_of_shapes(trained):
    share, colours = world_share(sample(trained))
    assert share >= 0.8 and colours >= 5, (share, colours)


def test_the_same_model_with_random_weights_fails_the_check(trained):
    torch.manual_seed(0)
    random = UNet2DModel.from_config(trained.config).eval()
    assert world_share(sample(random))[0] <= 0.05
