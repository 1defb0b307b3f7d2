"""helpers.memory: the memory plan for each band of free accelerator memory, with its arithmetic."""

import pytest

from helpers.memory import GIB, PARAMETERS, recommend_memory_plan


def plan(free_gib, **options):
    return recommend_memory_plan("cuda", int(free_gib * GIB), **options)


def test_a_large_gpu_keeps_everything_on_it():
    assert plan(40).name == "everything on the cuda in fp16"
    assert "pipe.to('cuda')" in plan(40).code


def test_a_16_gb_colab_t4_runs_base_and_refiner_with_model_offload():
    t4 = plan(14.6)  # a T4 reports about 14.6 GiB free
    assert t4.name == "fp16 + model CPU offload"
    assert any("enable_model_cpu_offload()" in line for line in t4.code)
    assert not any(".to('cuda')" in line for line in t4.code), "with offload the pipeline must not be moved"


def test_an_8_gb_gpu_needs_sequential_offload_and_vae_tiling():
    eight = plan(7.6)
    assert eight.name == "fp16 + sequential CPU offload + VAE tiling"
    assert any("enable_sequential_cpu_offload()" in line for line in eight.code)
    assert "pipe.vae.enable_tiling()" in eight.code


def test_too_little_memory_or_a_cpu_means_tiny_mode():
    assert plan(2).name.startswith("tiny mode")
    cpu = recommend_memory_plan("cpu")
    assert cpu.name == "tiny mode on the CPU" and "fp16 does not run on a CPU" in str(cpu)


def test_without_the_refiner_the_base_alone_fits_in_less():
    assert plan(14.6, refiner=False).name == "everything on the cuda in fp16"


def test_the_arithmetic_comes_from_the_parameter_counts():
    text = str(plan(14.6))
    weights = sum(PARAMETERS.values()) * 2 / GIB
    assert f"= {weights:.2f} GiB of fp16 weights" in text
    assert f"base UNet {PARAMETERS['base UNet'] * 2 / GIB:.2f}" in text
    assert "14.6 GiB free" in text


@pytest.mark.parametrize("free_gib", [3.0, 9.7, 16.2])
def test_the_bands_are_ordered(free_gib):
    order = ["tiny", "fp16 + sequential", "fp16 + model", "everything"]
    below, above = plan(free_gib - 0.05).name, plan(free_gib + 0.05).name
    rank = lambda name: next(i for i, prefix in enumerate(order) if name.startswith(prefix))
    assert rank(above) >= rank(below)
