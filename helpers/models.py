"""The model catalogue and the mode: which weights a lesson loads, and at what size.

A lesson never branches on the mode. It asks `model_path(name)` for something to pass to
`from_pretrained` (a Hub id in full mode, a local folder in tiny mode) and `defaults(name)` for the
sizes and step counts that suit that model. 00_setup explains the two modes.
"""

from __future__ import annotations

import os
import platform
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from .checks import check_size
from .i18n import _
from .device import accelerator_description, in_colab, package_version, pick_device, pick_dtype, rehearsal

MODE_VARIABLE = "SDXL_TUTORIAL_MODE"
CACHE_VARIABLE = "SDXL_TUTORIAL_CACHE"
MODES = ("tiny", "full", "auto")


@dataclass(frozen=True)
class Defaults:
    """The sizes, step count and prompt that suit one model in one mode."""

    height: int
    width: int
    num_inference_steps: int
    prompt: str = ""
    edit_prompt: str = ""  # lesson 07's: what a rough red sketch should become


@dataclass(frozen=True)
class Model:
    hub_id: str | None  # None: exists only as a local stand-in
    standin: str | None  # the stand-in tiny mode builds (helpers/tiny/standins.py); None: full mode only
    full: Defaults
    tiny: Defaults
    check_file: str  # a file every complete copy has; used to see whether the Hub cache holds it
    download: tuple[str, ...]  # the files full mode downloads: only what the lessons load


_SDXL_FULL = Defaults(height=1024, width=1024, num_inference_steps=30, prompt="An astronaut riding a green horse",
                     edit_prompt="a blue ceramic vase on a table, studio photograph")
_SDXL_TINY = Defaults(height=32, width=32, num_inference_steps=20, prompt="a red circle", edit_prompt="a blue square")
_SDXL_RANDOM = Defaults(height=64, width=64, num_inference_steps=10, prompt="a red circle", edit_prompt="a blue square")
_DDPM_FULL = Defaults(height=256, width=256, num_inference_steps=1000)
# lesson 03's model, trained on 16x16 shapes; 250 of its 1000 timesteps draw the same kind of picture in a quarter of the time
_DDPM_TINY = Defaults(height=16, width=16, num_inference_steps=250)
_DDPM_RANDOM = Defaults(height=32, width=32, num_inference_steps=50)
_SDXL_FILES = ("*.json", "*.txt", "*.fp16.safetensors")  # configs, tokenizer files, fp16 weights: ~7 GB, not 14
_SINGLE_MODEL_FILES = ("*.json", "*.safetensors")  # one model in a flat folder: ddpm-cat-256, the VAEs

CATALOGUE: dict[str, Model] = {
    "sdxl-base": Model("stabilityai/stable-diffusion-xl-base-1.0", "sdxl-base", _SDXL_FULL, _SDXL_TINY, "model_index.json", _SDXL_FILES),
    "sdxl-refiner": Model("stabilityai/stable-diffusion-xl-refiner-1.0", "sdxl-refiner", _SDXL_FULL, _SDXL_TINY, "model_index.json", _SDXL_FILES),
    "ddpm": Model("google/ddpm-cat-256", "ddpm", _DDPM_FULL, _DDPM_TINY, "config.json", _SINGLE_MODEL_FILES),
    # Lesson 12's inpainting model: SDXL base with a 9-channel UNet (noisy latents, mask, masked-picture latents). The
    # lesson loads only its UNet (the text encoders and VAE are the base's), so full mode fetches only that: 5.1 GB, not 7.
    "sdxl-inpaint": Model("diffusers/stable-diffusion-xl-1.0-inpainting-0.1", "sdxl-inpaint", _SDXL_FULL, _SDXL_TINY,
                          "unet/config.json", ("unet/*.json", "unet/*.fp16.safetensors")),
    # Lesson 13's ControlNet, steered by edge maps (helpers.edges): one model in a flat folder; the fp16 file only.
    "controlnet-canny": Model("diffusers/controlnet-canny-sdxl-1.0", "controlnet-canny", _SDXL_FULL, _SDXL_TINY, "config.json",
                              ("*.json", "*.fp16.safetensors")),
    # Lesson 14's few-step LoRAs for SDXL base (and lesson 08's few-step rung): one LoRA file each, fp16. Tiny mode's
    # are the LoRA distilled from the tiny base by helpers/tiny/train_lcm.py, under each repository's file name.
    "lcm-lora-sdxl": Model("latent-consistency/lcm-lora-sdxl", "lcm-lora-sdxl", replace(_SDXL_FULL, num_inference_steps=4),
                           replace(_SDXL_TINY, num_inference_steps=4), "pytorch_lora_weights.safetensors",
                           ("pytorch_lora_weights.safetensors",)),
    "sdxl-lightning": Model("ByteDance/SDXL-Lightning", "sdxl-lightning", replace(_SDXL_FULL, num_inference_steps=4),
                            replace(_SDXL_TINY, num_inference_steps=4), "sdxl_lightning_4step_lora.safetensors",
                            ("sdxl_lightning_4step_lora.safetensors",)),
    # Lesson 08's alternative VAEs for SDXL. Tiny mode has no version of them: they exist to fix or speed
    # up the real VAE (an fp16 overflow, a slow decode) and only make sense on the real model.
    "sdxl-vae-fp16-fix": Model("madebyollin/sdxl-vae-fp16-fix", None, _SDXL_FULL, _SDXL_TINY, "config.json", _SINGLE_MODEL_FILES),
    "taesdxl": Model("madebyollin/taesdxl", None, _SDXL_FULL, _SDXL_TINY, "config.json", _SINGLE_MODEL_FILES),
    # Random-weight stand-ins: the same classes and config keys as the real models, scaled down.
    # They exist only locally, so they are the same in both modes.
    "sdxl-base-random": Model(None, "sdxl-base-random", _SDXL_RANDOM, _SDXL_RANDOM, "model_index.json", ()),
    "sdxl-refiner-random": Model(None, "sdxl-refiner-random", _SDXL_RANDOM, _SDXL_RANDOM, "model_index.json", ()),
    "ddpm-random": Model(None, "ddpm-random", _DDPM_RANDOM, _DDPM_RANDOM, "config.json", ()),
}


class ModelUnavailableError(RuntimeError):
    """The real weights are neither in the Hugging Face cache nor downloadable from here."""


# ---------------------------------------------------------------------------------------------
# The mode

_warned_full_on_cpu = False


def _requested_mode(mode: str | None) -> tuple[str, str]:
    if mode is not None:
        source = _("the `mode` parameter")
    elif os.environ.get(MODE_VARIABLE):
        mode, source = os.environ[MODE_VARIABLE], _("the environment variable {name}").format(name=MODE_VARIABLE)
    else:
        mode, source = "auto", _("the default")
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise ValueError(_("Unknown mode {mode!r} (from {source}). Valid modes: {modes}.").format(
            mode=mode, source=source, modes=", ".join(MODES)))
    return mode.strip().lower(), source


def current_mode(mode: str | None = None) -> str:
    """The mode lessons run in: "tiny" or "full", never "auto". (00_setup)

    `mode` (a lesson's parameter) wins over the environment variable SDXL_TUTORIAL_MODE; "auto",
    the default, means full on a CUDA or MPS GPU and tiny on a CPU.
    """
    global _warned_full_on_cpu
    requested = _requested_mode(mode)[0]
    if requested == "auto":
        return "full" if pick_device() in ("cuda", "mps") else "tiny"
    if requested == "full" and pick_device() == "cpu" and not _warned_full_on_cpu and not rehearsal():
        _warned_full_on_cpu = True
        warnings.warn(
            _("Full mode on a CPU: the real models run here, and the real SDXL takes many minutes per image (and about "
              "14 GB of RAM). "
              "Use a GPU runtime, or tiny mode (SDXL_TUTORIAL_MODE=tiny) for the small offline models."),
            UserWarning,
            stacklevel=2,
        )
    return requested


def mode_reason(mode: str | None = None) -> str:
    """One sentence saying which mode is used and why. (00_setup)"""
    requested, source = _requested_mode(mode)
    resolved = current_mode(mode)
    if requested == "auto":
        device = pick_device()
        why = (_("a {device} GPU was found").format(device=device.upper()) if device != "cpu"
               else _("no CUDA or MPS GPU was found"))
        return _("{mode} (auto: {why}; set {variable}=tiny or full to choose)").format(mode=resolved, why=why,
                                                                                       variable=MODE_VARIABLE)
    return _("{mode} (chosen by {source})").format(mode=resolved, source=source)


def environment_report(mode: str | None = None, print_it: bool = True) -> dict:
    """One call that says what this machine is and which mode the lessons will use. (00_setup)"""
    import psutil
    import torch

    device = pick_device()
    memory = psutil.virtual_memory()
    report = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": package_version("diffusers"),
        "transformers": package_version("transformers"),
        "device": device,
        "accelerator": accelerator_description(device),
        "ram": _("{total:.1f} GiB ({available:.1f} GiB available)").format(total=memory.total / 2**30,
                                                                           available=memory.available / 2**30),
        "colab": in_colab(),
        "mode": current_mode(mode),
        "mode_reason": mode_reason(mode),
        "dtype": str(pick_dtype(device)).replace("torch.", ""),
    }
    if print_it:
        width = max(len(key) for key in report)
        for key, value in report.items():
            print(f"{key:<{width}}  {value}")
    return report


# ---------------------------------------------------------------------------------------------
# The catalogue


def _entry(name: str) -> Model:
    if name not in CATALOGUE:
        raise ValueError(_("Unknown model name {name!r}. Valid names: {names}.").format(name=name, names=", ".join(CATALOGUE)))
    return CATALOGUE[name]


def cache_dir() -> Path:
    """Where tiny mode keeps the folders it assembles ($SDXL_TUTORIAL_CACHE, default ~/.cache/sdxl-by-hand)."""
    return Path(os.environ.get(CACHE_VARIABLE) or Path.home() / ".cache" / "sdxl-by-hand").expanduser().resolve()


def model_path(name: str, mode: str | None = None) -> str:
    """What to pass to `from_pretrained` for `name`: a Hub id in full mode, a local folder in tiny mode.

    Names: sdxl-base, sdxl-refiner, sdxl-inpaint, controlnet-canny, lcm-lora-sdxl, sdxl-lightning, ddpm, sdxl-vae-fp16-fix and taesdxl (full
    mode only: tiny mode raises ModelUnavailableError), and the random-weight stand-ins sdxl-base-random,
    sdxl-refiner-random, ddpm-random (local folders in either mode). In tiny mode sdxl-base and
    sdxl-refiner are the tiny SDXL trained on coloured shapes (helpers/tiny/train.py), sdxl-inpaint and
    controlnet-canny are built on it (helpers/tiny/train_inpaint.py, train_controlnet.py), lcm-lora-sdxl and
    sdxl-lightning are folders holding the LoRA distilled from it (helpers/tiny/train_lcm.py); ddpm is the
    model lesson 03 trains on coloured shapes (its committed run, helpers/tiny/checkpoints/ddpm). Tiny
    folders are assembled on the first call and reused. (00_setup; every lesson that loads a model)
    """
    entry = _entry(name)
    if entry.hub_id is not None and current_mode(mode) == "full":
        _check_hub_reachable(name, entry)
        return entry.hub_id
    if entry.standin is None:
        raise ModelUnavailableError(
            _("{name!r} ({hub_id}) has no tiny version: it only exists for the real SDXL, in full mode "
              "(a GPU and the Hugging Face Hub). In tiny mode, skip what needs it.").format(name=name, hub_id=entry.hub_id)
        )
    from .tiny.standins import ensure_standin

    return str(ensure_standin(entry.standin, cache_dir()))


# Each lesson's own subject, so that the course does not draw the same picture lesson after lesson: (full mode, tiny
# mode). Lesson 04 draws lesson 00's picture again, by hand; lesson 06's is the refiner example of SDXL 1.0's README.
# Each tiny caption is one the tiny base drew right (colour and shape) for 8 seeds of 8 at 20 steps, guidance 5,
# seed 0 included (tests/test_tiny_sdxl.py holds it). A lesson not listed gets the model's default.
_MODEL_CARD_SUBJECT = (_SDXL_FULL.prompt, _SDXL_TINY.prompt)  # the model's own default: the model card's astronaut
LESSON_PROMPTS: dict[str, tuple[str, str]] = {
    "00": _MODEL_CARD_SUBJECT,
    "04": _MODEL_CARD_SUBJECT,
    "05": ("A cozy wooden cabin in a snowy forest at dusk, warm light in the windows", "a green triangle"),
    "06": ("A majestic lion jumping from a big stone at night", "a purple square"),
    "08": ("A bowl of ramen on a wooden table, steam rising, food photography", "a yellow circle"),
    "09": ("A lighthouse on a rocky coast at sunset, oil painting", "a blue triangle"),
}


def defaults(name: str, mode: str | None = None, *, lesson: str | None = None, **chosen) -> Defaults:
    """The sizes, step count and prompt that suit `name` in this mode, with a lesson's choices on top.

    Pass a lesson's parameters (`height=`, `width=`, `num_inference_steps=`, `prompt=`); `None`
    means "the mode's default". `lesson="05"` makes that lesson's own subject the default prompt
    (LESSON_PROMPTS). Sizes must be whole multiples of 8, as the VAE and UNet need.
    (every lesson's parameters cell)
    """
    entry = _entry(name)
    resolved = current_mode(mode)
    full = entry.hub_id is not None and resolved == "full"
    base = entry.full if full else entry.tiny
    if lesson is not None:
        if lesson not in LESSON_PROMPTS:
            raise ValueError(_("No subject for lesson {lesson!r}: lessons with one are {lessons}.").format(
                lesson=lesson, lessons=", ".join(LESSON_PROMPTS)))
        base = replace(base, prompt=LESSON_PROMPTS[lesson][0 if full else 1])
    result = _with_choices("defaults", base, chosen)
    check_size(result.height, result.width)
    _check_near_trained_size(name, resolved, base, result)
    _check_whole_number("num_inference_steps", result.num_inference_steps)
    return result


ANY_SIZE_VARIABLE = "SDXL_TUTORIAL_ANY_SIZE"
LARGEST_SIZE_RATIO = 16  # pixels, relative to the size the model was trained at: 4x each side


class SizeTooLargeError(ValueError):
    """A size far beyond what the model was trained at: refused before any work starts."""


def _check_near_trained_size(name: str, mode: str, trained: Defaults, asked: Defaults) -> None:
    """Refuse sizes far beyond the model's trained size (each step's cost grows with the pixels, attention faster).

    Tiny SDXL at SDXL's own 1024x1024 is 1024x the pixels of its 32x32: many minutes on a CPU for a picture the
    tiny model cannot draw. Set SDXL_TUTORIAL_ANY_SIZE=1 to go on deliberately.
    """
    ratio = asked.height * asked.width / (trained.height * trained.width)
    if ratio <= LARGEST_SIZE_RATIO or os.environ.get(ANY_SIZE_VARIABLE, "") not in ("", "0"):
        return
    sentences = [
        _("{height}x{width} is {ratio:.0f} times the pixels {name} was trained at in {mode} mode "
          "({trained_height}x{trained_width}). Every step would cost at least {ratio:.0f} times as much as at that size "
          "(the attention layers grow faster still), and the model has never seen pictures this large.").format(
            height=asked.height, width=asked.width, ratio=ratio, name=name, mode=mode, trained_height=trained.height,
            trained_width=trained.width),
        *([_("Tiny mode's models are small: for SDXL's own sizes use full mode on a GPU.")] if mode == "tiny" else []),
        _("Choose a size up to {largest}x the pixels (e.g. height=width={side}), or, to go "
          "on deliberately, set the environment variable {variable}=1 (in a notebook: "
          "`import os; os.environ[\"{variable}\"] = \"1\"`) and run again.").format(
            largest=LARGEST_SIZE_RATIO, side=trained.height * 2, variable=ANY_SIZE_VARIABLE),
    ]
    raise SizeTooLargeError(" ".join(sentences))


def _with_choices(function: str, base, chosen: dict):
    """`base` (a dataclass) with a lesson's non-None choices on top; unknown names are an error."""
    fields = base.__dataclass_fields__
    unknown = set(chosen) - set(fields)
    if unknown:
        raise ValueError(_("{function}() takes {fields}, not {unknown}.").format(
            function=function, fields=", ".join(fields), unknown=sorted(unknown)))
    return replace(base, **{key: value for key, value in chosen.items() if value is not None})


def _check_whole_number(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(_("{name} must be a whole number >= 1, got {value!r}.").format(name=name, value=value))


@dataclass(frozen=True)
class TrainingDefaults:
    """Lesson 03's training run: the picture size, the UNet's width and how long to train."""

    image_size: int  # pixels; a multiple of 4 (the UNet halves it twice)
    base_channels: int  # the first level's channels (the others have twice as many); a multiple of 32
    batch_size: int
    train_steps: int
    learning_rate: float
    pictures: int  # how many training pictures to generate


# Tiny: recognisable shapes after about 2 minutes on 2 CPU cores (about 0.16 s a step, 1.06M parameters).
# Full: a GPU trains a 4x bigger model on 32x32 pictures in a few minutes.
_TRAINING = {"tiny": TrainingDefaults(16, 32, 32, 300, 4e-3, 4000), "full": TrainingDefaults(32, 64, 64, 6000, 2e-3, 20000)}


def training_defaults(mode: str | None = None, **chosen) -> TrainingDefaults:
    """Lesson 03's training settings for this mode, with the lesson's parameters on top (`None`: the default).

    (03_train_a_tiny_diffusion_model)
    """
    result = _with_choices("training_defaults", _TRAINING[current_mode(mode)], chosen)
    for key in ("image_size", "base_channels", "batch_size", "train_steps", "pictures"):
        _check_whole_number(key, getattr(result, key))
    if result.image_size % 4:
        raise ValueError(_("image_size must be a multiple of 4 (the UNet halves the picture twice), got {value}; "
                           "try {nearest}.").format(value=result.image_size,
                                                    nearest=max(4, round(result.image_size / 4) * 4)))
    if result.base_channels % 32:
        raise ValueError(_("base_channels must be a multiple of 32 (the UNet normalises channels in 32 groups), "
                           "got {value}; try {nearest}.").format(value=result.base_channels,
                                                                 nearest=max(32, round(result.base_channels / 32) * 32)))
    if not 0 < result.learning_rate < 1:
        raise ValueError(_("learning_rate must be between 0 and 1 (e.g. 4e-3), got {value!r}.").format(
            value=result.learning_rate))
    return result


# ---------------------------------------------------------------------------------------------
# Full mode: make "no network" a clear message, not a traceback deep inside huggingface_hub


def _check_hub_reachable(name: str, entry: Model) -> None:
    import huggingface_hub
    from huggingface_hub import constants

    cached = huggingface_hub.try_to_load_from_cache(entry.hub_id, entry.check_file)
    if isinstance(cached, str):
        return
    if constants.HF_HUB_OFFLINE:
        problem = _("HF_HUB_OFFLINE is set, so nothing can be downloaded")
    else:
        try:
            huggingface_hub.model_info(entry.hub_id, timeout=10)
            return
        except Exception as error:  # any failure here means: cannot download
            problem = _("the Hugging Face Hub could not be reached ({kind}: {error})").format(
                kind=type(error).__name__, error=str(error)[:200])
    raise ModelUnavailableError(
        _("Full mode needs the real weights of {name!r} ({hub_id}), which are not in your Hugging Face "
          "cache, and {problem}.\n"
          "What to do: connect to the internet and run this cell again (the first download is several GB), "
          "or switch to tiny mode, which needs no network: set mode = 'tiny' in the lesson's parameters cell, "
          "or the environment variable {variable}=tiny before starting Jupyter.").format(
            name=name, hub_id=entry.hub_id, problem=problem, variable=MODE_VARIABLE)
    )


def prepare(name: str, mode: str | None = None) -> str:
    """Make `name` ready to load: download it into the Hub cache (full) or assemble it (tiny). (00_setup)

    Full mode downloads only what the lessons load: the fp16 safetensors for SDXL, the flat
    safetensors for DDPM. Returns what `model_path` returns.
    """
    path = model_path(name, mode)
    if not Path(path).is_dir():
        from huggingface_hub import snapshot_download

        snapshot_download(path, allow_patterns=list(_entry(name).download))
    return path
