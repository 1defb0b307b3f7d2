"""Feed a lesson bad parameters, as a learner would with papermill, and see what its settings cell says.

Every lesson checks every parameter in its settings cell, the first code cell after the parameters cell, before
any work. `settings_error(lesson, **parameters)` injects the parameters with papermill's own
`parameterize_notebook` (what `papermill -p` does) and runs the lesson's cells in this process, up to and
including the settings cell; it returns the exception raised there, or None. Running the cells in-process takes
milliseconds where a kernel per bad value would take seconds; the cells are the notebook's own.

Used by tests/test_parameters_lessonNN.py (one per lesson).
"""

from __future__ import annotations

import json
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def notebook_path(lesson: str) -> Path:
    """The notebook of lesson "NN"."""
    (path,) = NOTEBOOKS.glob(f"{lesson}_*.ipynb")
    return path


def _settings_cells(notebook) -> list:
    """The code cells up to and including the first code cell after the (injected) parameters."""
    cells = notebook.cells
    tags = [cell.metadata.get("tags", []) for cell in cells]
    last_parameters = max(i for i, t in enumerate(tags) if "parameters" in t or "injected-parameters" in t)
    settings = next(i for i in range(last_parameters + 1, len(cells)) if cells[i].cell_type == "code")
    return [cell for cell in cells[: settings + 1] if cell.cell_type == "code"]


def settings_error(lesson: str, **parameters) -> BaseException | None:
    """Run lesson `lesson`'s cells through its settings cell with `parameters` injected; the exception it raised."""
    notebook = load_notebook_node(str(notebook_path(lesson)))
    notebook = parameterize_notebook(notebook, parameters, kernel_name="python3", language="python")
    transform = TransformerManager().transform_cell
    namespace = {"__name__": "__main__"}
    for cell in _settings_cells(notebook):
        try:
            exec(compile(transform(cell.source), f"<{lesson} cell>", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 (what the learner would see)
            return error
    return None


def assert_refused(lesson: str, name: str, fragment: str = "", **parameters) -> str:
    """Assert the settings cell refuses `parameters` with a ValueError naming `name` (and containing `fragment`)."""
    error = settings_error(lesson, **parameters)
    assert error is not None, f"lesson {lesson} accepted {parameters}"
    assert isinstance(error, ValueError), f"lesson {lesson} with {parameters}: {type(error).__name__}: {error}"
    message = str(error)
    assert name in message, f"lesson {lesson} with {parameters}: the message does not name {name!r}: {message}"
    assert fragment in message, f"lesson {lesson} with {parameters}: {fragment!r} not in {message!r}"
    return message


def parameter_names(lesson: str) -> list[str]:
    """The names set in a lesson's parameters cell."""
    notebook = json.loads(notebook_path(lesson).read_text())
    (cell,) = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    return [line.split("=")[0].strip() for line in "".join(cell["source"]).splitlines() if "=" in line.split("#")[0]]
