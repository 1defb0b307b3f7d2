"""helpers.warnings_policy: a deprecation caused by our own call fails, in tests and in notebook kernels."""

import json
import os
import subprocess
import sys
import warnings

import pytest

from helpers.warnings_policy import make_deprecations_errors


def test_a_future_warning_becomes_an_error():
    with warnings.catch_warnings():
        make_deprecations_errors()
        with pytest.raises(FutureWarning):
            warnings.warn("old API", FutureWarning)


def test_numpys_copy_warning_from_inside_diffusers_is_ignored():
    with warnings.catch_warnings():
        make_deprecations_errors()
        warnings.warn_explicit("__array__ implementation doesn't accept a copy keyword, so passing copy=False failed.",
                               DeprecationWarning, "scheduling_euler_discrete.py", 1, module="diffusers.schedulers.x")


def test_the_same_warning_from_our_own_code_is_not_ignored():
    with warnings.catch_warnings():
        make_deprecations_errors()
        with pytest.raises(DeprecationWarning):
            warnings.warn_explicit("__array__ implementation doesn't accept a copy keyword", DeprecationWarning,
                                   "lesson.py", 1, module="__main__")


def test_torch_dtype_in_a_notebook_kernel_fails_the_notebook(tmp_path, tiny_cache):
    """The real path: nbval runs kernels with SDXL_TUTORIAL_STRICT_WARNINGS set; importing helpers arms it."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import torch, helpers\nfrom diffusers import StableDiffusionXLPipeline"),
        nbformat.v4.new_code_cell("StableDiffusionXLPipeline.from_pretrained(helpers.model_path('sdxl-base-random'), torch_dtype=torch.float32)"),
    ]
    assert os.environ.get("SDXL_TUTORIAL_STRICT_WARNINGS") == "1"
    with pytest.raises(CellExecutionError, match="FutureWarning|torch_dtype"):
        NotebookClient(notebook, kernel_name="python3", timeout=120).execute()


def _vae_cast_messages(keep_in_fp32):
    import logging

    import torch
    from diffusers import AutoencoderKL

    import helpers  # noqa: F401  (installs the filter)

    vae = AutoencoderKL(block_out_channels=(32,), down_block_types=("DownEncoderBlock2D",),
                        up_block_types=("UpDecoderBlock2D",), norm_num_groups=32)
    vae._keep_in_fp32_modules = keep_in_fp32
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("diffusers.models.modeling_utils")
    logger.addHandler(handler)
    try:
        vae.to(torch.bfloat16)
    finally:
        logger.removeHandler(handler)
    return [record for record in records if handler.filter(record) and all(f.filter(record) for f in logger.filters)]


def test_the_empty_keep_in_fp32_message_is_silenced_but_a_real_one_is_kept():
    assert _vae_cast_messages([]) == []
    kept = _vae_cast_messages(["quant_conv"])
    assert len(kept) == 1 and "quant_conv" in kept[0].getMessage()
