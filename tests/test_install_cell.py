"""helpers.install_cell: one install cell in every lesson, that installs on Colab and fails clearly anywhere."""

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from helpers.install_cell import BADGE, CELL, CELL_METADATA, COLAB_METADATA

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_every_lessons_first_code_cell_is_the_install_cell(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    first_code = next(cell for cell in cells if cell["cell_type"] == "code")
    assert "".join(first_code["source"]) == CELL, "run `python -m helpers.install_cell` to write the cell into every lesson"
    assert first_code["metadata"].items() >= CELL_METADATA.items(), "folded on Colab: run `python -m helpers.install_cell`"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_every_lesson_has_a_colab_badge_and_asks_colab_for_a_gpu(notebook):
    content = json.loads(notebook.read_text())
    title = "".join(content["cells"][0]["source"])
    assert f"{BADGE}(https://colab.research.google.com/github/" in title and title.count(notebook.name) == 1
    for key, value in COLAB_METADATA.items():
        assert content["metadata"][key] == value


def _run_cell(monkeypatch, capsys, colab: bool, pip_result=None):
    """Execute the cell's code as a kernel would, with Colab faked and pip replaced by a recorder."""
    calls = []
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))

    def fake_run(command, **options):
        calls.append(command)
        return pip_result or subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    namespace = {}
    exec(compile(CELL, "install cell", "exec"), namespace)
    return calls, namespace, capsys.readouterr().out


def test_on_colab_it_installs_the_course_with_its_colab_extra_from_the_one_course_line(monkeypatch, capsys):
    calls, namespace, out = _run_cell(monkeypatch, capsys, colab=True)
    assert len(calls) == 1
    command = calls[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[-1] == f"sdxl-by-hand[colab] @ git+{namespace['COURSE']}"
    assert "@" in namespace["COURSE"].split("github.com/")[1], "a revision after @"
    assert "course code:" in out


def test_outside_colab_it_installs_nothing_and_finds_the_helpers(monkeypatch, capsys):
    calls, _, out = _run_cell(monkeypatch, capsys, colab=False)
    assert calls == [] and str(ROOT / "helpers") in out


def test_a_failed_install_stops_at_once_with_pips_words(monkeypatch, capsys):
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: Repository not found.")
    with pytest.raises(RuntimeError, match=r"(?s)Check the address.*Repository not found"):
        _run_cell(monkeypatch, capsys, colab=True, pip_result=failed)


def test_without_the_helpers_it_says_how_to_install_them(tmp_path):
    # A Python that cannot import helpers: no site-packages (-S), run from an empty folder.
    done = subprocess.run([sys.executable, "-I", "-S", "-c", CELL], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0 and "make lab" in done.stderr and "Traceback" in done.stderr


def _setuptools_builds_it() -> bool:
    """Whether this Python's own setuptools satisfies pyproject.toml's build-system requirement."""
    import tomllib
    from importlib import metadata

    from packaging.requirements import Requirement

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    wanted = next(Requirement(line) for line in requires if line.startswith("setuptools"))
    try:
        return wanted.specifier.contains(metadata.version("setuptools"))
    except metadata.PackageNotFoundError:
        return False


def test_the_package_installs_from_git_with_its_data_and_the_colab_extra(tmp_path):
    """What the cell's pip command does on Colab, from this repository's last commit, offline."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    requirement = f"sdxl-by-hand[colab] @ git+file://{ROOT}@{head}"
    # Offline where this Python's setuptools can build the package; Colab's (75.2) is older than the build-system's
    # floor, so there pip fetches the build requirements from PyPI, as the install cell does on Colab.
    isolation = ["--no-build-isolation"] if _setuptools_builds_it() else []
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *isolation,
                           "--target", str(tmp_path / "site"), requirement], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    installed = tmp_path / "site" / "helpers"
    assert (installed / "tiny" / "configs" / "sdxl-base" / "unet" / "config.json").is_file()
    assert (installed / "tiny" / "tokenizer" / "merges.txt").is_file()
    assert list((installed / "tiny" / "checkpoints").rglob("*.safetensors")), "tiny mode's weights travel with the package"
    assert (installed / "locale" / "pt_BR" / "LC_MESSAGES" / "helpers.mo").is_file(), \
        "the Portuguese lessons' install cell calls use_language('pt-BR'): the compiled catalogue travels with the package"
    metadata = next((tmp_path / "site").glob("sdxl_by_hand-*.dist-info")) / "METADATA"
    text = metadata.read_text()
    assert "Provides-Extra: colab" in text and "peft>=0.18; extra == \"colab\"" in text
    assert "jupyterlab" not in text.split("Provides-Extra: lab")[0], "Colab needs no JupyterLab"
