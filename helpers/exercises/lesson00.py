"""Checks for the exercises of lesson 00 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

from ..i18n import _
from . import compare_number, report, unfinished

__all__ = ["check_latent_shape", "check_unet_gib"]

SDXL_UNET_PARAMETERS = 2_567_463_684  # stabilityai/stable-diffusion-xl-base-1.0, unet/


def check_latent_shape(latent_shape) -> None:
    """Exercise: the shape of SDXL's latent for one 1024-wide, 768-high picture."""
    name = "latent_shape"
    if unfinished(latent_shape):
        return report(name, None, _("replace `...` with a tuple of four numbers: (batch, channels, height, width)."))
    try:
        shape = tuple(int(n) for n in latent_shape)
    except (TypeError, ValueError):
        return report(name, False, _("write the shape as a tuple of four whole numbers, got {value!r}.").format(value=latent_shape))
    if len(shape) != 4:
        return report(name, False, _("a latent batch has 4 dimensions (batch, channels, height, width); you gave {count}.").format(
            count=len(shape)))
    if shape[0] != 1:
        return report(name, False, _("one picture makes a batch of 1."))
    if shape[1] != 4:
        return report(name, False, _("SDXL's VAE has a fixed number of latent channels: print `pipe.vae.config.latent_channels`."))
    if shape[2:] == (128, 96):
        return report(name, False, _("height and width are swapped: tensors are (…, height, width), PIL sizes are (width, height)."))
    if shape[2:] in ((384, 512), (512, 384)):
        return report(name, False, _("that is tiny mode's VAE, which only halves each side; the question is about "
                                     "SDXL's, whose four `block_out_channels` shrink each side by 8."))
    if shape[2:] != (96, 128):
        return report(name, False, _("each latent position stands for an 8×8 block of pixels: divide the picture's sides by 8."))
    return report(name, True, _("1024×768 pixels become a 4×96×128 latent: 48 times fewer numbers than the RGB picture."))


def check_unet_gib(unet_gib) -> None:
    """Exercise: the size of SDXL's UNet weights in fp16, in GiB."""
    name = "unet_gib"
    if unfinished(unet_gib):
        return report(name, None, _("replace `...` with an expression: parameters × bytes per parameter, in GiB."))
    expected = SDXL_UNET_PARAMETERS * 2 / 2**30
    wrong = compare_number(unet_gib, expected, "unet_gib", rel=0.01)
    if wrong is None:
        return report(name, True, _("{expected:.2f} GiB: the largest part of SDXL, and why fp16 matters on a 15 GiB GPU.").format(
            expected=expected))
    if isinstance(unet_gib, (int, float)) and abs(unet_gib - expected * 2) < 0.02 * expected:
        return report(name, False, _("that is the fp32 size: fp16 stores each parameter in 2 bytes."))
    if isinstance(unet_gib, (int, float)) and abs(unet_gib - SDXL_UNET_PARAMETERS * 2 / 1e9) < 0.02 * expected:
        return report(name, False, _("that is in GB (10⁹ bytes); a GiB is 2³⁰ bytes."))
    return report(name, False, wrong + " " + _("Multiply the parameters by the bytes each one takes, then divide by 2**30."))
