"""Distil the tiny LCM-LoRA from the tiny SDXL base, on a CPU: the stand-ins of `latent-consistency/lcm-lora-sdxl` and
`ByteDance/SDXL-Lightning` (lesson 14).

    OMP_NUM_THREADS=1 python -m helpers.tiny.train_lcm    # ~5 min of one CPU core
    python -m helpers.tiny.train_lcm --quick --output /tmp/lcm-check   # a few steps: does it still work?
    python -m helpers.tiny.train_lcm --evaluate           # measure the committed LoRA

The recipe is lesson 14's, run longer (the lesson distils for a minute; this for PLAN.steps): latent consistency
distillation (Luo et al. 2023) with a LoRA, as diffusers' examples/consistency_distillation/train_lcm_distill_lora_sdxl.py
does it. At each step: a training picture's latents noised to a timestep t of the 50-step DDIM grid; the teacher (the
frozen base, the LoRA switched off) takes one DDIM step from t to t - 20 with classifier-free guidance at a random
scale w; the student (base + LoRA) maps the point at t, and an EMA copy of the LoRA maps the teacher's point at t - 20,
each to the trajectory's start with the boundary-condition scalings; the loss is their pseudo-Huber distance.

It writes `checkpoints/lcm-lora-sdxl/pytorch_lora_weights.safetensors` and
`checkpoints/sdxl-lightning/sdxl_lightning_4step_lora.safetensors` (the same LoRA, fp16), with the file names and
the key format the real files were inferred to have (kohya-style `lora_unet_...lora_down/lora_up/alpha`: the real
headers could not be read here), and `loss_log.csv`. The Lightning stand-in is *not* trained with Lightning's
recipe (progressive adversarial distillation): it lets tiny mode run the very code full mode runs, no more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from . import shapes
from .train import SIZE, FineTuningPlan, Log, _loop, fine_tuning_main, frozen_base

PLAN = FineTuningPlan(steps=600, pictures=512, batch_size=16, learning_rate=1e-3)
# The LCM-LoRA's layers: diffusers' LCM-LoRA script's list (every attention projection, the transformer blocks' in/out
# projections and feed-forward layers, every ResNet convolution and time projection, the down/upsamplers).
STANDINS = ("lcm-lora-sdxl", "sdxl-lightning")  # the catalogue's names of the two LoRAs this writes
TARGET_MODULES = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2", "conv1", "conv2",
                  "conv_shortcut", "downsamplers.0.conv", "upsamplers.0.conv", "time_emb_proj"]


@dataclass(frozen=True)
class Recipe:
    rank: int = 8
    # the teacher's guidance scale w, drawn from [low, high] at each step: diffusers' LCM-LoRA example draws its w from
    # 3 to 15 in the LCM paper's convention (guidance scale = w + 1)
    guidance_low: float = 4.0
    guidance_high: float = 16.0
    ema_decay: float = 0.95  # the target network: an exponential moving average of the student's LoRA
    skip: int = 20  # the teacher's DDIM step: 1000 // 50 timesteps
    huber_c: float = 1e-3


RECIPE = Recipe()


def distil(plan: FineTuningPlan, log: Log, device: str, recipe: Recipe = RECIPE):
    from diffusers import LCMScheduler
    from peft import LoraConfig

    base = frozen_base(device)
    boundary = LCMScheduler()  # c_skip and c_out of the boundary condition (sigma_data 0.5, timestep scaling 10)
    unet = base.unet
    torch.manual_seed(plan.seed)
    unet.add_adapter(LoraConfig(r=recipe.rank, lora_alpha=recipe.rank, init_lora_weights="gaussian", target_modules=TARGET_MODULES))
    student = [p for p in unet.parameters() if p.requires_grad]
    target = [p.detach().clone() for p in student]
    pictures = shapes.dataset(plan.pictures, plan.seed + 30)
    with torch.no_grad():
        latents = torch.cat([base.vae.encode(chunk.to(device)).latent_dist.mean for chunk in shapes.to_tensor(pictures).split(256)])
        latents = latents * base.vae.config.scaling_factor
        unique = sorted({picture.caption for picture in pictures})
        embeds, _, pooled, _ = base.encode_prompt(unique, device=device, do_classifier_free_guidance=False)
    caption_index = torch.tensor([unique.index(picture.caption) for picture in pictures])
    time_ids = torch.tensor([[SIZE, SIZE, 0, 0, SIZE, SIZE]], dtype=torch.float32, device=device).repeat(plan.batch_size, 1)
    alphas_cumprod = base.scheduler.alphas_cumprod.to(device)
    alpha, sigma = alphas_cumprod.sqrt(), (1 - alphas_cumprod).sqrt()
    grid = torch.arange(recipe.skip - 1, base.scheduler.config.num_train_timesteps, recipe.skip)  # 19, 39, ..., 999
    generator = torch.Generator().manual_seed(plan.seed + 5)

    def unet_x0(x, t, prompt_embeds, text_embeds):
        noise_pred = unet(x, t, encoder_hidden_states=prompt_embeds, added_cond_kwargs={"text_embeds": text_embeds, "time_ids": time_ids}).sample
        return noise_pred, (x - sigma[t].view(-1, 1, 1, 1) * noise_pred) / alpha[t].view(-1, 1, 1, 1)

    def consistency(x, t, prompt_embeds, text_embeds):
        c_skip, c_out = boundary.get_scalings_for_boundary_condition_discrete(t)
        return c_skip.view(-1, 1, 1, 1) * x + c_out.view(-1, 1, 1, 1) * unet_x0(x, t, prompt_embeds, text_embeds)[1]

    def loss_of_step(step):
        index = torch.randint(len(pictures), (plan.batch_size,), generator=generator)
        prompt_embeds, text_embeds = embeds[caption_index[index]], pooled[caption_index[index]]
        t = grid[torch.randint(len(grid), (plan.batch_size,), generator=generator)].to(device)
        previous = (t - recipe.skip).clamp(min=0)
        noise = torch.randn(latents[index].shape, generator=generator).to(device)
        noisy = alpha[t].view(-1, 1, 1, 1) * latents[index] + sigma[t].view(-1, 1, 1, 1) * noise
        w = (recipe.guidance_low + (recipe.guidance_high - recipe.guidance_low) * torch.rand(plan.batch_size, generator=generator))
        w = w.view(-1, 1, 1, 1).to(device)
        prediction = consistency(noisy, t, prompt_embeds, text_embeds)
        with torch.no_grad():
            unet.disable_adapters()  # the teacher: the base alone
            eps_text, x0_text = unet_x0(noisy, t, prompt_embeds, text_embeds)
            eps_uncond, x0_uncond = unet_x0(noisy, t, torch.zeros_like(prompt_embeds), torch.zeros_like(text_embeds))
            unet.enable_adapters()
            eps, x0 = eps_uncond + w * (eps_text - eps_uncond), x0_uncond + w * (x0_text - x0_uncond)
            x_prev = alpha[previous].view(-1, 1, 1, 1) * x0 + sigma[previous].view(-1, 1, 1, 1) * eps
            current = [p.detach().clone() for p in student]
            for p, value in zip(student, target):
                p.data.copy_(value)
            target_prediction = consistency(x_prev, previous, prompt_embeds, text_embeds)
            for p, value in zip(student, current):
                p.data.copy_(value)
        return (torch.sqrt((prediction - target_prediction) ** 2 + recipe.huber_c**2) - recipe.huber_c).mean()

    def after_step():  # the target moves towards the student after every step
        with torch.no_grad():
            for p, value in zip(student, target):
                value.mul_(recipe.ema_decay).add_(p.detach(), alpha=1 - recipe.ema_decay)

    # As the lesson distils: a constant learning rate without weight decay (the one-cycle schedule with decay the other
    # tiny models use measured 0.84-0.86 right at 4 steps against 0.92 for this, on 108 held-out pictures)
    _loop("lcm-lora", plan.steps, student, plan.learning_rate, loss_of_step, log, after_step=after_step, constant=True)
    with torch.no_grad():  # the target is the LoRA kept, as in LCM
        for p, value in zip(student, target):
            p.copy_(value)
    return base


def kohya_state_dict(unet) -> dict:
    """The LoRA of `unet` in the kohya-style keys the real LCM-LoRA and Lightning files were inferred to use
    (`lora_unet_<module path with underscores>.lora_down.weight / .lora_up.weight / .alpha`), fp16."""
    from diffusers.utils import convert_state_dict_to_kohya
    from peft.utils import get_peft_model_state_dict

    converted = convert_state_dict_to_kohya(get_peft_model_state_dict(unet))
    return {f"lora_unet_{key}": value.detach().to("cpu", torch.float16).contiguous() for key, value in converted.items()}


def save(base, output: Path) -> None:
    from safetensors.torch import save_file

    weights = kohya_state_dict(base.unet)
    from ..models import CATALOGUE

    for name in STANDINS:  # each under its real repository's one file name (the catalogue's check file)
        (output / name).mkdir(parents=True, exist_ok=True)
        save_file(weights, output / name / CATALOGUE[name].check_file, metadata={"format": "pt"})


# ---------------------------------------------------------------------------------------------
# Measuring it


def right_share(pipe, steps: int, guidance_scale: float, seeds) -> float:
    """The share of pictures whose colour and shape are both the prompt's, over the world's 18 captions x `seeds`."""
    right = total = 0
    for prompt in shapes.CAPTIONS:
        colour, shape = shapes.parse_caption(prompt)
        images = pipe(prompt=prompt, num_inference_steps=steps, guidance_scale=guidance_scale, height=SIZE, width=SIZE,
                      num_images_per_prompt=len(seeds), generator=[torch.Generator().manual_seed(seed) for seed in seeds]).images
        right += sum(shapes.object_colour(image) == colour and shapes.object_shape(image) == shape for image in images)
        total += len(images)
    return right / total


def evaluate(seeds=range(1000, 1012), folder=None) -> dict:
    """The committed LoRA against the base: pictures right at 1, 2, 4, 8 steps (LCMScheduler), Euler at 30 and 4 steps,
    the Lightning stand-in with Euler "trailing" and no guidance; held-out seeds (training never sees a seed)."""
    from diffusers import EulerDiscreteScheduler, LCMScheduler, StableDiffusionXLPipeline

    from ..models import model_path

    pipe = StableDiffusionXLPipeline.from_pretrained(model_path("sdxl-base", "tiny"), variant="fp16", dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    config = {key: value for key, value in pipe.scheduler.config.items() if key != "skip_prk_steps"}
    euler, lcm = pipe.scheduler, LCMScheduler.from_config(config)
    seeds = list(seeds)
    results = {"pictures per row": 18 * len(seeds), "Euler 30 steps, guidance 5": right_share(pipe, 30, 5.0, seeds),
               "Euler 4 steps, guidance 5": right_share(pipe, 4, 5.0, seeds)}
    pipe.scheduler = lcm
    for steps in (1, 2, 4, 8):
        for guidance in (1.0, 1.5):
            results[f"LCMScheduler on the base alone, {steps} steps, guidance {guidance}"] = right_share(pipe, steps, guidance, seeds)
    pipe.load_lora_weights(folder or model_path("lcm-lora-sdxl", "tiny"), adapter_name="lcm")
    for steps in (1, 2, 4, 8):
        for guidance in (1.0, 1.5):
            results[f"LCM-LoRA {steps} steps, guidance {guidance}"] = right_share(pipe, steps, guidance, seeds)
    pipe.scheduler = EulerDiscreteScheduler.from_config(config, timestep_spacing="trailing")
    results["the same LoRA, Euler trailing, 4 steps, guidance 0 (the Lightning stand-in)"] = right_share(pipe, 4, 0.0, seeds)
    return {key: round(value, 3) if isinstance(value, float) else value for key, value in results.items()}


def main(argv=None) -> None:
    fine_tuning_main(argv, "the tiny LCM-LoRA", "lcm-lora-sdxl", PLAN,
                     lambda plan, log, device, output: save(distil(plan, log, device), output), evaluate)


if __name__ == "__main__":
    main()
