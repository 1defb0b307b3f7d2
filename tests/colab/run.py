"""`make colab-test`: the course on Colab's own package set, installed the way a learner's Colab installs it.

Colab is not CI's newest-libraries Python 3.11: it runs Python 3.13 with its own, older versions, and the lessons'
install cell resolves the course's requirements on top of them. This script rebuilds that and runs the course there:

1. It finds a Python 3.13 the way a user's machine would: `COLAB_PYTHON` if set, else `python3.13` on PATH, else a
   pyenv-installed 3.13. None: it stops and says how to get one.
2. It builds `.venv-colab` (once per packages.txt; a later run puts back what the install cell upgraded) with
   exactly the versions in tests/colab/packages.txt: Colab's GPU runtime, dated, reduced to what the course touches (refresh it from a newer
   freeze with tests/colab/refresh.py). torch is the registry's default build for Linux (PyPI has no CPU-only torch
   for Linux; its default is a CUDA build that also runs on a CPU), about 3 GB with its CUDA libraries.
3. It runs the install cell's own pip command (the `pip = [...]` line of helpers/install_cell.CELL) with COURSE
   pointing at a snapshot of this checkout (a git commit of the working tree, so uncommitted changes are tested
   too), and prints what that upgraded: what a learner on Colab gets. Test tools (papermill, pytest, nbval) come
   last, constrained to leave every installed version as it is.
4. It runs every lesson in tiny mode with papermill, two at a time, in a working folder outside the repository (as
   Colab's /content: a lesson must not depend on the checkout's files), with the test run's settings (offline,
   static widgets, our deprecations as errors). nbval is not used: it hangs on Colab's jupyter_client 7.4.9.
5. It runs the unit tests that touch version-sensitive code (UNIT_TESTS) with that Python.

    python tests/colab/run.py [--lessons 05 09] [--skip-unit] [--venv DIR] [--jobs 2] [--keep]

Exit status 0 only if every lesson and unit test passed.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PACKAGES = HERE / "packages.txt"
NOTEBOOKS = ROOT / "notebooks"
# The unit tests whose code meets the libraries' versions: hosted inference (huggingface_hub, httpx), the forms and
# widgets (ipywidgets 7 on Colab), the generation script (accelerate, diffusers), the install cell, the warnings policy,
# the CLIP tokenizer files (tokenizers, transformers).
UNIT_TESTS = ["tests/test_hosted.py", "tests/test_notebook_09.py", "tests/test_forms.py", "tests/test_display.py",
              "tests/test_generate.py", "tests/test_install_cell.py", "tests/test_warnings_policy.py",
              "tests/test_clip_tokenizer.py", "tests/test_colab.py", "tests/test_checks.py",
              # every lesson's settings cell with bad parameters (papermill's injection, the lesson's own checks)
              *sorted(f"tests/{path.name}" for path in HERE.parent.glob("test_parameters*.py"))]
TEST_TOOLS = ["papermill", "nbval", "pytest"]
# Disk space a new .venv-colab needs: measured 5.2 GiB installed (torch and its CUDA libraries 4.5 GiB), plus the wheels
# (about 3 GiB) that pip downloads and unpacks on the way.
VENV_GIB = 9
LONGEST_FIRST = ["03", "14", "10", "11", "13", "12", "05", "02", "08"]  # lesson numbers; the rest follow in order


class ColabTestError(SystemExit):
    """A setup problem with a message that says what to do (exit status 2)."""

    def __init__(self, message: str):
        print(f"colab-test: {message}", file=sys.stderr)
        super().__init__(2)


@dataclass
class PackageList:
    python: str  # Colab's Python version, e.g. "3.13.15"
    pins: dict[str, str]  # canonical name -> version


def parse_packages(text: str) -> PackageList:
    """The `# python: X.Y.Z` line and the `name==version` lines of packages.txt."""
    python = re.search(r"^# python: (\d+\.\d+(?:\.\d+)?)\s*$", text, re.MULTILINE)
    if not python:
        raise ValueError("packages.txt has no '# python: X.Y.Z' line")
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            if not version:
                raise ValueError(f"packages.txt: {line!r} is not name==version")
            pins[name] = version
    return PackageList(python.group(1), pins)


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _version_of(python: str) -> tuple[str, str] | None:
    """(X.Y.Z, sys.executable) of an interpreter that runs, else None."""
    try:
        done = subprocess.run([python, "-c", "import platform, sys; print(platform.python_version(), sys.executable)"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout.strip():
        return None  # e.g. a pyenv shim for a version that is installed but not selected
    version, executable = done.stdout.split(maxsplit=1)
    return version, executable.strip()


def _pyenv_candidates(minor: str) -> list[str]:
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return []
    done = subprocess.run([pyenv, "root"], capture_output=True, text=True)
    versions = Path(done.stdout.strip() or Path.home() / ".pyenv") / "versions"
    return [str(path / "bin" / f"python{minor}") for path in sorted(versions.glob(f"{minor}.*"), reverse=True)]


def find_python(version: str, environ=os.environ) -> str:
    """The path of a Python with `version`'s major.minor: COLAB_PYTHON, python3.13 on PATH, or pyenv's."""
    minor = _minor(version)
    named = environ.get("COLAB_PYTHON")
    candidates = [named] if named else [f"python{minor}", *_pyenv_candidates(minor)]
    for candidate in candidates:
        found = _version_of(candidate)
        if found and _minor(found[0]) == minor:
            return found[1]
    if named:
        raise ColabTestError(f"COLAB_PYTHON={named} is not a working Python {minor} (Colab's version is {version}). "
                             f"Point it at a python{minor} executable, or unset it to look for python{minor} on PATH.")
    raise ColabTestError(f"Colab runs Python {version}, and no Python {minor} was found: not `python{minor}` on PATH, "
                         f"nor in pyenv. Install one (e.g. `pyenv install {minor}`, or your system's python{minor} "
                         f"package), then run again, or name it: make colab-test COLAB_PYTHON=/path/to/python{minor}")


def _run(command, **options):
    """Run a command; on failure stop with the command and the end of its output."""
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, **options)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise ColabTestError(f"`{' '.join(map(str, command))}` failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def canonical(name: str) -> str:
    """PEP 503 name (packaging's canonicalize_name; this script runs on any Python, without packaging)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def freeze(python: Path) -> dict[str, str]:
    out = _run([python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"])
    pins = {}
    for line in out.splitlines():
        name, _, version = line.partition("==")
        if version:
            pins[canonical(name)] = version
    return pins


def build_colab_set(venv: Path, python: str, packages: PackageList) -> None:
    """A venv with exactly Colab's versions (packages.txt). It is built once per packages.txt; a later run puts back
    whatever the previous run's install cell upgraded, so every run starts from Colab's versions."""
    stamp = hashlib.sha256(PACKAGES.read_bytes() + python.encode()).hexdigest()
    stamp_file = venv / ".colab-stamp"
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check"]
    started = time.monotonic()
    if not (stamp_file.exists() and stamp_file.read_text() == stamp):
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(venv.parent).free / 2**30
        if free < VENV_GIB:
            raise ColabTestError(f"not enough disk space to build {venv}: Colab's package set takes about {VENV_GIB} GiB "
                                 f"while it installs (its CUDA build of torch), and {free:.1f} GiB are free there. Free "
                                 f"some space (old clones, `pip cache purge`) or pass --venv DIR on another disk.")
        _run([python, "-m", "venv", venv])
        _run([*pip, "install", "--quiet", f"pip=={packages.pins.get('pip', '24.1.2')}"])  # Colab's pip resolves
    _run([*pip, "install", "--quiet", "-r", PACKAGES])
    stamp_file.write_text(stamp)
    print(f"Colab's package set: {len(packages.pins)} packages in {venv} ({time.monotonic() - started:.0f} s)")


def snapshot_commit(scratch: Path) -> str:
    """A git repository holding the checkout's working tree as one commit (tracked and untracked, not ignored files);
    returns `file://...@<commit>`, a COURSE value the install cell's `git+` requirement can install from."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).split("\0")
    repo = scratch / "course"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    identity = {"GIT_AUTHOR_NAME": "colab-test", "GIT_AUTHOR_EMAIL": "colab-test@localhost",
                "GIT_COMMITTER_NAME": "colab-test", "GIT_COMMITTER_EMAIL": "colab-test@localhost"}
    environment = {**os.environ, **identity}
    _run(["git", "init", "--quiet", repo])
    _run(["git", "add", "--all"], cwd=repo, env=environment)
    _run(["git", "commit", "--quiet", "-m", "snapshot of the working tree"], cwd=repo, env=environment)
    commit = _run(["git", "rev-parse", "HEAD"], cwd=repo).strip()
    return f"file://{repo}@{commit}"


def install_cell_command(python: Path, course: str) -> list[str]:
    """The install cell's own pip command (its `pip = [...]` line), for this Python and this COURSE."""
    module = ast.parse((ROOT / "helpers" / "install_cell.py").read_text())  # importing helpers would need torch here
    CELL = next(ast.literal_eval(node.value) for node in module.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "CELL")
    line = next(line.strip() for line in CELL.splitlines() if line.strip().startswith("pip = ["))
    namespace = {"sys": type("sys", (), {"executable": str(python)}), "COURSE": course}
    exec(line, namespace)  # the cell's own text, nothing else
    return namespace["pip"]


def install_course(venv: Path, scratch: Path) -> dict[str, tuple[str, str]]:
    """Run the install cell's command; return what it changed: {name: (before, after)}."""
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "uninstall", "--quiet", "--yes", "sdxl-by-hand"])
    before = freeze(python)
    command = install_cell_command(python, snapshot_commit(scratch))
    print("install cell:", " ".join(command[1:4]), "...", command[-1].replace(str(scratch), "<snapshot>"))
    _run(command)
    after = freeze(python)
    return {name: (before.get(name, "-"), version) for name, version in after.items() if before.get(name) != version}


def install_test_tools(venv: Path, scratch: Path) -> None:
    """papermill, nbval and pytest, leaving every installed version as it is (pip stops if one would have to move)."""
    python = venv / "bin" / "python"
    constraints = scratch / "installed.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in freeze(python).items()
                                   if name != "sdxl-by-hand"))
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", constraints, *TEST_TOOLS])


def lesson_environment(venv: Path, cache: Path) -> dict[str, str]:
    """The test run's settings (conftest.py), a fresh tiny cache, and nothing that points into the checkout."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not key.startswith("SDXL_TUTORIAL_")}
    environment.update(PATH=f"{venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}", VIRTUAL_ENV=str(venv),
                       SDXL_TUTORIAL_MODE="tiny", HF_HUB_OFFLINE="1", SDXL_TUTORIAL_STATIC="1",
                       SDXL_TUTORIAL_STRICT_WARNINGS="1", SDXL_TUTORIAL_CACHE=str(cache), TQDM_MININTERVAL="5",
                       OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    return environment


def order(names: list[str]) -> list[str]:
    rank = {number: position for position, number in enumerate(LONGEST_FIRST)}
    return sorted(names, key=lambda name: (rank.get(name[:2], len(rank)), name))


def run_lesson(venv: Path, notebook: Path, workdir: Path, out: Path, environment) -> tuple[bool, float, str]:
    """papermill in a fresh kernel, its working folder outside the repository; (passed, seconds, error tail)."""
    started = time.monotonic()
    done = subprocess.run([venv / "bin" / "papermill", notebook, out / notebook.name, "--cwd", workdir,
                           "--kernel", "python3", "--no-progress-bar"],
                          capture_output=True, text=True, env=environment, cwd=workdir)
    seconds = time.monotonic() - started
    return done.returncode == 0, seconds, "" if done.returncode == 0 else done.stderr[-2500:]


def run_lessons(venv: Path, scratch: Path, wanted: list[str] | None, jobs: int) -> list[tuple[str, bool, float]]:
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    if wanted:
        notebooks = [path for path in notebooks if path.name[:2] in wanted]
    workdir, out = scratch / "content", scratch / "executed"
    workdir.mkdir()
    out.mkdir()
    environment = lesson_environment(venv, scratch / "tiny-cache")
    by_name = {path.name: path for path in notebooks}
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_lesson, venv, by_name[name], workdir, out, environment): name
                   for name in order(list(by_name))}
        for future in concurrent.futures.as_completed(futures):
            name = futures[future]
            passed, seconds, error = future.result()
            print(f"  {name}: {'passed' if passed else 'FAILED'} in {seconds:.0f} s", flush=True)
            if error:
                print("    " + error.replace("\n", "\n    "), flush=True)
            results.append((name, passed, seconds))
    return sorted(results)


def run_unit_tests(venv: Path, scratch: Path) -> bool:
    environment = lesson_environment(venv, scratch / "unit-cache")
    command = [venv / "bin" / "python", "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=-ra", "-q",
               "-p", "no:nbval", *UNIT_TESTS]
    return subprocess.run([str(part) for part in command], cwd=ROOT, env=environment).returncode == 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The course on Colab's package set (README: make colab-test).")
    parser.add_argument("--lessons", nargs="*", help="lesson numbers, e.g. 05 09 (default: every lesson)")
    parser.add_argument("--skip-unit", action="store_true", help="run the lessons only")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv-colab")
    parser.add_argument("--jobs", type=int, default=2, help="lessons run side by side (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the executed notebooks and the working folder")
    args = parser.parse_args(argv)

    packages = parse_packages(PACKAGES.read_text())
    python = find_python(packages.python)
    print(f"Python {_version_of(python)[0]} for Colab's {packages.python} ({PACKAGES.name}): {python}")
    build_colab_set(args.venv, python, packages)
    scratch = Path(tempfile.mkdtemp(prefix="colab-test-"))
    try:
        changed = install_course(args.venv, scratch)
        print("the install cell changed:", ", ".join(f"{name} {old} -> {new}" for name, (old, new) in sorted(changed.items())))
        install_test_tools(args.venv, scratch)
        started = time.monotonic()
        print(f"lessons in tiny mode, from {scratch / 'content'} (outside the repository):", flush=True)
        results = run_lessons(args.venv, scratch, args.lessons, args.jobs)
        passed = sum(ok for _, ok, _ in results)
        print(f"lessons: {passed} of {len(results)} passed in {time.monotonic() - started:.0f} s", flush=True)
        units_ok = args.skip_unit or run_unit_tests(args.venv, scratch)
    finally:
        if args.keep:
            print("kept:", scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0 if passed == len(results) and units_ok else 1


if __name__ == "__main__":
    sys.exit(main())
