"""Plumbing for the SDXL by Hand lessons: device, display, the model catalogue, tokens.

What is taught lives in the notebooks; these helpers only carry what every lesson needs.
Modules: `device` (device, dtype, measuring), `display` (grids, latents, the step recorder),
`models` (the mode and the catalogue), `checks` (clear errors for bad input), `hub` (the Hugging Face
token), `edges` (edge maps for the canny ControlNet), `tiny` (the offline models), `i18n` (the language of the course's own messages).
"""

import os as _os

from . import memory
from .checks import check_prompt, check_size, check_strength, prepare_image
from .device import (
    expect_trained, flush, generator, in_colab, measure, pick_device, pick_dtype, rehearsal,
)
from .edges import edge_map
from .i18n import use_language
from .models import (
    ModelUnavailableError, SizeTooLargeError, current_mode, defaults, environment_report, mode_reason, model_path, prepare, training_defaults,
)

__all__ = [
    "ModelUnavailableError", "SizeTooLargeError", "check_prompt", "check_size", "check_strength", "current_mode", "defaults",
    "edge_map", "environment_report", "expect_trained", "flush", "generator", "in_colab", "measure", "mode_reason", "model_path", "pick_device",
    "pick_dtype", "prepare", "prepare_image", "rehearsal", "training_defaults", "use_language",
]

from .warnings_policy import quiet_empty_fp32_module_messages as _quiet
from .warnings_policy import quiet_torchvision_fallback_notice as _quiet_torchvision

_quiet()  # a diffusers log line with nothing in it (see warnings_policy)
_quiet_torchvision()  # transformers' notice about an image processor no lesson uses (see warnings_policy)

if _os.environ.get("SDXL_TUTORIAL_STRICT_WARNINGS"):
    # Set by the test run: a deprecation caused by a lesson's own call fails the lesson.
    from .warnings_policy import make_deprecations_errors as _make_deprecations_errors

    _make_deprecations_errors()

if _os.environ.get("SDXL_TUTORIAL_MACHINE"):
    # A declared machine (the rehearsal's free Colab T4): on a bigger CUDA GPU, use no more than it has.
    from .memory import cap_gpu_to_declared_machine as _cap

    _cap()
