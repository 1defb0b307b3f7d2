"""tests/colab: the Colab package list, its refresh script and the pieces of `make colab-test` that need no Colab set."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "colab"))
import refresh  # noqa: E402
import run  # noqa: E402


def test_the_committed_list_is_dated_names_colabs_python_and_pins_every_root():
    text = run.PACKAGES.read_text()
    listed = run.parse_packages(text)
    assert text.startswith("# Colab's GPU runtime as of 20") and "googlecolab/backend-info" in text.splitlines()[0]
    assert listed.python.startswith("3.")
    assert {refresh.canonical(name) for name in refresh.ROOTS} <= set(listed.pins), "refresh.py keeps every root"
    assert all(version and "+" not in version for version in listed.pins.values()), "PyPI versions, no local tags"


def test_a_freeze_is_read_into_pypi_versions():
    freeze = "torch==2.11.0+cu128\nJupyter_Client==7.4.9\nkernel_gateway @ git+https://example.invalid/x@abc\n-e .\n"
    assert refresh.read_freeze(freeze) == {"torch": "2.11.0", "jupyter-client": "7.4.9"}


def test_the_list_is_rendered_with_its_date_source_and_python_and_marks_what_colab_lacks():
    text = refresh.render({"torch": "2.11.0", "jedi": "0.20.1", "nvidia-cublas": "13.1"}, {"torch": "2.11.0"},
                          date="2026-08-19", python="3.13.15", source="googlecolab/backend-info a724079")
    listed = run.parse_packages(text)
    assert listed.python == "3.13.15" and listed.pins == {"jedi": "0.20.1", "nvidia-cublas": "13.1", "torch": "2.11.0"}
    assert "2026-08-19" in text.splitlines()[0]
    assert "jedi==0.20.1  # not in Colab's freeze" in text and "nvidia-cublas==13.1\n" in text


def test_a_list_without_its_python_line_or_with_a_bare_name_is_refused():
    with pytest.raises(ValueError, match="python"):
        run.parse_packages("torch==2.11.0\n")
    with pytest.raises(ValueError, match="name==version"):
        run.parse_packages("# python: 3.13.15\ntorch\n")


def test_the_python_named_by_colab_python_is_used_when_it_is_the_right_version():
    this = f"{sys.version_info.major}.{sys.version_info.minor}.9"
    assert Path(run.find_python(this, {"COLAB_PYTHON": sys.executable})).exists()


def test_a_wrong_colab_python_says_what_to_do(capsys):
    with pytest.raises(SystemExit) as stopped:
        run.find_python("2.7.18", {"COLAB_PYTHON": sys.executable})
    assert stopped.value.code == 2 and "is not a working Python 2.7" in capsys.readouterr().err


def test_no_python_of_that_version_anywhere_says_how_to_get_one(monkeypatch, capsys):
    monkeypatch.setattr(run, "_pyenv_candidates", lambda minor: [])
    with pytest.raises(SystemExit):
        run.find_python("3.99.1", {"PATH": "/nonexistent"})
    message = capsys.readouterr().err
    assert "no Python 3.99 was found" in message and "COLAB_PYTHON=" in message and "pyenv install 3.99" in message


def test_the_install_command_is_the_install_cells_own_with_the_snapshot_as_course():
    from helpers.install_cell import CELL

    command = run.install_cell_command(Path("/venv/bin/python"), "file:///tmp/course@abc123")
    assert command[0] == "/venv/bin/python" and command[-1] == "sdxl-by-hand[colab] @ git+file:///tmp/course@abc123"
    assert " ".join(f'"{part}"' for part in command[1:-1]) in CELL.replace(", ", " ")


def test_the_snapshot_is_a_commit_of_the_working_tree_that_pip_can_install(tmp_path):
    course = run.snapshot_commit(tmp_path)
    url, commit = course.rsplit("@", 1)
    repo = Path(url.removeprefix("file://"))
    listed = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    assert "pyproject.toml" in listed and "helpers/install_cell.py" in listed and "tests/test_colab.py" in listed
    assert not any(name.startswith((".venv", "_site")) for name in listed), "ignored files stay out"
    assert len(commit) == 40


def test_lessons_run_longest_first_and_outside_the_repository(tmp_path):
    assert run.order(["00_a.ipynb", "10_b.ipynb", "03_c.ipynb", "09_d.ipynb"])[:2] == ["03_c.ipynb", "10_b.ipynb"]
    environment = run.lesson_environment(tmp_path / "venv", tmp_path / "cache")
    assert environment["PATH"].startswith(str(tmp_path / "venv" / "bin"))
    assert environment["SDXL_TUTORIAL_MODE"] == "tiny" and environment["HF_HUB_OFFLINE"] == "1"
    assert "PYTHONPATH" not in environment and str(ROOT) not in environment["SDXL_TUTORIAL_CACHE"]


def test_too_little_disk_for_the_colab_set_says_so_before_installing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run.shutil, "disk_usage", lambda path: type("Usage", (), {"free": 2 * 2**30})())
    monkeypatch.setattr(run, "_run", lambda *args, **kwargs: pytest.fail("nothing may be installed"))
    with pytest.raises(SystemExit) as stopped:
        run.build_colab_set(tmp_path / "venv", sys.executable, run.parse_packages("# python: 3.13.15\ntorch==2.11.0\n"))
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert "not enough disk space" in message and "2.0 GiB are free" in message and f"{run.VENV_GIB} GiB" in message
