"""The first code cell of every lesson: install the course on Colab, and fail early and clearly anywhere.

On Colab the cell is folded to its title (Colab's `cellView: form`): plumbing, not the lesson; a click shows the
code. The lessons hold copies of `CELL`; tests/test_install_cell.py checks that every lesson's first code cell
is exactly this text and runs it. To change it, edit `CELL` and run `python -m helpers.install_cell`,
which writes it into every lesson. A fork (or a workshop pinned to a tag) edits the one `COURSE` line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CELL = '''\
# @title Install the course (on Colab; elsewhere `make lab` did) { display-mode: "form" }
# Colab starts without the course's code: install it (elsewhere, `make lab` did). A fork or a pinned workshop
# edits this one line: the repository and, after @, the branch, tag or commit.
COURSE = "https://github.com/sdxl-by-hand/sdxl-by-hand@main"
import importlib, subprocess, sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "--quiet", f"sdxl-by-hand[colab] @ git+{COURSE}"]
    done = subprocess.run(pip, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Installing the course from {COURSE} failed. Check the address and the revision after @, "
                           f"and that the runtime is online. pip said:\\n{done.stderr[-1500:]}")
    importlib.invalidate_caches()
try:
    import helpers
except ModuleNotFoundError:
    raise ModuleNotFoundError("The course's `helpers` are not installed in this Python: from the repository, run "
                              "`make lab` (README), or open the lesson in Colab.") from None
helpers.use_language("en")  # the language of the course's own messages: its checks, exercises and helpers
print("course code:", helpers.__path__[0])'''

BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
COLAB_URL = "https://colab.research.google.com/github/sdxl-by-hand/sdxl-by-hand/blob/main/notebooks/{name}"
CELL_METADATA = {"cellView": "form"}  # Colab shows the cell folded to its @title line
COLAB_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []}}


def badge(name: str) -> str:
    """The "Open in Colab" badge line for the lesson file `name`."""
    return f"{BADGE}({COLAB_URL.format(name=name)})"


def write_into(notebook: Path) -> None:
    """Make the lesson's first code cell `CELL` (folded on Colab), its title cell carry the badge, its metadata ask for a GPU."""
    content = json.loads(notebook.read_text(encoding="utf-8"))
    cells = content["cells"]
    first_code = next(cell for cell in cells if cell["cell_type"] == "code")
    first_code["source"] = CELL.splitlines(keepends=True)
    first_code["metadata"].update(CELL_METADATA)
    title = cells[0]
    lines = [line for line in "".join(title["source"]).split("\n") if not line.startswith(BADGE)]
    title["source"] = "\n".join([lines[0], "", badge(notebook.name), *lines[1:]]).replace("\n\n\n", "\n\n").splitlines(keepends=True)
    content["metadata"].update(COLAB_METADATA)
    notebook.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    for path in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb")):
        write_into(path)
        print("wrote", path.name, file=sys.stderr)
