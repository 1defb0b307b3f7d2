"""Train the tiny SDXL inpainting UNet on the world of coloured shapes, on a CPU.

    OMP_NUM_THREADS=1 python -m helpers.tiny.train_inpaint   # ~5 min of one CPU core
    python -m helpers.tiny.train_inpaint --quick --output /tmp/inpaint-check   # a few steps: does it still work?
    python -m helpers.tiny.train_inpaint --evaluate       # measure the committed model against the base's blending

It writes `helpers/tiny/checkpoints/sdxl-inpaint/unet/` (fp16) and `loss_log.csv` beside it. Deterministic by
`--seed` on a given machine.

The real `diffusers/stable-diffusion-xl-1.0-inpainting-0.1` was made from SDXL base: the same UNet with 5 more
input channels, fine-tuned to fill a masked region. This does the same with the tiny base
(standins.inpaint_unet_from_base: the extra `conv_in` channels start at zero, so training starts from exactly the
base), on the tensors `StableDiffusionXLInpaintPipeline` feeds it:
- the mask, 1 where the picture is to be filled, binarised, and brought to the latent grid with
  `F.interpolate(mask, size=latent size)` (nearest), as `prepare_mask_latents` does;
- the masked picture, `picture * (mask < 0.5)` in [-1, 1] (the masked part is 0, mid-grey), encoded by the VAE
  (a sample of the latent distribution) and multiplied by `scaling_factor`, as `_encode_vae_image` does;
- the UNet's input `torch.cat([noisy_latents, mask, masked_image_latents], dim=1)`, the pipeline's order.
Masks: rectangles of any size and place, strips along one or two borders (so outpainting works), a box around the
object, and sometimes the whole picture. Noise prediction on every timestep, captions dropped to zero embeddings
10% of the time (for guidance), micro-conditioning as in train.py. The text encoders and VAE are the base's,
frozen (the real repository's are the base's too).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import shapes
from .standins import inpaint_unet_from_base
from .train import BASE_KINDS, SIZE, FineTuningPlan, Log, _loop, _sample_latents, encode_pictures, fine_tuning_main, frozen_base

MASK_KINDS = {"box": 0.3, "object": 0.3, "border": 0.3, "whole": 0.1}
CONV_IN_SPEED = 10  # conv_in's learning rate, in multiples of the rest's (its 5 new input channels start at zero)
HIGH_NOISE_WEIGHT = 5.0  # the largest weight of a high-noise step's loss (see loss_of_step)


PLAN = FineTuningPlan(steps=1200, pictures=8000)


def random_mask(rng: np.random.Generator, foreground: np.ndarray, kind: str | None = None) -> np.ndarray:
    """A (size, size) float mask, 1 where the picture is to be filled: a box, the object's surroundings, a border
    strip, or everything."""
    size = foreground.shape[0]
    kind = kind or str(rng.choice(list(MASK_KINDS), p=list(MASK_KINDS.values())))
    mask = np.zeros((size, size), dtype=np.float32)
    if kind == "box":
        height, width = rng.integers(size // 5, size + 1, size=2)
        top, left = rng.integers(0, size - height + 1), rng.integers(0, size - width + 1)
        mask[top:top + height, left:left + width] = 1
    elif kind == "object" and foreground.any():
        rows, cols = np.flatnonzero(foreground.any(axis=1)), np.flatnonzero(foreground.any(axis=0))
        pad = rng.integers(1, 5, size=4)
        mask[max(0, rows[0] - pad[0]):rows[-1] + 1 + pad[1], max(0, cols[0] - pad[2]):cols[-1] + 1 + pad[3]] = 1
    elif kind == "border":
        for side in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
            width = int(rng.integers(size // 8, size // 2 + 1))
            if side == 0:
                mask[:width] = 1
            elif side == 1:
                mask[-width:] = 1
            elif side == 2:
                mask[:, :width] = 1
            else:
                mask[:, -width:] = 1
    else:
        mask[:] = 1
    return mask


def inpainting_inputs(vae, pictures_tensor, masks, generator):
    """What StableDiffusionXLInpaintPipeline gives its 9-channel UNet besides the noisy latents: the mask on the latent
    grid and the masked picture's latents. `pictures_tensor` (N, 3, H, W) in [-1, 1], `masks` (N, 1, H, W) in {0, 1}."""
    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    masked_image = pictures_tensor * (masks < 0.5)
    mask = F.interpolate(masks, size=(masks.shape[-2] // factor, masks.shape[-1] // factor))
    with torch.no_grad():
        masked_image_latents = vae.encode(masked_image).latent_dist.sample(generator) * vae.config.scaling_factor
    return mask, masked_image_latents


def train(plan: FineTuningPlan, log: Log, device: str):
    from diffusers import DDPMScheduler

    base = frozen_base(device)
    vae = base.vae
    unet = inpaint_unet_from_base(base.unet).to(device).train()
    noise_scheduler = DDPMScheduler.from_config(base.scheduler.config)
    pictures = shapes.dataset(plan.pictures, plan.seed + 10, SIZE, BASE_KINDS)
    images = shapes.to_tensor(pictures)
    foregrounds = [shapes.foreground_mask(picture.image) for picture in pictures]
    means, stds = encode_pictures(vae, pictures, device)  # the clean pictures' latents, once
    unique = sorted({picture.caption for picture in pictures})
    with torch.no_grad():  # the text encoders are the base's, frozen: each caption encoded once
        embeds, _, pooled, _ = base.encode_prompt(unique, device=device, do_classifier_free_guidance=False)
    caption_index = torch.tensor([unique.index(picture.caption) for picture in pictures])
    time_ids = torch.tensor([[*p.original_size, *p.crops_coords_top_left, SIZE, SIZE] for p in pictures], dtype=torch.float32)
    generator = torch.Generator().manual_seed(plan.seed + 3)
    rng = np.random.default_rng(plan.seed + 3)

    def loss_of_step(step):
        index = torch.randint(len(pictures), (plan.batch_size,), generator=generator)
        batch = images[index].to(device)
        masks = torch.from_numpy(np.stack([random_mask(rng, foregrounds[i]) for i in index.tolist()]))[:, None].to(device)
        mask, masked_image_latents = inpainting_inputs(vae, batch, masks, generator)
        latents = _sample_latents(means, stds, index, vae.config.scaling_factor, generator)
        keep = (torch.rand(plan.batch_size, generator=generator) >= plan.caption_dropout).float().to(device)
        prompt_embeds = embeds[caption_index[index]] * keep[:, None, None]
        pooled_prompt_embeds = pooled[caption_index[index]] * keep[:, None]
        noise = torch.randn(latents.shape, generator=generator).to(device)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (plan.batch_size,), generator=generator).to(device)
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        prediction = unet(torch.cat([noisy, mask, masked_image_latents], dim=1), timesteps, encoder_hidden_states=prompt_embeds,
                          added_cond_kwargs={"text_embeds": pooled_prompt_embeds, "time_ids": time_ids[index].to(device)}).sample
        # Noise prediction hides what the masked picture is worth: at high noise the noise is almost the noisy
        # latents themselves, so a wrong picture costs little in this loss (an error e in the picture costs
        # e^2 x SNR). Weighting those steps up (up to HIGH_NOISE_WEIGHT, by 1/SNR) is what makes the model learn to
        # keep what is outside the mask; low-noise steps keep weight 1.
        alphas = noise_scheduler.alphas_cumprod.to(device)[timesteps]
        weight = ((1 - alphas) / alphas).clamp(1.0, HIGH_NOISE_WEIGHT)
        return (F.mse_loss(prediction, noise, reduction="none").mean(dim=(1, 2, 3)) * weight).mean()

    # conv_in learns CONV_IN_SPEED times faster: its new input channels start at zero, and at the base's learning rate
    # they had grown to only a twentieth of the old channels' weights after 1,200 steps (the model still redrew the
    # whole picture instead of keeping what is outside the mask).
    others = [parameter for name, parameter in unet.named_parameters() if not name.startswith("conv_in.")]
    groups = [{"params": list(unet.conv_in.parameters()), "lr": plan.learning_rate * CONV_IN_SPEED}, {"params": others}]
    _loop("inpaint", plan.steps, groups, plan.learning_rate, loss_of_step, log)
    return unet.eval().requires_grad_(False)


def save(unet, output: Path) -> None:
    from diffusers.utils import logging

    logging.set_verbosity_error()  # casting a trained model to fp16 for saving is intended
    unet.to("cpu", torch.float16).save_pretrained(output / "sdxl-inpaint" / "unet", variant="fp16")


# ---------------------------------------------------------------------------------------------
# Measuring it: the trained inpainting model against the base's blending (StableDiffusionXLInpaintPipeline on the
# base's 4-channel UNet), on held-out pictures and masks.


def _region_picture(image, mask: np.ndarray, background=(240, 240, 235)):
    """The masked region of `image` on a plain background, so the shapes classifiers judge only what was painted."""
    pixels = np.asarray(image.convert("RGB")).copy()
    pixels[mask < 0.5] = background
    from PIL import Image

    return Image.fromarray(pixels)


def evaluate(seeds: int = 24, steps: int = 20, guidance: float = 5.0) -> dict:
    """Share of masked regions showing the asked colour and shape, change outside the mask, and outpainting."""
    from diffusers import AutoPipelineForInpainting
    from PIL import Image

    from ..models import cache_dir
    from .standins import ensure_standin

    folders = {"inpainting model": ensure_standin("sdxl-inpaint", cache_dir()), "base, blending": ensure_standin("sdxl-base", cache_dir())}
    pipes = {name: AutoPipelineForInpainting.from_pretrained(folder, variant="fp16", dtype=torch.float32)
             for name, folder in folders.items()}
    for pipe in pipes.values():
        pipe.set_progress_bar_config(disable=True)
    rng = np.random.default_rng(12345)  # held out: training used seeds 10 and 3 (+ --seed)
    results = {name: {"object": 0, "large": 0, "outpaint": 0, "outside": [], "iou": []} for name in pipes}
    round_trip = []
    vae = pipes["base, blending"].vae
    for seed in range(seeds):
        source = shapes.plain(rng, SIZE)
        colour, shape = str(rng.choice(list(shapes.COLOURS))), str(rng.choice(shapes.SHAPES))
        prompt = shapes.caption(colour, shape)
        # 1. a box to fill with the asked object (the picture's own object is replaced)
        mask = random_mask(rng, shapes.foreground_mask(source.image), "object")
        # 2. a large box: half the picture or more, elsewhere (what "filling coherently" is about)
        large = np.zeros((SIZE, SIZE), np.float32)
        side = int(rng.integers(SIZE * 3 // 4, SIZE + 1))
        top, left = rng.integers(0, SIZE - side + 1, size=2)
        large[top:top + side, left:left + side] = 1
        # 3. outpainting: the shape pushed past the right or bottom edge, that strip masked; does it come back whole?
        radius = rng.uniform(0.25, 0.34) * SIZE
        centre = [rng.uniform(radius * 1.1, SIZE - radius * 1.1) for _ in range(2)]
        truth = shapes.draw(colour, shape, SIZE, tuple(centre), radius)
        cut = int(round(centre[0] - radius * 0.2))  # most of the shape's right part is unknown
        outpaint = np.zeros((SIZE, SIZE), np.float32)
        outpaint[:, cut:] = 1
        known = np.asarray(truth).copy()
        known[:, cut:] = 0
        with torch.no_grad():
            tensor = shapes.to_tensor([source])
            decoded = vae.decode(vae.encode(tensor).latent_dist.mode()).sample
        round_trip.append(float(((decoded.clamp(-1, 1) - tensor).abs() * 127.5).mean()))
        for name, pipe in pipes.items():
            def run(image, region, text):
                return pipe(text, image=image, mask_image=Image.fromarray((region * 255).astype(np.uint8)), height=SIZE, width=SIZE,
                            num_inference_steps=steps, guidance_scale=guidance, strength=1.0,
                            generator=torch.Generator().manual_seed(seed)).images[0]
            made = run(source.image, mask, prompt)
            region = _region_picture(made, mask)
            results[name]["object"] += shapes.object_colour(region) == colour and shapes.object_shape(region) == shape
            outside = mask < 0.5
            results[name]["outside"].append(float(np.abs(np.asarray(made, float) - np.asarray(source.image, float))[outside].mean()))
            filled = run(source.image, large, prompt)
            results[name]["large"] += shapes.object_colour(filled) == colour and shapes.object_shape(filled) == shape
            completed = run(Image.fromarray(known), outpaint, prompt)
            results[name]["iou"].append(shapes.overlap(completed, truth))
            results[name]["outpaint"] += shapes.object_colour(completed) == colour and shapes.object_shape(completed) == shape
    summary = {"pictures": seeds, "vae round trip (/255)": round(float(np.mean(round_trip)), 2)}
    for name, result in results.items():
        summary[name] = {
            "object in the mask (colour and shape)": f"{result['object']}/{seeds}",
            "large mask filled with the asked object": f"{result['large']}/{seeds}",
            "mean change outside the mask (/255)": round(float(np.mean(result["outside"])), 2),
            "outpainting: shape completed (colour and shape)": f"{result['outpaint']}/{seeds}",
            "outpainting: silhouette IoU with the whole shape": round(float(np.mean(result["iou"])), 3),
        }
    return summary


def main(argv=None) -> None:
    fine_tuning_main(argv, "the tiny SDXL inpainting UNet", "sdxl-inpaint", PLAN,
                     lambda plan, log, device, output: save(train(plan, log, device), output), evaluate)


if __name__ == "__main__":
    main()
