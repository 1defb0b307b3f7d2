"""Every lesson's exercises: run alone as committed (they must say "not done yet", never crash) and with the
instructor's solution from solutions/ (it must say "right"). Each lesson has at least two."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from pathlib import Path

import pytest

from helpers import exercises

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PREAMBLE = "import numpy as np\nimport torch\nimport helpers\nfrom helpers.exercises import *\n"


def exercise_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if "exercise" in c["metadata"].get("tags", [])]


def solutions(notebook: Path) -> dict[str, str]:
    path = ROOT / "solutions" / f"lesson{notebook.name[:2]}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SOLUTIONS


def run_cell(source: str) -> tuple[dict, str]:
    """Execute an exercise cell alone; return the verdicts it produced and what it printed."""
    exercises.RESULTS.clear()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(PREAMBLE + source, "<exercise>", "exec"), {})
    return dict(exercises.RESULTS), printed.getvalue()


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_at_least_two_exercises_each_with_a_solution(notebook):
    cells = exercise_cells(notebook)
    assert len(cells) >= 2, f"{notebook.name} has {len(cells)} exercise cells (tag 'exercise'); it needs two or more"
    names = set()
    for source in cells:
        verdicts, _ = run_cell(source)
        assert len(verdicts) == 1, f"an exercise cell must call exactly one check:\n{source}"
        names |= set(verdicts)
    assert names == set(solutions(notebook)), "solutions/ must have exactly one solution per exercise"


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.stem)
def test_exercises_as_committed_say_not_done_yet(notebook):
    for source in exercise_cells(notebook):
        verdicts, printed = run_cell(source)
        (result,) = verdicts.values()
        assert result.ok is None, f"{result.name}: as committed it should be 'not done yet', got: {result.message}"
        assert "Not done yet" in printed and "Traceback" not in printed


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.stem)
def test_exercises_with_the_solution_filled_in_say_right(notebook):
    for name, source in solutions(notebook).items():
        verdicts, printed = run_cell(source)
        assert verdicts[name].ok is True, f"{name}: the solution should pass, got: {verdicts[name].message}"
        assert "Right" in printed


def test_a_check_reports_an_exception_in_the_learners_code_politely():
    def broken(*args):
        raise ZeroDivisionError("division by zero")

    value, message = exercises.call("demo", broken, 1)
    assert value is None and message == "your function raised ZeroDivisionError: division by zero"
    assert exercises.call("demo", 3)[1].startswith("expected a function")


def test_compare_helpers_say_what_differs_without_the_answer():
    import torch

    expected = torch.ones(2, 3)
    assert exercises.compare_tensors(expected.clone(), expected, "x") is None
    assert "shape (3, 2)" in exercises.compare_tensors(torch.ones(3, 2), expected, "x")
    assert "off by up to 1" in exercises.compare_tensors(expected * 2, expected, "x")
    assert exercises.compare_tensors(expected * float("nan"), expected, "x") is not None
    assert exercises.compare_number(5, 3.0, "n") == "n = 5 is too large."
    assert exercises.compare_number(3.0, 3.0, "n") is None
    assert "should be a number" in exercises.compare_number("3", 3.0, "n")
