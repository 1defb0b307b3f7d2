"""Checks for lesson 10's exercises (see helpers/exercises/__init__.py for the framework)."""

from __future__ import annotations

import torch

from ..i18n import _
from . import call, compare_tensors, report, unfinished

__all__ = ["check_lora_forward", "check_training_target"]


def _lora_case(seed: int = 0, batch: int = 3, inputs: int = 12, outputs: int = 10, rank: int = 4, alpha: float = 8.0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, inputs, generator=generator)
    W = torch.randn(outputs, inputs, generator=generator)
    A = torch.randn(rank, inputs, generator=generator)
    B = torch.randn(outputs, rank, generator=generator)
    return x, W, A, B, alpha, rank


def check_lora_forward(lora_forward) -> None:
    """Exercise: y = x W^T + (alpha / rank) x A^T B^T for a batch x."""
    name = "lora_forward"
    x, W, A, B, alpha, rank = _lora_case()
    answer, problem = call(name, lora_forward, x, W, A, B, alpha, rank)
    if unfinished(lora_forward) or (problem is None and unfinished(answer)):
        return report(name, None, _("replace `...` in lora_forward with one line that returns the layer's output."))
    if problem:
        if "mat1 and mat2" in problem or "size of tensor" in problem or "shapes cannot be multiplied" in problem:
            return report(name, False, _("{problem}. Check the transposes: x is batch × in, W is out × in, A is rank × "
                                         "in, B is out × rank.").format(problem=problem))
        return report(name, False, problem)
    base = x @ W.T
    update = (x @ A.T) @ B.T
    expected = base + alpha / rank * update
    wrong = compare_tensors(answer, expected, _("the output"))
    if wrong is None:
        x2, W2, A2, B2, alpha2, rank2 = _lora_case(seed=1, batch=2, inputs=7, outputs=5, rank=2, alpha=2.0)
        second, problem = call(name, lora_forward, x2, W2, A2, B2, alpha2, rank2)
        wrong = problem or compare_tensors(second, x2 @ W2.T + alpha2 / rank2 * (x2 @ A2.T) @ B2.T, _("the output (other sizes)"))
        if wrong is None:
            return report(name, True, _("the frozen layer plus the scaled low-rank update. With B = 0 it is the layer itself."))
        return report(name, False, _("right for one set of sizes, not another: {wrong}").format(wrong=wrong))
    if not isinstance(answer, torch.Tensor) or answer.shape != expected.shape:
        return report(name, False, wrong)
    for guess, hint in [
        (base, _("the output is the frozen layer alone: add the LoRA's update.")),
        (alpha / rank * update, _("that is only the LoRA's update: the frozen layer's x Wᵀ is still there.")),
        (base + update, _("the update is not scaled: multiply it by alpha / rank.")),
        (base + rank / alpha * update, _("the scale is upside down: alpha / rank, not rank / alpha.")),
        (base + alpha * update, _("the scale is alpha / rank, not alpha alone.")),
    ]:
        if torch.allclose(answer.double(), guess.double(), atol=1e-4):
            return report(name, False, hint)
    return report(name, False, wrong)


def _schedulers():
    from diffusers import DDPMScheduler

    common = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    return {kind: DDPMScheduler(prediction_type=kind, **common) for kind in ("epsilon", "v_prediction")}


def check_training_target(training_target) -> None:
    """Exercise: the loss target for epsilon (the noise) and v_prediction (alpha_t noise - sigma_t latents)."""
    name = "training_target"
    generator = torch.Generator().manual_seed(0)
    latents = torch.randn(3, 4, 8, 8, generator=generator)
    noise = torch.randn(3, 4, 8, 8, generator=generator)
    timesteps = torch.tensor([10, 500, 990])
    schedulers = _schedulers()
    first, problem = call(name, training_target, latents, noise, timesteps, schedulers["epsilon"])
    if unfinished(training_target) or (problem is None and unfinished(first)):
        return report(name, None, _("replace `...` in training_target with code that returns the target tensor."))
    for kind, scheduler in schedulers.items():
        answer, problem = call(name, training_target, latents, noise, timesteps, scheduler)
        if problem:
            return report(name, False, _("for a {kind} scheduler {problem}").format(kind=kind, problem=problem))
        alphas = scheduler.alphas_cumprod[timesteps].sqrt().view(-1, 1, 1, 1)
        sigmas = (1 - scheduler.alphas_cumprod[timesteps]).sqrt().view(-1, 1, 1, 1)
        expected = noise if kind == "epsilon" else alphas * noise - sigmas * latents
        wrong = compare_tensors(answer, expected, _("the target for a {kind} scheduler").format(kind=kind), atol=1e-4)
        if wrong is None:
            continue
        if not isinstance(answer, torch.Tensor) or answer.shape != expected.shape:
            return report(name, False, wrong)
        guesses = {"epsilon": [(latents, _("an epsilon model predicts the noise that was added, not the clean latents."))],
                   "v_prediction": [
                       (noise, _("the target is the noise whatever the scheduler: read scheduler.config.prediction_type.")),
                       (sigmas * latents - alphas * noise, _("the velocity's sign is flipped: alpha_t · noise − sigma_t · latents.")),
                       (alphas * latents - sigmas * noise, _("latents and noise are swapped: alpha_t multiplies the noise.")),
                       (scheduler.alphas_cumprod[timesteps].view(-1, 1, 1, 1) * noise
                        - (1 - scheduler.alphas_cumprod[timesteps]).view(-1, 1, 1, 1) * latents,
                        _("take the square roots: alpha_t = sqrt(alphas_cumprod[t]), sigma_t = sqrt(1 − alphas_cumprod[t]).")),
                       (latents, _("the velocity mixes noise and latents: alpha_t · noise − sigma_t · latents.")),
                   ]}[kind]
        for guess, hint in guesses:
            if torch.allclose(answer.double(), guess.double(), atol=1e-4):
                return report(name, False, hint)
        return report(name, False, wrong + " " + _("Check that alpha_t and sigma_t are taken at each picture's own timestep."))
    return report(name, True, _("noise for epsilon, alpha_t · noise − sigma_t · latents for v_prediction: what "
                                "noise_scheduler.get_velocity computes."))
