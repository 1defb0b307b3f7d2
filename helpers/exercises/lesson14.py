"""Checks for the exercises of lesson 14 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import torch

from ..i18n import _
from . import call, compare_number, compare_tensors, report, unfinished

__all__ = ["check_boundary_scalings", "check_ddim_solver_step"]


def _lcm_scalings(timestep, sigma_data: float, timestep_scaling: float):
    """LCMScheduler's own c_skip and c_out. The method fixes sigma_data at 0.5; both coefficients depend only on
    timestep * timestep_scaling / sigma_data, so another sigma_data is reached through timestep_scaling."""
    from diffusers import LCMScheduler

    scheduler = LCMScheduler(timestep_scaling=timestep_scaling * 0.5 / sigma_data)
    return scheduler.get_scalings_for_boundary_condition_discrete(timestep)


def _scalings(timestep, sigma_data, timestep_scaling, *, scale=True, root=True, square_skip=(True, True),
              square_out=True):
    """The formula, and the slips the check recognises (no timestep_scaling, no square root, sigma_data not squared
    in c_skip's numerator / denominator or in c_out's denominator)."""
    scaled = timestep * timestep_scaling if scale else timestep
    top = sigma_data**2 if square_skip[0] else sigma_data
    c_skip = top / (scaled**2 + (sigma_data**2 if square_skip[1] else sigma_data))
    variance = scaled**2 + (sigma_data**2 if square_out else sigma_data)
    c_out = scaled / (variance**0.5 if root else variance)
    return c_skip, c_out


# (timestep, sigma_data, timestep_scaling): a batch of timesteps as the scheduler holds them, then plain ints,
# t = 0 among both (the boundary), another scaling and another sigma_data.
BOUNDARY_CASES = [
    (torch.tensor([0, 1, 2, 5, 19, 259, 999]), 0.5, 10.0),
    (0, 0.5, 10.0),
    (1, 0.5, 10.0),
    (3, 0.5, 1.0),
    (2, 0.8, 10.0),
]


def _same(answer, expected) -> bool:
    """Equal within the tolerances of compare_tensors and compare_number (and 1e-6 where the answer is 0)."""
    if isinstance(expected, torch.Tensor):
        return compare_tensors(answer, expected, "") is None
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return False
    return abs(answer - expected) <= 1e-6 + 1e-4 * abs(expected)


def _pair_is(answer, pair) -> bool:
    return _same(answer[0], pair[0]) and _same(answer[1], pair[1])


def _describe(timestep) -> str:
    if isinstance(timestep, torch.Tensor):
        return _("a tensor of {count} timesteps").format(count=timestep.numel())
    return _("timestep {timestep} (a plain int)").format(timestep=timestep)


def check_boundary_scalings(boundary_scalings):
    """Exercise: LCM's boundary-condition coefficients (c_skip, c_out), as LCMScheduler computes them."""
    name = "boundary_scalings"
    for timestep, sigma_data, timestep_scaling in BOUNDARY_CASES:
        case = _("{timestep}, sigma_data {sigma_data}, timestep_scaling {timestep_scaling}").format(
            timestep=_describe(timestep), sigma_data=sigma_data, timestep_scaling=timestep_scaling)
        answer, error = call(name, boundary_scalings, timestep, sigma_data, timestep_scaling)
        if error:
            hint = ""
            if "sqrt" in error or "one element" in error or "Scalar" in error:
                hint = " " + _("`** 0.5` works on tensors and plain numbers alike (math.sqrt takes only numbers, "
                               "torch.sqrt only tensors).")
            return report(name, False, _("{error} (with {case}).").format(error=error, case=case) + hint)
        if unfinished(answer):
            return report(name, None, _("replace `...`: scale the timestep, then return the pair (c_skip, c_out)."))
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            if isinstance(answer, (tuple, list)):
                return report(name, False, _("return the pair (c_skip, c_out), got {kind} of length {length}.")
                              .format(kind=type(answer).__name__, length=len(answer)))
            return report(name, False, _("return the pair (c_skip, c_out), got {kind}.").format(kind=type(answer).__name__))
        expected = _lcm_scalings(timestep, sigma_data, timestep_scaling)
        if _pair_is(answer, expected):
            continue
        if _pair_is(answer, expected[::-1]):
            return report(name, False, _("c_skip and c_out are swapped: c_skip weighs the input latents (all of them "
                                         "at t = 0), c_out the model's prediction."))
        if timestep_scaling != 1.0 and any(
                _same(answer[i], _scalings(timestep, sigma_data, timestep_scaling, scale=False)[i]) for i in (0, 1)):
            return report(name, False, _("with {case}: the timestep was used as it is, but both coefficients work on "
                                         "the timestep multiplied by timestep_scaling.").format(case=case))
        if _same(answer[1], _scalings(timestep, sigma_data, timestep_scaling, root=False)[1]):
            return report(name, False, _("c_out is off: scaled² + sigma_data² is a variance, and c_out divides by "
                                         "a standard deviation."))
        slips = [_scalings(timestep, sigma_data, timestep_scaling, square_skip=squares, square_out=False)
                 for squares in [(False, False), (True, False), (False, True)]]
        if any(_same(answer[0], slip[0]) for slip in slips) or _same(answer[1], slips[0][1]):
            return report(name, False, _("with {case}: sigma_data enters squared, like the scaled timestep, wherever "
                                         "it appears.").format(case=case))
        if sigma_data != 0.5 and _pair_is(answer, _lcm_scalings(timestep, 0.5, timestep_scaling)):
            return report(name, False, _("with sigma_data {sigma_data} your values are those for 0.5: use the argument "
                                         "sigma_data, not a fixed number.").format(sigma_data=sigma_data))
        for what, got, want in [("c_skip", answer[0], expected[0]), ("c_out", answer[1], expected[1])]:
            if isinstance(want, torch.Tensor):
                problem = compare_tensors(got, want, what)
            else:
                problem = None if _same(got, want) else compare_number(got, float(want), what)
            if problem:
                return report(name, False, _("with {case}: {problem}").format(case=case, problem=problem))
        return report(name, False, _("with {case} your pair is off.").format(case=case))
    below = next(t for t in range(1000) if _lcm_scalings(t, 0.5, 10.0)[0] < 0.01)
    c_skip, c_out = _lcm_scalings(below, 0.5, 10.0)
    return report(name, True, _("at t = 0, c_skip = 1 and c_out = 0: the consistency function returns its input "
                                "itself, the boundary condition f(x, 0) = x. With timestep_scaling 10, c_skip is "
                                "already below 1% by t = {below} ({c_skip:.2%}, and c_out = {c_out:.4f}): at the "
                                "timesteps a sampler visits, the output is almost exactly the model's own prediction "
                                "of x0.")
                  .format(below=below, c_skip=c_skip, c_out=c_out))


def _alphas_cumprod() -> torch.Tensor:
    from diffusers import DDPMScheduler

    return DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012).alphas_cumprod


def _teacher_step(latents, noise_pred, timestep, previous_timestep) -> torch.Tensor:
    """DDIMScheduler.step (eta 0, no clipping) sample by sample: the reference for the teacher's step."""
    from diffusers import DDIMScheduler

    scheduler = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False)
    samples = []
    for x, eps, t, prev in zip(latents, noise_pred, timestep.tolist(), previous_timestep.tolist()):
        scheduler.set_timesteps(scheduler.config.num_train_timesteps // (t - prev))  # so that its step is t - prev
        samples.append(scheduler.step(eps[None], t, x[None]).prev_sample[0])
    return torch.stack(samples)


def _solver(latents, noise_pred, timestep, previous_timestep, alphas_cumprod, *, root=True, noise=True, x0=False):
    """The formula, and the slips the check recognises."""
    shape = (-1,) + (1,) * (latents.ndim - 1)
    alpha_bar_t, alpha_bar_prev = alphas_cumprod[timestep].view(shape), alphas_cumprod[previous_timestep].view(shape)
    power = 0.5 if root else 1.0
    pred_x0 = (latents - (1 - alpha_bar_t) ** power * noise_pred) / alpha_bar_t**power
    if x0:
        return pred_x0
    return alpha_bar_prev**power * pred_x0 + ((1 - alpha_bar_prev) ** power * noise_pred if noise else 0)


# (timestep, previous_timestep, latents' shape): one sample, then batches whose samples sit at different
# timesteps (as in distillation), none of batch size 4 so that a (batch,) tensor cannot line up with the channels.
SOLVER_CASES = [
    ([499], [479], (1, 4, 8, 8)),
    ([999, 759, 39], [979, 739, 19], (3, 4, 8, 8)),
    ([899, 100], [799, 0], (2, 4, 6, 10)),
]


def check_ddim_solver_step(ddim_solver_step):
    """Exercise: the teacher's DDIM step from `timestep` to `previous_timestep`, each sample at its own timestep."""
    name = "ddim_solver_step"
    generator = torch.Generator().manual_seed(14)
    alphas_cumprod = _alphas_cumprod()
    for steps, previous_steps, shape in SOLVER_CASES:
        timestep, previous_timestep = torch.tensor(steps), torch.tensor(previous_steps)
        latents, noise_pred = torch.randn(shape, generator=generator), torch.randn(shape, generator=generator)
        answer, error = call(name, ddim_solver_step, latents.clone(), noise_pred.clone(), timestep.clone(),
                             previous_timestep.clone(), alphas_cumprod.clone())
        if error:
            if len(steps) > 1:
                error += " " + _("(with a batch of {count} samples at timesteps {steps}: each sample has its own "
                                 "timestep, so its ᾱ must broadcast over latents shaped {shape}).").format(
                    count=len(steps), steps=steps, shape=shape)
            return report(name, False, error)
        if unfinished(answer):
            return report(name, None, _("replace `...`: x0 from the latents at `timestep`, then x0 and the same "
                                        "noise at `previous_timestep`."))
        expected = _teacher_step(latents, noise_pred, timestep, previous_timestep)
        problem = compare_tensors(answer, expected, _("the result"), atol=1e-4)
        if problem is None:
            continue
        if isinstance(answer, torch.Tensor) and answer.shape == expected.shape:
            answer = answer.detach().float()
            arguments = (latents, noise_pred, timestep, previous_timestep, alphas_cumprod)
            slips = [
                (_solver(*arguments, root=False), _("ᾱ is the share of the signal's *variance*: the latents scale with "
                                                    "its square root, √ᾱ, and the noise with √(1 − ᾱ).")),
                (_solver(*arguments, noise=False), _("that keeps only the x0 part: at `previous_timestep` the latents "
                                                     "still hold some of the noise, √(1 − ᾱ) of it.")),
                (_solver(*arguments, x0=True), _("that is the predicted x0, the end of the road: the teacher takes "
                                                 "one step, to the latents at `previous_timestep`.")),
                (_solver(latents, noise_pred, previous_timestep, timestep, alphas_cumprod), _("the timesteps are "
                                                                                              "swapped: x0 comes from "
                                                                                              "the latents at "
                                                                                              "`timestep`, the step "
                                                                                              "lands at "
                                                                                              "`previous_timestep`.")),
            ]
            for wrong, message in slips:
                if torch.allclose(answer, wrong, atol=1e-4):
                    return report(name, False, message)
            first = _solver(latents, noise_pred, timestep[:1].expand_as(timestep),
                            previous_timestep[:1].expand_as(previous_timestep), alphas_cumprod)
            if len(steps) > 1 and (torch.allclose(answer, first, atol=1e-4)
                                   or torch.allclose(answer[0], expected[0], atol=1e-4)):
                return report(name, False, _("only the first sample is right: the batch sits at timesteps {steps}, "
                                             "and each sample needs the ᾱ of its own timestep.").format(steps=steps))
        return report(name, False, problem)
    return report(name, True, _("the same as DDIMScheduler.step (eta 0), sample by sample: one step of the teacher "
                                "along the probability-flow ODE from t to t − k. Distillation asks the student for "
                                "the same x0 from x_t as from this x_(t−k): what the teacher walks in small steps, "
                                "the student must match in one jump."))
