"""Which warnings fail the test run: every deprecation our own calls cause.

The test run (conftest.py, and every notebook kernel through SDXL_TUTORIAL_STRICT_WARNINGS) turns
FutureWarning and DeprecationWarning into errors, so a lesson that uses a deprecated API, such as
`torch_dtype=` in `from_pretrained`, fails. The libraries also warn about their own internals; those
are not ours to fix and are listed here, each with the reason.
"""

import warnings
from dataclasses import dataclass
from importlib import metadata


@dataclass(frozen=True)
class LibraryInternal:
    """A warning a library raises about itself, ignored only where it comes from and at the versions that raise it."""

    message: str  # regex, matched at the start of the warning's text
    category: type[Warning]
    module: str  # regex of the module the warning is attributed to: the library's, never ours
    library: str  # the distribution whose versions raise it
    versions: str  # a version specifier, e.g. "<3.11" ("" for every version)
    reason: str

    def applies(self) -> bool:
        """Whether the installed `library` is one of the `versions` that raise the warning."""
        try:
            installed = metadata.version(self.library)
        except metadata.PackageNotFoundError:
            return False
        if not self.versions:
            return True
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(self.versions).contains(installed, prereleases=True)


# Newest libraries (CI) and Colab's own versions (make colab-test, tests/colab/packages.txt) both run under this list;
# an entry for an old version does nothing on a new one.
LIBRARY_INTERNAL = [
    LibraryInternal(r"__array__ implementation doesn't accept a copy keyword", DeprecationWarning, r"diffusers\.",
                    "numpy", ">=2", "numpy 2 asks torch tensors for a `copy=` keyword when diffusers' schedulers call "
                    "np.array on them."),
    LibraryInternal(r".*upcast_vae", FutureWarning, r"diffusers\.", "diffusers", "",
                    "SDXL pipelines call their own deprecated upcast_vae() when an fp16 VAE has force_upcast (GPU only)."),
    LibraryInternal(r"`torch.jit.script_method` is deprecated", DeprecationWarning, r"", "torch", "",
                    "torch.compile's inductor backend still calls torch.jit.script_method itself (lesson 08); the "
                    "warning names whichever module holds the decorated method, so no module is given."),
    LibraryInternal(r"datetime\.datetime\.utcnow\(\) is deprecated", DeprecationWarning, r"jupyter_client\.",
                    "jupyter_client", "<8", "jupyter_client 7 (Colab: 7.4.9) stamps every kernel message with "
                    "datetime.utcnow(), deprecated since Python 3.12; as an error it stops the kernel's output thread "
                    "and the notebook hangs with the kernel idle. jupyter_client 8 uses timezone-aware times."),
    LibraryInternal(r"'\w+' (argument is )?deprecated", DeprecationWarning, r"(matplotlib|pyparsing)\.", "matplotlib",
                    "<3.10.7", "matplotlib before 3.10.7 (Colab: 3.10.0) builds its font-pattern and mathtext parsers "
                    "with pyparsing's old camelCase names (oneOf, parseString(parseAll=...), endQuoteChar...), which "
                    "pyparsing 3.3 deprecates; 3.10.7 uses the new names (read in the wheels of 3.10.6 and 3.10.7). "
                    "A deprecated argument passed through pyparsing's own old-name wrapper is attributed to "
                    "pyparsing.util, hence pyparsing in the module."),
    LibraryInternal(r"Parsing dates involving a day of month without a year", DeprecationWarning,
                    r"jupyter_client\.", "jupyter_client", "<8", "jupyter_client 7 (Colab: 7.4.9) warms up "
                    "datetime.strptime with a day-only format when it is imported, which Python 3.13 deprecates; "
                    "jupyter_client 8 no longer does."),
    LibraryInternal(r"Deprecated in 0\.9\.0: BPE\.__init__ will not create from files", DeprecationWarning,
                    r"transformers\.", "tokenizers", "<0.23", "transformers 5's CLIPTokenizer builds its BPE model "
                    "with BPE(vocab=..., merges=...), which tokenizers 0.22 (Colab: 0.22.2) reports as deprecated; "
                    "tokenizers 0.23 (CI) runs the same transformers code without the warning."),
]


def make_deprecations_errors() -> None:
    """Turn FutureWarning and DeprecationWarning into errors, except the library-internal ones of the installed versions."""
    warnings.filterwarnings("error", category=FutureWarning)
    warnings.filterwarnings("error", category=DeprecationWarning)
    for internal in LIBRARY_INTERNAL:
        if internal.applies():
            warnings.filterwarnings("ignore", message=internal.message, category=internal.category,
                                    module=internal.module)


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


class _TorchvisionFallbackFilter:
    """Drops transformers' "`CLIPImageProcessor` requires torchvision (not installed); falling back to ...Pil" notice.

    transformers (5.x) logs it on the first `from diffusers import StableDiffusionXLPipeline` where torchvision is
    missing (CI's CPU-only torch; Colab has torchvision, so learners there never see it). The SDXL pipelines only
    hold an image processor for IP-Adapter image prompts, which no lesson uses, and the PIL fallback is the
    processor older transformers used anyway: the notice asks a learner to act on something that does not matter.
    """

    def filter(self, record) -> bool:
        message = record.getMessage()
        return not ("requires torchvision (not installed); falling back to" in message)


def quiet_torchvision_fallback_notice() -> None:
    """Install the filter above on the transformers logger that emits the notice (once)."""
    import logging

    logger = logging.getLogger("transformers.utils.import_utils")
    if not any(isinstance(existing, _TorchvisionFallbackFilter) for existing in logger.filters):
        logger.addFilter(_TorchvisionFallbackFilter())
