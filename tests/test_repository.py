"""The repository itself: clean notebooks, no secrets, one dependency list, CI runs the README's command."""

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TOKEN_SHAPE = re.compile(r"hf_[A-Za-z0-9]{30,}")


def tracked_files():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_there_are_lessons():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_setup.ipynb"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebooks_are_committed_clean(notebook):
    content = json.loads(notebook.read_text())
    code = [cell for cell in content["cells"] if cell["cell_type"] == "code"]
    assert not [cell for cell in code if cell.get("outputs")], "clear the outputs before committing"
    assert not [cell for cell in code if cell.get("execution_count")], "clear the execution counts"
    assert "widgets" not in content.get("metadata", {}), "widget state in the metadata (GitHub shows 'Invalid Notebook')"


LONGEST_LESSON = 60  # cells: a learner's pace (a lesson that needs more is split in two)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_every_lesson_keeps_a_learners_pace(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    assert len(cells) <= LONGEST_LESSON, f"{len(cells)} cells: trim the lesson or split it in two"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_every_notebook_has_one_papermill_parameters_cell(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    tagged = [cell for cell in cells if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and "mode = None" in "".join(tagged[0]["source"])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebooks_pass_dtype_to_every_from_pretrained(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    source = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    assert "torch_dtype" not in source, "diffusers 0.40 deprecated torch_dtype= for dtype="
    with_dtype = set(re.findall(r"(\w+) = dict\([^)]*\bdtype=", source))  # e.g. weights = dict(dtype=dtype, ...)
    calls = re.findall(r"(\w+)\.from_pretrained\(((?:[^()]|\([^()]*\))*)\)", source)
    assert calls or "from_pretrained" not in source
    for model_class, arguments in calls:
        if model_class.endswith(("Tokenizer", "Scheduler")):
            continue  # no weights, no dtype
        spread = set(re.findall(r"\*\*(\w+)", arguments))
        assert "dtype=" in arguments or spread & with_dtype, f"{model_class}.from_pretrained({arguments}) without dtype="


def test_no_tracked_file_holds_a_token_shaped_string():
    leaks = []
    for path in tracked_files():
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="ignore")
            leaks += [f"{path.relative_to(ROOT)}: {match[:6]}…" for match in TOKEN_SHAPE.findall(text)]
    assert not leaks, f"token-shaped strings are tracked: {leaks}"


def test_the_token_scan_finds_a_token_shaped_string():
    fake = "hf_" + "Ab3" * 12  # built at run time, so this file holds none
    assert TOKEN_SHAPE.search(f"token = '{fake}'")


def _requirement_names(requirements):
    return sorted(re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].lower().replace("_", "-") for requirement in requirements)


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [req for extra in project["optional-dependencies"].values() for req in extra]
    conda = (ROOT / "environment.yml").read_text()
    pip_section = [line.strip()[2:] for line in conda.split("- pip:")[1].splitlines() if line.strip().startswith("- ")]
    assert sorted(pip_section[:-1]) == sorted(set(declared)), "same names and the same version ranges (an extra may repeat a core one)"
    assert pip_section[-1] == "-e ."


def test_torch_is_a_range_that_the_ci_build_satisfies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    torch_requirement = next(req for req in project["dependencies"] if req.startswith("torch"))
    assert ">=" in torch_requirement and "==" not in torch_requirement
    from packaging.specifiers import SpecifierSet

    assert "2.13.0" in SpecifierSet(torch_requirement.removeprefix("torch"))


def test_ci_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test\b", ci, flags=re.M)
    assert 'torch==2.13.0' in ci


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_every_parameter_of_every_lesson_is_fed_a_bad_value(notebook):
    from lesson_parameters import parameter_names

    lesson = notebook.name[:2]
    tests = ROOT / "tests" / f"test_parameters_lesson{lesson}.py"
    assert tests.is_file(), f"{tests.relative_to(ROOT)} is missing: feed each parameter of {notebook.name} a bad value"
    source = tests.read_text()
    untested = [name for name in parameter_names(lesson) if not re.search(rf"[\"']{name}[\"']", source)]  # as its tables name them
    assert not untested, f"{tests.relative_to(ROOT)} feeds no bad value to {', '.join(untested)}"
