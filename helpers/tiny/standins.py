"""Random-weight stand-ins for SDXL base, SDXL refiner and DDPM, scaled down from the real configs, and the
trained tiny models (SDXL base, refiner, inpainting, canny ControlNet, DDPM, the few-step LoRAs) assembled under the
real layouts.

Each stand-in keeps the real model's classes, config keys, block types, `model_index.json` and
file names (including the `fp16` variant), so the very `from_pretrained(...)` call a lesson makes
for the real model also loads the stand-in. Only sizes change: widths, depths and block counts.
The real configs are committed in `configs/`; `TINY_SIZES` lists every value that differs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from pathlib import Path

CONFIGS = Path(__file__).parent / "configs"
CHECKPOINTS = Path(__file__).parent / "checkpoints"  # the trained tiny SDXL (helpers/tiny/train.py) and lesson 03's ddpm
BUILD_VERSION = 1  # bump when the way folders are built changes, so old caches are rebuilt

# Every key changed from the real config, per stand-in and component. Nothing else differs.
TINY_SIZES = {
    "sdxl-base": {
        "unet": {
            "block_out_channels": [32, 64, 64], "layers_per_block": 1, "attention_head_dim": [2, 4, 4],
            "transformer_layers_per_block": [1, 1, 1], "cross_attention_dim": 64,  # 32 + 32: both encoders
            "addition_time_embed_dim": 8, "projection_class_embeddings_input_dim": 32 + 6 * 8, "sample_size": 32,
        },
        "vae": {
            "block_out_channels": [32, 64], "layers_per_block": 1, "sample_size": 64,
            "down_block_types": ["DownEncoderBlock2D"] * 2, "up_block_types": ["UpDecoderBlock2D"] * 2,
        },
        "text_encoder": {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "projection_dim": 32},
        "text_encoder_2": {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "projection_dim": 32},
    },
    "sdxl-refiner": {
        "unet": {
            "block_out_channels": [32, 64, 64, 64], "layers_per_block": 1, "attention_head_dim": [2, 4, 4, 4],
            "transformer_layers_per_block": 1, "cross_attention_dim": 32,  # encoder 2 only
            "addition_time_embed_dim": 8, "projection_class_embeddings_input_dim": 32 + 5 * 8, "sample_size": 32,
        },
    },
    "ddpm": {
        "config": {
            "block_out_channels": [32, 64, 64], "layers_per_block": 1, "sample_size": 32,
            "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D"],
            "up_block_types": ["UpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
        },
    },
}
# The refiner shares text_encoder_2 and vae with the base, as the real repositories do.
SHARED_WITH_BASE = ("text_encoder_2", "tokenizer_2", "vae")


def real_config(model: str, component: str) -> dict:
    """The real model's config for one component, e.g. real_config("sdxl-base", "unet")."""
    name = "scheduler_config.json" if component == "scheduler" else "config.json"
    folder = CONFIGS / model / component
    # ddpm keeps the flat layout of google/ddpm-cat-256: both configs side by side, no subfolders.
    return json.loads(((folder if folder.is_dir() else CONFIGS / model) / name).read_text())


def shrink(model: str, component: str, sizes: dict) -> dict:
    """The real config of one component with only the keys in `sizes` changed (and no new keys)."""
    config = real_config(model, component)
    unknown = set(sizes) - set(config)
    if unknown:
        raise KeyError(f"Sizes for {model} {component} change keys the real config lacks: {sorted(unknown)}")
    return {**config, **sizes}


def tiny_config(model: str, component: str) -> dict:
    """The random stand-in's config: the real one with only the sizes in TINY_SIZES changed."""
    return shrink(model, component, TINY_SIZES.get(model, {}).get(component, {}))


# ---------------------------------------------------------------------------------------------
# Builders: each writes one complete folder.


def _save_both_precisions(model, folder: Path) -> None:
    """Save fp32 weights under the plain names and fp16 ones under the `fp16` variant names."""
    import torch
    from diffusers.utils import logging

    model.save_pretrained(folder)
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # casting a fresh model with to() is fine; silence diffusers' advice
    try:
        model.to(torch.float16).save_pretrained(folder, variant="fp16")
    finally:
        logging.set_verbosity(verbosity)


def _build_text_encoder(config: dict, folder: Path) -> None:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection
    from transformers.utils import logging

    logging.disable_progress_bar()  # a bar per tiny file is noise
    model_class = {"CLIPTextModel": CLIPTextModel, "CLIPTextModelWithProjection": CLIPTextModelWithProjection}[config["architectures"][0]]
    try:
        _save_both_precisions(model_class(CLIPTextConfig(**config)), folder)
    finally:
        logging.enable_progress_bar()


def _write_pipeline_files(folder: Path, model: str) -> None:
    """What every SDXL folder has besides weights: the scheduler, the model index and, for the base, tokenizers."""
    from diffusers import EulerDiscreteScheduler

    from .clip_tokenizer import PAD_TOKEN, PAD_TOKEN_2, write_tokenizer

    if model in ("sdxl-base", "sdxl-inpaint"):
        write_tokenizer(folder / "tokenizer", PAD_TOKEN)
        write_tokenizer(folder / "tokenizer_2", PAD_TOKEN_2)
    EulerDiscreteScheduler.from_config(real_config(model, "scheduler")).save_pretrained(folder / "scheduler")
    shutil.copy(CONFIGS / model / "model_index.json", folder / "model_index.json")


def _build_sdxl_base(folder: Path) -> None:
    from diffusers import AutoencoderKL, UNet2DConditionModel

    _write_pipeline_files(folder, "sdxl-base")
    _build_text_encoder(tiny_config("sdxl-base", "text_encoder"), folder / "text_encoder")
    _build_text_encoder(tiny_config("sdxl-base", "text_encoder_2"), folder / "text_encoder_2")
    _save_both_precisions(UNet2DConditionModel.from_config(tiny_config("sdxl-base", "unet")), folder / "unet")
    _save_both_precisions(AutoencoderKL.from_config(tiny_config("sdxl-base", "vae")), folder / "vae")


def _refiner_folder(folder: Path, base_folder: Path, write_unet) -> None:
    """A refiner folder: its own UNet (written by `write_unet`), the base's text_encoder_2 and vae."""
    _write_pipeline_files(folder, "sdxl-refiner")
    for component in SHARED_WITH_BASE:
        shutil.copytree(base_folder / component, folder / component)
    write_unet(folder / "unet")


def _build_sdxl_refiner(folder: Path, base_folder: Path) -> None:
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_config(tiny_config("sdxl-refiner", "unet"))
    _refiner_folder(folder, base_folder, lambda destination: _save_both_precisions(unet, destination))


def _require(folder: Path, how_to_make_it: str) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The trained tiny weights are missing: {folder} does not exist. They are committed in the repository: "
            f"restore them with `git checkout -- helpers/tiny/checkpoints`, or make them again with {how_to_make_it}."
        )


def _copy_trained(source: Path, destination: Path, how_to_make_it: str = "`python -m helpers.tiny.train` (see the README)") -> None:
    """Copy a committed fp16 component and add the fp32 files the real repositories also have."""
    from safetensors.torch import load_file, save_file

    _require(source, how_to_make_it)
    shutil.copytree(source, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.csv"))  # not the loss log
    for fp16 in destination.glob("*.fp16.safetensors"):
        weights = {name: tensor.float() for name, tensor in load_file(fp16).items()}
        save_file(weights, fp16.with_name(fp16.name.replace(".fp16.", ".")), metadata={"format": "pt"})


def assemble_trained_base(folder: Path, checkpoints: Path | None = None) -> None:
    """A complete SDXL base folder from the committed trained weights (helpers/tiny/train.py made them)."""
    checkpoints = checkpoints or CHECKPOINTS
    _write_pipeline_files(folder, "sdxl-base")
    for component in ("text_encoder", "text_encoder_2", "unet", "vae"):
        _copy_trained(checkpoints / "sdxl-base" / component, folder / component)


def assemble_trained_refiner(folder: Path, base_folder: Path, checkpoints: Path | None = None) -> None:
    """A complete SDXL refiner folder: its own trained UNet, the base's text_encoder_2 and vae."""
    checkpoints = checkpoints or CHECKPOINTS
    _refiner_folder(folder, base_folder, lambda destination: _copy_trained(checkpoints / "sdxl-refiner" / "unet", destination))


# ---------------------------------------------------------------------------------------------
# SDXL inpainting (diffusers/stable-diffusion-xl-1.0-inpainting-0.1) and the canny ControlNet
# (diffusers/controlnet-canny-sdxl-1.0), built on the trained tiny base.

INPAINT_EXTRA_CHANNELS = 5  # the inpainting UNet's input: 4 noisy latents + 1 mask + 4 masked-picture latents
INPAINT_SHARED_WITH_BASE = ("text_encoder", "text_encoder_2", "vae")  # the inpainting repository's are the base's
# The tiny VAE halves a picture once (SDXL's VAE divides it by 8), so the ControlNet's conditioning embedding,
# which must bring the control picture down to the latent grid, has 2 blocks (one halving) instead of SDXL's 4.
CONTROLNET_CONDITIONING_CHANNELS = (16, 32)


def inpaint_unet_from_base(base_unet):
    """A 9-channel inpainting UNet made from a 4-channel base UNet, as the real one was made from SDXL base.

    Every weight is the base's; `conv_in` gets 5 more input channels (the mask, then the masked picture's
    latents, in the order StableDiffusionXLInpaintPipeline concatenates them), with zero weights, so before
    any training it predicts exactly what the base predicts.
    """
    import torch
    from diffusers import UNet2DConditionModel

    config = {**base_unet.config, "in_channels": base_unet.config.in_channels + INPAINT_EXTRA_CHANNELS}
    unet = UNet2DConditionModel.from_config(config).to(base_unet.dtype)
    weights = base_unet.state_dict()
    old = weights["conv_in.weight"]
    extra = torch.zeros(old.shape[0], INPAINT_EXTRA_CHANNELS, *old.shape[2:], dtype=old.dtype)
    weights["conv_in.weight"] = torch.cat([old, extra], dim=1)
    unet.load_state_dict(weights)
    return unet


def controlnet_config(unet_config: dict) -> dict:
    """The tiny ControlNet's config: the real one (configs/controlnet-canny) with only the UNet's sizes changed."""
    real = real_config("controlnet-canny", "config")
    sizes = {key: unet_config[key] for key in CONTROLNET_SIZE_KEYS}
    return {**real, **sizes, "conditioning_embedding_out_channels": list(CONTROLNET_CONDITIONING_CHANNELS)}


# The keys a ControlNet copies from its UNet (ControlNetModel.from_unet) and the tiny base's differ in.
CONTROLNET_SIZE_KEYS = ("block_out_channels", "layers_per_block", "attention_head_dim", "transformer_layers_per_block",
                        "cross_attention_dim", "addition_time_embed_dim", "projection_class_embeddings_input_dim")


def controlnet_from_unet(unet):
    """A ControlNet copied from `unet` (ControlNetModel.from_unet: its encoder and mid block, zero convolutions
    on every output, so it changes nothing before training), with the real repository's config keys."""
    from diffusers import ControlNetModel

    copied = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=CONTROLNET_CONDITIONING_CHANNELS)
    controlnet = ControlNetModel.from_config(controlnet_config(dict(unet.config))).to(unet.dtype)
    controlnet.load_state_dict(copied.state_dict())
    return controlnet


def assemble_inpaint(folder: Path, base_folder: Path, checkpoints: Path | None = None) -> None:
    """The inpainting repository's layout: the base's tokenizers, text encoders, VAE and scheduler, and the committed
    9-channel UNet (helpers/tiny/train_inpaint.py)."""
    _write_pipeline_files(folder, "sdxl-inpaint")
    for component in INPAINT_SHARED_WITH_BASE:
        shutil.copytree(base_folder / component, folder / component)
    _copy_trained((checkpoints or CHECKPOINTS) / "sdxl-inpaint" / "unet", folder / "unet", "`python -m helpers.tiny.train_inpaint`")


def assemble_controlnet(folder: Path, checkpoints: Path | None = None) -> None:
    """The canny ControlNet's flat layout: config.json and the committed weights (helpers/tiny/train_controlnet.py)
    in fp16 (the `fp16` variant) and fp32."""
    _copy_trained((checkpoints or CHECKPOINTS) / "controlnet-canny", folder, "`python -m helpers.tiny.train_controlnet`")


def assemble_lora(folder: Path, name: str, checkpoints: Path | None = None) -> None:
    """A LoRA repository's layout (lcm-lora-sdxl, sdxl-lightning): its one fp16 file, from the committed tiny LoRA
    (helpers/tiny/train_lcm.py), under the real file's name."""
    source = (checkpoints or CHECKPOINTS) / name
    _require(source, "`python -m helpers.tiny.train_lcm`")
    shutil.copytree(source, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.csv"))


def _build_ddpm(folder: Path) -> None:
    from diffusers import DDPMScheduler, UNet2DModel

    # The flat layout of google/ddpm-cat-256: model and scheduler configs side by side, fp32 weights.
    UNet2DModel.from_config(tiny_config("ddpm", "config")).save_pretrained(folder)
    DDPMScheduler.from_config(real_config("ddpm", "scheduler")).save_pretrained(folder)


def assemble_trained_ddpm(folder: Path, checkpoints: Path | None = None) -> None:
    """Lesson 03's committed model, in the flat layout of google/ddpm-cat-256 (config, weights, scheduler config)."""
    source = (checkpoints or CHECKPOINTS) / "ddpm"
    _require(source, "lesson 03 run with papermill (the command is in the README)")
    shutil.copytree(source, folder, dirs_exist_ok=True)


# ---------------------------------------------------------------------------------------------
# The cache


@functools.lru_cache(maxsize=1)
def _fingerprint() -> str:
    """Changes whenever the configs, the sizes, the tokenizer files or the trained weights change."""
    digest = hashlib.sha256(f"{BUILD_VERSION}{json.dumps(TINY_SIZES, sort_keys=True)}".encode())
    sources = [CONFIGS.rglob("*.json"), (Path(__file__).parent / "tokenizer").glob("*"), CHECKPOINTS.rglob("*.*")]
    for path in sorted(path for paths in sources for path in paths if path.name != "loss_log.csv"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# Random-weight stand-ins, and the trained tiny SDXL under the real models' names.
STANDINS = ("sdxl-base-random", "sdxl-refiner-random", "ddpm-random", "sdxl-base", "sdxl-refiner", "ddpm",
            "sdxl-inpaint", "controlnet-canny", "lcm-lora-sdxl", "sdxl-lightning")
LORA_STANDINS = ("lcm-lora-sdxl", "sdxl-lightning")  # one LoRA file each, copied as committed


def ensure_standin(name: str, cache: Path) -> Path:
    """The folder of stand-in `name` under `cache`, built on first use and reused afterwards."""
    if name not in STANDINS:
        raise ValueError(f"Unknown stand-in {name!r}. Valid stand-ins: {', '.join(STANDINS)}.")
    folder = Path(cache) / name
    marker = folder / ".complete"
    fingerprint = _fingerprint()
    if marker.is_file() and marker.read_text() == fingerprint:
        return folder
    from filelock import FileLock

    # One builder at a time: two notebooks (or two test workers) asking for the same stand-in at once
    # would otherwise replace the folder under each other's feet. Whoever waited finds it built.
    Path(cache).mkdir(parents=True, exist_ok=True)
    with FileLock(str(Path(cache) / f".{name}.lock")):
        if marker.is_file() and marker.read_text() == fingerprint:
            return folder
        return _build(name, cache, folder, fingerprint)


def _build(name: str, cache: Path, folder: Path, fingerprint: str) -> Path:
    import torch

    # Build in a temporary folder and rename at the end, so an interrupted build never looks complete.
    staging = Path(cache) / f".{name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same random weights on every machine
        if name == "sdxl-base-random":
            _build_sdxl_base(staging)
        elif name == "sdxl-refiner-random":
            _build_sdxl_refiner(staging, ensure_standin("sdxl-base-random", cache))
        elif name == "ddpm-random":
            _build_ddpm(staging)
        elif name == "sdxl-base":
            assemble_trained_base(staging)
        elif name == "ddpm":
            assemble_trained_ddpm(staging)
        elif name == "sdxl-inpaint":
            assemble_inpaint(staging, ensure_standin("sdxl-base", cache))
        elif name == "controlnet-canny":
            assemble_controlnet(staging)
        elif name in LORA_STANDINS:
            assemble_lora(staging, name)
        else:
            assemble_trained_refiner(staging, ensure_standin("sdxl-base", cache))
    (staging / ".complete").write_text(fingerprint)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)
    return folder
