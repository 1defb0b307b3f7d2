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

# `make test` runs the suite in parallel (pytest-xdist, `-n 2 --dist loadfile`: all cells of a notebook in one
# worker, in order). Each worker and the notebook kernels it starts get an equal share of the cores: two
# workers with a torch thread each run the tiny models faster than one worker with two threads, whose
# small matrix products gain little from the second thread.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, str(_share))
# Where a test or a lesson asks for more torch threads than it has cores to itself (lesson 11 compares 1 and 2 threads,
# the generation script's tests start processes with 2), OpenMP's idle threads would spin while waiting for cores the
# other worker holds: measured on 2 busy cores, a 2-thread call of the tiny SDXL took 2-10 s of CPU instead of 0.2 s.
# Passive waiting changes only how idle threads wait, never what is computed.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The longest files start first, so that no worker is left with one of them at the end. Known from
# `pytest --durations`; a file not listed keeps its place after them.
LONGEST_FIRST = (  # measured 2026-12-07 (--durations=0, 371 s of work): 56, 47, 30, 27, 22, 21, 20, 18, 12, 11, 10 s
    "notebooks/03_train_a_tiny_diffusion_model.ipynb",
    "notebooks/10_lora_fine_tuning.ipynb",
    "notebooks/14_few_step_models.ipynb",
    "notebooks/11_generating_at_scale.ipynb",
    "notebooks/13_prompt_weights_and_controlnet.ipynb",
    "notebooks/05_sdxl_base.ipynb",
    "tests/test_tiny_sdxl.py",
    "notebooks/12_inpainting_and_inversion.ipynb",
    "notebooks/08_speed_and_memory.ipynb",
    "notebooks/02_schedulers.ipynb",
    "tests/test_rehearsal.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: cells keep their order


@pytest.fixture(autouse=True)
def _deprecations_are_errors():
    from helpers.warnings_policy import make_deprecations_errors

    make_deprecations_errors()
