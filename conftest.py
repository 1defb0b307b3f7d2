"""The test run is offline and tiny: unit tests and every notebook (through nbval) see this setup.

Notebook kernels inherit these environment variables from the pytest process.
"""

import os

import pytest

os.environ["SDXL_TUTORIAL_MODE"] = "tiny"  # even on a GPU machine the suite tests tiny mode
os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may come from the Hub
os.environ["SDXL_TUTORIAL_STATIC"] = "1"  # no live frontend under nbval: widgets fall back to static pictures
os.environ["SDXL_TUTORIAL_STRICT_WARNINGS"] = "1"  # a deprecation our own code causes is an error
os.environ.setdefault("TQDM_MININTERVAL", "5")  # fewer progress-bar redraws in captured output


@pytest.fixture(autouse=True)
def _deprecations_are_errors():
    from helpers.warnings_policy import make_deprecations_errors

    make_deprecations_errors()
