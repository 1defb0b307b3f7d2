"""Checks for the exercises of lesson 12 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..i18n import _
from . import call, compare_tensors, report, unfinished

__all__ = ["check_mask_to_latent_grid", "check_ddim_inversion_step"]


def _masks() -> list[tuple[Image.Image, int]]:
    """Masks that tell the common slips apart: grey levels at the half-brightness edge, a stripe the nearest
    neighbour misses, a non-square picture, and both VAE factors (SDXL's 8, tiny mode's 2)."""
    grey = np.zeros((16, 24), dtype=np.uint8)
    grey[4:12, 6:18] = 255
    grey[4:12, 4:6] = 128  # exactly half brightness: rounds up to 1
    grey[4:12, 18:20] = 127  # just below: rounds down to 0
    grey[2, :] = 200  # a bright line on a row the nearest neighbour reads
    stripe = np.zeros((32, 32), dtype=np.uint8)
    stripe[:, 9:11] = 255  # columns between the sampled ones at factor 8
    stripe[8:24, 16:24] = 255
    return [(Image.fromarray(grey), 2), (Image.fromarray(stripe), 8), (Image.fromarray(stripe), 2)]


def _expected(mask: Image.Image, factor: int, threshold=lambda x: x >= 0.5, mode="nearest") -> torch.Tensor:
    pixels = torch.from_numpy(np.asarray(mask, dtype=np.float32) / 255)[None, None]
    binary = threshold(pixels).float()
    size = (mask.height // factor, mask.width // factor)
    if mode == "average":
        return torch.nn.functional.avg_pool2d(binary, factor)
    return torch.nn.functional.interpolate(binary, size=size)


def check_mask_to_latent_grid(mask_to_latent_grid):
    """Exercise: a PIL mask to the pipeline's 0/1 mask on the latent grid, shaped (1, 1, h / factor, w / factor)."""
    name = "mask_to_latent_grid"
    for mask, factor in _masks():
        answer, error = call(name, mask_to_latent_grid, mask.copy(), factor)
        if error:
            return report(name, False, error)
        if unfinished(answer):
            return report(name, None, _("replace `...`: pixels to [0, 1], round at half brightness, shrink by nearest neighbour."))
        if isinstance(answer, np.ndarray):
            return report(name, False, _("return a torch tensor (torch.from_numpy turns an array into one)."))
        expected = _expected(mask, factor)
        if not isinstance(answer, torch.Tensor):
            return report(name, False, _("return a torch tensor, got {kind}.").format(kind=type(answer).__name__))
        if answer.shape != expected.shape:
            if answer.numel() == expected.numel():
                return report(name, False, _("shape {shape}: the pipeline wants (batch, channel, height, width), here "
                                             "{expected}; add the two leading dimensions with [None, None].")
                              .format(shape=tuple(answer.shape), expected=tuple(expected.shape)))
            return report(name, False, _("shape {shape}, expected {expected}: the grid is the picture's height and "
                                         "width divided by vae_scale_factor.")
                          .format(shape=tuple(answer.shape), expected=tuple(expected.shape)))
        answer = answer.detach().float().cpu()
        if torch.equal(answer, expected):
            continue
        if torch.equal(answer, 1 - expected):
            return report(name, False, _("inverted: white (1) is repainted, black (0) is kept."))
        if answer.max() > 1.5:
            return report(name, False, _("values above 1: divide the pixels by 255 first."))
        if torch.equal(answer, _expected(mask, factor, mode="average")):
            return report(name, False, _("that averages each block, so border cells get fractions; the pipeline takes "
                                         "one pixel per cell (nearest neighbour) and every cell is 0 or 1."))
        if not torch.equal(answer, answer.round()):
            return report(name, False, _("some cells are neither 0 nor 1: round the pixels at half brightness (>= 0.5) "
                                         "before shrinking."))
        return report(name, False, _("for a {width}x{height} mask at factor {factor}, {count} cells differ from the "
                                     "pipeline's.").format(width=mask.width, height=mask.height, factor=factor,
                                                           count=int((answer != expected).sum())))
    return report(name, True, _("0 or 1 in each cell, one pixel per cell, as StableDiffusionXLInpaintPipeline makes it."))


def _inverse_scheduler(steps: int):
    from diffusers import DDIMInverseScheduler

    scheduler = DDIMInverseScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
                                     timestep_spacing="leading", clip_sample=False, set_alpha_to_one=False)
    scheduler.set_timesteps(steps)
    return scheduler


def check_ddim_inversion_step(ddim_inversion_step):
    """Exercise: one DDIM inversion step from alpha_bar to alpha_bar_next, equal to DDIMInverseScheduler.step."""
    name = "ddim_inversion_step"
    generator = torch.Generator().manual_seed(12)
    scheduler = _inverse_scheduler(10)
    step = scheduler.config.num_train_timesteps // 10
    for index in (3, 8):
        t = int(scheduler.timesteps[index])
        latents, noise_pred = torch.randn(1, 4, 8, 8, generator=generator), torch.randn(1, 4, 8, 8, generator=generator)
        alpha_bar, alpha_bar_next = scheduler.alphas_cumprod[t - step], scheduler.alphas_cumprod[t]
        expected = scheduler.step(noise_pred, t, latents).prev_sample
        answer, error = call(name, ddim_inversion_step, latents.clone(), noise_pred.clone(), alpha_bar.clone(),
                             alpha_bar_next.clone())
        if error:
            return report(name, False, error)
        if unfinished(answer):
            return report(name, None, _("replace `...`: x0 from the current level, then x0 and the same noise at the next."))
        problem = compare_tensors(answer, expected, _("the next latents"), atol=1e-4)
        if problem is None:
            continue
        if isinstance(answer, torch.Tensor) and answer.shape == expected.shape:
            def step_with(a, b, root=True):
                x0 = (latents - ((1 - a) ** 0.5 if root else (1 - a)) * noise_pred) / (a**0.5 if root else a)
                return (b**0.5 if root else b) * x0 + ((1 - b) ** 0.5 if root else (1 - b)) * noise_pred
            if torch.allclose(answer, step_with(alpha_bar_next, alpha_bar), atol=1e-4):
                return report(name, False, _("that is a denoising step (towards more signal): inversion goes from "
                                             "alpha_bar to alpha_bar_next, the smaller one."))
            if torch.allclose(answer, step_with(alpha_bar, alpha_bar_next, root=False), atol=1e-4):
                return report(name, False, _("ᾱ is the share of the signal's *variance*: the latents scale with its "
                                             "square root, √ᾱ, and the noise with √(1 − ᾱ)."))
            if torch.allclose(answer, alpha_bar_next**0.5 * latents + (1 - alpha_bar_next) ** 0.5 * noise_pred, atol=1e-4):
                return report(name, False, _("the latents are not x0 yet: first remove the current noise, "
                                             "x0 = (latents − √(1 − ᾱ)·ε) / √ᾱ."))
        return report(name, False, problem)
    return report(name, True, _("the same as DDIMInverseScheduler.step: DDIM's formula, run towards more noise."))
