"""Wheels for the prepared GPU check (tools/rehearse_gpu.py) on a lent device machine, which reaches no network.

    python3 tools/device_wheels.py            # here, with network: fills .whl/ and prints what it holds
    python3 tools/device_wheels.py --check    # only resolves and prints the list; downloads nothing

The device image (Python 3.12, torch 2.11.0+cu130, transformers 5.17.0, ...; the lists are DEVICE_VERSIONS and
DEVICE_PACKAGES below, read off /work/.library/device/KINDS.md) lacks diffusers, papermill and the Jupyter kernel
stack. This script works out which wheels the check needs there and fetches exactly those:

1. `pip install --dry-run --report` for CPython 3.12 on manylinux x86_64 resolves the course's core dependencies
   (pyproject.toml) plus the test extra's papermill and ipykernel, with the device's known versions as constraints
   (so a range of ours that refuses one of them shows up as a resolution error).
2. From the resolved set it walks the real dependency metadata (Requires-Dist, markers evaluated for that machine)
   from those top-level requirements, stopping at any package the image already has (its own needs are met there):
   what it reaches that the image lacks, or holds at a version a range of ours refuses, is carried.
3. `pip download --no-deps --only-binary=:all:` fetches one wheel per package into .whl/ (ignored through
   .git/info/exclude); older wheels there are removed. The wheels plus the repository's files must stay well under
   the 64 MiB a device call carries.

On the device (one `run`, carry [".whl"], timeout_s 600), from the repository root:

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD   # papermill's kernels inherit it; `helpers` is not installed there
    timeout -s TERM 560 python3 tools/rehearse_gpu.py --out $OUT/rehearsal-gpu-results.md   # TERM: the table is written

Checked on a CPU with Python 3.12, the device's versions from PyPI and these wheels installed the same way:
`python tools/rehearse_gpu.py --cpu-smoke --lessons 06`. Besides pip, it needs only the standard library and
`packaging` (pip's own copy serves); pip runs under a Python 3.12 when one is found (a dry run checks Requires-Python
against pip's own Python).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / ".whl"
TRANSFER_LIMIT = 64 * 1024 * 1024  # what one device call carries: the working tree and the carried paths
HEADROOM = 0.75  # "well under": the repository and the wheels together at most 48 MiB

# The device image, as /work/.library/device/KINDS.md records it (pip list of 2026-11, package list of 2026-11-17).
PYTHON_VERSION = "3.12"
PYTHON_FULL_VERSION = "3.12.3"
DEVICE_VERSIONS = {
    "accelerate": "1.15.0", "huggingface-hub": "1.33.0", "numpy": "2.5.2", "safetensors": "0.8.0",
    "tokenizers": "0.23.2", "torch": "2.11.0", "transformers": "5.17.0", "triton": "3.6.0",
    "sentencepiece": "0.2.2", "torchvision": "0.26.0", "onnx": "1.23.1",
}
DEVICE_PACKAGES = set("""
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools
formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna
imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13
nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft
pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist
python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers
statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope
triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl
zipp
""".split())
# Of the test extra, what the check itself runs: papermill drives each lesson in an ipykernel kernel.
CHECK_EXTRAS = ("papermill", "ipykernel")
# The device's glibc (Ubuntu 24.04's Python 3.12.3: glibc 2.39); pip matches a manylinux_2_N tag exactly.
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in range(39, 4, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
MARKER_ENVIRONMENT = {
    "implementation_name": "cpython", "implementation_version": PYTHON_FULL_VERSION, "os_name": "posix",
    "platform_machine": "x86_64", "platform_python_implementation": "CPython", "platform_release": "",
    "platform_system": "Linux", "platform_version": "", "python_full_version": PYTHON_FULL_VERSION,
    "python_version": PYTHON_VERSION, "sys_platform": "linux",
}

try:  # packaging parses requirements (their markers too); pip, which this script runs anyway, carries a copy
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name as canonical  # PEP 503 name
    from packaging.version import Version
except ImportError:  # pragma: no cover - depends on the Python that runs it
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name as canonical
    from pip._vendor.packaging.version import Version


def top_level(pyproject_text: str) -> list[str]:
    """The check's requirements: the course's core dependencies and, of the test extra, papermill and ipykernel."""
    import tomllib

    project = tomllib.loads(pyproject_text)["project"]
    test = [line for line in project["optional-dependencies"]["test"]
            if canonical(Requirement(line).name) in CHECK_EXTRAS]
    return list(project["dependencies"]) + test


def device_has(requirement: str, versions: dict[str, str] = DEVICE_VERSIONS,
               packages: set[str] = DEVICE_PACKAGES) -> bool:
    """True when the image holds the package at a version the requirement accepts (an unrecorded version counts)."""
    parsed = Requirement(requirement)
    name = canonical(parsed.name)
    if name not in packages and name not in versions:
        return False
    version = versions.get(name)
    return version is None or parsed.specifier.contains(version, prereleases=True)


def constraints(requirements: list[str], versions: dict[str, str] = DEVICE_VERSIONS) -> list[str]:
    """Pins of the device's known versions, less those one of our requirements refuses (those are carried)."""
    refused = {canonical(Requirement(r).name) for r in requirements if not device_has(r, versions)}
    return [f"{name}=={version}" for name, version in sorted(versions.items()) if name not in refused]


def applies(requirement, extras: set[str]) -> bool:
    """Whether a Requires-Dist line holds on the device (Python 3.12, Linux x86-64) for the extras asked for."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**MARKER_ENVIRONMENT, "extra": extra}) for extra in (extras or {""}))


def needed(report: dict, requirements: list[str], versions: dict[str, str] = DEVICE_VERSIONS,
           packages: set[str] = DEVICE_PACKAGES, present: set[str] | None = None) -> dict[str, str]:
    """name -> version of what to carry: reached from `requirements` through the resolved metadata, not on the device.

    The walk stops at a package the device has at an acceptable version: its own needs are met there (those it
    reached are added to `present`, when given)."""
    resolved = {canonical(item["metadata"]["name"]): item["metadata"] for item in report["install"]}
    refused = {canonical(Requirement(r).name) for r in requirements if not device_has(r, versions, packages)}
    carried, seen = {}, set()
    queue = [Requirement(r) for r in requirements]
    while queue:
        requirement = queue.pop()
        name = canonical(requirement.name)
        extras = set(requirement.extras)
        if (name, frozenset(extras)) in seen:
            continue
        seen.add((name, frozenset(extras)))
        if name not in refused and device_has(str(requirement), versions, packages):
            if present is not None:
                present.add(name)
        else:
            if name not in resolved:
                raise SystemExit(f"{name} is needed but the resolution left it out; was it refused?")
            metadata = resolved[name]
            carried[name] = metadata["version"]
            for line in metadata.get("requires_dist", []):
                dependency = Requirement(line)
                if applies(dependency, extras):
                    queue.append(dependency)
    return dict(sorted(carried.items()))


def pip_python() -> tuple[str, list[str]]:
    """A Python 3.12 to run pip with (pip checks Requires-Python against its own Python in a dry run), and options.

    Without one, pip runs under this Python and ignores Requires-Python (a warning says so)."""
    if sys.version_info[:2] == (3, 12):
        return sys.executable, []
    candidates = [shutil.which("python3.12"), *sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    for found in filter(None, candidates):  # a pyenv shim may name a version it cannot run
        if subprocess.run([str(found), "-m", "pip", "--version"], capture_output=True).returncode == 0:
            return str(found), []
    print(f"No Python 3.12 with pip found: resolving with {sys.version.split()[0]}, Requires-Python ignored.",
          file=sys.stderr)
    return sys.executable, ["--ignore-requires-python"]


def resolve(requirements: list[str], pins: list[str]) -> dict:
    """pip's installation report for CPython 3.12 on manylinux x86_64, binary wheels only."""
    python, options = pip_python()
    with tempfile.TemporaryDirectory() as scratch:
        constraint_file = Path(scratch) / "device-constraints.txt"
        constraint_file.write_text("\n".join(pins) + "\n")
        report = Path(scratch) / "report.json"
        command = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", *options,
                   "--report", str(report), "--only-binary=:all:", "--python-version", PYTHON_VERSION,
                   "--implementation", "cp", *platform_options(), "--target", str(Path(scratch) / "unused"),
                   "--constraint", str(constraint_file), *requirements]
        subprocess.run(command, check=True)
        return json.loads(report.read_text())


def platform_options() -> list[str]:
    return [option for platform in PLATFORMS for option in ("--platform", platform)]


def download(carried: dict[str, str], folder: Path) -> None:
    """One wheel per package into `folder`; wheels of other packages or versions already there are removed."""
    folder.mkdir(exist_ok=True)
    for wheel in folder.glob("*.whl"):
        name, version = wheel_name(wheel.name)
        if carried.get(name) != version:
            wheel.unlink()
    python, options = pip_python()
    command = [python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", *options,
               "--python-version", PYTHON_VERSION, "--implementation", "cp", *platform_options(), "-d", str(folder),
               *(f"{name}=={version}" for name, version in carried.items())]
    subprocess.run(command, check=True)
    held = {}
    for wheel in folder.glob("*.whl"):
        name, version = wheel_name(wheel.name)
        if name in held:
            raise SystemExit(f"two wheels of {name} in {folder}: the device's install would stop")
        held[name] = version
    if held != carried:
        raise SystemExit(f"{folder} does not hold exactly the list: {sorted(set(held.items()) ^ set(carried.items()))}")


def wheel_name(filename: str) -> tuple[str, str]:
    """(canonical name, version) of a wheel's file name."""
    name, version = filename.split("-")[:2]
    return canonical(name), str(Version(version))


def exclude_wheels(root: Path = ROOT) -> None:
    """Add /.whl/ to the repository's .git/info/exclude unless it is there."""
    path = Path(subprocess.run(["git", "rev-parse", "--git-path", "info/exclude"], cwd=root, check=True,
                               capture_output=True, text=True).stdout.strip())
    path = path if path.is_absolute() else root / path
    lines = path.read_text().splitlines() if path.exists() else []
    if "/.whl/" not in lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines + ["/.whl/"]))


def tree_bytes(root: Path = ROOT) -> int:
    """Bytes of what a device call sends besides carried paths: tracked and untracked-not-ignored files."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            check=True, capture_output=True).stdout.decode().split("\0")
    return sum((root / name).stat().st_size for name in listed if name and (root / name).is_file())


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="resolve and print the list; download nothing")
    parser.add_argument("--carry", nargs="*", default=[], metavar="NAME",
                        help="carry these too although the image has them (e.g. peft, whose version there is unrecorded)")
    arguments = parser.parse_args(argv)
    requirements = top_level((ROOT / "pyproject.toml").read_text())
    packages = DEVICE_PACKAGES - {canonical(name) for name in arguments.carry}
    versions = {name: version for name, version in DEVICE_VERSIONS.items() if name in packages}
    # Only what the image lacks goes to the resolver (torch's CUDA wheels stay out of it); the pins check the rest.
    missing = [r for r in requirements if not device_has(r, versions, packages)]
    report = resolve(missing, constraints(requirements, versions))
    present = {canonical(Requirement(r).name) for r in requirements if device_has(r, versions, packages)}
    carried = needed(report, missing, versions, packages, present)
    print(f"Top-level: {', '.join(requirements)}")
    print(f"Used from the image ({len(present)}): " + ", ".join(
        f"{name}=={versions[name]}" if name in versions else name for name in sorted(present)))
    print(f"Carried ({len(carried)}): " + ", ".join(f"{name}=={version}" for name, version in carried.items()))
    if arguments.check:
        return 0
    exclude_wheels()
    download(carried, WHEELS)
    wheels = sorted(WHEELS.glob("*.whl"))
    for wheel in wheels:
        print(f"  {wheel.stat().st_size / 1024:8.0f} KiB  {wheel.name}")
    wheel_bytes, repository = sum(w.stat().st_size for w in wheels), tree_bytes()
    total = wheel_bytes + repository
    print(f"{len(wheels)} wheels {mib(wheel_bytes)} + repository {mib(repository)} = {mib(total)} "
          f"of the {mib(TRANSFER_LIMIT)} a device call carries (at most {mib(int(TRANSFER_LIMIT * HEADROOM))} wanted)")
    if total > TRANSFER_LIMIT * HEADROOM:
        print("Too much to carry: trim the wheels or the repository before a device call.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
