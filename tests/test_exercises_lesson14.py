"""Lesson 14's exercise checks: each common mistake gets a message that says what is wrong, never the answer."""

import math

import pytest
import torch

from helpers import exercises
from helpers.exercises import check_boundary_scalings, check_ddim_solver_step


def verdict(check, answer):
    exercises.RESULTS.clear()
    check(answer)
    (result,) = exercises.RESULTS.values()
    return result


# 1. the boundary-condition scalings


def right_scalings(timestep, sigma_data=0.5, timestep_scaling=10.0):
    scaled_timestep = timestep * timestep_scaling
    c_skip = sigma_data**2 / (scaled_timestep**2 + sigma_data**2)
    c_out = scaled_timestep / (scaled_timestep**2 + sigma_data**2) ** 0.5
    return c_skip, c_out


def as_tensors(timestep, sigma_data=0.5, timestep_scaling=10.0):
    scaled_timestep = torch.as_tensor(timestep, dtype=torch.float64) * timestep_scaling
    c_skip = sigma_data**2 / (scaled_timestep**2 + sigma_data**2)
    return [c_skip, scaled_timestep * c_skip.sqrt() / sigma_data]


def test_boundary_scalings_accepts_any_correct_form():
    assert verdict(check_boundary_scalings, right_scalings).ok is True
    assert verdict(check_boundary_scalings, as_tensors).ok is True


def test_boundary_scalings_says_where_c_skip_falls_below_one_percent():
    result = verdict(check_boundary_scalings, right_scalings)
    assert "f(x, 0) = x" in result.message and "below 1% by t = 1 " in result.message


def test_boundary_scalings_not_done_yet_while_the_body_is_a_placeholder():
    def boundary_scalings(timestep, sigma_data=0.5, timestep_scaling=10.0):
        ...

    assert verdict(check_boundary_scalings, boundary_scalings).ok is None


def without_scaling(timestep, sigma_data=0.5, timestep_scaling=10.0):
    return right_scalings(timestep, sigma_data, 1.0)


def without_root(timestep, sigma_data=0.5, timestep_scaling=10.0):
    scaled_timestep = timestep * timestep_scaling
    c_skip, _ = right_scalings(timestep, sigma_data, timestep_scaling)
    return c_skip, scaled_timestep / (scaled_timestep**2 + sigma_data**2)


def swapped(timestep, sigma_data=0.5, timestep_scaling=10.0):
    return right_scalings(timestep, sigma_data, timestep_scaling)[::-1]


def sigma_data_not_squared(timestep, sigma_data=0.5, timestep_scaling=10.0):
    scaled_timestep = timestep * timestep_scaling
    return sigma_data / (scaled_timestep**2 + sigma_data), scaled_timestep / (scaled_timestep**2 + sigma_data) ** 0.5


def numerator_not_squared(timestep, sigma_data=0.5, timestep_scaling=10.0):
    scaled_timestep = timestep * timestep_scaling
    return sigma_data / (scaled_timestep**2 + sigma_data**2), right_scalings(timestep, sigma_data, timestep_scaling)[1]


def fixed_sigma_data(timestep, sigma_data=0.5, timestep_scaling=10.0):
    return right_scalings(timestep, 0.5, timestep_scaling)


def with_math_sqrt(timestep, sigma_data=0.5, timestep_scaling=10.0):
    scaled_timestep = timestep * timestep_scaling
    c_skip, _ = right_scalings(timestep, sigma_data, timestep_scaling)
    return c_skip, scaled_timestep / math.sqrt(scaled_timestep**2 + sigma_data**2)


@pytest.mark.parametrize("function, says", [
    (without_scaling, "multiplied by timestep_scaling"),
    (without_root, "divides by a standard deviation"),
    (swapped, "swapped"),
    (sigma_data_not_squared, "sigma_data enters squared"),
    (numerator_not_squared, "sigma_data enters squared"),
    (fixed_sigma_data, "use the argument sigma_data"),
    (with_math_sqrt, "math.sqrt takes only numbers"),
    (lambda t, s=0.5, k=10.0: right_scalings(t, s, k)[0], "return the pair (c_skip, c_out)"),
    (lambda t, s=0.5, k=10.0: (*right_scalings(t, s, k), 0), "of length 3"),
    (lambda t, s=0.5, k=10.0: (right_scalings(t, s, k)[0], 1.0), "c_out"),
    (lambda t, s=0.5, k=10.0: t.no_such_thing, "your function raised AttributeError"),
])
def test_boundary_scalings_names_the_common_mistakes(function, says):
    result = verdict(check_boundary_scalings, function)
    assert result.ok is False and says in result.message


def test_boundary_scalings_checks_plain_ints_at_the_boundary():
    def tensors_only(timestep, sigma_data=0.5, timestep_scaling=10.0):
        if not isinstance(timestep, torch.Tensor):
            return 0.5, 0.5
        return right_scalings(timestep, sigma_data, timestep_scaling)

    result = verdict(check_boundary_scalings, tensors_only)
    assert result.ok is False and "timestep 0 (a plain int)" in result.message


# 2. the teacher's DDIM step


def right_step(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
    alpha_bar_t = alphas_cumprod[timestep].view(-1, 1, 1, 1)
    alpha_bar_prev = alphas_cumprod[previous_timestep].view(-1, 1, 1, 1)
    pred_x0 = (latents - (1 - alpha_bar_t) ** 0.5 * noise_pred) / alpha_bar_t**0.5
    return alpha_bar_prev**0.5 * pred_x0 + (1 - alpha_bar_prev) ** 0.5 * noise_pred


def extract_into_tensor(a, t, x_shape):
    return a.gather(-1, t).reshape(t.shape[0], *((1,) * (len(x_shape) - 1)))


def as_in_diffusers_examples(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
    alpha_schedule, sigma_schedule = torch.sqrt(alphas_cumprod), torch.sqrt(1 - alphas_cumprod)
    alpha_t = extract_into_tensor(alpha_schedule, timestep, latents.shape)
    sigma_t = extract_into_tensor(sigma_schedule, timestep, latents.shape)
    pred_x0 = (latents - sigma_t * noise_pred) / alpha_t
    alpha_cumprod_prev = extract_into_tensor(alphas_cumprod, previous_timestep, latents.shape)
    return alpha_cumprod_prev.sqrt() * pred_x0 + (1.0 - alpha_cumprod_prev).sqrt() * noise_pred


def test_ddim_solver_step_accepts_any_correct_form():
    assert verdict(check_ddim_solver_step, right_step).ok is True
    assert verdict(check_ddim_solver_step, as_in_diffusers_examples).ok is True


def test_ddim_solver_step_says_what_the_student_must_match():
    assert "in one jump" in verdict(check_ddim_solver_step, right_step).message


def test_ddim_solver_step_not_done_yet_while_the_body_is_a_placeholder():
    def ddim_solver_step(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
        ...

    assert verdict(check_ddim_solver_step, ddim_solver_step).ok is None


def without_roots(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
    alpha_bar_t = alphas_cumprod[timestep].view(-1, 1, 1, 1)
    alpha_bar_prev = alphas_cumprod[previous_timestep].view(-1, 1, 1, 1)
    pred_x0 = (latents - (1 - alpha_bar_t) * noise_pred) / alpha_bar_t
    return alpha_bar_prev * pred_x0 + (1 - alpha_bar_prev) * noise_pred


def without_noise(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
    alpha_bar_t = alphas_cumprod[timestep].view(-1, 1, 1, 1)
    pred_x0 = (latents - (1 - alpha_bar_t) ** 0.5 * noise_pred) / alpha_bar_t**0.5
    return alphas_cumprod[previous_timestep].view(-1, 1, 1, 1) ** 0.5 * pred_x0


def predicted_x0(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
    alpha_bar_t = alphas_cumprod[timestep].view(-1, 1, 1, 1)
    return (latents - (1 - alpha_bar_t) ** 0.5 * noise_pred) / alpha_bar_t**0.5


def first_timestep_for_all(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
    alpha_bar_t, alpha_bar_prev = alphas_cumprod[timestep[0]], alphas_cumprod[previous_timestep[0]]
    pred_x0 = (latents - (1 - alpha_bar_t) ** 0.5 * noise_pred) / alpha_bar_t**0.5
    return alpha_bar_prev**0.5 * pred_x0 + (1 - alpha_bar_prev) ** 0.5 * noise_pred


def not_broadcast(latents, noise_pred, timestep, previous_timestep, alphas_cumprod):
    alpha_bar_t, alpha_bar_prev = alphas_cumprod[timestep], alphas_cumprod[previous_timestep]
    pred_x0 = (latents - (1 - alpha_bar_t) ** 0.5 * noise_pred) / alpha_bar_t**0.5
    return alpha_bar_prev**0.5 * pred_x0 + (1 - alpha_bar_prev) ** 0.5 * noise_pred


@pytest.mark.parametrize("function, says", [
    (without_roots, "square root"),
    (without_noise, "keeps only the x0 part"),
    (predicted_x0, "predicted x0"),
    (lambda x, eps, t, prev, a: right_step(x, eps, prev, t, a), "swapped"),
    (first_timestep_for_all, "only the first sample is right"),
    (not_broadcast, "its ᾱ must broadcast"),
    (lambda x, eps, t, prev, a: right_step(x, eps, t, prev, a)[0], "shape"),
    (lambda x, eps, t, prev, a: right_step(x, eps, t, prev, a).tolist(), "torch tensor"),
    (lambda x, eps, t, prev, a: right_step(x, eps, t, prev, a) + 0.1, "off by up to"),
    (lambda x, eps, t, prev, a: x.no_such_thing, "your function raised AttributeError"),
])
def test_ddim_solver_step_names_the_common_mistakes(function, says):
    result = verdict(check_ddim_solver_step, function)
    assert result.ok is False and says in result.message


# the instructor's solutions (tests/test_exercises.py runs them too, once the lesson has its exercise cells)


def test_the_solutions_say_right():
    from pathlib import Path

    namespace = {}
    exec((Path(__file__).resolve().parent.parent / "solutions" / "lesson14.py").read_text(), namespace)
    for name, source in namespace["SOLUTIONS"].items():
        exercises.RESULTS.clear()
        exec(compile("from helpers.exercises import *\n" + source, "<exercise>", "exec"), {})
        assert exercises.RESULTS[name].ok is True, exercises.RESULTS[name].message
