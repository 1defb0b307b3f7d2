"""Lesson 03's exercise checks: right answers pass, and the usual slips get a message that names them."""

import torch

from helpers import exercises
from helpers.exercises import check_add_noise, check_ema_update, check_velocity


def verdict(check, function):
    exercises.RESULTS.clear()
    check(function)
    (result,) = exercises.RESULTS.values()
    return result


def alpha_bar(scheduler, t):
    return scheduler.alphas_cumprod[t].view(-1, 1, 1, 1)


# add_noise -------------------------------------------------------------------------------------


def test_add_noise_right_answer_passes():
    def add_noise(x0, noise, t, scheduler):
        a = alpha_bar(scheduler, t)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    assert verdict(check_add_noise, add_noise).ok is True


def test_add_noise_placeholder_and_empty_body_are_not_done_yet():
    def add_noise(x0, noise, t, scheduler):
        ...

    assert verdict(check_add_noise, ...).ok is None
    assert verdict(check_add_noise, add_noise).ok is None


def test_add_noise_without_square_roots_is_named():
    def add_noise(x0, noise, t, scheduler):
        a = alpha_bar(scheduler, t)
        return a * x0 + (1 - a) * noise

    result = verdict(check_add_noise, add_noise)
    assert result.ok is False and "square roots are missing" in result.message


def test_add_noise_with_swapped_coefficients_is_named():
    def add_noise(x0, noise, t, scheduler):
        a = alpha_bar(scheduler, t)
        return (1 - a).sqrt() * x0 + a.sqrt() * noise

    result = verdict(check_add_noise, add_noise)
    assert result.ok is False and "swapped" in result.message


def test_add_noise_with_one_steps_alpha_is_named():
    def add_noise(x0, noise, t, scheduler):
        a = scheduler.alphas[t].view(-1, 1, 1, 1)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    result = verdict(check_add_noise, add_noise)
    assert result.ok is False and "alphas_cumprod" in result.message


def test_add_noise_without_reshaping_alpha_bar_gets_the_broadcasting_hint():
    def add_noise(x0, noise, t, scheduler):
        a = scheduler.alphas_cumprod[t]
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    result = verdict(check_add_noise, add_noise)
    assert result.ok is False and "(batch, 1, 1, 1)" in result.message


def test_add_noise_that_raises_is_reported_not_raised():
    def add_noise(x0, noise, t, scheduler):
        return undefined_name  # noqa: F821

    result = verdict(check_add_noise, add_noise)
    assert result.ok is False and "NameError" in result.message


# velocity --------------------------------------------------------------------------------------


def test_velocity_right_answer_passes():
    def velocity(x0, noise, t, scheduler):
        a = alpha_bar(scheduler, t)
        return a.sqrt() * noise - (1 - a).sqrt() * x0

    assert verdict(check_velocity, velocity).ok is True


def test_velocity_that_returns_the_noise_is_named():
    result = verdict(check_velocity, lambda x0, noise, t, scheduler: noise)
    assert result.ok is False and "epsilon target" in result.message


def test_velocity_with_flipped_sign_is_named():
    def velocity(x0, noise, t, scheduler):
        a = alpha_bar(scheduler, t)
        return (1 - a).sqrt() * x0 - a.sqrt() * noise

    result = verdict(check_velocity, velocity)
    assert result.ok is False and "sign is flipped" in result.message


def test_velocity_with_swapped_coefficients_is_named():
    def velocity(x0, noise, t, scheduler):
        a = alpha_bar(scheduler, t)
        return (1 - a).sqrt() * noise - a.sqrt() * x0

    result = verdict(check_velocity, velocity)
    assert result.ok is False and "swapped" in result.message


def test_velocity_without_square_roots_is_named():
    def velocity(x0, noise, t, scheduler):
        a = alpha_bar(scheduler, t)
        return a * noise - (1 - a) * x0

    result = verdict(check_velocity, velocity)
    assert result.ok is False and "square roots" in result.message


def test_velocity_that_returns_x_t_is_named():
    def velocity(x0, noise, t, scheduler):
        return scheduler.add_noise(x0, noise, t)

    result = verdict(check_velocity, velocity)
    assert result.ok is False and "x_t" in result.message


def test_velocity_messages_do_not_print_the_formula():
    def velocity(x0, noise, t, scheduler):
        a = alpha_bar(scheduler, t)
        return (1 - a).sqrt() * x0 - a.sqrt() * noise

    assert "√ᾱ·ε" not in verdict(check_velocity, velocity).message


# ema_update ------------------------------------------------------------------------------------


def test_ema_update_right_answer_passes_also_in_place():
    assert verdict(check_ema_update, lambda average, weights, decay: decay * average + (1 - decay) * weights).ok is True
    assert verdict(check_ema_update, lambda average, weights, decay: average.lerp_(weights, 1 - decay)).ok is True


def test_ema_update_with_swapped_decay_is_named():
    result = verdict(check_ema_update, lambda average, weights, decay: (1 - decay) * average + decay * weights)
    assert result.ok is False and "swapped" in result.message


def test_ema_update_that_returns_an_input_unchanged_is_named():
    result = verdict(check_ema_update, lambda average, weights, decay: weights)
    assert result.ok is False and "unchanged" in result.message


def test_ema_update_whose_weights_do_not_add_up_to_one_is_named():
    result = verdict(check_ema_update, lambda average, weights, decay: decay * (average + weights))
    assert result.ok is False and "add up to 1" in result.message


def test_ema_update_that_forgets_to_return_is_not_done_yet():
    def ema_update(average, weights, decay):
        average.mul_(decay).add_((1 - decay) * weights)

    result = verdict(check_ema_update, ema_update)
    assert result.ok is None and "return" in result.message


def test_a_wrong_shape_is_reported():
    result = verdict(check_add_noise, lambda x0, noise, t, scheduler: x0[0])
    assert result.ok is False and "shape" in result.message
