"""helpers.warnings_policy: a deprecation caused by our own call fails, in tests and in notebook kernels."""

import json
import os
import re
import subprocess
import sys
import warnings

import pytest

from helpers import warnings_policy
from helpers.warnings_policy import LIBRARY_INTERNAL, LibraryInternal, make_deprecations_errors


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


def test_every_library_internal_entry_says_why_and_never_covers_our_own_modules():
    for internal in LIBRARY_INTERNAL:
        assert len(internal.reason) > 40 and internal.library
        if internal.module:  # an empty module regex is allowed only for a message that names a library's own API
            for ours in ("__main__", "helpers.models", "tests.test_x", "lesson", "notebook"):
                assert not re.match(internal.module, ours), (internal.message, ours)


def test_an_entry_is_ignored_only_at_the_library_versions_that_raise_it(monkeypatch):
    entry = LibraryInternal(r"old spelling", DeprecationWarning, r"somelib\.", "somelib", "<3.10.1", "a reason " * 6)
    monkeypatch.setattr(warnings_policy, "LIBRARY_INTERNAL", [entry])
    for installed, ignored in (("3.10.0", True), ("3.10.1", False), ("3.11.2", False)):
        monkeypatch.setattr(warnings_policy.metadata, "version", lambda name, v=installed: v)
        with warnings.catch_warnings():
            make_deprecations_errors()
            raise_it = lambda: warnings.warn_explicit("old spelling", DeprecationWarning, "x.py", 1, module="somelib.x")
            if ignored:
                raise_it()
            else:
                with pytest.raises(DeprecationWarning):
                    raise_it()


def test_an_entry_for_a_library_that_is_not_installed_does_nothing():
    assert not LibraryInternal("x", DeprecationWarning, "y", "no-such-distribution-here", "", "r").applies()


# Each entry's warning as the library raises it (copied from the warnings seen on CI's and on Colab's versions), and
# the module the warning is attributed to.
SEEN = [
    ("__array__ implementation doesn't accept a copy keyword, so passing copy=False failed.",
     "diffusers.schedulers.scheduling_euler_discrete"),
    ("`upcast_vae` is deprecated. Please use `pipe.vae.to(torch.float32)`.", "diffusers.utils.deprecation_utils"),
    ("`torch.jit.script_method` is deprecated. Please switch to `torch.compile` or `torch.export`.", "torch.x"),
    ("datetime.datetime.utcnow() is deprecated and scheduled for removal in a future version.", "jupyter_client.session"),
    ("Parsing dates involving a day of month without a year specified is ambiguious", "jupyter_client.jsonutil"),
    ("'oneOf' deprecated - use 'one_of'", "matplotlib._fontconfig_pattern"),
    ("'endQuoteChar' argument is deprecated, use 'end_quote_char'", "matplotlib._mathtext"),
    ("'parseAll' argument is deprecated, use 'parse_all'", "pyparsing.util"),
    ("Deprecated in 0.9.0: BPE.__init__ will not create from files anymore, try `BPE.from_file` instead",
     "transformers.models.clip.tokenization_clip"),
]


@pytest.mark.parametrize("text, module", SEEN, ids=[module for _, module in SEEN])
def test_a_seen_library_warning_is_ignored_from_its_library_and_stays_an_error_from_our_code(monkeypatch, text, module):
    entries = [internal for internal in LIBRARY_INTERNAL if re.match(internal.message, text)]
    assert len(entries) == 1, "exactly one entry covers it"
    monkeypatch.setattr(LibraryInternal, "applies", lambda self: True)  # as at the library versions that raise it
    with warnings.catch_warnings():
        make_deprecations_errors()
        warnings.warn_explicit(text, entries[0].category, "library.py", 1, module=module)
        if entries[0].module:
            with pytest.raises(entries[0].category):
                warnings.warn_explicit(text, entries[0].category, "lesson.py", 1, module="__main__")


def test_every_entry_was_seen():
    for internal in LIBRARY_INTERNAL:
        assert any(re.match(internal.message, text) for text, _ in SEEN), internal.message


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
    with pytest.raises(CellExecutionError) as caught:
        NotebookClient(notebook, kernel_name="python3", timeout=120).execute()
    # By the error's name and message: the error's text also quotes the cell, which says torch_dtype whatever failed
    assert caught.value.ename == "FutureWarning" and "torch_dtype" in caught.value.evalue, caught.value.evalue


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


def test_transformers_torchvision_fallback_notice_is_silenced_and_its_other_messages_are_kept():
    import logging

    import helpers  # noqa: F401 (installs the filter)

    logger = logging.getLogger("transformers.utils.import_utils")

    def passes(message):
        record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, message, (), None)
        return all(f.filter(record) for f in logger.filters)

    assert not passes("`CLIPImageProcessor` requires torchvision (not installed); falling back to `CLIPImageProcessorPil` "
                      "for backward compatibility.")
    assert passes("Could not import module 'X'. Are this object's requirements defined correctly?")
