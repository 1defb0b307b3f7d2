"""Lesson 08's exercise checks: each common mistake gets its own message, and none gives the answer away."""

from __future__ import annotations

import math

import pytest

from helpers import exercises
from helpers.exercises import check_base_gpu_gib, check_break_even, check_pick_placement
from helpers.memory import PARAMETERS, WORKING_GIB

WEIGHTS_GIB = sum(PARAMETERS["sdxl-base"].values()) * 2 / 2**30
LARGEST_WORK = max(WORKING_GIB.values())
RIGHT_GIB = (WEIGHTS_GIB + LARGEST_WORK) * 1.1


def verdict(check, answer):
    """Run `check` on `answer`; return its verdict (the exercise's name is the check's, less "check_")."""
    check(answer)
    return exercises.RESULTS[check.__name__.removeprefix("check_")]


# 1. the GPU memory of SDXL base in fp16


def test_base_gpu_gib_accepts_weights_plus_the_largest_stage_times_the_margin():
    assert verdict(check_base_gpu_gib, RIGHT_GIB).ok is True


def test_base_gpu_gib_not_done_yet_while_the_placeholder_is_there():
    assert verdict(check_base_gpu_gib, ...).ok is None


@pytest.mark.parametrize("answer, says", [
    ((WEIGHTS_GIB * 2 + LARGEST_WORK) * 1.1, "fp32"),
    ((sum(PARAMETERS["sdxl-base"].values()) * 2 / 1e9 + LARGEST_WORK) * 1.1, "GB"),
    ((PARAMETERS["sdxl-base"]["unet"] * 2 / 2**30 + LARGEST_WORK) * 1.1, "UNet's weights only"),
    ((WEIGHTS_GIB + sum(WORKING_GIB.values())) * 1.1, "only the largest counts"),
    ((WEIGHTS_GIB + WORKING_GIB["unet"]) * 1.1, "UNet's working memory"),
    (WEIGHTS_GIB + LARGEST_WORK, "margin (× 1.1) is missing"),
    (WEIGHTS_GIB * 1.1 + LARGEST_WORK, "weights and working memory together"),
    (WEIGHTS_GIB * 1.1, "working memory of the largest stage is missing"),
    (WEIGHTS_GIB, "weights alone"),
    (3.0, "too small"),
    ("11 GiB", "should be a number"),
])
def test_base_gpu_gib_names_the_common_mistakes(answer, says):
    result = verdict(check_base_gpu_gib, answer)
    assert result.ok is False and says in result.message
    assert f"{RIGHT_GIB:.2f}" not in result.message and f"{RIGHT_GIB:.3g}" not in result.message


# 2. the placement


def fastest_that_fits(needs, gpu_gib, host_gib):
    for placement, (gpu, host) in needs.items():
        if gpu <= gpu_gib and host <= host_gib:
            return placement
    return None


def test_pick_placement_accepts_the_fastest_placement_that_fits_both_memories():
    assert verdict(check_pick_placement, fastest_that_fits).ok is True


@pytest.mark.parametrize("refiner", [False, True])
def test_the_exercises_needs_are_what_plan_memory_computes_on_a_t4(refiner):
    import torch

    from helpers.exercises.lesson08 import BASE_NEEDS, BOTH_NEEDS
    from helpers.memory import MACHINES, plan_memory

    names, needs = (["sdxl-base", "sdxl-refiner"], BOTH_NEEDS) if refiner else (["sdxl-base"], BASE_NEEDS)
    for placement, (gpu_gib, host_gib) in needs.items():
        plan = plan_memory(names, dtype=torch.float16, mode="full", machine=MACHINES["colab-t4"], placement=placement)
        assert (round(plan.gpu_gib, 1), round(plan.host_gib, 1)) == (gpu_gib, host_gib), placement


def test_pick_placement_not_done_yet_while_the_body_is_the_placeholder():
    def pick_placement(needs, gpu_gib, host_gib):
        ...  # your code

    assert verdict(check_pick_placement, pick_placement).ok is None


def test_pick_placement_that_ignores_the_host_ram_is_told_to_check_it():
    def gpu_only(needs, gpu_gib, host_gib):
        return next((p for p, (gpu, _) in needs.items() if gpu <= gpu_gib), None)

    result = verdict(check_pick_placement, gpu_only)
    assert result.ok is False and "check the host RAM too" in result.message


def test_pick_placement_that_ignores_the_gpu_is_told_to_check_it():
    def host_only(needs, gpu_gib, host_gib):
        return next((p for p, (_, host) in needs.items() if host <= host_gib), None)

    result = verdict(check_pick_placement, host_only)
    assert result.ok is False and "check the GPU memory" in result.message


def test_pick_placement_that_takes_the_leanest_fit_is_told_to_take_the_fastest():
    def leanest(needs, gpu_gib, host_gib):
        return fastest_that_fits(dict(reversed(list(needs.items()))), gpu_gib, host_gib)

    result = verdict(check_pick_placement, leanest)
    assert result.ok is False and "a faster placement fits too" in result.message


def test_pick_placement_that_never_says_none_is_told_when_nothing_fits():
    def always_something(needs, gpu_gib, host_gib):
        return fastest_that_fits(needs, gpu_gib, host_gib) or list(needs)[-1]

    result = verdict(check_pick_placement, always_something)
    assert result.ok is False and "8 GiB GPU with only 6 GiB" in result.message


def test_pick_placement_that_returns_something_else_than_a_name_is_told_what_to_return():
    def pair(needs, gpu_gib, host_gib):
        name = fastest_that_fits(needs, gpu_gib, host_gib)
        return name and (name, needs[name])

    result = verdict(check_pick_placement, pair)
    assert result.ok is False and "a key of `needs`" in result.message


def test_pick_placement_that_raises_is_reported_politely():
    def broken(needs, gpu_gib, host_gib):
        return needs["everything on the GPU"][2]

    result = verdict(check_pick_placement, broken)
    assert result.ok is False and "raised IndexError" in result.message


def test_pick_placement_that_hard_codes_the_base_placements_fails_on_the_refiner():
    def base_names_only(needs, gpu_gib, host_gib):
        for placement in ("everything on the GPU", "model CPU offload", "group offload", "sequential CPU offload"):
            gpu, host = needs[placement]
            if gpu <= gpu_gib and host <= host_gib:
                return placement
        return None

    result = verdict(check_pick_placement, base_names_only)
    assert result.ok is False and "base + refiner" in result.message


# 3. the compile's break-even


def break_even(compile_seconds, eager_seconds, compiled_seconds):
    saved = eager_seconds - compiled_seconds
    return None if saved <= 0 else math.ceil(compile_seconds / saved)


def test_break_even_accepts_compile_time_over_time_saved_rounded_up():
    assert verdict(check_break_even, break_even).ok is True


def test_break_even_not_done_yet_while_the_body_is_the_placeholder():
    def pictures_to_break_even(compile_seconds, eager_seconds, compiled_seconds):
        ...

    assert verdict(check_break_even, pictures_to_break_even).ok is None


@pytest.mark.parametrize("answer, says", [
    (lambda c, e, k: None if e <= k else math.floor(c / (e - k)), "one short"),
    (lambda c, e, k: None if e <= k else c / (e - k), "whole number"),
    (lambda c, e, k: None if e < k else math.ceil(c / (e - k)), "raised ZeroDivisionError"),
    (lambda c, e, k: math.ceil(c / (e - k)), "never pays the compile back"),
    (lambda c, e, k: None if e <= k else math.ceil(c / k), "time *saved* per picture"),
    (lambda c, e, k: None if e <= k else math.ceil(c / (e - k)) + 5, "too large"),
    (lambda c, e, k: None if c > 0 else 0, "it does pay off there"),
])
def test_break_even_names_the_common_mistakes(answer, says):
    result = verdict(check_break_even, answer)
    assert result.ok is False and says in result.message, result.message
    assert "117" not in result.message
