"""The prepared GPU check: the lessons whose free-Colab-T4 budget is tightest, at 1024x1024, on one CUDA GPU capped to 15 GiB.

Not a test (pytest does not collect it); one command, made to finish in under 10 minutes on an H100:

    python tools/rehearse_gpu.py                       # on a CUDA machine: writes docs/rehearsal-gpu-results.md
    python tools/rehearse_gpu.py --cpu-smoke --lessons 06   # the same code path on a CPU at 128x128, few steps

1. It builds (or reuses) tools/rehearsal.py's random-weight cache of the real repositories; on CUDA the numbers
   are fp16, as on the Hub, and are drawn on the GPU (the build takes about a minute, most of it writing 12 GB).
2. It runs lessons 10 (LoRA training: a few steps), 06 (base + refiner), 08 (speed and memory) and 11 (the
   script, batch 2) in full mode, offline, through rehearsal.run_lesson: a free Colab T4 declared
   (SDXL_TUTORIAL_MACHINE=colab-t4, so helpers caps this process's GPU memory to 15 GiB of the card's), every
   memory plan and every pipeline and VAE call recorded, at 1024x1024 with each lesson's real pictures per call and
   few denoising steps (memory does not grow with the steps).
3. Each call is checked against the plan it ran under, as `make rehearse` does; and the measured peaks (GPU:
   nvidia-smi for the kernel process every 0.5 s; host: anonymous memory of the kernel every 0.2 s) are written
   next to the planned ones, with the date and the card's name, into a markdown table (--out).
A lesson gets the time left in the 10 minutes less a minute for each lesson after it; the exit status is non-zero
when a lesson fails, a call exceeds its plan, or a measured GPU peak exceeds the declared 15 GiB.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("rehearsal", ROOT / "tools" / "rehearsal.py")
rehearsal = sys.modules.get("rehearsal") or importlib.util.module_from_spec(_spec)
if "rehearsal" not in sys.modules:
    sys.modules["rehearsal"] = rehearsal  # its dataclasses look their module up there
    _spec.loader.exec_module(rehearsal)

LESSONS = ("10", "06", "08", "11")  # the tightest T4 budgets: training + drawing, two UNets, every rung, batches
FULL_SIZE = {"height": 1024, "width": 1024}
# 1024x1024 and each lesson's real pictures per call; few steps (the peak is reached in the first step and the decode)
PARAMETERS_GPU = {
    # training at 1024x1024 with gradient checkpointing, 2 optimizer steps; samples after each; 4 seeds drawn 2 a call
    "10": {**FULL_SIZE, "train_size": 1024, "train_steps": 2, "gradient_accumulation_steps": 1, "sample_every": 1,
           "num_inference_steps": 3},
    "06": {**FULL_SIZE, "num_inference_steps": 5},  # enough steps for a base/refiner hand-off at 0.8
    "08": {**FULL_SIZE, "num_inference_steps": 3, "repeats": 1},
    "11": {**FULL_SIZE, "num_inference_steps": 3, "seeds_per_prompt": 1, "batch_sizes": [1, 2], "batch_size": 2,
           "prompts": ["An astronaut riding a green horse", "a red fox in the snow"]},
}
# --cpu-smoke: the same lessons through the same code, at the CPU rehearsal's sizes (128x128, a few steps)
PARAMETERS_SMOKE = {lesson: rehearsal.PARAMETERS_CPU[lesson] for lesson in LESSONS}
BUDGET_S = 570  # all of it, the cache build included: under 10 minutes on an H100
SMOKE_BUDGET_S = 3 * 3600  # --cpu-smoke: a lesson at 128x128 takes 3-15 minutes on 2 CPU cores
RESERVE_S = 60  # kept for each lesson still to run (a kernel start, a load from the page cache, a few steps)
MACHINE = "colab-t4"


def lesson_parameters(lesson: str, smoke: bool) -> dict:
    """What `lesson` runs with: 1024x1024 and few steps on the GPU; the CPU rehearsal's small sizes with --cpu-smoke."""
    if lesson not in PARAMETERS_GPU:
        raise SystemExit(f"Lesson {lesson} is not in the GPU check; choose from {', '.join(LESSONS)}.")
    return dict((PARAMETERS_SMOKE if smoke else PARAMETERS_GPU)[lesson])


def lesson_timeout(started: float, now: float, lessons_left: int, budget_s: float = BUDGET_S) -> float:
    """The seconds one lesson may take: what is left of the budget, less RESERVE_S for each lesson after it (at least 30)."""
    return max(30.0, budget_s - (now - started) - RESERVE_S * (lessons_left - 1))


def planned_peaks(decisions: list[dict]) -> tuple[float | None, float | None]:
    """The largest GPU and host peak among the plans a lesson logged that run (None: it logged none)."""
    running = [d for d in decisions if d["runs"]]
    if not running:
        return None, None
    return max(d["gpu_gib"] or 0.0 for d in running), max(d["host_gib"] or 0.0 for d in running)


def _gib(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def results_table(rows: list[dict], card: str, date: str, gpu_budget: float, host_budget: float, smoke: bool) -> str:
    """The markdown report: per lesson, planned against measured GPU and host peaks, the calls checked, the verdict."""
    lines = [
        "# GPU check: the tightest lessons at a free Colab T4's budget" + (" (CPU smoke run, 128x128)" if smoke else ""),
        "",
        f"- date: {date}",
        f"- card: {card}",
        f"- declared: {MACHINE}, GPU memory capped to {gpu_budget:g} GiB, host budget {host_budget:g} GiB",
        "- planned: the largest plan each lesson logged that runs; measured: nvidia-smi (kernel process) and the "
        "kernel's anonymous host memory (RssAnon)",
        "",
        "| lesson | parameters | result | wall (s) | GPU planned (GiB) | GPU measured (GiB) | host planned (GiB) "
        "| host measured (GiB) | calls checked (over their plan) | notes |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        gpu_plan, host_plan = planned_peaks(row["decisions"])
        calls = row.get("calls", [])
        over = sum(1 for call in calls if not call["ok"])
        notes = [row.get("error", "")]
        if row.get("peak_gpu_gib") is not None and gpu_plan is not None and row["peak_gpu_gib"] > gpu_plan:
            notes.append(f"measured GPU above the plan by {row['peak_gpu_gib'] - gpu_plan:.2f} GiB")
        if row.get("peak_rss_anon_gib") is not None and host_plan is not None and row["peak_rss_anon_gib"] > host_plan:
            notes.append(f"measured host above the plan by {row['peak_rss_anon_gib'] - host_plan:.2f} GiB")
        parameters = ", ".join(f"{key}={value}" for key, value in row["parameters"].items() if key != "prompts")
        lines.append(f"| {row['lesson']} | {parameters} | {'passed' if row['ok'] else '**FAILED**'} | {row['seconds']:.0f} | "
                     f"{_gib(gpu_plan)} | {_gib(row.get('peak_gpu_gib'))} | {_gib(host_plan)} | {_gib(row.get('peak_rss_anon_gib'))} | "
                     f"{len(calls)} ({over}) | {'; '.join(n for n in notes if n).replace('|', '/')} |")
    lines += ["", "Plans and calls per lesson:", ""]
    for row in rows:
        lines.append(f"- {row['lesson']}")
        lines += [f"  - {rehearsal.describe_decision(d)}" for d in row["decisions"]]
        lines += [f"  - calls: {line}" for line in row.get("call_lines", [])]
    return "\n".join(lines) + "\n"


def card_name(cuda: bool) -> str:
    if not cuda:
        return f"none (CPU smoke run on {rehearsal.machine_description()})"
    import torch

    properties = torch.cuda.get_device_properties(0)
    return f"{properties.name}, {properties.total_memory / 1024**3:.1f} GiB"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", default=list(LESSONS), help=f"default: {' '.join(LESSONS)}")
    parser.add_argument("--cpu-smoke", action="store_true", help="no GPU: the same code path at 128x128 with few steps")
    parser.add_argument("--cache", type=Path, help="the rehearsal cache (default: rehearsal.py's, fp16 on CUDA, fp32 on a CPU)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "rehearsal-gpu-results.md")
    parser.add_argument("--budget-s", type=float, help=f"seconds for everything, the cache build included (default: {BUDGET_S} "
                        f"on a GPU; {SMOKE_BUDGET_S} with --cpu-smoke, where a lesson takes minutes)")
    arguments = parser.parse_args(argv)
    lessons = [lesson.zfill(2) for lesson in arguments.lessons]
    budget_s = arguments.budget_s or (SMOKE_BUDGET_S if arguments.cpu_smoke else BUDGET_S)
    for lesson in lessons:
        lesson_parameters(lesson, arguments.cpu_smoke)  # an unknown lesson stops here, before the cache is built

    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not arguments.cpu_smoke:
        raise SystemExit("No CUDA GPU here. This check needs one; on a CPU, run the same code path with --cpu-smoke.")
    started = time.perf_counter()
    cache = rehearsal.build_cache(arguments.cache, repos=rehearsal.repositories_for(lessons))
    print(f"cache ready after {time.perf_counter() - started:.0f} s", flush=True)
    host_budget, gpu_budget, declared = rehearsal.machine_budgets(MACHINE)
    environment = {
        **os.environ, "SDXL_TUTORIAL_MODE": "full", "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1",
        "SDXL_TUTORIAL_STATIC": "1", "SDXL_TUTORIAL_REHEARSAL": "1", "SDXL_TUTORIAL_MACHINE": MACHINE,
        "SDXL_TUTORIAL_STRICT_WARNINGS": "1", "SDXL_TUTORIAL_RECORD_CALLS": "1", "TQDM_MININTERVAL": "5",
    }
    scratch = Path(tempfile.mkdtemp(prefix="sdxl-gpu-check-"))
    notebooks = {path.name[:2]: path for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    rows = []
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped from outside: the lesson stops, the table is written
    for index, lesson in enumerate(lessons):
        parameters = lesson_parameters(lesson, arguments.cpu_smoke)
        timeout = lesson_timeout(started, time.perf_counter(), len(lessons) - index, budget_s)
        print(f"\n{notebooks[lesson].stem}  {parameters}  (at most {timeout:.0f} s)", flush=True)
        row = rehearsal.run_lesson(notebooks[lesson], parameters, environment, scratch, cuda,
                                   (host_budget, gpu_budget), timeout)
        if row["ok"] and row.get("peak_gpu_gib") is not None and row["peak_gpu_gib"] > gpu_budget:
            row["ok"], row["error"] = False, f"measured GPU peak {row['peak_gpu_gib']:.2f} GiB over the {gpu_budget:g} GiB budget"
        rows.append(row)
        gpu_plan, _ = planned_peaks(row["decisions"])
        print(f"  {'passed' if row['ok'] else 'FAILED: ' + row.get('error', '')} in {row['seconds']:.0f} s; GPU planned "
              f"{_gib(gpu_plan)}, measured {_gib(row.get('peak_gpu_gib'))} GiB; host RssAnon {row['peak_rss_anon_gib']:.2f} GiB",
              flush=True)
        for line in row["call_lines"]:
            print(f"  calls: {line}")
        if row["interrupted"]:
            break
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    report = results_table(rows, card_name(cuda), date, gpu_budget, host_budget, arguments.cpu_smoke)
    report += f"\nTotal {time.perf_counter() - started:.0f} s (budget {budget_s:.0f}); {declared}; cache {cache}.\n"
    print("\n" + report)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(report)
    print(f"Written to {arguments.out}")
    failed = [row for row in rows if not row["ok"]]
    if failed:
        print(f"Executed notebooks and logs kept in {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed or len(rows) < len(lessons) else 0


if __name__ == "__main__":
    sys.exit(main())
