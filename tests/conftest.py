import os

import matplotlib
import pytest

matplotlib.use("Agg")  # unit tests draw figures without a screen


@pytest.fixture(scope="session")
def _shared_tiny_cache(tmp_path_factory):
    # Under pytest-xdist every worker has its own base folder inside a shared one: the workers share the
    # cache (building a stand-in takes a lock, so they never build the same one at once).
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / "sdxl-by-hand-cache"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def tiny_cache(_shared_tiny_cache, monkeypatch):
    """A cache folder for tiny stand-ins, shared by the tests of one run (building takes seconds)."""
    monkeypatch.setenv("SDXL_TUTORIAL_CACHE", str(_shared_tiny_cache))
    return _shared_tiny_cache


@pytest.fixture(autouse=True)
def _lesson_cells_run_in_the_notebooks_folder(request):
    """tests/test_parameters*.py run lessons' cells (tests/lesson_parameters.py): from notebooks/, as Jupyter would,
    with the shared tiny cache."""
    if not request.module.__name__.startswith("test_parameters"):
        yield
        return
    from lesson_parameters import NOTEBOOKS

    request.getfixturevalue("tiny_cache")
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.chdir(NOTEBOOKS)
    yield
