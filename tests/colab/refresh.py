"""Refresh tests/colab/packages.txt, the Colab package set `make colab-test` rebuilds, from a newer Colab freeze.

Colab publishes what its runtimes hold in the repository googlecolab/backend-info: `pip-freeze.gpu.txt` (the
GPU runtime's `pip freeze`) and `os-info-gpu.txt` (its Python version). Save the two files, then:

    python tests/colab/refresh.py pip-freeze.gpu.txt --date 2026-08-19 --python 3.13.15 \
        --source "googlecolab/backend-info a724079"

It keeps only what the course touches: the packages in ROOTS and everything they need, resolved by Python 3.13's
pip (`pip install --dry-run --report`, which reads package metadata from PyPI) with Colab's versions as
constraints. torch's own CUDA libraries (nvidia-*, cuda-*, triton) are left to torch: Colab's come from PyTorch's index,
PyPI's torch names its own. A local version tag (`2.11.0+cu128`) is dropped: PyPI has no such build.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PACKAGES, canonical, find_python, parse_packages  # noqa: E402

# What Colab ships that the lessons, the install cell and the selected tests import. Their dependencies come along.
ROOTS = [
    "torch", "diffusers", "transformers", "huggingface_hub", "accelerate", "peft", "safetensors", "tokenizers",
    "pillow", "matplotlib", "numpy", "tqdm", "psutil", "filelock", "httpx", "requests",
    "ipython", "ipykernel", "ipywidgets", "jupyter_client", "nbformat", "nbclient", "nbconvert",
    "pytest", "pip", "setuptools",
]
LEFT_TO_TORCH = re.compile(r"^(nvidia-.*|cuda-.*|triton)$")


def read_freeze(text: str) -> dict[str, str]:
    """{canonical name: version} of a `pip freeze`'s `name==version` lines, local version tags dropped."""
    pins = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s+;#]+)(\+\S+)?", line.strip())
        if match:  # `name @ git+...` and `-e` lines are not on PyPI: left out
            pins[canonical(match[1])] = match[2]
    return pins


def resolve(python: str, pins: dict[str, str]) -> dict[str, str]:
    """What `pip install ROOTS` would install on a fresh Python with Colab's versions as constraints."""
    constraints = [f"{name}=={version}" for name, version in pins.items() if not LEFT_TO_TORCH.match(name)]
    with tempfile.TemporaryDirectory() as scratch:
        constraint_file = Path(scratch, "constraints.txt")
        constraint_file.write_text("\n".join(constraints) + "\n")
        report = Path(scratch, "report.json")
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
                        "--report", str(report), "-c", str(constraint_file), *ROOTS], check=True)
        installed = json.loads(report.read_text())["install"]
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in installed}


def render(resolved: dict[str, str], pins: dict[str, str], *, date: str, python: str, source: str) -> str:
    lines = [
        f"# Colab's GPU runtime as of {date}: {source}, pip-freeze.gpu.txt, reduced to what the course touches",
        f"# (tests/colab/refresh.py). `make colab-test` installs exactly these, then the lessons' install cell.",
        f"# python: {python}",
    ]
    for name in sorted(resolved):
        note = "" if name in pins or LEFT_TO_TORCH.match(name) else "  # not in Colab's freeze: pip's choice"
        lines.append(f"{name}=={resolved[name]}{note}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("freeze", type=Path, help="Colab's pip-freeze.gpu.txt")
    parser.add_argument("--date", required=True, help="the freeze's date (the commit date in backend-info)")
    parser.add_argument("--python", required=True, help="Colab's Python version (os-info-gpu.txt), e.g. 3.13.15")
    parser.add_argument("--source", default="googlecolab/backend-info", help="where the freeze comes from")
    parser.add_argument("--out", type=Path, default=PACKAGES)
    args = parser.parse_args(argv)
    pins = read_freeze(args.freeze.read_text())
    interpreter = find_python(args.python)
    resolved = resolve(interpreter, pins)
    args.out.write_text(render(resolved, pins, date=args.date, python=args.python, source=args.source))
    listed = parse_packages(args.out.read_text())
    print(f"wrote {args.out}: {len(listed.pins)} packages for Python {listed.python}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
