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
