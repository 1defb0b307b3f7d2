"""Train the tiny canny ControlNet for SDXL on the world of coloured shapes, on a CPU.

    OMP_NUM_THREADS=1 python -m helpers.tiny.train_controlnet   # ~6 min of one CPU core
    python -m helpers.tiny.train_controlnet --quick --output /tmp/controlnet-check   # a few steps: does it still work?
    python -m helpers.tiny.train_controlnet --evaluate          # measure the committed ControlNet

It writes `helpers/tiny/checkpoints/controlnet-canny/` (config.json with the real repository's keys, fp16 weights)
and `loss_log.csv` beside them. Deterministic by `--seed` on a given machine.

As `diffusers/controlnet-canny-sdxl-1.0` was made from SDXL base, this ControlNet starts as a copy of the tiny base
UNet's encoder (standins.controlnet_from_unet: `ControlNetModel.from_unet`, zero convolutions on its outputs, so it
changes nothing at first), with a conditioning embedding that halves the control picture once, as the tiny VAE does
(SDXL's VAE divides by 8 and its ControlNet's embedding halves three times). The base UNet, text encoders and VAE stay
frozen. Training pairs: a picture whose object is at a random place and of a random size (the base alone puts
shapes anywhere, so only the edges can say where), its caption, and `helpers.edges.edge_map` of it as the control
picture, in [0, 1] as the pipeline's control image processor gives it. The ControlNet's residuals are added to the
UNet's skip connections and middle block exactly as `StableDiffusionXLControlNetPipeline` adds them, and the loss is
the UNet's noise prediction on every timestep; captions are dropped to zero embeddings 10% of the time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import shapes
from .standins import controlnet_config, controlnet_from_unet
from .train import SIZE, FineTuningPlan, Log, _loop, _sample_latents, encode_pictures, fine_tuning_main, frozen_base


PLAN = FineTuningPlan(steps=800, pictures=6000)


def placed(rng: np.random.Generator, size: int = SIZE) -> shapes.Picture:
    """A shape of any size from small to large, anywhere it fits whole: what the control picture must decide."""
    colour, shape = str(rng.choice(list(shapes.COLOURS))), str(rng.choice(shapes.SHAPES))
    radius = rng.uniform(0.15, 0.4) * size
    margin = radius * 1.1
    centre = (rng.uniform(margin, size - margin), rng.uniform(margin, size - margin))
    background = tuple(int(value) for value in rng.integers(215, 251, size=3))
    return shapes.Picture(shapes.draw(colour, shape, size, centre, radius, background), colour, shape, (size, size))


def control_tensor(images) -> torch.Tensor:
    """Edge maps of `images` as StableDiffusionXLControlNetPipeline's control image processor gives them: (N, 3, H, W) in [0, 1]."""
    from ..edges import edge_map

    return torch.from_numpy(np.stack([np.asarray(edge_map(image), dtype=np.float32) / 255 for image in images])).permute(0, 3, 1, 2)


def train(plan: FineTuningPlan, log: Log, device: str):
    from diffusers import DDPMScheduler

    base = frozen_base(device)
    controlnet = controlnet_from_unet(base.unet).to(device).train()
    noise_scheduler = DDPMScheduler.from_config(base.scheduler.config)
    rng = np.random.default_rng(plan.seed + 20)
    pictures = [placed(rng) for _ in range(plan.pictures)]
    controls = control_tensor([picture.image for picture in pictures])
    means, stds = encode_pictures(base.vae, pictures, device)
    unique = sorted({picture.caption for picture in pictures})
    with torch.no_grad():
        embeds, _, pooled, _ = base.encode_prompt(unique, device=device, do_classifier_free_guidance=False)
    caption_index = torch.tensor([unique.index(picture.caption) for picture in pictures])
    time_ids = torch.tensor([[SIZE, SIZE, 0, 0, SIZE, SIZE]], dtype=torch.float32).repeat(plan.batch_size, 1).to(device)
    generator = torch.Generator().manual_seed(plan.seed + 4)

    def loss_of_step(step):
        index = torch.randint(len(pictures), (plan.batch_size,), generator=generator)
        latents = _sample_latents(means, stds, index, base.vae.config.scaling_factor, generator)
        keep = (torch.rand(plan.batch_size, generator=generator) >= plan.caption_dropout).float().to(device)
        prompt_embeds = embeds[caption_index[index]] * keep[:, None, None]
        added_cond_kwargs = {"text_embeds": pooled[caption_index[index]] * keep[:, None], "time_ids": time_ids}
        noise = torch.randn(latents.shape, generator=generator).to(device)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (plan.batch_size,), generator=generator).to(device)
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        down_block_res_samples, mid_block_res_sample = controlnet(
            noisy, timesteps, encoder_hidden_states=prompt_embeds, controlnet_cond=controls[index].to(device),
            conditioning_scale=1.0, added_cond_kwargs=added_cond_kwargs, return_dict=False)
        prediction = base.unet(noisy, timesteps, encoder_hidden_states=prompt_embeds, added_cond_kwargs=added_cond_kwargs,
                               down_block_additional_residuals=down_block_res_samples,
                               mid_block_additional_residual=mid_block_res_sample).sample
        return F.mse_loss(prediction, noise)

    _loop("controlnet", plan.steps, controlnet.parameters(), plan.learning_rate, loss_of_step, log)
    return controlnet.eval().requires_grad_(False), base.unet


def save(controlnet, unet, output: Path) -> None:
    import json

    from diffusers.utils import logging

    logging.set_verbosity_error()  # casting a trained model to fp16 for saving is intended
    folder = output / "controlnet-canny"
    controlnet.to("cpu", torch.float16).save_pretrained(folder, variant="fp16")
    # the real repository's keys only (a newer diffusers writes a few more, with their default values)
    (folder / "config.json").write_text(json.dumps(controlnet_config(dict(unet.config)), indent=2, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------------------------
# Measuring it


def evaluate(seeds: int = 24, steps: int = 20, guidance: float = 5.0) -> dict:
    """Does the object follow the control picture (IoU, centre error), and does the prompt still choose the colour?"""
    from diffusers import ControlNetModel, StableDiffusionXLControlNetPipeline, StableDiffusionXLPipeline

    from ..edges import edge_map
    from ..models import model_path

    controlnet = ControlNetModel.from_pretrained(model_path("controlnet-canny", "tiny"), variant="fp16", dtype=torch.float32)
    base_folder = model_path("sdxl-base", "tiny")
    pipes = {"with the ControlNet": StableDiffusionXLControlNetPipeline.from_pretrained(base_folder, controlnet=controlnet, variant="fp16", dtype=torch.float32),
             "without": StableDiffusionXLPipeline.from_pretrained(base_folder, variant="fp16", dtype=torch.float32)}
    rng = np.random.default_rng(54321)  # held out: training used seed 20 (+ --seed)
    results = {name: {"iou": [], "centre": [], "colour": 0, "shape": 0} for name in pipes}
    for seed in range(seeds):
        control_source = placed(rng)
        colour = str(rng.choice([c for c in shapes.COLOURS if c != control_source.colour]))  # the edges carry no colour
        prompt = shapes.caption(colour, control_source.shape)
        for name, pipe in pipes.items():
            pipe.set_progress_bar_config(disable=True)
            extra = {"image": edge_map(control_source.image)} if name == "with the ControlNet" else {}
            image = pipe(prompt, height=SIZE, width=SIZE, num_inference_steps=steps, guidance_scale=guidance,
                         generator=torch.Generator().manual_seed(seed), **extra).images[0]
            results[name]["iou"].append(shapes.overlap(image, control_source.image))
            error = np.linalg.norm(shapes.object_centre(image) - shapes.object_centre(control_source.image))
            results[name]["centre"].append(float(error) if np.isfinite(error) else float(SIZE))
            results[name]["colour"] += shapes.object_colour(image) == colour
            results[name]["shape"] += shapes.object_shape(image) == control_source.shape
    return {"pictures": seeds, **{name: {
        "silhouette IoU with the control picture's object": round(float(np.mean(r["iou"])), 3),
        "centre error (px)": round(float(np.mean(r["centre"])), 2),
        "prompt's colour drawn": f"{r['colour']}/{seeds}",
        "shape drawn (the prompt's and the edges')": f"{r['shape']}/{seeds}",
    } for name, r in results.items()}}


def main(argv=None) -> None:
    fine_tuning_main(argv, "the tiny canny ControlNet", "controlnet-canny", PLAN,
                     lambda plan, log, device, output: save(*train(plan, log, device), output), evaluate)


if __name__ == "__main__":
    main()
