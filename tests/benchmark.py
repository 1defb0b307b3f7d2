"""Benchmark: each notebook's tiny-mode run time and peak memory, and one tiny SDXL image.

Not a test (speed is measured here, never asserted in the suite). Run it with `make benchmark` or
`python tests/benchmark.py [notebooks...] [--markdown FILE]`. Budget: the whole test suite under
10 minutes on 2 CPU cores (aim for 5); 00_setup under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = {
    "SDXL_TUTORIAL_MODE": "tiny", "HF_HUB_OFFLINE": "1", "SDXL_TUTORIAL_STATIC": "1",
}

# Runs in a fresh process: executes one notebook with papermill, then reports the largest resident
# memory of the kernel it started (the kernel is a child process, waited for when papermill ends).
_RUN_ONE = """
import json, resource, sys, papermill
papermill.execute_notebook(sys.argv[1], sys.argv[2], kernel_name="python3", progress_bar=False, cwd=sys.argv[3])
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"kernel_peak_mib": peak_kib / 1024}))
"""

_ONE_IMAGE = """
import json, time, torch, helpers
from diffusers import StableDiffusionXLPipeline
pipe = StableDiffusionXLPipeline.from_pretrained(helpers.model_path("sdxl-base"), dtype=torch.float32, variant="fp16", use_safetensors=True)
pipe.set_progress_bar_config(disable=True)
settings = helpers.defaults("sdxl-base")
run = lambda: pipe(settings.prompt, num_inference_steps=settings.num_inference_steps, generator=helpers.generator(0))
run()  # the first call pays one-off costs (kernel selection, allocations)
times = []
for _ in range(3):
    start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
print(json.dumps({"steps": settings.num_inference_steps, "size": settings.height, "seconds": sorted(times)[1]}))
"""


def run_notebook(notebook: Path, environment: dict) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _RUN_ONE, str(notebook), str(Path(scratch) / notebook.name), str(notebook.parent)],
            env=environment, capture_output=True, text=True,
        )
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"notebook": notebook.name, "seconds": seconds, "kernel_peak_mib": float("nan"), "ok": False,
                "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return {"notebook": notebook.name, "seconds": seconds, "ok": True, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in notebooks/")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    arguments = parser.parse_args()
    environment = {**os.environ, **ENVIRONMENT}
    notebooks = arguments.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))

    # Build the tiny models once, so the first notebook's time is its own.
    subprocess.run([sys.executable, "-c", "import helpers; [helpers.model_path(n) for n in ('ddpm', 'sdxl-base', 'sdxl-refiner')]"],
                   env=environment, check=True, capture_output=True)
    rows = []
    for notebook in notebooks:
        rows.append(run_notebook(notebook.resolve(), environment))
        row = rows[-1]
        print(f"{row['notebook']:40} {row['seconds']:7.1f} s {row['kernel_peak_mib']:8.0f} MiB {'' if row['ok'] else 'FAILED: ' + row['error']}", flush=True)
    image = json.loads(subprocess.run([sys.executable, "-c", _ONE_IMAGE], env=environment, capture_output=True,
                                      text=True, check=True).stdout.strip().splitlines()[-1])

    lines = [
        f"Tiny mode, {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}",
        "",
        "| notebook | run time (s) | kernel peak RSS (MiB) |",
        "|---|---:|---:|",
        *[f"| {row['notebook']} | {row['seconds']:.1f} | {row['kernel_peak_mib']:.0f} |" for row in rows],
        f"| **all notebooks** | **{sum(row['seconds'] for row in rows):.1f}** | |",
        "",
        f"One tiny SDXL image ({image['size']}x{image['size']}, {image['steps']} steps, guidance 5, after a warm-up call): "
        f"{image['seconds']:.2f} s (median of 3)",
    ]
    print("\n" + "\n".join(lines))
    if arguments.markdown:
        arguments.markdown.write_text("\n".join(lines) + "\n")
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
