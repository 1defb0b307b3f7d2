"""helpers.device: device and dtype choice, the seeded generator, measuring, the report."""

import pytest
import torch

from helpers import device as device_module
from helpers.device import flush, generator, measure, pick_device, pick_dtype


def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == "cpu"


def test_pick_dtype_is_fp32_on_cpu_and_fp16_on_gpus():
    assert pick_dtype("cpu") == torch.float32
    assert pick_dtype("cuda") == torch.float16
    assert pick_dtype("mps") == torch.float16


def test_pick_dtype_accepts_names_and_dtypes():
    assert pick_dtype("cuda", "bf16") == torch.bfloat16
    assert pick_dtype("cpu", "fp32") == torch.float32
    assert pick_dtype("cuda", torch.float16) == torch.float16


@pytest.mark.parametrize("requested", ["fp16", "float16", torch.float16])
def test_pick_dtype_refuses_fp16_on_cpu_with_advice(requested):
    with pytest.raises(ValueError, match="fp16 on the CPU is not supported.*float32"):
        pick_dtype("cpu", requested)


def test_pick_dtype_rejects_unknown_names():
    with pytest.raises(ValueError, match="Unknown dtype 'int4'"):
        pick_dtype("cpu", "int4")


def test_pick_dtype_rejects_non_floating_dtypes():
    with pytest.raises(ValueError, match="not a dtype for running"):
        pick_dtype("cpu", torch.int8)


def test_generator_lives_on_the_cpu_and_reproduces():
    first, second = generator(7), generator(7)
    assert first.device.type == "cpu"
    assert torch.equal(torch.randn(4, generator=first), torch.randn(4, generator=second))
    assert not torch.equal(torch.randn(4, generator=generator(7)), torch.randn(4, generator=generator(8)))


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_generator_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed must be a whole number"):
        generator(seed)


def test_measure_reports_time_and_a_peak_that_sees_a_large_allocation():
    flush()
    with measure("small", device="cpu") as small:
        torch.ones(10)
    with measure("large", device="cpu") as large:
        block = torch.ones(64 * 2**20, dtype=torch.uint8)  # 64 MiB
        block.add_(1)
        del block
    assert small.seconds >= 0 and large.seconds >= 0
    assert large.peak_bytes - small.peak_bytes > 48 * 2**20
    assert large.memory_kind == "process RSS"
    assert "large:" in str(large) and "GiB" in str(large)


def test_measure_records_the_time_even_when_the_block_fails():
    with pytest.raises(RuntimeError):
        with measure(device="cpu") as result:
            raise RuntimeError("boom")
    assert result.seconds >= 0


def test_free_accelerator_memory_is_none_without_an_accelerator():
    from helpers.device import free_accelerator_memory

    assert free_accelerator_memory("cpu") is None
    if not torch.cuda.is_available():
        assert free_accelerator_memory("cuda") is None
