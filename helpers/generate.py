"""Many pictures, prompts x seeds, on one CPU, every GPU of a machine, or several machines. (11_generating_at_scale)

    python -m helpers.generate --prompts prompts.txt --seeds 4 --out pictures/            # one process
    accelerate launch --multi_gpu --num_processes 4 -m helpers.generate --prompts ... # four processes

Each process loads its own copy of the model and draws its share of the pipeline calls, which
`PartialState().split_between_processes` hands out. A picture's last bits depend on the call it is drawn in
(its size, its other pictures, its place in it) and on how the arithmetic is done, so the script fixes
both. The calls are cut from the whole list of pictures before it is shared out: `--batch-size` pictures
each, a short last one padded with copies that are thrown away; every picture has its own generator; a
resumed run draws a call with a missing picture whole, as the first run did, and writes only what is
missing. On a CPU every process uses `--cpu-threads` threads (default 1, whatever the number of processes:
the split of a matrix product between threads changes the order of its sums); on a GPU, torch's
deterministic algorithms. So at one batch size the PNG files are byte for byte the same whatever the
number of processes and however often the run was interrupted, on one kind of CPU or GPU with one version
of the libraries.

The output folder holds one PNG per picture, named after its prompt, its seed and a digest of its
settings, with the settings in the PNG's text fields; `manifest-parts/part-NNNNN.jsonl`, one line per
picture, appended (one write, then fsync) by the process that made it, right after the picture is in
place; and, after every run that finishes, `manifest.jsonl` (all of them, merged) and `last-run.json` (the
summary). A PNG is written to a temporary name and renamed, so a killed run leaves no half-written file;
run the same command again and it makes only what is missing: it removes temporary files, cuts a
half-written last manifest line, gives a picture that is on disk without its line its line back, and
drops the line of a picture that is no longer on disk (and draws it again).
One run at a time per folder; with several machines, a folder they all see (a shared file system).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .i18n import _

# The course's names for what to draw with: (base, refiner or None), each a helpers.models catalogue name.
MODELS = {
    "sdxl-base": ("sdxl-base", None),
    "sdxl-base+refiner": ("sdxl-base", "sdxl-refiner"),
    "sdxl-base-random": ("sdxl-base-random", None),
    "sdxl-base-random+refiner": ("sdxl-base-random", "sdxl-refiner-random"),
}
FIELDS = ("prompt", "negative_prompt", "seed", "height", "width", "num_inference_steps", "guidance_scale")
PARTS = "manifest-parts"
MANIFEST = "manifest.jsonl"
SUMMARY = "last-run.json"
TEMPORARY = re.compile(r"^\..+\.tmp-\d+$")


class BadInput(ValueError):
    """Something in the command or the prompt file is wrong; nothing has been written."""


@dataclass(frozen=True)
class Item:
    """One picture to make: a prompt file's line (1-based) and everything that decides its pixels."""

    line: int
    prompt: str
    negative_prompt: str | None
    seed: int
    height: int
    width: int
    num_inference_steps: int
    guidance_scale: float

    def group(self) -> tuple:
        """Pictures that can share a pipeline call: the same size, steps and guidance, and both with or without a negative prompt."""
        return (self.height, self.width, self.num_inference_steps, self.guidance_scale, self.negative_prompt is None)


@dataclass(frozen=True)
class Job:
    """A validated run: what to draw, with what, and where."""

    items: tuple[Item, ...]
    model: str
    mode: str
    out: Path
    batch_size: int
    denoising_end: float
    paths: tuple[str, ...] = ()  # what from_pretrained loads: the base's, then the refiner's
    duplicates: int = 0
    cpu_threads: int = 1  # torch threads per process on a CPU

    def settings(self, item: Item) -> dict:
        """What goes into the PNG's text fields and the manifest line (lesson 05 stores the same kind of fields)."""
        base, refiner = MODELS[self.model]
        settings = {"prompt": item.prompt, "negative_prompt": item.negative_prompt or "", "seed": item.seed,
                    "num_inference_steps": item.num_inference_steps, "guidance_scale": item.guidance_scale,
                    "size": f"{item.width}x{item.height}", "model": self.model, "mode": self.mode,
                    "batch_size": self.batch_size}
        if refiner:
            settings["denoising_end"] = self.denoising_end
        return settings

    def file_name(self, item: Item) -> str:
        """`<prompt>_seed<seed>_<digest>.png`: the digest covers every setting, so a changed setting is a new picture."""
        digest = hashlib.sha256(json.dumps(self.settings(item), sort_keys=True).encode()).hexdigest()[:10]
        slug = re.sub(r"[^a-z0-9]+", "-", item.prompt.lower()).strip("-")[:40] or "prompt"
        return f"{slug}_seed{item.seed}_{digest}.png"

    def record(self, item: Item) -> dict:
        return {"file": self.file_name(item), "line": item.line, **self.settings(item)}


# ---------------------------------------------------------------------------------------------
# Reading and checking the input: everything here happens before anything is written


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.generate",
        description="Draw every prompt of a file with several seeds; resumable; run it with `accelerate launch` for several processes.")
    parser.add_argument("--prompts", required=True, type=Path,
                        help="a text file (one prompt a line), a .jsonl file (one JSON object a line) or a .csv file (a header "
                             f"row); the fields of .jsonl/.csv: {', '.join(FIELDS)} (only prompt is required)")
    parser.add_argument("--out", required=True, type=Path, help="the output folder (created; run again to finish a run)")
    parser.add_argument("--seeds", type=int, default=1, help="pictures per prompt: seeds first-seed, first-seed + 1, ...")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed of every line that does not give its own `seed`")
    parser.add_argument("--model", default="sdxl-base", help=f"one of {', '.join(MODELS)}")
    parser.add_argument("--mode", default=None, help="tiny, full or auto (default: $SDXL_TUTORIAL_MODE, else auto)")
    parser.add_argument("--batch-size", type=int, default=1, help="pictures per pipeline call in each process")
    parser.add_argument("--cpu-threads", type=int, default=1,
                        help="on a CPU, torch threads per process (default 1); the same bytes need the same number in every run")
    parser.add_argument("--height", type=int, default=None, help="default: the model's, in this mode")
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--num-inference-steps", type=int, default=None)
    parser.add_argument("--guidance-scale", type=float, default=5.0)
    parser.add_argument("--negative-prompt", default=None)
    parser.add_argument("--denoising-end", type=float, default=0.8, help="with a refiner: where the base hands over (lesson 06)")
    return parser.parse_args(argv)


def read_prompt_file(path: Path) -> list[tuple[int, dict]]:
    """(line number, fields) for every prompt in the file; a malformed line is a BadInput naming its number."""
    if not path.exists():
        raise BadInput(_("The prompt file {path} does not exist.").format(path=path))
    if not path.is_file():
        raise BadInput(_("The prompt file {path} is not a file.").format(path=path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise BadInput(_("The prompt file {path} is not UTF-8 text ({error}).").format(path=path, error=error)) from None
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise BadInput(_('{path}, line {number}: not valid JSON ({error}). Each line is one object, '
                                 '{{"prompt": "...", ...}}.').format(path=path, number=number, error=error.msg)) from None
            if not isinstance(row, dict):
                raise BadInput(_('{path}, line {number}: a line must be a JSON object like {{"prompt": "a red circle"}}, '
                                 'got {kind}.').format(path=path, number=number, kind=type(row).__name__))
            rows.append((number, row))
    elif suffix == ".csv":
        reader = csv.reader(io.StringIO(text, newline=""))  # quoted fields may hold commas and line breaks
        header = next(reader, None)
        if header is None or not [name for name in header if name.strip()]:
            raise BadInput(_("The prompt file {path} is empty: a .csv file starts with a header row, e.g. prompt,seed.").format(path=path))
        header = [name.strip() for name in header]
        rows = []
        while True:
            number = reader.line_num + 1  # where this record starts (a quoted field may span lines)
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                raise BadInput(_("{path}, line {number}: not valid CSV ({error}).").format(path=path, number=number, error=error)) from None
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                raise BadInput(_("{path}, line {number}: {values} values for {columns} columns ({names}).").format(
                    path=path, number=number, values=len(values), columns=len(header), names=", ".join(header)))
            rows.append((number, {name: value for name, value in zip(header, values) if value.strip() != ""}))
        _check_fields(path, 1, dict.fromkeys(header))
    else:
        rows = [(number, {"prompt": line.strip()}) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows:
        raise BadInput(_("The prompt file {path} is empty: write one prompt a line (or one JSON object a line in a .jsonl "
                          "file).").format(path=path))
    return rows


def _check_fields(path: Path, number: int, row: dict) -> None:
    unknown = [name for name in row if name not in FIELDS]
    if unknown:
        raise BadInput(_("{path}, line {number}: unknown field {field!r}; the fields are {fields}.").format(
            path=path, number=number, field=unknown[0], fields=", ".join(FIELDS)))


def _whole(path, number, name, value, smallest):
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise BadInput(_("{path}, line {number}: {name} must be a whole number, got {value!r}.").format(
                path=path, number=number, name=name, value=value)) from None
    if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
        raise BadInput(_("{path}, line {number}: {name} must be a whole number >= {smallest}, got {value!r}.").format(
            path=path, number=number, name=name, smallest=smallest, value=value))
    return value


def _number(path, number, name, value):
    try:
        value = float(value) if isinstance(value, str) else value
    except ValueError:
        value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise BadInput(_("{path}, line {number}: {name} must be a number.").format(path=path, number=number, name=name))
    return float(value)


def validate(arguments: argparse.Namespace) -> Job:
    """Check everything, write nothing: a Job, or a BadInput that says what is wrong and what to do."""
    from .checks import check_size
    from .models import ModelUnavailableError, current_mode, defaults, model_path

    if arguments.model not in MODELS:
        raise BadInput(_("Unknown model {model!r}. Valid models: {models}.").format(model=arguments.model, models=", ".join(MODELS)))
    try:
        mode = current_mode(arguments.mode)
    except ValueError as error:
        raise BadInput(str(error)) from None
    if arguments.seeds < 1:
        raise BadInput(_("--seeds must be at least 1 (pictures per prompt), got {value}.").format(value=arguments.seeds))
    if arguments.first_seed < 0:
        raise BadInput(_("--first-seed must be >= 0, got {value}.").format(value=arguments.first_seed))
    if arguments.batch_size < 1:
        raise BadInput(_("--batch-size must be at least 1, got {value}.").format(value=arguments.batch_size))
    if arguments.cpu_threads < 1:
        raise BadInput(_("--cpu-threads must be at least 1 (torch threads per process on a CPU), got {value}.").format(
            value=arguments.cpu_threads))
    base, refiner = MODELS[arguments.model]
    if refiner and not 0 < arguments.denoising_end < 1:
        raise BadInput(_("--denoising-end must be between 0 and 1 (e.g. 0.8), got {value}.").format(value=arguments.denoising_end))
    out = arguments.out
    if out.exists() and not out.is_dir():
        raise BadInput(_("The output folder {out} is a file. Choose a folder (it is created if missing).").format(out=out))
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise BadInput(_("The output folder {out} cannot be made: {parent} is a file.").format(out=out, parent=parent))
            break
    try:
        common = defaults(base, mode, height=arguments.height, width=arguments.width,
                          num_inference_steps=arguments.num_inference_steps)
    except ValueError as error:
        raise BadInput(f"{error}") from None
    path = arguments.prompts
    items, seen, duplicates = [], set(), 0
    for number, row in read_prompt_file(path):
        _check_fields(path, number, row)
        prompt = row.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise BadInput(_('{path}, line {number}: no prompt (a non-empty text in the field "prompt").').format(path=path, number=number))
        negative = row.get("negative_prompt", arguments.negative_prompt)
        if negative is not None and not isinstance(negative, str):
            raise BadInput(_("{path}, line {number}: negative_prompt must be a text.").format(path=path, number=number))
        height = _whole(path, number, "height", row.get("height", common.height), 8)
        width = _whole(path, number, "width", row.get("width", common.width), 8)
        try:
            check_size(height, width)
            defaults(base, mode, height=height, width=width)  # refuses sizes far beyond the trained one
        except ValueError as error:
            raise BadInput(f"{path}, line {number}: {error}") from None
        steps = _whole(path, number, "num_inference_steps", row.get("num_inference_steps", common.num_inference_steps), 1)
        guidance = _number(path, number, "guidance_scale", row.get("guidance_scale", arguments.guidance_scale))
        first = _whole(path, number, "seed", row.get("seed", arguments.first_seed), 0)
        for seed in range(first, first + arguments.seeds):
            item = Item(number, prompt.strip(), negative or None, seed, height, width, steps, guidance)
            key = (item.prompt, item.negative_prompt, seed, height, width, steps, guidance)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            items.append(item)
    try:  # full mode: the weights must be in the cache or downloadable; tiny mode: builds the local folders once
        paths = tuple(model_path(name, mode) for name in (base, refiner) if name)
    except ModelUnavailableError as error:
        raise BadInput(str(error)) from None
    return Job(tuple(items), arguments.model, mode, out, arguments.batch_size, arguments.denoising_end, paths, duplicates,
               arguments.cpu_threads)


# ---------------------------------------------------------------------------------------------
# The output folder: atomic pictures, one complete manifest line per picture


def save_png(image, path: Path, settings: dict) -> None:
    """Write `image` with `settings` in its text fields; a kill at any moment leaves the file whole or absent."""
    from PIL.PngImagePlugin import PngInfo

    metadata = PngInfo()
    for key, value in settings.items():
        metadata.add_text(key, str(value))
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "wb") as file:
        image.save(file, format="PNG", pnginfo=metadata)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a folder
    finally:
        os.close(descriptor)


def append_line(path: Path, record: dict) -> None:
    """Append one JSON line with a single write, then fsync: the line is complete, or absent, or cut (see repair)."""
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if os.write(descriptor, data) != len(data):
            raise OSError(_("could not append a whole line to {path} (disk full?)").format(path=path))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def part_path(out: Path, rank: int) -> Path:
    return out / PARTS / f"part-{rank:05d}.jsonl"


def read_manifest_lines(out: Path, repair: bool = False) -> list[dict]:
    """Every complete line of every manifest part. With `repair`, a cut last line (a kill mid-write) is removed."""
    records = []
    for part in sorted((out / PARTS).glob("part-*.jsonl")):
        data = part.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if repair and len(complete) != len(data):
            os.truncate(part, len(complete))
        for number, line in enumerate(complete.decode("utf-8", errors="replace").splitlines(), start=1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise RuntimeError(_("{part}, line {number} is not valid JSON: the manifest was edited by hand? Remove that "
                                     "line and run again (its picture is then given a new line).").format(part=part, number=number)) from None
    return records


def prepare_folder(job: Job, rank: int) -> list[int]:
    """Run by one process before any other writes: tidy up after a killed run; return the indices still to draw."""
    from PIL import Image

    (job.out / PARTS).mkdir(parents=True, exist_ok=True)
    for leftover in job.out.iterdir():
        if TEMPORARY.match(leftover.name):
            leftover.unlink()
    read_manifest_lines(job.out, repair=True)
    recorded = set()
    for part in sorted((job.out / PARTS).glob("part-*.jsonl")):  # a line whose picture is gone (deleted, lost) goes too
        lines = part.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if (job.out / json.loads(line)["file"]).is_file()]
        if len(kept) != len(lines):
            write_json_atomically(part, "".join(kept))
        recorded |= {json.loads(line)["file"] for line in kept}
    todo = []
    for index, item in enumerate(job.items):
        name = job.file_name(item)
        if name in recorded:
            continue
        path = job.out / name
        if path.is_file():  # the picture is in place but its line is not: check it, then give it its line
            try:
                with Image.open(path) as image:
                    image.load()
                    whole = image.text == {key: str(value) for key, value in job.settings(item).items()}
            except Exception:
                whole = False
            if whole:
                append_line(part_path(job.out, rank), job.record(item))
                recorded.add(name)
                continue
            path.unlink()
        todo.append(index)
    return todo


def write_manifest(job: Job) -> int:
    """Merge the parts into manifest.jsonl, one line per picture, in the prompt file's order; replaced atomically."""
    order = {job.file_name(item): index for index, item in enumerate(job.items)}
    unique = {}
    for record in read_manifest_lines(job.out):
        unique.setdefault(record["file"], record)
    records = sorted(unique.values(), key=lambda record: (order.get(record["file"], len(order)), record["file"]))
    write_json_atomically(job.out / MANIFEST, "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
    return len(records)


def write_json_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


# ---------------------------------------------------------------------------------------------
# Drawing


def load_pipelines(job: Job, device: str):
    """The base pipeline (and the refiner sharing its text encoder 2 and VAE), placed as the memory plan says."""
    import torch
    from diffusers import StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline

    from .device import pick_dtype
    from .memory import WontFitError, plan_memory

    base_name, refiner_name = MODELS[job.model]
    names = [name for name in (base_name, refiner_name) if name]
    height = max(item.height for item in job.items)
    width = max(item.width for item in job.items)
    # A call of `batch_size` pictures: the UNet works on all of them at once, the VAE (sliced below) decodes one at a time.
    plan = plan_memory(names, height, width, mode=job.mode, pictures_per_call=job.batch_size,
                       what=(_("{model}, {count} pictures a call") if job.batch_size > 1 else
                             _("{model}, {count} picture a call")).format(model=job.model, count=job.batch_size)).require()
    if refiner_name and plan.offload not in (None, "turns"):
        raise WontFitError(f"{plan}\n" + _("Base + refiner needs both on the GPU, at once or taking turns (lesson 06); "
                                            "this GPU is too small: use --model sdxl-base here."))
    dtype = pick_dtype(torch.device(device).type)
    weights = dict(dtype=dtype, variant="fp16", use_safetensors=True)
    with _no_loading_bars():
        base = StableDiffusionXLPipeline.from_pretrained(job.paths[0], **weights)
        refiner = None if not refiner_name else StableDiffusionXLImg2ImgPipeline.from_pretrained(
            job.paths[1], text_encoder_2=base.text_encoder_2, vae=base.vae, **weights)
    if refiner_name:
        for part in (base.text_encoder, base.text_encoder_2, base.vae):
            part.to(device)
        base.unet.to(device)
        if plan.offload is None:
            refiner.unet.to(device)
    else:
        plan.place(base, device)
    base.vae.enable_slicing()  # a batch decoded one picture at a time: the decoder's memory does not grow with the batch
    for pipe in (base, refiner):
        if pipe is not None:
            pipe.set_progress_bar_config(disable=True)
    return base, refiner, plan


@contextmanager
def _no_loading_bars():
    """diffusers' and transformers' "Loading ..." bars off while the models load: the run has its own bar."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    enabled = [(library, library.is_progress_bar_enabled()) for library in (diffusers_logging, transformers_logging)]
    for library, _enabled in enabled:
        library.disable_progress_bar()
    try:
        yield
    finally:
        for library, was in enabled:
            if was:
                library.enable_progress_bar()


def draw(job: Job, base, refiner, plan, batch: list[Item], device: str):
    """One pipeline call for `batch` (all of one group), one generator per picture, seeded from its seed."""
    from .device import generator

    first = batch[0]
    common = dict(prompt=[item.prompt for item in batch],
                  negative_prompt=None if first.negative_prompt is None else [item.negative_prompt for item in batch],
                  num_inference_steps=first.num_inference_steps, guidance_scale=first.guidance_scale)
    if refiner is None:
        return base(**common, height=first.height, width=first.width,
                    generator=[generator(item.seed) for item in batch]).images
    if plan.offload == "turns":
        base.unet.to(device), refiner.unet.to("cpu")
    latents = base(**common, height=first.height, width=first.width, denoising_end=job.denoising_end, output_type="latent",
                   generator=[generator(item.seed) for item in batch]).images
    if plan.offload == "turns":
        refiner.unet.to(device), base.unet.to("cpu")
    return refiner(**common, image=latents, denoising_start=job.denoising_end,
                   generator=[generator(item.seed) for item in batch]).images


def batches(items: list[Item], batch_size: int) -> list[tuple[list[Item], int]]:
    """The pipeline calls for `items`: exactly `batch_size` pictures of one group each, the last of a group padded
    with copies of its last item. A list of (batch to draw, how many of it to keep: the first ones).

    `run` cuts the calls from the job's whole list, before sharing them out and whatever is already drawn, so every
    picture is drawn in the same call, at the same place, in every run: its bytes do not depend on how the work was
    split between processes, nor on which pictures an interrupted run had already made.
    """
    groups: dict[tuple, list[Item]] = {}
    for item in items:
        groups.setdefault(item.group(), []).append(item)
    calls = []
    for group in groups.values():
        for start in range(0, len(group), batch_size):
            chunk = group[start:start + batch_size]
            calls.append((chunk + [chunk[-1]] * (batch_size - len(chunk)), len(chunk)))
    return calls


@contextmanager
def reproducible_arithmetic(device: str, cpu_threads: int):
    """The same arithmetic in every process and every run, restored afterwards (a notebook calls `main` in its own process).

    On a CPU, `cpu_threads` torch threads, whatever the number of processes: a matrix product split between another
    number of threads sums in another order (the last bits change). On a GPU, deterministic kernels (cuBLAS needs its
    workspace fixed before its first call, hence the variable; cuDNN must not pick its algorithms by timing them).
    """
    import torch

    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled(), torch.backends.cudnn.benchmark)
    if device == "cpu":
        torch.set_num_threads(cpu_threads)
    else:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        threads, deterministic, warn_only, benchmark = before
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.benchmark = benchmark


# ---------------------------------------------------------------------------------------------
# The run


def run(job: Job) -> dict:
    """Draw what is missing in `job.out`, this process's share of the calls that hold it; return the summary (on every process)."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list, gather_object

    from .device import pick_device

    started = time.perf_counter()
    # On a machine without a GPU, `accelerate launch --multi_gpu` still starts the processes; cpu=True joins them over gloo.
    state = PartialState(cpu=pick_device() == "cpu")
    if state.is_main_process:
        job.out.mkdir(parents=True, exist_ok=True)
        todo = prepare_folder(job, state.process_index)
    else:
        todo = None
    todo = broadcast_object_list([todo])[0]  # one process decides what is missing; all see the same list
    missing = {job.items[index] for index in todo}
    calls = [(batch, keep) for batch, keep in batches(job.items, job.batch_size) if missing & set(batch[:keep])]
    with state.split_between_processes(calls) as share:  # the calls, cut from the whole list, are shared out
        mine = list(share)
    device = str(state.device) if state.device.type != "cpu" else "cpu"
    with reproducible_arithmetic(device, job.cpu_threads):
        made, redrawn, loaded = _draw_calls(job, mine, missing, state, device)
    finished = time.perf_counter()
    mine_summary = {"process": state.process_index, "pictures": made, "redrawn": redrawn, "seconds": round(finished - loaded, 3),
                    "load_seconds": round(loaded - started, 3), "device": device}
    everyone = gather_object([mine_summary])
    state.wait_for_everyone()
    summary = {"pictures": len(job.items), "made": sum(row["pictures"] for row in everyone),
               "already_there": len(job.items) - len(todo), "redrawn": sum(row["redrawn"] for row in everyone),
               "duplicates_skipped": job.duplicates,
               "processes": state.num_processes, "batch_size": job.batch_size, "model": job.model, "mode": job.mode,
               "seconds": round(time.perf_counter() - started, 3), "per_process": sorted(everyone, key=lambda row: row["process"])}
    if state.is_main_process:
        summary["manifest_lines"] = write_manifest(job)
        write_json_atomically(job.out / SUMMARY, json.dumps(summary, indent=1) + "\n")
        print(describe(summary), flush=True)
    return summary


def _draw_calls(job: Job, calls: list, missing: set, state, device: str) -> tuple[int, int, float]:
    """Draw this process's calls whole; write only their missing pictures. (pictures written, pictures drawn again, when loaded)"""
    from tqdm import tqdm  # a text bar on stderr, also in a notebook (a widget's static copy would stay at 0%)

    base, refiner, plan = load_pipelines(job, device) if calls else (None, None, None)
    loaded = time.perf_counter()
    part = part_path(job.out, state.process_index)
    quiet = {} if state.is_main_process else {"disable": True}  # not disable=False: TQDM_DISABLE=1 must still work
    progress = tqdm(total=sum(len(missing & set(batch[:keep])) for batch, keep in calls), desc=f"process 0 of {state.num_processes}",
                    unit="picture", file=sys.stderr, **quiet)
    made = redrawn = 0
    for batch, keep in calls:
        images = draw(job, base, refiner, plan, batch, device)
        for item, image in zip(batch[:keep], images):
            if item not in missing:  # already on disk: drawn again only so that its call is the one the first run made
                redrawn += 1
                continue
            save_png(image, job.out / job.file_name(item), job.settings(item))
            append_line(part, job.record(item))
            made += 1
            progress.update(1)
    progress.close()
    return made, redrawn, loaded


def describe(summary: dict) -> str:
    processes = (_("{count} processes") if summary["processes"] > 1 else _("{count} process")).format(count=summary["processes"])
    lines = [_("{made} pictures made, {there} already there, of {pictures} ({processes}, batch size {batch_size}, {model}, "
               "{mode} mode) in {seconds:.1f} s").format(
        made=summary["made"], there=summary["already_there"], pictures=summary["pictures"], processes=processes,
        batch_size=summary["batch_size"], model=summary["model"], mode=summary["mode"], seconds=summary["seconds"])]
    for row in summary["per_process"]:
        rate = row["pictures"] / row["seconds"] if row["seconds"] > 0 and row["pictures"] else 0.0
        lines.append("  " + _("process {process} ({device}): {pictures} pictures in {seconds:.1f} s = {rate:.2f} pictures/s "
                              "(after {loading:.1f} s starting and loading)").format(
            process=row["process"], device=row["device"], pictures=row["pictures"], seconds=row["seconds"], rate=rate,
            loading=row["load_seconds"]))
    if summary.get("redrawn"):
        lines.append("  " + _("{count} already there drawn again (not written): they share a call with a missing "
                              "picture").format(count=summary["redrawn"]))
    if summary.get("duplicates_skipped"):
        lines.append("  " + _("{count} duplicate (prompt, settings, seed) skipped").format(count=summary["duplicates_skipped"]))
    return "\n".join(lines)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    try:
        job = validate(arguments)
    except BadInput as error:  # every process finds the same problem; one says it
        if os.environ.get("RANK", "0") == "0":
            print(_("generate: error: {error}\nNothing was written.").format(error=error), file=sys.stderr)
        return 2
    run(job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
