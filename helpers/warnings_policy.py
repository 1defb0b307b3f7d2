"""Which warnings fail the test run: every deprecation our own calls cause.

The test run (conftest.py, and every notebook kernel through SDXL_TUTORIAL_STRICT_WARNINGS) turns
FutureWarning and DeprecationWarning into errors, so a lesson that uses a deprecated API, such as
`torch_dtype=` in `from_pretrained`, fails. The libraries also warn about their own internals; those
are not ours to fix and are listed here, each with the reason.
"""

import warnings

# (message regex, category, module regex): warnings raised inside the libraries about themselves.
LIBRARY_INTERNAL = [
    # numpy 2 asks torch tensors for a `copy=` keyword when diffusers' schedulers call np.array on them.
    (r"__array__ implementation doesn't accept a copy keyword", DeprecationWarning, r"diffusers\."),
    # SDXL pipelines call their own deprecated upcast_vae() when an fp16 VAE has force_upcast (GPU only).
    (r".*upcast_vae", FutureWarning, r"diffusers\."),
    # torch.compile's inductor backend still calls torch.jit.script_method itself (torch 2.13, lesson 08).
    (r"`torch.jit.script_method` is deprecated", DeprecationWarning, r""),
]


def make_deprecations_errors() -> None:
    """Turn FutureWarning and DeprecationWarning into errors, except the library-internal ones."""
    warnings.filterwarnings("error", category=FutureWarning)
    warnings.filterwarnings("error", category=DeprecationWarning)
    for message, category, module in LIBRARY_INTERNAL:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


class _EmptyFp32ModulesFilter:
    """Drops diffusers' "modules ... that should be kept in float32: []" message when the list is empty.

    diffusers (0.42) logs it on every `.to(dtype)` of a model whose `_keep_in_fp32_modules` is an empty list,
    e.g. each time a lesson upcasts the SDXL VAE to decode in fp32, as the pipeline itself does: there is no
    module to keep in fp32, so the message tells a learner nothing (lesson 07's strength sweep printed it 16
    times). With a non-empty list the message is kept.
    """

    def filter(self, record) -> bool:
        return "should be kept in float32: []" not in record.getMessage()


def quiet_empty_fp32_module_messages() -> None:
    """Install the filter above on the diffusers logger that emits the message (once)."""
    import logging

    logger = logging.getLogger("diffusers.models.modeling_utils")
    if not any(isinstance(existing, _EmptyFp32ModulesFilter) for existing in logger.filters):
        logger.addFilter(_EmptyFp32ModulesFilter())
