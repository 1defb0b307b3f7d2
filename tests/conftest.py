import matplotlib
import pytest

matplotlib.use("Agg")  # unit tests draw figures without a screen


@pytest.fixture(scope="session")
def _shared_tiny_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sdxl-by-hand-cache")


@pytest.fixture
def tiny_cache(_shared_tiny_cache, monkeypatch):
    """A cache folder for tiny stand-ins, shared by the tests of one run (building takes seconds)."""
    monkeypatch.setenv("SDXL_TUTORIAL_CACHE", str(_shared_tiny_cache))
    return _shared_tiny_cache
