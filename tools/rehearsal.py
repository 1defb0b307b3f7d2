"""Rehearsal: every lesson in full mode, offline, against random-weight copies of the real models at real size.

Not a test (pytest does not collect it). Run it with `make rehearse` (`REHEARSE_ARGS="--lessons 04 06"`)
or `python tools/rehearsal.py [--lessons 04 06] [--cache DIR] [--machine colab-t4] [--out FILE]`.

1. It builds, once, an offline Hugging Face cache (default `~/.cache/sdxl-by-hand/rehearsal-hub`; the
   `~/.cache/sdxl-by-hand` part moves with SDXL_TUTORIAL_CACHE) laid out as huggingface_hub lays it out
   (`models--owner--name/refs/main` and `snapshots/<revision>/...`, plain files, no blobs), holding
   random-weight copies of the nine repositories the lessons load (`repositories()`): SDXL base and refiner, the SDXL
   inpainting model, the canny ControlNet, google/ddpm-cat-256, madebyollin/sdxl-vae-fp16-fix, madebyollin/taesdxl,
   and the few-step LoRAs latent-consistency/lcm-lora-sdxl and ByteDance/SDXL-Lightning: the real configs
   (helpers/tiny/configs), the real file names and parameter counts, the real CLIP tokenizers. Only the fp16
   variant files of the SDXL repositories are written, the files the lessons load (they always pass
   variant="fp16"); the real repositories' fp32 files are left out: nothing loads them. The refiner's
   text_encoder_2 and vae are hard links to the base's (the real repositories hold the same weights twice).
   **The numbers in those files** are fp16, as on the Hub, when a CUDA GPU runs the rehearsal (a cache
   `rehearsal-hub-fp16`, about 20 GB). On a CPU they are fp32 under the same file names (a cache
   `rehearsal-hub-fp32`, 39.8 GB, about 4 minutes here): the lessons run in fp32 on a CPU (helpers.pick_dtype), and
   fp32 files load memory-mapped, without an anonymous copy, as fp16 files do on a GPU. Half precision is no
   way out on a CPU without bf16 instructions (this machine kind: AVX2 only): bf16 matrix products ran at
   under 1-10 GFLOP/s against 66-79 in fp32, a 128x128 VAE decode took 470 s instead of a few.
   Weights: every >=2-D weight ~ N(0, 1/fan_in), biases 0, norm weights 1, embeddings ~ N(0, 0.02): the
   pictures are noise, but every number stays finite through a few denoising steps.
   The two LoRA repositories are flat, one fp16 file each (fp16 on a CPU too: diffusers copies a LoRA's numbers into
   the UNet's own dtype when it loads them), with the keys and shapes the real files are inferred to hold: a rank-64
   LoRA, alpha 8, on the 788 layers of SDXL base's UNet that diffusers' LCM-LoRA example targets
   (helpers/tiny/train_lcm.py TARGET_MODULES), in kohya-style keys `lora_unet_<module path, dots as underscores>`
   `.lora_down.weight` / `.lora_up.weight` / `.alpha`, as helpers/tiny/train_lcm.py writes the tiny stand-ins.
   A rehearsal builds only what its lessons load (LESSON_ONLY_REPOSITORIES).
2. It runs each lesson with papermill in a fresh kernel, with this environment:
     SDXL_TUTORIAL_MODE=full  HF_HUB_CACHE=<the cache>  HF_HUB_OFFLINE=1  SDXL_TUTORIAL_STATIC=1
     SDXL_TUTORIAL_REHEARSAL=1 (lessons skip only the assertions about what a trained model draws, and say so)
     SDXL_TUTORIAL_MACHINE=colab-t4 (the declared machine whose memory decisions the lessons take)
     SDXL_TUTORIAL_PLAN_LOG=<scratch>/<lesson>.plans.jsonl (helpers.memory appends one JSON line per decision)
     SDXL_TUTORIAL_RECORD_CALLS=1 (helpers.memory appends one more line per SDXL pipeline call and VAE encode/decode:
       its pictures, how many the VAE handles at once, its size)
     SDXL_TUTORIAL_STRICT_WARNINGS=1
   and checks every logged decision that runs against the declared machine's budget (host RAM less what its
   system keeps; its GPU), and every recorded call against the plan it ran under (the last plan its process logged
   that runs): the call is planned again with its own pictures and size (helpers.memory.plan_for_call; a call at
   128x128 stands for 1024x1024, the size the plans are made for) and fails the lesson if it needs more than that
   plan covered. On a CPU the lessons run small (PARAMETERS_CPU: 128x128, a few steps); on a CUDA
   GPU at their real defaults (PARAMETERS_CUDA: 1024x1024, the lessons' step counts). Lesson 09 talks to a
   local text-to-image server this script starts (it draws a shape; the hosted API cannot be reached offline).
   Measured per lesson: wall time, the peak anonymous host memory (RssAnon) of the kernel process and its
   children, sampled every 0.2 s (memory-mapped safetensors pages do not count: they are not what gets a
   Colab kernel killed), and on CUDA the peak GPU memory of the kernel (nvidia-smi, every 0.5 s).
   The table goes to stdout and to --out; the exit status is non-zero if a lesson failed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python tools/rehearsal.py` from anywhere: helpers is importable

BUILD_VERSION = 2  # bump when the way the cache is built changes: old caches are rebuilt
GIB = 1024**3
MARKER = ".rehearsal-complete"  # written last, in the cache folder: the whole cache is built
STATE = ".rehearsal"  # per-repository markers, the staging area and the build report

# ---------------------------------------------------------------------------------------------
# What each lesson runs with. CPU: small enough for a 2-core machine. CUDA: the lessons' own defaults.

SDXL_SMALL = {"height": 128, "width": 128, "num_inference_steps": 3}
PARAMETERS_CPU = {
    "00": {**SDXL_SMALL},
    "01": {"num_inference_steps": 3},  # ddpm-cat-256 draws 256x256 (its sample_size); no height/width
    "02": {"num_inference_steps": 2, "images_per_setting": 1, "comparison_images": 1, "trusted_steps": 2},
    "03": {"train_steps": 20, "pictures": 64, "batch_size": 8, "num_inference_steps": 10},
    "04": {**SDXL_SMALL},
    "05": {**SDXL_SMALL, "images_per_setting": 1, "batch_size": 2},  # 2 a call, as at 1024x1024 (its 2-megapixel rule)
    "06": {**SDXL_SMALL, "num_inference_steps": 5},  # enough steps for a base/refiner hand-off at 0.8
    "07": {**SDXL_SMALL},
    "08": {**SDXL_SMALL, "repeats": 1},
    "09": {**SDXL_SMALL},
    # training at 128x128: two optimizer steps of two passes each (accumulation), one picture per evaluated prompt
    "10": {**SDXL_SMALL, "train_size": 128, "train_steps": 2, "gradient_accumulation_steps": 2, "evaluation_seeds": 1,
           "sample_every": 2},
    # the script on one process (a CPU has no second GPU): two prompts, one seed each, batch sizes 1 and 2
    "11": {**SDXL_SMALL, "seeds_per_prompt": 1, "batch_sizes": [1, 2],
           "prompts": ["An astronaut riding a green horse", "a red fox in the snow"]},
    "12": {**SDXL_SMALL, "measure_seeds": 1},  # one seed per mask; inpainting, outpainting and inversion at 128x128
    # one picture per measurement; two weights (the hand-vs-compel check adds 0.5 and 1.5 itself)
    "13": {**SDXL_SMALL, "measure_seeds": 1, "word_weights": [0, 1.5]},
    # two distillation steps of one picture, one held-out seed, the few-step LoRAs at 1 and 4 steps
    "14": {**SDXL_SMALL, "few_steps": [1, 4], "distill_steps": 2, "batch_size": 1, "evaluation_seeds": 1},
}
PARAMETERS_CUDA: dict[str, dict] = {}  # every lesson at its defaults: 1024x1024, its own step counts
LOCAL_SERVER_LESSONS = ("09",)  # these get base_url=<a server this script starts>

MACHINE_BUDGETS = {"colab-t4": (11.0, 15.0)}  # used only if helpers.memory cannot say: (host, GPU) GiB


# ---------------------------------------------------------------------------------------------
# Part 1: the cache


@dataclass(frozen=True)
class Component:
    """One model in a repository: its folder ("" for a flat repository), real config, and weight dtype."""

    path: str
    config: dict
    fp16: bool  # True: the fp16 variant file names (SDXL); False: plain fp32 files
    parameters: int | None = None  # the real parameter count, checked when built
    shared_from: str | None = None  # a repository whose identical component is hard-linked instead of built

    @property
    def library(self) -> str:
        return "diffusers" if "_class_name" in self.config else "transformers"

    @property
    def weights_name(self) -> str:
        stem = "diffusion_pytorch_model" if self.library == "diffusers" else "model"
        return f"{stem}.fp16.safetensors" if self.fp16 else f"{stem}.safetensors"

    def files(self) -> list[str]:
        return [_join(self.path, "config.json"), _join(self.path, self.weights_name)]

    def fingerprint_parts(self) -> tuple:
        return (self.path, self.config, self.fp16, self.shared_from)

    def bytes_per_number(self) -> int:
        import torch

        return torch.finfo(storage_dtype()).bits // 8 if self.fp16 else 4


@dataclass(frozen=True)
class LoraFile(Component):
    """A LoRA repository's one weight file: rank-`rank` LoRA factors for the UNet that `config` describes, on the layers
    `target_modules` names, in kohya-style keys (`lora_unet_<module path, dots as underscores>.lora_down.weight`,
    `.lora_up.weight` and `.alpha`, = `alpha`), fp16 numbers on every machine, no config.json.

    `parameters`: the real file's count of LoRA numbers (the alphas not counted).
    """

    file_name: str = ""
    rank: int = 64
    alpha: float = 8.0
    target_modules: tuple[str, ...] = ()

    @property
    def weights_name(self) -> str:
        return self.file_name

    def files(self) -> list[str]:
        return [_join(self.path, self.file_name)]

    def fingerprint_parts(self) -> tuple:
        return (*super().fingerprint_parts(), "lora", self.file_name, self.rank, self.alpha, list(self.target_modules))

    def bytes_per_number(self) -> int:
        return 2


@dataclass(frozen=True)
class Repository:
    repo_id: str
    components: tuple[Component, ...]
    write_other_files: object = None  # callable(snapshot folder): model_index, scheduler, tokenizers
    other_files: tuple[str, ...] = ()  # what write_other_files writes (checked after the build)
    extra_parameters: dict = field(default_factory=dict)

    @property
    def folder_name(self) -> str:
        return "models--" + self.repo_id.replace("/", "--")

    def files(self) -> list[str]:
        return sorted([*self.other_files, *(name for component in self.components for name in component.files())])


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def revision(repo_id: str) -> str:
    """A fixed 40-hex revision per repository and build version (the real ones are git commit hashes)."""
    return hashlib.sha1(f"sdxl-by-hand rehearsal {repo_id} build {BUILD_VERSION}".encode()).hexdigest()


def snapshot_folder(cache: Path, repo_id: str) -> Path:
    return Path(cache) / ("models--" + repo_id.replace("/", "--")) / "snapshots" / revision(repo_id)


def publish_snapshot(cache: Path, repo_id: str, staging: Path) -> Path:
    """Move a complete folder into the cache as `repo_id`'s snapshot and point refs/main at it."""
    repo_folder = Path(cache) / ("models--" + repo_id.replace("/", "--"))
    shutil.rmtree(repo_folder, ignore_errors=True)
    snapshot = snapshot_folder(cache, repo_id)
    snapshot.parent.mkdir(parents=True)
    os.replace(staging, snapshot)
    (repo_folder / "refs").mkdir()
    (repo_folder / "refs" / "main").write_text(revision(repo_id))  # no newline, as huggingface_hub writes it
    return snapshot


def _sdxl_files(model: str):
    def write(folder: Path) -> None:
        from helpers.tiny.standins import _write_pipeline_files

        _write_pipeline_files(folder, model)  # model_index.json, scheduler/ and, for the base, the CLIP tokenizers
        if model == "sdxl-refiner":  # the real refiner repository holds its own copy of the base's tokenizer_2
            from helpers.tiny.clip_tokenizer import PAD_TOKEN_2, write_tokenizer

            write_tokenizer(folder / "tokenizer_2", PAD_TOKEN_2)

    return write


def _write_ddpm_scheduler(folder: Path) -> None:
    from helpers.tiny.standins import real_config

    (folder / "scheduler_config.json").write_text(json.dumps(real_config("ddpm", "scheduler"), indent=2) + "\n")


TOKENIZER_FILES = ("merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json")
BASE = "stabilityai/stable-diffusion-xl-base-1.0"
INPAINT = "diffusers/stable-diffusion-xl-1.0-inpainting-0.1"
CONTROLNET = "diffusers/controlnet-canny-sdxl-1.0"
LCM_LORA = "latent-consistency/lcm-lora-sdxl"
LIGHTNING = "ByteDance/SDXL-Lightning"
# The real few-step LoRAs, as far as could be found without their files: 197 M parameters, 394 MB in fp16 (the model
# card, the Hub's file list) = rank 64 on the 788 layers of TARGET_MODULES; alpha 8 (PEFT's default in the script that
# made the LCM-LoRA; a re-packer of the Lightning LoRA says so too). Written so (fp16 alphas, no `__metadata__`), the
# file is 393,854,592 bytes: to the byte the size an unmodified mirror gives for the real 4-step Lightning LoRA, which
# depends on every key name, shape and dtype in the header. Check with `safe_open(file).keys()` when one is at hand.
LORA_RANK, LORA_ALPHA = 64, 8.0


def repositories() -> list[Repository]:
    """The nine repositories the lessons load in full mode, in build order (the base before those sharing its parts).

    The refiner's and the inpainting model's shared components are hard links to the base's (their configs are
    identical, as in the real repositories); the inpainting UNet is the base's config with 9 input channels; the
    ControlNet is flat, with only its fp16 variant file (full mode loads `variant="fp16"`). The few-step LoRAs are
    flat, each its one LoRA file for SDXL base's UNet (LoraFile), under the real file name (lesson 14 loads the
    Lightning repository's 4-step LoRA, one of its many files).
    """
    from helpers.memory import PARAMETERS
    from helpers.models import CATALOGUE
    from helpers.tiny.standins import CONFIGS, real_config
    from helpers.tiny.train_lcm import TARGET_MODULES

    def lora(name: str) -> LoraFile:  # the real file's name is the catalogue's check file; its count, memory's
        return LoraFile("", real_config("sdxl-base", "unet"), True, PARAMETERS[name]["lora"], file_name=CATALOGUE[name].check_file,
                        rank=LORA_RANK, alpha=LORA_ALPHA, target_modules=tuple(TARGET_MODULES))

    def flat(name: str) -> dict:
        return json.loads((CONFIGS / name / "config.json").read_text())

    tokenizers = tuple(f"{folder}/{name}" for folder in ("tokenizer", "tokenizer_2") for name in TOKENIZER_FILES)
    return [
        Repository(BASE, (
            Component("text_encoder", real_config("sdxl-base", "text_encoder"), True, 123_060_480),
            Component("text_encoder_2", real_config("sdxl-base", "text_encoder_2"), True, 694_659_840),
            Component("unet", real_config("sdxl-base", "unet"), True, 2_567_463_684),
            Component("vae", real_config("sdxl-base", "vae"), True, 83_653_863),
        ), _sdxl_files("sdxl-base"), ("model_index.json", "scheduler/scheduler_config.json", *tokenizers)),
        Repository("stabilityai/stable-diffusion-xl-refiner-1.0", (
            Component("text_encoder_2", real_config("sdxl-refiner", "text_encoder_2"), True, 694_659_840, shared_from=BASE),
            Component("unet", real_config("sdxl-refiner", "unet"), True, 2_259_526_660),
            Component("vae", real_config("sdxl-refiner", "vae"), True, 83_653_863, shared_from=BASE),
        ), _sdxl_files("sdxl-refiner"), ("model_index.json", "scheduler/scheduler_config.json",
                                         *(f"tokenizer_2/{name}" for name in TOKENIZER_FILES))),
        Repository(INPAINT, (
            Component("text_encoder", real_config("sdxl-inpaint", "text_encoder"), True, 123_060_480, shared_from=BASE),
            Component("text_encoder_2", real_config("sdxl-inpaint", "text_encoder_2"), True, 694_659_840, shared_from=BASE),
            Component("unet", real_config("sdxl-inpaint", "unet"), True, 2_567_478_084),
            Component("vae", real_config("sdxl-inpaint", "vae"), True, 83_653_863, shared_from=BASE),
        ), _sdxl_files("sdxl-inpaint"), ("model_index.json", "scheduler/scheduler_config.json", *tokenizers)),
        Repository(CONTROLNET, (Component("", real_config("controlnet-canny", "config"), True, 1_251_014_160),)),
        Repository("google/ddpm-cat-256", (Component("", real_config("ddpm", "config"), False, 113_673_219),),
                   _write_ddpm_scheduler, ("scheduler_config.json",)),
        Repository("madebyollin/sdxl-vae-fp16-fix", (Component("", flat("sdxl-vae-fp16-fix"), False, 83_653_863),)),
        Repository("madebyollin/taesdxl", (Component("", flat("taesdxl"), False, 2_445_063),)),
        Repository(LCM_LORA, (lora("lcm-lora-sdxl"),)),
        Repository(LIGHTNING, (lora("sdxl-lightning"),)),
    ]


# Repositories only some lessons load: a rehearsal of other lessons need not build them (in fp32 the inpainting UNet and
# the ControlNet take about 15 GB together; the LoRAs, fp16 everywhere, 0.4 GB each).
LESSON_ONLY_REPOSITORIES = {"08": (LCM_LORA,), "12": (INPAINT,), "13": (CONTROLNET,), "14": (LCM_LORA, LIGHTNING)}


def repositories_for(lessons=None) -> list[Repository]:
    """The repositories the given lessons ("04", "12", ...) load; None: every lesson's."""
    if lessons is None:
        return repositories()
    wanted = {lesson.zfill(2) for lesson in lessons}
    only = {repo_id for repo_ids in LESSON_ONLY_REPOSITORIES.values() for repo_id in repo_ids}
    needed = {repo_id for lesson in wanted for repo_id in LESSON_ONLY_REPOSITORIES.get(lesson, ())}
    return [repo for repo in repositories() if repo.repo_id not in only - needed]


def empty_model(config: dict):
    """The model a config describes, with its parameters on the meta device (no memory, no time)."""
    from accelerate import init_empty_weights

    with init_empty_weights():  # parameters on meta; buffers (CLIP's position_ids) real
        if "_class_name" in config:
            import diffusers

            return getattr(diffusers, config["_class_name"]).from_config(config)
        from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

        model_class = {"CLIPTextModel": CLIPTextModel, "CLIPTextModelWithProjection": CLIPTextModelWithProjection}
        return model_class[config["architectures"][0]](CLIPTextConfig(**config))


def random_weights(model, dtype, seed: int, checkpoint_prefix: str = "", device: str = "cpu") -> dict:
    """A state dict for `model` (on meta) in `dtype`: weights ~ N(0, 1/fan_in), biases 0, norms 1, embeddings N(0, 0.02).

    Drawn in fp32 one tensor at a time and cast, so fp16 never overflows and memory stays at one copy. `device`:
    where the numbers are drawn ("cuda": about 100 times faster than one CPU core; the state dict is on the CPU).
    """
    import torch

    generator = torch.Generator(device=device).manual_seed(seed)
    state = {}
    for module_name, module in model.named_modules():
        for name, parameter in module.named_parameters(recurse=False):
            key = checkpoint_prefix + (f"{module_name}.{name}" if module_name else name)
            shape = tuple(parameter.shape)
            if "Norm" in type(module).__name__:  # GroupNorm, LayerNorm: weight 1, bias 0 (never 0 weights)
                value = torch.ones(shape) if name == "weight" else torch.zeros(shape)
            elif isinstance(module, torch.nn.Embedding):
                value = torch.randn(shape, generator=generator, device=device).mul_(0.02)
            elif name == "bias":
                value = torch.zeros(shape)
            elif parameter.dim() >= 2:
                fan_in = parameter[0].numel()
                value = torch.randn(shape, generator=generator, device=device).mul_(fan_in**-0.5)
            else:
                raise ValueError(f"No rule for the 1-D parameter {key} of {type(module).__name__}")
            state[key] = value.to(dtype).cpu()
    expected = {checkpoint_prefix + key for key in model.state_dict()}
    if expected != set(state):  # a persistent buffer, or a tied weight: not covered by the rules above
        raise ValueError(f"Random weights do not cover the state dict: {sorted(expected ^ set(state))[:5]}")
    return state


def lora_layout(component: LoraFile) -> dict[str, tuple[int, ...]]:
    """The keys and shapes of `component`'s file: the UNet built on the meta device, the LoRA added with peft as
    diffusers' LCM-LoRA example adds it, its state dict in kohya-style keys as helpers/tiny/train_lcm.py saves it
    (diffusers' convert_state_dict_to_kohya, and the `lora_unet_` prefix). An alpha's shape is ()."""
    from accelerate import init_empty_weights
    from diffusers.utils import convert_state_dict_to_kohya
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = empty_model(component.config)
    with init_empty_weights():
        unet.add_adapter(LoraConfig(r=component.rank, lora_alpha=component.alpha, target_modules=list(component.target_modules)))
    kohya = convert_state_dict_to_kohya(get_peft_model_state_dict(unet))
    return {f"lora_unet_{key}": tuple(value.shape) for key, value in kohya.items()}


def random_lora_weights(component: LoraFile, seed: int, device: str = "cpu") -> dict:
    """`component`'s file, fp16: lora_down ~ N(0, 1/fan_in), lora_up ~ N(0, 0.01/rank), alpha = component.alpha.

    With its scale alpha/rank, each adapted layer's weight changes by about 1 % of its own random values; all 788
    together changed the random SDXL UNet's output by about a fifth (measured at 64x64), every number finite.
    `device="meta"`: the factors on the meta device (no memory; the alphas real), for checking the layout cheaply.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in lora_layout(component).items():
        if key.endswith(".alpha"):
            state[key] = torch.tensor(component.alpha, dtype=torch.float16)
        elif device == "meta":
            state[key] = torch.empty(shape, dtype=torch.float16, device="meta")
        else:
            spread = (torch.Size(shape)[1:].numel() ** -0.5) if key.endswith(".lora_down.weight") else 0.1 * component.rank**-0.5
            state[key] = torch.randn(shape, generator=generator).mul_(spread).to(torch.float16)
    return state


def _checkpoint_prefix(model) -> str:
    # transformers 5 keeps CLIPTextModel's layers at the top level and renames the checkpoints' "text_model."
    # keys when loading; write the real files' names so loading takes the real files' path.
    if type(model).__name__ == "CLIPTextModel" and not next(iter(model.state_dict())).startswith("text_model."):
        return "text_model."
    return ""


def storage_dtype():
    """The dtype of the numbers in the weight files: fp16 (as on the Hub) on CUDA, fp32 on a CPU (see above)."""
    import torch

    return torch.float16 if torch.cuda.is_available() else torch.float32


def build_component(component: Component, folder: Path, seed: int) -> dict:
    """Write one component's config.json and random weights into `folder` (a LoRA: its one file); return what it took."""
    import gc

    import torch
    from safetensors.torch import save_file

    if isinstance(component, LoraFile):
        return build_lora_file(component, folder, seed)
    start = time.perf_counter()
    model = empty_model(component.config)
    count = sum(p.numel() for p in model.parameters())
    if component.parameters is not None and count != component.parameters:
        raise RuntimeError(f"{component.path or 'model'}: {count:,} parameters, the real model has {component.parameters:,}")
    device = "cuda" if torch.cuda.is_available() else "cpu"  # drawing 2.6 B numbers takes a minute on one CPU core
    state = random_weights(model, storage_dtype() if component.fp16 else torch.float32, seed, _checkpoint_prefix(model), device)
    del model
    made = time.perf_counter()
    target = folder / component.path if component.path else folder
    target.mkdir(parents=True, exist_ok=True)
    (target / "config.json").write_text(json.dumps(component.config, indent=2) + "\n")
    save_file(state, target / component.weights_name, metadata={"format": "pt"})
    del state
    gc.collect()
    return {"parameters": count, "build_s": made - start, "save_s": time.perf_counter() - made,
            "bytes": (target / component.weights_name).stat().st_size}


def build_lora_file(component: LoraFile, folder: Path, seed: int) -> dict:
    """Write a LoRA repository's one file into `folder`; return what it took (as build_component)."""
    from safetensors.torch import save_file

    start = time.perf_counter()
    state = random_lora_weights(component, seed)
    count = sum(value.numel() for key, value in state.items() if not key.endswith(".alpha"))
    if component.parameters is not None and count != component.parameters:
        raise RuntimeError(f"{component.file_name}: {count:,} LoRA parameters, the real file has {component.parameters:,}")
    made = time.perf_counter()
    target = folder / _join(component.path, component.file_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, target)  # no __metadata__: the real file's size (above)
    return {"parameters": count, "layers": sum(key.endswith(".alpha") for key in state), "build_s": made - start,
            "save_s": time.perf_counter() - made, "bytes": target.stat().st_size}


def _link_or_copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def build_repository(cache: Path, repository: Repository, progress=None) -> dict:
    """Build one repository into the cache (staged, then published), unless its marker says it is built."""
    cache = Path(cache)
    marker = cache / STATE / f"{repository.folder_name}.json"
    fingerprint = _fingerprint(repository)
    if marker.is_file() and json.loads(marker.read_text()).get("fingerprint") == fingerprint \
            and (snapshot_folder(cache, repository.repo_id) / repository.files()[0]).is_file():
        if progress is not None:
            progress.update(len(repository.components))
        return json.loads(marker.read_text())
    staging = cache / STATE / f"staging-{repository.folder_name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    report = {"repo_id": repository.repo_id, "fingerprint": fingerprint, "components": {}}
    for component in repository.components:
        label = f"{repository.repo_id.split('/')[1]}/{component.path}".rstrip("/")
        if progress is not None:
            progress.set_description(f"building {label}")
        if component.shared_from:
            source = snapshot_folder(cache, component.shared_from) / component.path
            for name in ("config.json", component.weights_name):
                _link_or_copy(source / name, staging / component.path / name)
            if json.loads((staging / component.path / "config.json").read_text()) != component.config:
                raise RuntimeError(f"{label}: its config differs from {component.shared_from}'s; it cannot be shared")
            report["components"][component.path] = {"shared_with": component.shared_from,
                                                    "bytes": (source / component.weights_name).stat().st_size}
        else:
            seed = int(hashlib.sha1(f"{repository.repo_id}/{component.path}".encode()).hexdigest()[:8], 16)
            report["components"][component.path or "model"] = build_component(component, staging, seed)
        if progress is not None:
            progress.update(1)
            done = report["components"][component.path or "model"]
            progress.write(f"  {label:42} " + (f"hard-linked from {component.shared_from}" if component.shared_from else
                           f"{done['parameters']:>13,} parameters  built {done['build_s']:5.1f} s  saved {done['save_s']:5.1f} s  "
                           f"{done['bytes'] / GIB:6.2f} GiB"))
    if repository.write_other_files is not None:
        repository.write_other_files(staging)
    written = sorted(str(path.relative_to(staging)) for path in staging.rglob("*") if path.is_file())
    missing = set(repository.files()) - set(written)
    if missing:
        raise RuntimeError(f"{repository.repo_id}: the build did not write {sorted(missing)}")
    publish_snapshot(cache, repository.repo_id, staging)
    marker.write_text(json.dumps(report, indent=2))
    return report


def _fingerprint(repository: Repository) -> str:
    parts = [BUILD_VERSION, str(storage_dtype()), repository.repo_id, repository.other_files,
             [c.fingerprint_parts() for c in repository.components]]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def expected_bytes(repository: Repository) -> int:
    """Disk space the repository's weights take (shared components: none, they are hard links)."""
    return sum(c.parameters * c.bytes_per_number() for c in repository.components if not c.shared_from and c.parameters)


def default_cache() -> Path:
    from helpers.models import cache_dir

    return cache_dir() / f"rehearsal-hub-{str(storage_dtype()).replace('torch.float', 'fp')}"


def cache_is_complete(cache: Path, repos: list[Repository] | None = None) -> bool:
    marker = Path(cache) / MARKER
    if not marker.is_file():
        return False
    expected = {"build_version": BUILD_VERSION, "repositories": {r.repo_id: _fingerprint(r) for r in (repos or repositories())}}
    return json.loads(marker.read_text()) == expected


def build_cache(cache_dir: Path | str | None = None, repos: list[Repository] | None = None, min_free_gib: float = 2.0) -> Path:
    """Build (or reuse) the offline Hugging Face cache of random-weight, real-size copies. Returns its path."""
    from tqdm.auto import tqdm

    cache = Path(cache_dir).expanduser().resolve() if cache_dir else default_cache()
    repos = repos if repos is not None else repositories()
    if cache_is_complete(cache, repos):
        print(f"Rehearsal cache: {cache} (built before; reused)")
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    (cache / MARKER).unlink(missing_ok=True)
    (cache / STATE).mkdir(exist_ok=True)
    still = [r for r in repos if not _built(cache, r)]
    needed = sum(expected_bytes(r) for r in still) / GIB
    free = shutil.disk_usage(cache).free / GIB
    if free < needed + min_free_gib:
        raise SystemExit(f"Not enough disk space for the rehearsal cache in {cache}: it needs about {needed:.1f} GiB more "
                         f"(plus {min_free_gib:.0f} GiB to spare), and {free:.1f} GiB are free. Free some space, or put the "
                         f"cache elsewhere with --cache DIR (or SDXL_TUTORIAL_CACHE).")
    print(f"Building the rehearsal cache in {cache}: about {needed:.1f} GiB of random weights at real size "
          f"({free:.0f} GiB free). Built once, reused afterwards.", flush=True)
    start = time.perf_counter()
    reports = []
    with tqdm(total=sum(len(r.components) for r in repos), unit="model", dynamic_ncols=True) as progress:
        for repository in repos:
            reports.append(build_repository(cache, repository, progress))
    (cache / STATE / "build.json").write_text(json.dumps({"seconds": time.perf_counter() - start, "repositories": reports}, indent=2))
    (cache / MARKER).write_text(json.dumps({"build_version": BUILD_VERSION,
                                            "repositories": {r.repo_id: _fingerprint(r) for r in repos}}))
    print(f"Rehearsal cache built in {time.perf_counter() - start:.0f} s: {cache}", flush=True)
    return cache


def _built(cache: Path, repository: Repository) -> bool:
    marker = cache / STATE / f"{repository.folder_name}.json"
    return marker.is_file() and json.loads(marker.read_text()).get("fingerprint") == _fingerprint(repository)


# ---------------------------------------------------------------------------------------------
# Part 2: the lessons


def rss_anon_bytes(status_text: str) -> int | None:
    """RssAnon from the text of /proc/<pid>/status, in bytes (None if the line is missing)."""
    for line in status_text.splitlines():
        if line.startswith("RssAnon:"):
            value, unit = line.split()[1:3]
            return int(value) * {"kB": 1024, "mB": 1024**2, "gB": 1024**3}.get(unit, 1)
    return None


def read_rss_anon(pid: int) -> int | None:
    try:
        return rss_anon_bytes(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return None


def check_decisions(log: Path, host_budget: float, gpu_budget: float | None) -> tuple[list[dict], list[str]]:
    """The memory decisions a lesson logged, and the problems: a decision that runs over budget, a bad line."""
    decisions, problems = [], []
    if not Path(log).is_file():
        return decisions, problems
    for number, line in enumerate(Path(log).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            decision = json.loads(line)
            if "call" in decision:  # a recorded call: check_calls's
                continue
            missing = {"what", "plan", "host_gib", "gpu_gib", "runs"} - set(decision)
        except (ValueError, TypeError):
            problems.append(f"line {number} of {Path(log).name} is not a JSON object")
            continue
        if missing:
            problems.append(f"line {number} of {Path(log).name} lacks {sorted(missing)}")
            continue
        decisions.append(decision)
        if not decision["runs"]:
            continue
        host, gpu = decision["host_gib"] or 0.0, decision["gpu_gib"] or 0.0
        if host > host_budget:
            problems.append(f"{decision['what']}: plan '{decision['plan']}' needs {host:.2f} GiB of host RAM, budget {host_budget:g}")
        if gpu_budget is not None and gpu > gpu_budget:
            problems.append(f"{decision['what']}: plan '{decision['plan']}' needs {gpu:.2f} GiB of GPU memory, budget {gpu_budget:g}")
    return decisions, problems


SDXL_NATIVE = 1024  # the size full mode's plans are made for


def call_scale(parameters: dict) -> float:
    """By how much a rehearsal run's sizes stand for the real ones: 8 when a lesson runs at 128x128 for 1024x1024."""
    height = parameters.get("height")
    return SDXL_NATIVE / height if height and height < SDXL_NATIVE else 1.0


def describe_call(call: dict, scale: float = 1.0) -> str:
    size = f"{round(call['width'] * scale)}x{round(call['height'] * scale)}"
    parts = []
    if call.get("pictures"):
        parts.append(f"{call['pictures']} picture{'s' if call['pictures'] != 1 else ''} a call")
    if call.get("decoded_at_once"):
        parts.append(f"{call['decoded_at_once']} decoded at once")
    if call.get("encoded_at_once"):
        parts.append(f"{call['encoded_at_once']} encoded at once")
    return f"{call['call']} ({', '.join(parts) or 'nothing'}) at {size}"


def check_calls(log: Path, machine, scale: float = 1.0) -> tuple[list[dict], list[str]]:
    """Every recorded call, planned again under the plan it ran under; the problems: a call that needs more than its
    plan covered, or that ran before its process planned anything.

    The plan a call ran under is the last plan its process (pid) logged that runs. `machine`: the declared
    helpers.memory.Machine; `scale`: how much the run's sizes stand for (call_scale).
    """
    from helpers import memory

    calls, problems, covering = [], [], {}
    if not Path(log).is_file():
        return calls, problems
    for line in Path(log).read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # check_decisions reports it
        if not isinstance(record, dict):
            continue
        pid = record.get("pid")
        if "plan" in record:
            if record.get("runs"):
                covering[pid] = record
            continue
        if "call" not in record:
            continue
        plan = covering.get(pid)
        described = describe_call(record, scale)
        if plan is None or not plan.get("arguments"):
            message = f"{described} ran before any memory plan of its process"
            calls.append({**record, "covered_by": None, "ok": False})
            if message not in problems:
                problems.append(message)
            continue
        need = memory.plan_for_call(plan, record, machine, scale)
        ok = need.gpu_gib <= plan["gpu_gib"] + 0.005 and need.host_gib <= plan["host_gib"] + 0.005
        calls.append({**record, "covered_by": plan["what"], "plan_gpu_gib": plan["gpu_gib"], "need_gpu_gib": round(need.gpu_gib, 3),
                      "need_host_gib": round(need.host_gib, 3), "ok": ok})
        if not ok:
            message = (f"{described} needs {need.gpu_gib:.2f} GiB GPU / {need.host_gib:.2f} GiB host; its plan "
                       f"'{plan['what']}' ({plan['plan']}) covered {plan['gpu_gib']:.2f} / {plan['host_gib']:.2f}")
            if message not in problems:
                problems.append(message)
    return calls, problems


def summarize_calls(calls: list[dict], scale: float = 1.0) -> list[str]:
    """One line per kind of call: how many, and the one that needed the most against what its plan covered."""
    lines = []
    for kind in dict.fromkeys(call["call"] for call in calls):
        same = [call for call in calls if call["call"] == kind]
        checked = [call for call in same if call.get("covered_by") is not None]
        if not checked:
            lines.append(f"{len(same)} x {kind}: no plan covered them")
            continue
        largest = max(checked, key=lambda call: (call["need_gpu_gib"], call.get("pictures", 0), call.get("decoded_at_once", 0),
                                                 call.get("encoded_at_once", 0), call["width"] * call["height"]))
        over = sum(1 for call in same if not call["ok"])
        lines.append(f"{len(same)} x {kind}; the largest, {describe_call(largest, scale)}, needs {largest['need_gpu_gib']:.2f} GiB GPU "
                     f"of the {largest['plan_gpu_gib']:.2f} planned by '{largest['covered_by']}'" + (f"; **{over} over their plan**" if over else ""))
    return lines


def declared(machine: str):
    """The helpers.memory.Machine that SDXL_TUTORIAL_MACHINE=`machine` declares."""
    from helpers import memory

    saved = os.environ.get(memory.MACHINE_VARIABLE)
    os.environ[memory.MACHINE_VARIABLE] = machine
    try:
        return memory.declared_machine()
    finally:
        if saved is None:
            os.environ.pop(memory.MACHINE_VARIABLE)
        else:
            os.environ[memory.MACHINE_VARIABLE] = saved


def describe_decision(decision: dict) -> str:
    gpu = f"{decision['gpu_gib']:.2f}" if decision.get("gpu_gib") is not None else "-"
    verdict = "runs   " if decision["runs"] else "skipped"
    return f"{verdict} {decision['what']}: {decision['plan']} (host {decision['host_gib'] or 0:.2f} GiB, GPU {gpu} GiB)"


def machine_budgets(machine: str) -> tuple[float, float | None, str]:
    """(host budget, GPU budget, description) of a declared machine, from helpers.memory when it knows it."""
    try:
        found = declared(machine)
        return (found.host_budget, found.gpu_gib,
                f"{machine} ({found.name}): {found.host_gib:g} GiB host RAM, of which {found.host_budget:g} usable; "
                f"GPU {found.gpu_gib:g} GiB" if found.gpu_gib else f"{machine}: no GPU")
    except (ImportError, AttributeError, ValueError):
        if machine not in MACHINE_BUDGETS:
            raise SystemExit(f"Unknown machine {machine!r} (helpers.memory does not declare it either).")
        host, gpu = MACHINE_BUDGETS[machine]
        return host, gpu, f"{machine}: budget {host:g} GiB host RAM, {gpu:g} GiB GPU"


class Sampler:
    """Peak RssAnon of the kernel's process tree (every 0.2 s) and, on CUDA, its GPU memory (every 0.5 s)."""

    def __init__(self, root_pid: int, cuda: bool):
        self.root_pid, self.cuda = root_pid, cuda
        self.peak_rss_anon = 0
        self.peak_gpu_mib: float | None = None
        self.gpu_source = ""
        self._stop = threading.Event()
        self._kernel_pids: set[int] = set()
        self._baseline_mib = _gpu_used_total_mib() if cuda else None
        self._threads = [threading.Thread(target=self._sample_host, daemon=True)]
        if cuda:
            self._threads.append(threading.Thread(target=self._sample_gpu, daemon=True))

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _kernel_tree(self) -> list:
        import psutil

        try:
            children = psutil.Process(self.root_pid).children(recursive=True)
        except psutil.Error:
            return []
        kernels = []
        for child in children:
            try:
                if any("ipykernel" in part for part in child.cmdline()):
                    kernels.append(child)
            except psutil.Error:
                pass
        tree = list(kernels)
        for kernel in kernels:
            with contextlib.suppress(psutil.Error):
                tree += kernel.children(recursive=True)
        return tree

    def _sample_host(self):
        while not self._stop.wait(0.2):
            tree = self._kernel_tree()
            self._kernel_pids = {process.pid for process in tree}
            total = sum(read_rss_anon(process.pid) or 0 for process in tree)
            self.peak_rss_anon = max(self.peak_rss_anon, total)

    def _sample_gpu(self):
        while not self._stop.wait(0.5):
            used = _gpu_used_by_pids_mib(self._kernel_pids)
            if used is not None:
                self.gpu_source = "nvidia-smi, per process"
            elif self._baseline_mib is not None:  # pids not visible (a container): the whole GPU, less what was in use before
                total = _gpu_used_total_mib()
                used = None if total is None else max(0.0, total - self._baseline_mib)
                self.gpu_source = "nvidia-smi, whole GPU less the use before the lesson"
            if used is not None:
                self.peak_gpu_mib = max(self.peak_gpu_mib or 0.0, used)


def _nvidia_smi(*query: str) -> list[list[str]] | None:
    try:
        done = subprocess.run(["nvidia-smi", *query, "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return [[part.strip() for part in line.split(",")] for line in done.stdout.splitlines() if line.strip()]


def _gpu_used_by_pids_mib(pids: set[int]) -> float | None:
    rows = _nvidia_smi("--query-compute-apps=pid,used_memory")
    if not rows or not pids:
        return None
    mine = [float(row[1]) for row in rows if len(row) == 2 and row[0].isdigit() and int(row[0]) in pids and row[1].replace(".", "").isdigit()]
    return sum(mine) if mine else None


def _gpu_used_total_mib() -> float | None:
    rows = _nvidia_smi("--query-gpu=memory.used")
    try:
        return float(rows[0][0]) if rows else None
    except ValueError:
        return None


# Runs in a fresh process: one notebook with papermill (its kernel is this process's child).
_RUN_ONE = """
import json, logging, sys, papermill
logging.basicConfig(level=logging.INFO, format="%(message)s")  # papermill logs each cell's output: the lesson's log
papermill.execute_notebook(sys.argv[1], sys.argv[2], parameters=json.loads(sys.argv[4]), kernel_name="python3",
                           progress_bar=False, log_output=True, cwd=sys.argv[3])
"""


def _draw_for_prompt(prompt, height=1024, width=1024, **ignored):
    """Lesson 09's stand-in for the hosted API: the shape the prompt names, drawn directly (no model)."""
    from helpers.tiny import shapes

    colour, shape = shapes.parse_caption(prompt)
    size = min(int(height), int(width), 256)
    picture = shapes.draw(colour or "red", shape or "circle", size, (size / 2, size / 2), size / 3)
    return picture.resize((int(width), int(height)))


def lesson_error(executed: Path, log_text: str) -> str:
    """The lesson's error: from the executed notebook's error output, else the last line of the log."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        for index, cell in enumerate(json.loads(executed.read_text())["cells"]):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    return f"cell {index}: {output['ename']}: {output['evalue']}".splitlines()[0][:300]
    lines = [line for line in log_text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "failed (no output)"


def run_lesson(notebook: Path, parameters: dict, environment: dict, scratch: Path, cuda: bool,
               budgets: tuple[float, float | None], timeout: float) -> dict:
    """Run one lesson with papermill; its row: result, wall time, peaks, its decisions and its calls checked."""
    scale = call_scale(parameters)
    lesson = notebook.name[:2]
    folder = scratch / notebook.stem
    folder.mkdir(parents=True, exist_ok=True)
    plan_log = scratch / f"{notebook.stem}.plans.jsonl"
    plan_log.unlink(missing_ok=True)
    environment = {**environment, "SDXL_TUTORIAL_PLAN_LOG": str(plan_log)}
    executed, log_path = scratch / notebook.name, scratch / f"{notebook.stem}.log"
    row = {"lesson": notebook.stem, "parameters": dict(parameters), "note": ""}
    server = None
    if lesson in LOCAL_SERVER_LESSONS:
        from helpers.hosted import LocalTextToImageServer

        server = LocalTextToImageServer(_draw_for_prompt).start()
        parameters = {**parameters, "base_url": server.url}
        row["note"] = "hosted API replaced by a local server that draws a shape"
    start = time.perf_counter()
    try:
        with open(log_path, "w") as log:
            process = subprocess.Popen([sys.executable, "-c", _RUN_ONE, str(notebook), str(executed), str(folder),
                                        json.dumps(parameters)], env=environment, stdout=log, stderr=subprocess.STDOUT)
            with Sampler(process.pid, cuda) as sampler:
                interrupted = False
                try:
                    returncode = process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    _stop_tree(process)
                    returncode = None
                except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop this lesson, report what ran so far
                    _stop_tree(process)
                    returncode, interrupted = None, True
    finally:
        if server is not None:
            server.stop()
    row["seconds"] = time.perf_counter() - start
    row["peak_rss_anon_gib"] = sampler.peak_rss_anon / GIB
    row["peak_gpu_gib"] = sampler.peak_gpu_mib / 1024 if sampler.peak_gpu_mib is not None else None
    row["gpu_source"] = sampler.gpu_source
    row["decisions"], problems = check_decisions(plan_log, *budgets)
    machine = environment.get("SDXL_TUTORIAL_MACHINE")
    row["calls"], call_problems = check_calls(plan_log, declared(machine), scale) if machine else ([], [])
    row["call_lines"] = summarize_calls(row["calls"], scale)
    row["ok"] = returncode == 0 and not problems and not call_problems
    row["interrupted"] = interrupted
    if interrupted:
        row["error"] = "interrupted (the rehearsal was stopped)"
    elif returncode is None:
        row["error"] = f"stopped after {timeout:.0f} s (--lesson-timeout)"
    elif returncode != 0:
        row["error"] = lesson_error(executed, log_path.read_text(errors="replace"))
    elif problems:
        row["error"] = "memory plan over budget: " + "; ".join(problems)
    elif call_problems:
        row["error"] = "a call its plan did not cover: " + "; ".join(call_problems[:3]) + (
            f" (and {len(call_problems) - 3} more)" if len(call_problems) > 3 else "")
    row["log"] = str(log_path)
    return row


def _stop_tree(process) -> None:
    """Stop the papermill process this script started, and its kernel (its children), by pid."""
    import psutil

    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    process.kill()
    process.wait()


def machine_description() -> str:
    import psutil
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    text = f"{cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / GIB:.1f} GiB RAM"
    if torch.cuda.is_available():
        text += f"; GPU {torch.cuda.get_device_name(0)} ({torch.cuda.get_device_properties(0).total_memory / GIB:.1f} GiB)"
    return text


def lesson_parameters(lesson: str, cuda: bool) -> dict:
    return dict((PARAMETERS_CUDA if cuda else PARAMETERS_CPU).get(lesson, {}))


def markdown_report(rows: list[dict], header: list[str]) -> str:
    lines = [*header, "",
             "| lesson | result | wall (s) | peak kernel RssAnon (GiB) | peak GPU (GiB) | memory decisions (run / skipped) "
             "| calls checked (over their plan) | notes |",
             "|---|---|---:|---:|---:|---|---|---|"]
    for row in rows:
        runs = sum(1 for d in row["decisions"] if d["runs"])
        gpu = f"{row['peak_gpu_gib']:.2f}" if row["peak_gpu_gib"] is not None else "-"
        result = "passed" if row["ok"] else "**FAILED**"
        calls = row.get("calls", [])
        notes = "; ".join(part for part in (row["note"], row.get("error", "")) if part).replace("|", "\\|")
        lines.append(f"| {row['lesson']} | {result} | {row['seconds']:.0f} | {row['peak_rss_anon_gib']:.2f} | {gpu} | "
                     f"{runs} / {len(row['decisions']) - runs} | {len(calls)} ({sum(1 for c in calls if not c['ok'])}) | {notes} |")
    lines += ["", "Memory decisions (from SDXL_TUTORIAL_PLAN_LOG), and the calls each lesson made, planned again:", ""]
    for row in rows:
        lines += [f"- {row['lesson']}: " + ("none logged" if not row["decisions"] else "")]
        lines += [f"  - {describe_decision(d)}" for d in row["decisions"]]
        lines += [f"  - calls: {line}" for line in row.get("call_lines", [])]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", help="lesson numbers, e.g. 04 06 (default: every notebook)")
    parser.add_argument("--cache", type=Path, help="the rehearsal's Hugging Face cache (default: ~/.cache/sdxl-by-hand/rehearsal-hub-fp32 on a CPU, -fp16 on CUDA)")
    parser.add_argument("--machine", default="colab-t4", help="the declared machine (SDXL_TUTORIAL_MACHINE; default colab-t4)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "rehearsal-results.md", help="where the table goes")
    parser.add_argument("--build-only", action="store_true", help="build the cache and stop")
    parser.add_argument("--keep", action="store_true", help="keep the executed notebooks even when every lesson passes")
    parser.add_argument("--lesson-timeout", type=float, default=3 * 3600, help="seconds before a lesson is stopped")
    arguments = parser.parse_args(argv)

    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if arguments.lessons:
        wanted = {lesson.zfill(2) for lesson in arguments.lessons}
        unknown = wanted - {notebook.name[:2] for notebook in notebooks}
        if unknown:
            raise SystemExit(f"No lesson {sorted(unknown)} in notebooks/.")
        notebooks = [notebook for notebook in notebooks if notebook.name[:2] in wanted]
    cache = build_cache(arguments.cache, repos=repositories_for(arguments.lessons or None))
    if arguments.build_only:
        return 0
    import torch

    cuda = torch.cuda.is_available()
    host_budget, gpu_budget, declared = machine_budgets(arguments.machine)
    environment = {
        **os.environ,
        "SDXL_TUTORIAL_MODE": "full", "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "SDXL_TUTORIAL_STATIC": "1",
        "SDXL_TUTORIAL_REHEARSAL": "1", "SDXL_TUTORIAL_MACHINE": arguments.machine, "SDXL_TUTORIAL_STRICT_WARNINGS": "1",
        "SDXL_TUTORIAL_RECORD_CALLS": "1",
        "TQDM_MININTERVAL": os.environ.get("TQDM_MININTERVAL", "5"),
    }
    scratch = Path(tempfile.mkdtemp(prefix="sdxl-rehearsal-"))
    print(f"Lessons run in full mode against {cache} ({'CUDA' if cuda else 'CPU'}); declared machine {declared}.\n"
          f"Executed notebooks and logs: {scratch}", flush=True)
    rows = []
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a SIGTERM stops like Ctrl-C: the table is still written
    for notebook in notebooks:
        parameters = lesson_parameters(notebook.name[:2], cuda)
        print(f"\n{notebook.stem}  parameters {parameters or '(the lesson defaults)'}", flush=True)
        row = run_lesson(notebook, parameters, environment, scratch, cuda, (host_budget, gpu_budget), arguments.lesson_timeout)
        rows.append(row)
        for decision in row["decisions"]:
            print(f"  plan: {describe_decision(decision)}")
        for line in row["call_lines"]:
            print(f"  calls: {line}")
        gpu = f", GPU {row['peak_gpu_gib']:.2f} GiB" if row["peak_gpu_gib"] is not None else ""
        status = "passed" if row["ok"] else f"FAILED: {row['error']} (log: {row['log']})"
        print(f"  {row['seconds']:.0f} s, kernel RssAnon peak {row['peak_rss_anon_gib']:.2f} GiB{gpu}: {status}", flush=True)
        if row["interrupted"]:
            break

    import diffusers
    import transformers

    parameters_used = PARAMETERS_CUDA if cuda else PARAMETERS_CPU
    header = [
        "# Rehearsal: every lesson in full mode, random weights at real size, offline",
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {machine_description()}",
        f"- declared limits: {declared}; every memory decision that runs must fit host {host_budget:g} GiB"
        + (f" and GPU {gpu_budget:g} GiB" if gpu_budget else ""),
        f"- run on: {'CUDA, at the lessons defaults (1024x1024)' if cuda else 'CPU, fp32, small sizes'}; "
        f"parameters: " + ("; ".join(f"{k}: {json.dumps(v)}" for k, v in parameters_used.items()) or "the lessons' defaults"),
        f"- cache: {cache}; torch {torch.__version__}, diffusers {diffusers.__version__}, transformers {transformers.__version__}, "
        f"Python {sys.version.split()[0]}",
        "- peak kernel RssAnon: anonymous memory of the kernel and its children, sampled every 0.2 s"
        + (f"; peak GPU: {next((r['gpu_source'] for r in rows if r['gpu_source']), 'nvidia-smi')}" if cuda else ""),
    ]
    report = markdown_report(rows, header)
    print("\n" + report)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(report)
    print(f"Written to {arguments.out}")
    failed = [row for row in rows if not row["ok"]]
    if failed or arguments.keep:
        print(f"Executed notebooks and logs kept in {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
