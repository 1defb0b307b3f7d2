"""Benchmark: each notebook's tiny-mode run time and peak memory, one tiny SDXL image, and the generation script's throughput.

Not a test (speed is measured here, never asserted in the suite). Run it with `make benchmark` or
`python tools/benchmark.py [notebooks...] [--markdown FILE] [--no-generation]`. The throughput is that of
`helpers.generate` (lesson 11) under `accelerate launch` with 1 and with 2 processes, one thread each. Budget: the whole test suite under
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


# helpers.generate's job for the throughput report: 8 prompts x 4 seeds, 4 pictures per call, tiny mode's 20 steps
GENERATION_PROMPTS = [f"a {colour} {shape}" for colour in ("red", "blue", "green", "yellow") for shape in ("circle", "square")]
GENERATION_OPTIONS = ["--seeds", "4", "--batch-size", "4", "--mode", "tiny"]


def generation_throughput(processes: int, environment: dict) -> dict:
    """Run helpers.generate with `processes` processes (one torch thread each) into a fresh folder; its summary."""
    with tempfile.TemporaryDirectory() as scratch:
        prompts = Path(scratch) / "prompts.txt"
        prompts.write_text("\n".join(GENERATION_PROMPTS) + "\n")
        flags = ["--num_processes", str(processes), "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
        if processes > 1:
            flags = ["--multi_gpu", *flags, "--main_process_port", "0"]
        command = [sys.executable, "-m", "accelerate.commands.launch", *flags, "-m", "helpers.generate",
                   "--prompts", str(prompts), "--out", str(Path(scratch) / "pictures"), *GENERATION_OPTIONS]
        start = time.perf_counter()
        done = subprocess.run(command, env={**environment, "OMP_NUM_THREADS": "1", "HF_HOME": str(Path(scratch) / "hf")},
                              capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            return {"processes": processes, "ok": False, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
        summary = json.loads((Path(scratch) / "pictures" / "last-run.json").read_text())
    drawing = max(row["seconds"] for row in summary["per_process"] if row["pictures"])
    return {"processes": processes, "ok": True, "pictures": summary["made"], "wall": wall, "drawing_rate": summary["made"] / drawing,
            "per_process": [row["pictures"] / row["seconds"] for row in summary["per_process"] if row["pictures"]],
            "startup": max(row["load_seconds"] for row in summary["per_process"])}


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
    parser.add_argument("--no-generation", action="store_true", help="skip the generation script's throughput (1 and 2 processes)")
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
    if not arguments.no_generation:
        runs = [generation_throughput(processes, environment) for processes in (1, 2)]
        lines += ["", f"helpers.generate (lesson 11), tiny mode, {len(GENERATION_PROMPTS) * 4} pictures (20 steps, 4 per call), "
                  "accelerate launch, 1 torch thread per process:", "",
                  "| processes | pictures/s drawing (all processes) | pictures/s per process | start-up and loading (s) | whole command (s) |",
                  "|---:|---:|---:|---:|---:|"]
        for run in runs:
            if run["ok"]:
                lines.append(f"| {run['processes']} | {run['drawing_rate']:.2f} | {', '.join(f'{rate:.2f}' for rate in run['per_process'])} "
                             f"| {run['startup']:.1f} | {run['wall']:.1f} |")
            else:
                lines.append(f"| {run['processes']} | FAILED: {run['error']} | | | |")
    print("\n" + "\n".join(lines))
    if arguments.markdown:
        arguments.markdown.write_text("\n".join(lines) + "\n")
    return 0 if all(row["ok"] for row in rows) and (arguments.no_generation or all(run["ok"] for run in runs)) else 1


if __name__ == "__main__":
    sys.exit(main())
