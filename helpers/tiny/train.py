"""Train tiny SDXL (base and refiner) on the world of coloured shapes, on a CPU.

    python -m helpers.tiny.train                     # everything, ~50 min on 2 CPU cores
    python -m helpers.tiny.train --quick --output /tmp/tiny-check   # a few dozen steps: does it still work?

It writes `helpers/tiny/checkpoints/` (the committed weights, fp16): the base's text encoders, UNet and
VAE, and the refiner's UNet; the refiner shares the base's `text_encoder_2` and `vae`, as the real
ones do. `loss_log.csv` beside them records every step's loss. Deterministic by `--seed` on a given
machine. The models keep SDXL's classes and config keys; only sizes change (TRAINED_SIZES), as for
the random stand-ins. On a GPU, `--device cuda --scale 2` trains longer on more data.

The three stages, as in SDXL:
1. the VAE learns to compress 32x32 pictures into 16x16x4 latents (its `scaling_factor` is then set
   to 1 / the latents' standard deviation, the way SDXL's 0.13025 was found);
2. the base UNet and both text encoders learn to predict noise on every timestep, conditioned on the
   caption (dropped to zero embeddings 10% of the time, for classifier-free guidance) and on
   micro-conditioning: `original_size` (low-resolution pictures, upscaled) and `crops_coords_top_left`
   (crops of a larger canvas);
3. the refiner UNet learns only the low-noise end of the schedule, with `text_encoder_2` and `vae`
   frozen, conditioned on an aesthetic score that measures how damaged the training picture is.

Known limit: the base learns `original_size` (blur) but not where `crops_coords_top_left` puts the
shape. Ten recipes were probed on a GPU with these sizes and 3,000-4,000 base steps: 25-75% crops, the
shape exactly centred in the canvas, a fixed 64-pixel canvas, and every picture labelled as a crop of a
canvas centred on its shape. None moved the shape's centre by more than 1.4 px on average (the labels
asked for 8-16 px); the crops only came out cut by *some* border. A convolutional UNet has to turn a
global vector into a position, which it learns slowly (the "CoordConv" problem).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import shapes
from .standins import CHECKPOINTS, real_config, shrink

SIZE = 32  # pixels; latents are 16x16x4

# Every key changed from the real configs (helpers/tiny/configs). Nothing else differs.
TEXT_ENCODER = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "projection_dim": 32}
TIME_EMBED = 16  # addition_time_embed_dim: each micro-conditioning number becomes 16 features
TRAINED_SIZES = {
    "sdxl-base": {
        "unet": {
            "block_out_channels": [32, 64, 128], "layers_per_block": 1, "attention_head_dim": [1, 2, 4],
            "transformer_layers_per_block": [1, 1, 1], "cross_attention_dim": 64, "addition_time_embed_dim": TIME_EMBED,
            "projection_class_embeddings_input_dim": 32 + 6 * TIME_EMBED, "sample_size": SIZE // 2,
        },
        "vae": {
            "block_out_channels": [32, 64], "layers_per_block": 1, "sample_size": SIZE,
            "down_block_types": ["DownEncoderBlock2D"] * 2, "up_block_types": ["UpDecoderBlock2D"] * 2,
        },
        "text_encoder": TEXT_ENCODER,
        "text_encoder_2": TEXT_ENCODER,
    },
    "sdxl-refiner": {
        "unet": {
            "block_out_channels": [32, 64, 64, 64], "layers_per_block": 1, "attention_head_dim": [1, 2, 2, 2],
            "transformer_layers_per_block": 1, "cross_attention_dim": 32, "addition_time_embed_dim": TIME_EMBED,
            "projection_class_embeddings_input_dim": 32 + 5 * TIME_EMBED, "sample_size": SIZE // 2,
        },
    },
}


@dataclass(frozen=True)
class Plan:
    vae_steps: int = 800
    base_steps: int = 3000
    refiner_steps: int = 1500
    batch_size: int = 32
    pictures: int = 20000
    learning_rate: float = 1e-3
    refiner_max_timestep: int = 400  # the refiner only sees t < 400: the low-noise end
    caption_dropout: float = 0.1
    seed: int = 0


QUICK = Plan(vae_steps=8, base_steps=8, refiner_steps=8, batch_size=8, pictures=96)


@dataclass(frozen=True)
class FineTuningPlan:
    """A model fine-tuned from the tiny base (train_inpaint, train_controlnet, train_lcm): its steps and training pictures."""
    steps: int
    pictures: int
    batch_size: int = 16
    learning_rate: float = 1e-3
    caption_dropout: float = 0.1
    seed: int = 0


QUICK_FINE_TUNING = FineTuningPlan(steps=8, pictures=64, batch_size=8)
BASE_KINDS = {"plain": 0.55, "low_resolution": 0.2, "cropped": 0.25}
REFINER_KINDS = {"plain": 0.4, "degraded": 0.45, "low_resolution": 0.075, "cropped": 0.075}


def trained_config(model: str, component: str) -> dict:
    return shrink(model, component, TRAINED_SIZES[model][component])


class Log:
    """Every step's loss, written to a CSV file as training goes."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(["stage", "step", "loss", "seconds"])
        self.start = time.perf_counter()

    def __call__(self, stage: str, step: int, loss: float) -> None:
        self.writer.writerow([stage, step, f"{loss:.5f}", f"{time.perf_counter() - self.start:.1f}"])
        self.file.flush()


def _optimise(parameters, steps: int, learning_rate: float, constant: bool = False):
    """AdamW with a one-cycle schedule. `parameters`: tensors, or torch's parameter groups (dicts with "params" and
    an optional "lr", which overrides `learning_rate` for that group and is that group's peak). `constant`: AdamW
    without weight decay at a constant learning rate instead (train_lcm, as lesson 14 distils)."""
    if constant:
        optimiser = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.0)
        return optimiser, torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0)
    optimiser = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=1e-2)
    peaks = [group["lr"] for group in optimiser.param_groups]
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=peaks, total_steps=max(steps, 2), pct_start=0.1)
    return optimiser, schedule


def _loop(stage: str, steps: int, parameters, learning_rate: float, loss_of_step, log: Log, after_step=None,
          constant: bool = False):
    """`steps` steps of `loss_of_step` (AdamW, one-cycle, gradients clipped at 1); `parameters` and `constant` as for
    `_optimise`; `after_step()`, if given, runs after each optimiser step (train_lcm's EMA target)."""
    optimiser, schedule = _optimise(list(parameters), steps, learning_rate, constant)
    parameters = [parameter for group in optimiser.param_groups for parameter in group["params"]]
    bar = tqdm(range(steps), desc=stage)
    average = None
    for step in bar:
        loss = loss_of_step(step)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        schedule.step()
        if after_step is not None:
            after_step()
        value = loss.item()
        average = value if average is None else 0.98 * average + 0.02 * value
        log(stage, step, value)
        bar.set_postfix(loss=f"{average:.4f}")
    return average


def frozen_base(device: str):
    """The committed tiny base pipeline in fp32, every model in eval mode and frozen: what the fine-tuned models
    (train_inpaint, train_controlnet, train_lcm) start from and train beside."""
    from diffusers import StableDiffusionXLPipeline

    from ..models import cache_dir
    from .standins import ensure_standin

    folder = ensure_standin("sdxl-base", cache_dir())
    pipe = StableDiffusionXLPipeline.from_pretrained(folder, variant="fp16", use_safetensors=True, dtype=torch.float32).to(device)
    for model in (pipe.unet, pipe.vae, pipe.text_encoder, pipe.text_encoder_2):
        model.eval().requires_grad_(False)
    return pipe


def fine_tuning_main(argv, what: str, folder: str, plan: FineTuningPlan, train_and_save, evaluate) -> None:
    """The command line of a model fine-tuned from the tiny base (train_inpaint, train_controlnet, train_lcm).

    `what` names the model, `folder` is its folder under --output, `plan` the full run (--quick runs
    QUICK_FINE_TUNING), `train_and_save(plan, log, device, output)` trains and writes it, and `evaluate()` measures
    the committed one (a dict, printed as JSON).
    """
    parser = argparse.ArgumentParser(description=f"Train {what} on coloured shapes.")
    parser.add_argument("--output", type=Path, default=CHECKPOINTS, help=f"default: {CHECKPOINTS}")
    parser.add_argument("--quick", action="store_true", help="a few steps, to check the script works")
    parser.add_argument("--evaluate", action="store_true", help="measure the committed model instead of training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    arguments = parser.parse_args(argv)
    if arguments.evaluate:
        import json

        print(json.dumps(evaluate(), indent=2))
        return
    plan = QUICK_FINE_TUNING if arguments.quick else plan
    plan = replace(plan, seed=arguments.seed, steps=arguments.steps or plan.steps)
    torch.manual_seed(plan.seed)
    log = Log(arguments.output / folder / "loss_log.csv")
    print(f"Training {what} into {arguments.output / folder} with {plan}")
    train_and_save(plan, log, arguments.device, arguments.output)
    print(f"Done in {time.perf_counter() - log.start:.0f} s; losses in {arguments.output / folder / 'loss_log.csv'}")


# ---------------------------------------------------------------------------------------------


def train_vae(pictures, plan: Plan, log: Log, device: str):
    from diffusers import AutoencoderKL

    vae = AutoencoderKL.from_config(trained_config("sdxl-base", "vae")).to(device)
    images = shapes.to_tensor(pictures)
    generator = torch.Generator().manual_seed(plan.seed)

    def loss_of_step(step):
        batch = images[torch.randint(len(images), (plan.batch_size,), generator=generator)].to(device)
        posterior = vae.encode(batch).latent_dist
        reconstruction = vae.decode(posterior.sample(generator=None)).sample
        return F.mse_loss(reconstruction, batch) + 1e-6 * posterior.kl().mean()

    _loop("vae", plan.vae_steps, vae.parameters(), plan.learning_rate, loss_of_step, log)
    vae.eval().requires_grad_(False)
    with torch.no_grad():
        latents = torch.cat([vae.encode(chunk.to(device)).latent_dist.mean for chunk in images[:2048].split(256)])
    vae.register_to_config(scaling_factor=round(float(1.0 / latents.std()), 5))
    return vae


def encode_pictures(vae, pictures, device: str):
    """The latent distributions of every picture, computed once (the VAE is frozen from here on)."""
    with torch.no_grad():
        parts = [vae.encode(chunk.to(device)).latent_dist for chunk in shapes.to_tensor(pictures).split(256)]
    return torch.cat([part.mean for part in parts]), torch.cat([part.std for part in parts])


def _sample_latents(means, stds, index, scaling_factor, generator):
    noise = torch.randn(means[index].shape, generator=generator).to(means.device)
    return (means[index] + stds[index] * noise) * scaling_factor


def train_base(vae, pictures, plan: Plan, log: Log, device: str):
    from diffusers import DDPMScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from .clip_tokenizer import PAD_TOKEN, PAD_TOKEN_2, write_tokenizer

    with tempfile.TemporaryDirectory() as folder:
        tokenizers = []
        for name, pad_token in (("tokenizer", PAD_TOKEN), ("tokenizer_2", PAD_TOKEN_2)):
            write_tokenizer(Path(folder) / name, pad_token)
            tokenizers.append(CLIPTokenizer.from_pretrained(Path(folder) / name))
    pipe = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(CLIPTextConfig(**trained_config("sdxl-base", "text_encoder"))),
        text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**trained_config("sdxl-base", "text_encoder_2"))),
        tokenizer=tokenizers[0],
        tokenizer_2=tokenizers[1],
        unet=UNet2DConditionModel.from_config(trained_config("sdxl-base", "unet")),
        scheduler=_euler("sdxl-base"),
    ).to(device)
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)  # the same betas, for add_noise
    means, stds = encode_pictures(vae, pictures, device)
    captions = [picture.caption for picture in pictures]
    time_ids = torch.tensor([[*p.original_size, *p.crops_coords_top_left, SIZE, SIZE] for p in pictures], dtype=torch.float32)
    generator = torch.Generator().manual_seed(plan.seed + 1)
    pipe.text_encoder.train(), pipe.text_encoder_2.train(), pipe.unet.train()

    def loss_of_step(step):
        index = torch.randint(len(pictures), (plan.batch_size,), generator=generator)
        latents = _sample_latents(means, stds, index, vae.config.scaling_factor, generator)
        prompt_embeds, _, pooled_prompt_embeds, _ = pipe.encode_prompt(
            [captions[i] for i in index], device=device, do_classifier_free_guidance=False
        )
        # Captions dropped to zero embeddings: what the pipeline feeds the unconditional branch when
        # no negative prompt is given (force_zeros_for_empty_prompt), so guidance has something to push against.
        keep = (torch.rand(plan.batch_size, generator=generator) >= plan.caption_dropout).float().to(device)
        prompt_embeds = prompt_embeds * keep[:, None, None]
        pooled_prompt_embeds = pooled_prompt_embeds * keep[:, None]
        return _noise_prediction_loss(pipe.unet, noise_scheduler, latents, 0, 1000, prompt_embeds,
                                      pooled_prompt_embeds, time_ids[index].to(device), generator)

    parameters = [*pipe.unet.parameters(), *pipe.text_encoder.parameters(), *pipe.text_encoder_2.parameters()]
    _loop("base", plan.base_steps, parameters, plan.learning_rate, loss_of_step, log)
    for model in (pipe.unet, pipe.text_encoder, pipe.text_encoder_2):
        model.eval().requires_grad_(False)
    return pipe


def _noise_prediction_loss(unet, noise_scheduler, latents, low, high, prompt_embeds, pooled, time_ids, generator):
    noise = torch.randn(latents.shape, generator=generator).to(latents.device)
    timesteps = torch.randint(low, high, (latents.shape[0],), generator=generator).to(latents.device)
    noisy = noise_scheduler.add_noise(latents, noise, timesteps)
    prediction = unet(noisy, timesteps, encoder_hidden_states=prompt_embeds,
                      added_cond_kwargs={"text_embeds": pooled, "time_ids": time_ids}).sample
    return F.mse_loss(prediction, noise)


def _euler(model: str):
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler.from_config(real_config(model, "scheduler"))


def train_refiner(base, pictures, plan: Plan, log: Log, device: str):
    from diffusers import DDPMScheduler, StableDiffusionXLImg2ImgPipeline, UNet2DConditionModel

    refiner = StableDiffusionXLImg2ImgPipeline(
        vae=base.vae, text_encoder=None, text_encoder_2=base.text_encoder_2, tokenizer=None, tokenizer_2=base.tokenizer_2,
        unet=UNet2DConditionModel.from_config(trained_config("sdxl-refiner", "unet")), scheduler=_euler("sdxl-refiner"),
        requires_aesthetics_score=True, force_zeros_for_empty_prompt=False,
    ).to(device)
    noise_scheduler = DDPMScheduler.from_config(refiner.scheduler.config)
    means, stds = encode_pictures(base.vae, pictures, device)
    unique = sorted({picture.caption for picture in pictures}) + [""]
    with torch.no_grad():  # text_encoder_2 is frozen: encode each caption once
        embeds, _, pooled, _ = refiner.encode_prompt(unique, device=device, do_classifier_free_guidance=False)
    caption_index = torch.tensor([unique.index(picture.caption) for picture in pictures])
    empty = len(unique) - 1
    time_ids = torch.tensor([[*p.original_size, *p.crops_coords_top_left, p.aesthetic_score] for p in pictures], dtype=torch.float32)
    generator = torch.Generator().manual_seed(plan.seed + 2)
    refiner.unet.train()

    def loss_of_step(step):
        index = torch.randint(len(pictures), (plan.batch_size,), generator=generator)
        latents = _sample_latents(means, stds, index, base.vae.config.scaling_factor, generator)
        # The refiner's config encodes "" for an empty negative prompt (force_zeros_for_empty_prompt is false).
        chosen = torch.where(torch.rand(plan.batch_size, generator=generator) < plan.caption_dropout, empty, caption_index[index])
        return _noise_prediction_loss(refiner.unet, noise_scheduler, latents, 0, plan.refiner_max_timestep, embeds[chosen],
                                      pooled[chosen], time_ids[index].to(device), generator)

    _loop("refiner", plan.refiner_steps, refiner.unet.parameters(), plan.learning_rate, loss_of_step, log)
    refiner.unet.eval().requires_grad_(False)
    return refiner


def save(base, refiner, output: Path) -> None:
    """Only the weights unique to each model, in fp16 under the real file names."""
    from diffusers.utils import logging

    logging.set_verbosity_error()  # casting a trained model to fp16 for saving is intended
    for model, component, module in [
        ("sdxl-base", "unet", base.unet), ("sdxl-base", "vae", base.vae), ("sdxl-base", "text_encoder", base.text_encoder),
        ("sdxl-base", "text_encoder_2", base.text_encoder_2), ("sdxl-refiner", "unet", refiner.unet),
    ]:
        module.to("cpu", torch.float16).save_pretrained(output / model / component, variant="fp16")
        module.to(torch.float32)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Train tiny SDXL base and refiner on coloured shapes.")
    parser.add_argument("--output", type=Path, default=CHECKPOINTS, help=f"default: {CHECKPOINTS}")
    parser.add_argument("--quick", action="store_true", help="a few steps of each stage, to check the script works")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply steps and pictures (e.g. 2 on a GPU)")
    parser.add_argument("--device", default="cpu")
    arguments = parser.parse_args(argv)
    plan = QUICK if arguments.quick else Plan()
    plan = replace(plan, seed=arguments.seed, **{key: int(getattr(plan, key) * arguments.scale)
                                                 for key in ("vae_steps", "base_steps", "refiner_steps", "pictures")})
    torch.manual_seed(plan.seed)
    log = Log(arguments.output / "loss_log.csv")
    print(f"Training tiny SDXL into {arguments.output} with {plan}")
    base_pictures = shapes.dataset(plan.pictures, plan.seed, SIZE, BASE_KINDS)
    vae = train_vae(base_pictures, plan, log, arguments.device)
    base = train_base(vae, base_pictures, plan, log, arguments.device)
    refiner = train_refiner(base, shapes.dataset(plan.pictures, plan.seed + 1, SIZE, REFINER_KINDS), plan, log, arguments.device)
    save(base, refiner, arguments.output)
    print(f"Done in {time.perf_counter() - log.start:.0f} s; losses in {arguments.output / 'loss_log.csv'}")


if __name__ == "__main__":
    main()
