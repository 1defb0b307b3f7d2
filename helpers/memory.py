"""Will it fit? Memory plans for the GPU *and* the host RAM, from parameter counts, before anything loads.

On a free Colab T4 the host RAM (12.7 GiB), not the GPU (15 GiB), is what most often kills an SDXL
session: the kernel dies without a Python exception, so a lesson must do this arithmetic *before* it
loads, never catch an out-of-memory error afterwards. Where the bytes go:

- weights: parameters x bytes per parameter (2 in fp16/bf16, 4 in fp32). Loading the fp16 files in fp16
  memory-maps them (no anonymous host memory); loading them in another dtype makes an anonymous copy of
  every weight in host RAM before `.to(device)`;
- working memory while a picture is made, per stage (text encoders, UNet steps with guidance, the VAE
  decode in fp32): the stages run one after another, so the peak is the largest stage, not their sum.
  Published: fp16 SDXL base at 1024x1024 peaks at 10.47 GiB, 6.46 GiB of it weights;
- `enable_model_cpu_offload()` keeps every model it offloads in host RAM (each goes back to the CPU after
  it runs): all the weights end up resident there. `enable_group_offload(..., use_stream=True)` keeps them
  there too, in pinned (page-locked) memory, and copies each layer to the GPU while the one before it runs.

`SDXL_TUTORIAL_MACHINE` declares the machine instead of measuring this one: a name from `MACHINES`
(e.g. `colab-t4`) or `host=12.7,gpu=15` in GiB. The real-size rehearsal (tools/rehearsal.py) sets it, so a
CPU takes the decisions a free Colab T4 would; on a CUDA GPU it also caps this process's GPU memory to
the declared size. Every plan is appended as a JSON line to the file named by `SDXL_TUTORIAL_PLAN_LOG`,
when set, so the rehearsal can check each lesson's decisions against the budget. With
`SDXL_TUTORIAL_RECORD_CALLS=1` as well (the rehearsal sets both), every call of an SDXL pipeline and of the
VAE's `encode`/`decode` appends its pictures and size to the same file, so the rehearsal can re-plan each
call (`plan_for_call`) and check that the plan made before loading covered it.
(00_setup, 06_base_plus_refiner, 08_speed_and_memory)
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .i18n import N_, _

GIB = 1024**3
MACHINE_VARIABLE = "SDXL_TUTORIAL_MACHINE"
PLAN_LOG_VARIABLE = "SDXL_TUTORIAL_PLAN_LOG"
RECORD_CALLS_VARIABLE = "SDXL_TUTORIAL_RECORD_CALLS"

# The real checkpoints' parameter counts (checked on the meta device in tests/test_standins.py). A part
# that two repositories share (the refiner's text_encoder_2 and vae are the base's) is named once.
PARAMETERS = {
    "sdxl-base": {"text_encoder": 123_060_480, "text_encoder_2": 694_659_840, "unet": 2_567_463_684, "vae": 83_653_863},
    "sdxl-refiner": {"text_encoder_2": 694_659_840, "unet": 2_259_526_660, "vae": 83_653_863},
    "ddpm": {"unet": 113_673_219},
    "sdxl-vae-fp16-fix": {"vae": 83_653_863},
    "taesdxl": {"vae": 2_445_063},
    # the base's UNet with 5 more conv_in input channels (mask, masked-picture latents); the rest is the base's
    "sdxl-inpaint": {"text_encoder": 123_060_480, "text_encoder_2": 694_659_840, "unet": 2_567_478_084, "vae": 83_653_863},
    "controlnet-canny": {"controlnet": 1_251_014_160},
    # few-step LoRAs for the base's UNet: rank 64 on the 788 layers of diffusers' LCM-LoRA script's 14 targets (every
    # attention projection, proj_in/out, feed-forward, ResNet convolution, time projection, down/upsampler), 394 MB in
    # fp16. SDXL-Lightning's 4-step LoRA: the same count, inferred (its file is 394 MB too, and a re-packer describes
    # it as rank 64 on 788 UNet layers; its header was not read here)
    "lcm-lora-sdxl": {"lora": 196_751_360},
    "sdxl-lightning": {"lora": 196_751_360},
}
# Lesson 12 loads only the inpainting repository's UNet and reuses the base's text encoders and VAE (identical).
SHARED = {"sdxl-refiner": {"text_encoder_2": "sdxl-base", "vae": "sdxl-base"},
          "sdxl-inpaint": {"text_encoder": "sdxl-base", "text_encoder_2": "sdxl-base", "vae": "sdxl-base"}}
# a flat folder's one model; "unet" unless named here. A "lora" is loaded into the UNet (load_lora_weights): it works
# in the UNet's stage, with no working memory of its own, and moves with the UNet.
FLAT_PARTS = {"controlnet-canny": "controlnet", "lcm-lora-sdxl": "lora", "sdxl-lightning": "lora"}
FILE_BYTES = {"ddpm": 4}  # bytes per weight in the files full mode loads; SDXL's are the fp16 variant (2)

# Working memory of each stage for the real models at their native size (GiB), scaled by the pixel count.
# "unet": one picture's steps with guidance (a batch of 2); "vae": decoding one picture in fp32 (SDXL's VAE is upcast).
# "controlnet": an estimate: a ControlNet is a copy of the UNet's encoder and middle block (1.25B of its 2.57B
# parameters), so about half the UNet's work, on the same batch; its residuals (27M numbers a picture at 1024x1024,
# 0.1 GiB with guidance in fp16) wait for the UNet. It runs at every step *with* the UNet, so the UNet's stage is
# their sum, and both stay on the GPU together (diffusers keeps a ControlNet out of the offload chain).
WORKING_GIB = {"text_encoder": 0.1, "text_encoder_2": 0.2, "unet": 1.5, "vae": 3.5, "controlnet": 0.85, "lora": 0.0}
VAE_ENCODE_GIB = 2.5  # encoding one 1024x1024 picture in fp32 (training caches, img2img's input)
NATIVE_PIXELS = {"ddpm": 256 * 256}  # SDXL: 1024 x 1024
DDPM_WORKING_GIB = 0.5
PROCESS_GIB = 2.0  # Python, torch, the libraries and the CUDA context's host side, before any model
SEQUENTIAL_GPU_GIB = 0.5  # sequential offload: one layer's weights at a time, plus the CUDA context
# Group offload (diffusers' `enable_group_offload`, leaf level with a CUDA stream): one layer runs while the next is
# copied to the GPU beside it, so the GPU holds two layers. The largest layer of each real model: the most parameters
# one module holds itself (a convolution, a linear layer, an embedding table), built on the meta device in
# tests/test_memory.py. A part not listed counts whole (an upper bound; the tiny models' parts are small).
LARGEST_LAYER = {
    "sdxl-base": {"text_encoder": 37_945_344, "text_encoder_2": 63_242_240, "unet": 29_492_480, "vae": 2_359_808},
    "sdxl-refiner": {"unet": 42_468_864},
    "sdxl-inpaint": {"unet": 29_492_480},
    "controlnet-canny": {"controlnet": 14_746_880},
    "lcm-lora-sdxl": {"lora": 1_474_560},
    "sdxl-lightning": {"lora": 1_474_560},
}
# The VAE stays out of group offloading, on the GPU: an fp16 pipeline casts it to fp32 for the decode, and streamed
# offloading would put its pinned fp16 copies back on the GPU under the fp32 latents (diffusers 0.42.1: a dtype error).
GROUP_OFFLOAD_CODE = ('pipe.enable_group_offload(device, offload_type="leaf_level", use_stream=True, exclude_modules=["vae"])',
                      "# and never pipe.to(device); the VAE, excluded, goes to the GPU and stays there")
MARGIN = 1.1  # on GPU needs: allocator fragmentation, the CUDA context


@dataclass(frozen=True)
class Machine:
    """A machine's memory: host RAM and accelerator memory in GiB, and what its system keeps for itself."""

    name: str
    device: str  # "cuda", "mps" or "cpu"
    host_gib: float
    gpu_gib: float | None = None  # None: no accelerator; with `unified`, the accelerator shares the host RAM
    reserved_gib: float = 1.7  # the operating system and, on Colab, the runtime itself
    unified: bool = False

    @property
    def label(self) -> str:
        """The name as shown, in the course's language (`name` stays English: the machine's identifier)."""
        return _(self.name)

    @property
    def host_budget(self) -> float:
        return self.host_gib - self.reserved_gib


MACHINES = {
    "colab-t4": Machine(N_("free Colab T4"), "cuda", 12.7, 15.0),
    "colab-t4-highram": Machine(N_("Colab T4, High-RAM"), "cuda", 51.0, 15.0),
    "a100-40gb": Machine(N_("A100 40 GB (Colab)"), "cuda", 83.5, 40.0),
    "h100-80gb": Machine("H100 80 GB", "cuda", 128.0, 80.0, reserved_gib=4.0),
    "consumer-8gb": Machine(N_("8 GB GPU, 16 GB RAM"), "cuda", 16.0, 8.0, reserved_gib=4.0),
    "consumer-6gb": Machine(N_("6 GB GPU, 16 GB RAM"), "cuda", 16.0, 6.0, reserved_gib=4.0),
    "apple-16gb": Machine(N_("Apple silicon, 16 GB unified memory"), "mps", 16.0, None, reserved_gib=4.0, unified=True),
    "cpu-16gb": Machine(N_("CPU only, 16 GB RAM"), "cpu", 16.0, None, reserved_gib=4.0),
}


def declared_machine() -> Machine | None:
    """The machine declared with SDXL_TUTORIAL_MACHINE, or None. (08_speed_and_memory)"""
    value = os.environ.get(MACHINE_VARIABLE, "").strip()
    if not value:
        return None
    if value in MACHINES:
        return MACHINES[value]
    found = dict(re.findall(r"(host|gpu|reserved)\s*=\s*([0-9.]+)", value))
    if "host" not in found:
        raise ValueError(_("{variable}={value!r}: use a name ({names}) or sizes in GiB, e.g. 'host=12.7,gpu=15'.")
                         .format(variable=MACHINE_VARIABLE, value=value, names=", ".join(MACHINES)))
    gpu = float(found["gpu"]) if "gpu" in found else None
    return Machine(value, "cuda" if gpu else "cpu", float(found["host"]), gpu, float(found.get("reserved", 1.7)))


def this_machine() -> Machine:
    """The declared machine, else this one measured: total RAM and accelerator memory. (08_speed_and_memory)"""
    declared = declared_machine()
    if declared is not None:
        return declared
    import psutil
    import torch

    from .device import pick_device

    device = pick_device()
    memory = psutil.virtual_memory()
    host = memory.total / GIB
    # What the system and other programs hold now is not ours to use.
    reserved = max(0.0, (memory.total - memory.available - psutil.Process().memory_info().rss) / GIB)
    if device == "cuda":
        return Machine(torch.cuda.get_device_name(0), "cuda", host, torch.cuda.mem_get_info()[1] / GIB, reserved)
    if device == "mps":
        return Machine("Apple silicon", "mps", host, None, reserved, unified=True)
    return Machine(N_("this CPU"), "cpu", host, None, reserved)


def cap_gpu_to_declared_machine() -> str | None:
    """On CUDA, limit this process to the declared machine's GPU memory (a T4's 15 GiB on an 80 GB card)."""
    machine = declared_machine()
    if machine is None or not machine.gpu_gib:
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    total = torch.cuda.mem_get_info()[1] / GIB
    torch.cuda.set_per_process_memory_fraction(min(1.0, machine.gpu_gib / total))
    return _("GPU memory capped at {cap:g} GiB of {total:.1f} ({machine})").format(cap=machine.gpu_gib, total=total,
                                                                                    machine=machine.label)


# ---------------------------------------------------------------------------------------------
# What the models weigh


def model_parameters(names, mode: str | None = None) -> dict[str, int]:
    """Parameters per part of the models `names` (catalogue names), each shared part once.

    Full mode: the real checkpoints' counts. Tiny mode: read from the local folders' safetensors headers
    (nothing is loaded). Keys are "model/part", e.g. "sdxl-base/unet".
    """
    from .models import model_path

    parts: dict[str, int] = {}
    for name in names:
        if _is_full(mode) and name in PARAMETERS:
            counts = PARAMETERS[name]
        else:
            counts = _count_local(Path(model_path(name, mode)), FLAT_PARTS.get(name, "unet"))
        for part, count in counts.items():
            owner = SHARED.get(name, {}).get(part, name)
            if owner == name or f"{owner}/{part}" not in parts:
                parts[f"{owner}/{part}"] = count
    return parts


def _is_full(mode: str | None) -> bool:
    from .models import current_mode

    return mode == "full" if mode in ("full", "tiny") else current_mode(mode) == "full"


def _count_local(folder: Path, flat_part: str = "unet") -> dict[str, int]:
    from safetensors import safe_open

    counts: dict[str, int] = {}
    for file in sorted(folder.rglob("*.safetensors")):
        part = file.parent.name if file.parent != folder else flat_part
        if part in counts:  # an fp16 and an fp32 copy of the same weights
            continue
        with safe_open(str(file), "pt") as weights:
            total = 0
            for key in weights.keys():
                if part == "lora" and key.endswith(".alpha"):  # kohya-style files: a scale per layer, not a weight
                    continue
                shape = weights.get_slice(key).get_shape()
                size = 1
                for dimension in shape:
                    size *= dimension
                total += size
        counts[part] = total
    return counts


# ---------------------------------------------------------------------------------------------
# The plan


class WontFitError(MemoryError):
    """The planned memory exceeds what this machine has; the message holds the arithmetic."""


@dataclass
class MemoryPlan:
    """A decision: which way to place the models, the code that does it, and the arithmetic behind it."""

    name: str
    code: tuple[str, ...]
    arithmetic: list[str] = field(default_factory=list)
    machine: Machine | None = None
    host_gib: float = 0.0  # planned peak of anonymous host memory
    gpu_gib: float = 0.0  # planned peak of accelerator memory
    runs: bool = True  # False: nothing fits; the lesson skips this with the arithmetic as the reason
    what: str = ""
    shown: str = ""  # the label, when `name` is made from a template (what does not fit): translated before filling it

    @property
    def label(self) -> str:
        """The placement's name as shown, in the course's language (`name` stays English: `placement=` takes it)."""
        return self.shown or _(self.name)

    @property
    def offload(self) -> str | None:
        """"model", "group", "sequential", "turns" (UNets take turns on the GPU), or None (everything in place)."""
        for key in ("sequential", "model", "group", "turns"):
            if key in self.name:
                return key
        return None

    def require(self) -> "MemoryPlan":
        """Stop with the arithmetic as the reason when nothing fits, before anything is loaded."""
        if not self.runs:
            raise WontFitError(f"{self}\n" + _("What to do: a machine with more memory (e.g. a Colab High-RAM or A100 "
                                                "runtime), a smaller picture, or tiny mode (mode = 'tiny')."))
        return self

    def place(self, pipe, device: str):
        """Put `pipe` where the plan says: on `device`, or offloaded to it. On a CPU everything stays put."""
        if self.offload == "model" and device != "cpu":
            pipe.enable_model_cpu_offload(device=device)
        elif self.offload == "group" and device == "cuda":  # CUDA streams; the plan offers it on CUDA machines only
            pipe.enable_group_offload(device, offload_type="leaf_level", use_stream=True, exclude_modules=["vae"])
        elif self.offload == "sequential" and device != "cpu":
            pipe.enable_sequential_cpu_offload(device=device)
            if any("enable_tiling" in line for line in self.code):
                pipe.vae.enable_tiling()
        else:
            pipe.to(device)
        return pipe

    def __str__(self) -> str:
        if self.machine:
            verdict = (_("plan on {machine}: {name}") if self.runs else _("does not fit on {machine}: {name}")).format(
                machine=self.machine.label, name=self.label)
        else:
            verdict = (_("plan: {name}") if self.runs else _("does not fit: {name}")).format(name=self.label)
        lines = [f"{self.what + ': ' if self.what else ''}{verdict}", *[f"  {line}" for line in self.arithmetic]]
        if self.code:
            lines += [_("code:"), *[f"  {line}" for line in self.code]]
        return "\n".join(lines)


def _scale(height: int, width: int, native: int) -> float:
    return height * width / native



def _plan_inputs(names, mode, machine, dtype, parameters, height, width, exact_size=False):
    """What plan_memory and plan_training_memory start from: the machine, the dtype, the parts, the picture."""
    import torch

    from .device import pick_dtype
    from .models import CATALOGUE

    logged = machine is None  # only decisions for this (or the declared) machine go to the plan log
    machine = machine or this_machine()
    if dtype is None:  # the lesson's own choice, helpers.pick_dtype(), on the machine planned for
        dtype = pick_dtype(machine.device) if machine.device != "cpu" else torch.float32
    bytes_per = torch.finfo(dtype).bits // 8
    parts = parameters or model_parameters(names, mode)
    full = _is_full(mode)
    native = CATALOGUE[names[0]].full if full else CATALOGUE[names[0]].tiny
    height, width = _real_size(height, width, native, full, exact_size)
    return logged, machine, dtype, bytes_per, parts, full, height, width


def _real_size(height, width, native, full, exact_size=False):
    height, width = height or native.height, width or native.width
    if declared_machine() is not None and full and not exact_size:  # the rehearsal plans small pictures; plan the real run
        height, width = max(height, native.height), max(width, native.width)
    return height, width


def _check_counts(**counts) -> None:
    for name, value in counts.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(_("{name}={value!r}: a number of pictures, a whole number 0 or more (1 is one picture at a "
                               "time).").format(name=name, value=value))


def _vae_working(decoded_at_once: int, encoded_at_once: int, pixels_scale: float) -> float:
    """The VAE's working memory in fp32: the larger of its decode and its encode, per picture handled at once."""
    return max(WORKING_GIB["vae"] * decoded_at_once, VAE_ENCODE_GIB * encoded_at_once) * pixels_scale


def _decoded_words(n: int) -> str:
    return _("decoded one at a time") if n == 1 else (_("{count} decoded at once").format(count=n) if n else
                                                       _("nothing decoded"))


def _encoded_words(n: int) -> str:
    return _("encoded one at a time") if n == 1 else (_("{count} encoded at once").format(count=n) if n else
                                                       _("nothing encoded"))


def _vae_words(decoded_at_once: int, encoded_at_once: int) -> str:
    return f"{_decoded_words(decoded_at_once)}, {_encoded_words(encoded_at_once)}"

# The placements' names by device: identifiers (`placement=`, the plan log), shown with `plan.label`
EVERYTHING_ON = {"cuda": N_("everything on the GPU"), "mps": N_("everything on the Apple GPU"), "cpu": N_("everything on the CPU")}
TRAIN_ON = {"cuda": N_("train on the GPU"), "mps": N_("train on the Apple GPU"), "cpu": N_("train on the CPU")}


def plan_memory(names=("sdxl-base",), height: int | None = None, width: int | None = None, *, dtype=None,
                what: str = "", machine: Machine | None = None, mode: str | None = None,
                parameters: dict[str, int] | None = None, placement: str | None = None,
                pictures_per_call: int = 1, decoded_at_once: int = 1, encoded_at_once: int = 1,
                exact_size: bool = False) -> MemoryPlan:
    """The fastest placement of the models `names` that fits this (or the declared) machine's GPU *and* RAM.

    Tries, in order: everything on the accelerator; for several UNets (base + refiner), the UNets taking
    turns on the GPU while the text encoders and VAE stay there; model CPU offload; on CUDA, group offload (leaf
    level, the next layer copied on a CUDA stream while one runs; the VAE kept on the GPU); sequential CPU offload.
    `dtype`: the dtype the weights are loaded in; None (what lessons pass) means `helpers.pick_dtype()` on
    the machine planned for, so a CPU rehearsing a declared T4 plans the T4's fp16. The plan is logged when
    SDXL_TUTORIAL_PLAN_LOG is set. `placement` (e.g. "model CPU offload") checks that one placement only.
    `pictures_per_call`: the UNet and text encoders work on that many pictures at once. `decoded_at_once`: the
    pictures the VAE decodes at once (in fp32, SDXL's VAE is upcast): 1 with `pipe.vae.enable_slicing()`, a call's
    pictures without it. `encoded_at_once`: the pictures the VAE encodes at once (img2img's input, a training
    cache). `exact_size`: plan height x width as given even when a machine is declared (the rehearsal's
    `plan_for_call`; otherwise a declared machine plans at least the model's native size).
    (00_setup, 06_base_plus_refiner, 08_speed_and_memory, 10_lora_fine_tuning, helpers.generate)
    """
    import torch

    _check_counts(pictures_per_call=pictures_per_call, decoded_at_once=decoded_at_once, encoded_at_once=encoded_at_once)
    logged, machine, dtype, bytes_per, parts, full, height, width = _plan_inputs(names, mode, machine, dtype, parameters,
                                                                                height, width, exact_size)

    controlnets = [part for part in parts if part.endswith("/controlnet")]
    loras = [part for part in parts if part.endswith("/lora")]  # inside the UNet: they go where it goes

    def own_work(part: str) -> float:
        model, piece = part.split("/")
        if model == "ddpm":
            return DDPM_WORKING_GIB * _scale(height, width, NATIVE_PIXELS["ddpm"]) * pictures_per_call
        if piece == "vae":
            return _vae_working(decoded_at_once, encoded_at_once, _scale(height, width, 1024 * 1024))
        return WORKING_GIB.get(piece, 0.5) * _scale(height, width, 1024 * 1024) * pictures_per_call

    def working(part: str) -> float:
        """A stage's working memory: a UNet's step includes the ControlNets that run with it, on the same batch."""
        if part.endswith("/unet"):
            return own_work(part) + sum(own_work(controlnet) for controlnet in controlnets)
        return own_work(part)

    def weight(part: str) -> float:
        return parts[part] * bytes_per / GIB

    def layer(part: str) -> float:
        """The largest layer of a part (GiB): what group offloading copies ahead. Unknown: the whole part."""
        model, piece = part.split("/")
        count = LARGEST_LAYER.get(model, {}).get(piece) if full else None
        return (parts[part] if count is None else min(count, parts[part])) * bytes_per / GIB

    weights = sum(weight(part) for part in parts)
    peak_work = max(working(part) for part in parts)
    cast = any(bytes_per != FILE_BYTES.get(part.split("/")[0], 2) or dtype == torch.bfloat16 for part in parts)
    lora_gib = sum(weight(part) for part in loras)
    cast_gib = (weights if cast else lora_gib) if full else 0.0  # a LoRA's file is read into host RAM, not mapped
    dtype_name = str(dtype).replace("torch.", "")
    working_at = _("working memory at {width}x{height}").format(width=width, height=height)
    if pictures_per_call != 1:
        working_at += ", " + _("{count} pictures a call").format(count=pictures_per_call)
    if (pictures_per_call, decoded_at_once, encoded_at_once) != (1, 1, 1):
        working_at += f" ({_vae_words(decoded_at_once, encoded_at_once)})"
    with_controlnet = ("; " + _("a UNet step includes the ControlNet's {gib:.2f} GiB, run with it").format(
        gib=sum(own_work(part) for part in controlnets)) if controlnets else "")
    if cast_gib and cast:
        loading = _("+ {gib:.2f} GiB while the files are cast to {dtype} on loading").format(gib=cast_gib, dtype=dtype_name)
    elif cast_gib:
        loading = _("+ {gib:.2f} GiB while the LoRA's file is read; the other weights memory-mapped").format(gib=cast_gib)
    else:
        loading = _("weights memory-mapped from the files while loading")
    arithmetic = [
        _("{parts} = {weights:.2f} GiB of {dtype} weights").format(
            parts=" + ".join(f"{part} {weight(part):.2f}" for part in parts), weights=weights, dtype=dtype_name),
        _("{working}: the largest stage needs {peak:.2f} GiB (stages run one after another{controlnet})").format(
            working=working_at, peak=peak_work, controlnet=with_controlnet),
        _("host: {gib:.1f} GiB for the process").format(gib=PROCESS_GIB) + ", " + loading,
    ]
    unets = [part for part in parts if part.endswith("/unet")]
    others = [part for part in parts if part not in unets and part not in loras]
    candidates = []
    everything = EVERYTHING_ON.get(machine.device, f"everything on the {machine.device}")  # a placement's name
    if machine.device == "cpu" or machine.unified:
        need = PROCESS_GIB + weights + peak_work
        candidates.append((everything, need, 0.0, ("pipe.to(device)",),
                           _("everything in one memory: {process:.1f} + {weights:.2f} + {work:.2f} = {need:.2f} GiB "
                             "of {budget:.1f} usable").format(process=PROCESS_GIB, weights=weights, work=peak_work,
                                                              need=need, budget=machine.host_budget)))
    else:
        gpu = (weights + peak_work) * MARGIN
        candidates.append((everything, PROCESS_GIB + cast_gib, gpu, ("pipe.to(device)",),
                           _("everything on the GPU: ({weights:.2f} + {work:.2f}) x {margin} = {gpu:.1f} GiB").format(
                               weights=weights, work=peak_work, margin=MARGIN, gpu=gpu)))
        if len(unets) > 1:
            resident = sum(weight(part) for part in others)
            largest = max(weight(part) for part in unets) + lora_gib  # a LoRA counts with each UNet it could be in
            gpu = max(resident + largest + peak_work, resident + sum(weight(part) for part in unets) + lora_gib) * MARGIN
            host = PROCESS_GIB + max(cast_gib, largest)
            candidates.append((N_("the UNets take turns on the GPU"), host, gpu,
                               ("text encoders and VAE: .to(device) once", "before each pipeline runs: its UNet .to(device), then the other UNet .to('cpu')"),
                               _("UNets take turns: text encoders + VAE {resident:.2f} stay, one UNet (largest "
                                 "{largest:.2f}) + {work:.2f} working, x {margin} = {gpu:.1f} GiB GPU; the idle UNet "
                                 "waits in host RAM").format(resident=resident, largest=largest, work=peak_work,
                                                             margin=MARGIN, gpu=gpu)))
        # A ControlNet stays on the GPU beside the UNet while it denoises (it is called at every step, so diffusers
        # keeps it out of the offload chain): they count as one model here.
        with_unet = sum(weight(part) for part in controlnets) + lora_gib
        gpu = max(weight(part) + working(part) + (with_unet if part.endswith("/unet") else 0)
                  for part in parts if part not in controlnets and part not in loras) * MARGIN
        candidates.append((N_("model CPU offload"), PROCESS_GIB + weights, gpu,
                           ("pipe.enable_model_cpu_offload()  # and never pipe.to(device)",),
                           _("model offload: the largest model with its own working memory, x {margin} = {gpu:.1f} GiB "
                             "GPU; all {weights:.2f} GiB of weights stay resident in host RAM").format(
                               margin=MARGIN, gpu=gpu, weights=weights)))
        if machine.device == "cuda":  # streams overlap the copies with the work; diffusers has them for CUDA
            kept = [part for part in parts if part.endswith("/vae")]  # excluded from offloading: on the GPU throughout
            kept_gib = sum(weight(part) for part in kept)
            offloaded = weights - kept_gib
            ahead = max((layer(part) for part in parts if part not in kept), default=0.0)
            gpu = (SEQUENTIAL_GPU_GIB + ahead + kept_gib + peak_work) * MARGIN
            candidates.append((N_("group offload"), PROCESS_GIB + max(cast_gib, offloaded), gpu, GROUP_OFFLOAD_CODE,
                               _("group offload: ({context} context and running layer, as sequential + {ahead:.2f} "
                                 "next layer, copied ahead + {kept:.2f} VAE, kept on the GPU + {work:.2f} working) x "
                                 "{margin} = {gpu:.1f} GiB GPU; the other {offloaded:.2f} GiB of weights pinned in host "
                                 "RAM").format(context=SEQUENTIAL_GPU_GIB, ahead=ahead, kept=kept_gib, work=peak_work,
                                               margin=MARGIN, gpu=gpu, offloaded=offloaded)))
        code = ("pipe.enable_sequential_cpu_offload()  # and never pipe.to(device)",)
        tiled_work = peak_work
        if height * width > 1024 * 1024:  # tiling decodes 1024x1024 tiles; a smaller picture is never tiled
            code += ("pipe.vae.enable_tiling()  # tiles only pictures larger than 1024x1024",)
            tiled_work = max([WORKING_GIB["vae"]] + [working(part) for part in parts if not part.endswith("/vae")])
        gpu = (SEQUENTIAL_GPU_GIB + tiled_work) * MARGIN
        candidates.append((N_("sequential CPU offload"), PROCESS_GIB + weights, gpu, code,
                           _("sequential offload: one layer at a time, ({context} + {work:.2f}) x {margin} = {gpu:.1f} "
                             "GiB GPU, several times slower; all weights in host RAM").format(
                               context=SEQUENTIAL_GPU_GIB, work=tiled_work, margin=MARGIN, gpu=gpu)))
    if placement is not None:
        known = [candidate[0] for candidate in candidates]
        candidates = [candidate for candidate in candidates if candidate[0] == placement]
        if not candidates:
            raise ValueError(_("No placement {placement!r} on {machine}; the placements there: {known}.").format(
                placement=placement, machine=machine.label, known=", ".join(known)))
    budget_gpu = machine.gpu_gib if machine.gpu_gib else float("inf")
    # what the rehearsal needs to plan each call the lesson makes under this plan again (plan_for_call)
    arguments = {"function": "plan_memory", "names": list(names), "dtype": dtype_name, "mode": "full" if full else "tiny",
                 "parameters": parts, "height": height, "width": width, "pictures_per_call": pictures_per_call,
                 "decoded_at_once": decoded_at_once, "encoded_at_once": encoded_at_once}
    for name, host, gpu, code, line in candidates:
        fits = host <= machine.host_budget and gpu <= budget_gpu
        arithmetic.append(_("{verdict} · {line} · host {host:.2f} of {budget:.1f} GiB").format(
            verdict=_("fits") if fits else _("too big"), line=line, host=host, budget=machine.host_budget))
        if fits:
            return _logged(MemoryPlan(name, code, arithmetic, machine, host, gpu, True, what), logged,
                           {**arguments, "placement": name})
    host, gpu = candidates[-1][1:3]
    nothing_fits = N_("none of the placements fits {names} in {dtype}")
    fields = {"names": " + ".join(names), "dtype": dtype_name}
    return _logged(MemoryPlan(nothing_fits.format(**fields), (), arithmetic, machine, host, gpu, False, what,
                              _(nothing_fits).format(**fields)),
                   logged, {**arguments, "placement": candidates[-1][0]})


def _append_to_log(record: dict) -> None:
    log = os.environ.get(PLAN_LOG_VARIABLE)
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(json.dumps({**record, "pid": os.getpid()}) + "\n")


def _logged(plan: MemoryPlan, logged: bool = True, arguments: dict | None = None) -> MemoryPlan:
    if logged:
        _append_to_log({"what": plan.what, "plan": plan.name, "runs": plan.runs, "host_gib": round(plan.host_gib, 3),
                        "gpu_gib": round(plan.gpu_gib, 3), "machine": plan.machine.name if plan.machine else None,
                        "arguments": arguments or {}})
    return plan


def recommend_memory_plan(machine: Machine | str | None = None, refiner: bool = True, dtype=None,
                          height: int = 1024, width: int = 1024) -> MemoryPlan:
    """The plan for the real SDXL base (and refiner) on `machine` (a `MACHINES` name, a Machine, or this one).

    Always counts the real checkpoints, whatever the mode, so it answers "would full mode fit here?". A CPU
    with no accelerator gets "tiny mode" when the real SDXL does not fit its RAM. (08_speed_and_memory)
    """
    import torch

    if isinstance(machine, str):
        if machine not in MACHINES:
            raise ValueError(_("Unknown machine {machine!r}. Known: {names}; or pass a Machine.").format(
                machine=machine, names=", ".join(MACHINES)))
        machine = MACHINES[machine]
    names = ("sdxl-base", "sdxl-refiner") if refiner else ("sdxl-base",)
    if dtype is None:
        dtype = torch.float32 if (machine or this_machine()).device == "cpu" else torch.float16
    parts = model_parameters(names, "full")
    plan = plan_memory(names, height, width, dtype=dtype, machine=machine, mode="full", parameters=parts,
                       what=_("SDXL base + refiner") if refiner else _("SDXL base"))
    if not plan.runs and plan.machine.device == "cpu":
        plan.name, plan.shown, plan.code = N_("tiny mode: the real SDXL does not fit this CPU's RAM"), "", (
            "SDXL_TUTORIAL_MODE=tiny  # or mode = 'tiny' in a lesson's parameters cell",)
    return plan


# ---------------------------------------------------------------------------------------------
# Training a LoRA (10_lora_fine_tuning): will the training run fit?

LORA_BYTES_PER_PARAMETER = 4 + 4 + 8  # fp32 weight, its fp32 gradient, Adam's two fp32 moments
# The SDXL base UNet's activations kept for the backward pass, one 1024x1024 picture, fp16 (GiB). Estimates, not
# measurements: with gradient checkpointing only each block's input is kept and one block is recomputed at a time
# (12 GB GPUs train SDXL LoRAs at 1024x1024 this way, with cached latents and text embeddings); without it, every
# intermediate tensor of the 2.6B-parameter UNet is kept, several times a T4's memory.
TRAINING_ACTIVATION_GIB = {True: 3.0, False: 30.0}
ADAM_STATE = 2  # moments per parameter


def count_lora_parameters(unet_config: dict, rank: int, target_modules=("to_q", "to_k", "to_v", "to_out.0")) -> int:
    """Parameters of a rank-`rank` LoRA on the UNet's linear layers named `target_modules`, from its config alone.

    Builds the UNet on the meta device (no memory, about 2 s for SDXL's) and adds rank x (inputs + outputs) for each
    targeted layer: A is rank x inputs, B is outputs x rank. (10_lora_fine_tuning)
    """
    import torch
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(unet_config)
    return sum(rank * (module.in_features + module.out_features) for name, module in unet.named_modules()
               if isinstance(module, torch.nn.Linear) and any(name == t or name.endswith("." + t) for t in target_modules))


def plan_training_memory(names=("sdxl-base",), height: int | None = None, width: int | None = None, *, lora_parameters: int,
                         batch_size: int = 1, gradient_checkpointing: bool = True, cached_pictures: int = 0, dtype=None,
                         what: str = "", machine: Machine | None = None, mode: str | None = None,
                         parameters: dict[str, int] | None = None, pictures_per_call: int = 1, decoded_at_once: int = 1,
                         encoded_at_once: int = 1, draw_height: int | None = None, draw_width: int | None = None,
                         exact_size: bool = False) -> MemoryPlan:
    """Will LoRA training fit this (or the declared) machine? The arithmetic of every stage, before anything loads.

    Everything stays on the accelerator: the frozen weights in `dtype` (fp16 on a GPU), the LoRA parameters in fp32
    with their gradients and Adam's two moments, and the cached latents and text embeddings of `cached_pictures`.
    On top of them, one stage at a time (the peak is the largest):
    - a training step: the activations of `batch_size` pictures at height x width (with or without gradient
      checkpointing);
    - drawing pictures (before, during and after training): the UNet's working memory for `pictures_per_call`
      pictures at draw_height x draw_width (default: the training size), the VAE decoding `decoded_at_once` of them
      in fp32 (1 with `pipe.vae.enable_slicing()`);
    - caching the training pictures' latents: the VAE encoding `encoded_at_once` pictures at a time in fp32.
    Offloading is no way out for training (every step needs the whole UNet twice, forward and backward). The plan
    is logged like plan_memory's. (10_lora_fine_tuning)
    """
    import torch

    _check_counts(pictures_per_call=pictures_per_call, decoded_at_once=decoded_at_once, encoded_at_once=encoded_at_once,
                  batch_size=batch_size, cached_pictures=cached_pictures)
    logged, machine, dtype, bytes_per, parts, full, height, width = _plan_inputs(names, mode, machine, dtype, parameters,
                                                                                height, width, exact_size)
    from .models import CATALOGUE

    native = CATALOGUE[names[0]].full if full else CATALOGUE[names[0]].tiny
    draw_height, draw_width = _real_size(draw_height or height, draw_width or width, native, full, exact_size)
    dtype_name = str(dtype).replace("torch.", "")
    weights = sum(parts.values()) * bytes_per / GIB
    lora = lora_parameters * LORA_BYTES_PER_PARAMETER / GIB
    unet_share = max(count for part, count in parts.items() if part.endswith("/unet")) / PARAMETERS["sdxl-base"]["unet"]
    activations = (TRAINING_ACTIVATION_GIB[bool(gradient_checkpointing)] * _scale(height, width, 1024 * 1024)
                   * batch_size * min(1.0, unet_share))
    latent = 4 * (height // 8) * (width // 8)
    embedding = 77 * 2048 + 1280 + 6  # prompt_embeds, pooled_prompt_embeds, add_time_ids
    cache = cached_pictures * (latent + embedding) * bytes_per / GIB
    # drawing and encoding scale with the model, as training's activations do (the tiny UNet's are tiny)
    share = min(1.0, unet_share)
    draw_scale = _scale(draw_height, draw_width, 1024 * 1024) * share
    unet_work = WORKING_GIB["unet"] * pictures_per_call * draw_scale
    decode_work = _vae_working(decoded_at_once, 0, draw_scale)
    encode_work = _vae_working(0, encoded_at_once, _scale(height, width, 1024 * 1024) * share)
    drawing = max(unet_work, decode_work)
    stage = max(activations, drawing, encode_work)
    cast = full and (bytes_per != 2 or dtype == torch.bfloat16)
    host = PROCESS_GIB + (weights if cast else 0.0)
    activations_line = (_("activations with gradient checkpointing: {count} picture(s) at {width}x{height} "
                          "= {gib:.2f} GiB (an estimate)") if gradient_checkpointing else
                        _("activations without gradient checkpointing: {count} picture(s) at {width}x{height} "
                          "= {gib:.2f} GiB (an estimate)"))
    arithmetic = [
        _("frozen weights: {parts} = {weights:.2f} GiB of {dtype}").format(
            parts=" + ".join(f"{part} {count * bytes_per / GIB:.2f}" for part, count in parts.items()), weights=weights,
            dtype=dtype_name),
        _("LoRA: {count:,} parameters x {bytes} bytes (fp32 weight, gradient, Adam's {moments} moments) = {gib:.3f} GiB")
        .format(count=lora_parameters, bytes=LORA_BYTES_PER_PARAMETER, moments=ADAM_STATE, gib=lora),
        activations_line.format(count=batch_size, width=width, height=height, gib=activations),
        _("cached latents and text embeddings of {count} pictures: {gib:.3f} GiB").format(count=cached_pictures, gib=cache),
        _("drawing: {count} picture(s) a call at {width}x{height}, UNet {unet:.2f} GiB; VAE in fp32, {decoded}: "
          "{decode:.2f} GiB; the larger: {larger:.2f} GiB").format(
            count=pictures_per_call, width=draw_width, height=draw_height, unet=unet_work,
            decoded=_decoded_words(decoded_at_once), decode=decode_work, larger=drawing),
        _("caching the training pictures: VAE in fp32, {encoded}: {gib:.2f} GiB").format(
            encoded=_encoded_words(encoded_at_once), gib=encode_work),
        _("the stages run one after another: the largest needs {gib:.2f} GiB").format(gib=stage),
        _("host: {gib:.1f} GiB for the process").format(gib=PROCESS_GIB) + ", "
        + (_("+ {gib:.2f} GiB while the files are cast to {dtype}").format(gib=weights, dtype=dtype_name) if cast
           else _("weights memory-mapped from the files")),
    ]
    total = weights + lora + stage + cache
    if machine.device == "cpu" or machine.unified:
        host, gpu = host + total, 0.0
        fits = host <= machine.host_budget
        line = _("everything in one memory: {host:.2f} GiB of {budget:.1f} usable").format(host=host,
                                                                                           budget=machine.host_budget)
    else:
        gpu = total * MARGIN
        fits = host <= machine.host_budget and gpu <= machine.gpu_gib
        line = _("everything on the GPU: ({weights:.2f} + {lora:.3f} + {stage:.2f} + {cache:.3f}) x {margin} = "
                 "{gpu:.1f} GiB of {capacity:g}; host {host:.2f} of {budget:.1f} GiB").format(
            weights=weights, lora=lora, stage=stage, cache=cache, margin=MARGIN, gpu=gpu, capacity=machine.gpu_gib,
            host=host, budget=machine.host_budget)
    arithmetic.append(f"{_('fits') if fits else _('too big')} · {line}")
    too_big = N_("LoRA training of {names} in {dtype} does not fit")
    fields = {"names": " + ".join(names), "dtype": dtype_name}
    name = TRAIN_ON.get(machine.device, f"train on the {machine.device}") if fits else too_big.format(**fields)
    code = ("pipe.to(device)", "unet.enable_gradient_checkpointing()" if gradient_checkpointing else "",
            "pipe.vae.enable_slicing()" if decoded_at_once <= 1 else "") if fits else ()
    arguments = {"function": "plan_training_memory", "names": list(names), "dtype": dtype_name, "mode": "full" if full else "tiny",
                 "parameters": parts, "height": height, "width": width, "draw_height": draw_height, "draw_width": draw_width,
                 "lora_parameters": lora_parameters, "batch_size": batch_size, "gradient_checkpointing": bool(gradient_checkpointing),
                 "cached_pictures": cached_pictures, "pictures_per_call": pictures_per_call,
                 "decoded_at_once": decoded_at_once, "encoded_at_once": encoded_at_once}
    return _logged(MemoryPlan(name, tuple(line for line in code if line), arithmetic, machine, host, gpu, fits, what,
                              "" if fits else _(too_big).format(**fields)), logged, arguments)


# ---------------------------------------------------------------------------------------------
# Every call covered? The rehearsal records each call and plans it again under the plan it ran under.


def plan_for_call(plan_record: dict, call: dict, machine: Machine, scale: float = 1.0) -> MemoryPlan:
    """The plan a recorded `call` needs, made as `plan_record` (a line of the plan log) was, with the call's own
    pictures and size: the same function, models, dtype, placement and (for training) LoRA state. `scale` multiplies
    the call's height and width (a rehearsal at 128x128 stands for 1024x1024: 8). Compare its gpu_gib and host_gib
    with the logged plan's. (tools/rehearsal.py)
    """
    import torch

    arguments = dict(plan_record["arguments"])
    function = arguments.pop("function")
    dtype = getattr(torch, arguments.pop("dtype"))
    height, width = (max(8, round(call["height"] * scale)), max(8, round(call["width"] * scale)))
    counts = {"pictures_per_call": call.get("pictures", 0), "decoded_at_once": call.get("decoded_at_once", 0),
              "encoded_at_once": call.get("encoded_at_once", 0)}
    common = dict(dtype=dtype, machine=machine, mode=arguments["mode"], parameters=arguments["parameters"],
                  what=f"{call['call']} under '{plan_record.get('what', '')}'", exact_size=True, **counts)
    if function == "plan_training_memory":
        keep = {key: arguments[key] for key in ("height", "width", "lora_parameters", "batch_size", "gradient_checkpointing",
                                                 "cached_pictures")}
        if call.get("encoded_at_once"):  # encoding works on the training pictures, at their size
            keep.update(height=height, width=width)
        return plan_training_memory(arguments["names"], draw_height=height, draw_width=width, **keep, **common)
    return plan_memory(arguments["names"], height, width, placement=arguments["placement"], **common)


def record_calls() -> bool:
    """Append every SDXL pipeline call and every AutoencoderKL encode/decode to the plan log: its pictures and size.

    Switched on by SDXL_TUTORIAL_RECORD_CALLS=1 (the rehearsal) when helpers is imported; each record is a JSON
    line {"call", "pictures", "decoded_at_once", "encoded_at_once", "height", "width", "pid"}. A pipeline's call
    records the pictures its UNet works on; its VAE decode (or img2img's encode) is recorded by the VAE's own hook,
    one picture at a time when `vae.enable_slicing()` is on. Returns True once the hooks are in place.
    """
    import diffusers

    for name in ("StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline", "StableDiffusionXLInpaintPipeline",
                 "StableDiffusionXLControlNetPipeline"):
        cls = getattr(diffusers, name, None)
        if cls is not None and not getattr(cls.__call__, "_records_calls", False):
            cls.__call__ = _recording_pipeline_call(cls.__call__)
    vae = diffusers.AutoencoderKL
    for verb in ("encode", "decode"):
        method = getattr(vae, verb)
        if not getattr(method, "_records_calls", False):
            setattr(vae, verb, _recording_vae_call(method, verb))
    return True


def _recording_pipeline_call(original):
    @functools.wraps(original)
    def __call__(self, *args, **kwargs):
        output = original(self, *args, **kwargs)
        images = output[0] if isinstance(output, tuple) else output.images
        count, height, width = _pictures_and_size(images, kwargs.get("output_type", "pil"), getattr(self, "vae_scale_factor", 8))
        _append_to_log({"call": type(self).__name__, "pictures": count, "decoded_at_once": 0, "encoded_at_once": 0,
                        "height": height, "width": width})
        return output

    __call__._records_calls = True
    return __call__


def _recording_vae_call(original, verb):
    @functools.wraps(original)
    def call(self, *args, **kwargs):
        x = args[0] if args else kwargs.get("z" if verb == "decode" else "x")
        at_once = 1 if getattr(self, "use_slicing", False) and x.shape[0] > 1 else x.shape[0]
        factor = 2 ** (len(self.config.block_out_channels) - 1) if verb == "decode" else 1
        _append_to_log({"call": f"{type(self).__name__}.{verb}", "pictures": 0,
                        "decoded_at_once": at_once if verb == "decode" else 0, "encoded_at_once": at_once if verb == "encode" else 0,
                        "height": int(x.shape[-2]) * factor, "width": int(x.shape[-1]) * factor})
        return original(self, *args, **kwargs)

    call._records_calls = True
    return call


def _pictures_and_size(images, output_type: str, vae_scale_factor: int) -> tuple[int, int, int]:
    """How many pictures a pipeline returned, and their height and width in pixels."""
    if isinstance(images, list):
        if not images:
            return 0, 0, 0
        first = images[0]
        return len(images), first.size[1], first.size[0]  # PIL: (width, height)
    shape = tuple(images.shape)
    if output_type == "latent":
        return shape[0], shape[-2] * vae_scale_factor, shape[-1] * vae_scale_factor
    if output_type == "np":
        return shape[0], shape[1], shape[2]  # (n, height, width, channels)
    return shape[0], shape[-2], shape[-1]  # "pt": (n, channels, height, width)


if os.environ.get(RECORD_CALLS_VARIABLE) and os.environ.get(PLAN_LOG_VARIABLE):
    record_calls()
