"""Device and dtype, the environment report, flush, and measuring time and memory.

Plumbing for every lesson: 00_setup prints the report; 08_speed_and_memory explains the
measurements. Nothing here knows about models.
"""

from __future__ import annotations

import gc
import os
import platform
import re
import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from .i18n import N_, _

_DTYPE_NAMES = {
    "fp32": torch.float32, "float32": torch.float32, "float": torch.float32,
    "fp16": torch.float16, "float16": torch.float16, "half": torch.float16,
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
}


def pick_device() -> str:
    """The best device here: "cuda", then "mps" (Apple silicon), then "cpu". (00_setup)"""
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str | torch.device | None = None, dtype: str | torch.dtype | None = None) -> torch.dtype:
    """A dtype that works on `device`: fp16 on a GPU, fp32 on the CPU. (00_setup, 08_speed_and_memory)

    Ask for a specific one with `dtype` (a torch dtype or a name such as "fp16", "bf16", "fp32");
    fp16 on the CPU is refused, because many CPU kernels have no fp16 version and the rest are slow.
    """
    device = torch.device(device or pick_device()).type
    if dtype is None:
        return torch.float16 if device in ("cuda", "mps") else torch.float32
    if isinstance(dtype, str):
        if dtype.lower() not in _DTYPE_NAMES:
            raise ValueError(_("Unknown dtype {dtype!r}. Use one of: {names}.").format(
                dtype=dtype, names=", ".join(sorted(_DTYPE_NAMES))))
        dtype = _DTYPE_NAMES[dtype.lower()]
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(_("{dtype} is not a dtype for running diffusion models; use torch.float32, float16 or "
                           "bfloat16.").format(dtype=dtype))
    if device == "cpu" and dtype == torch.float16:
        raise ValueError(_(
            "fp16 on the CPU is not supported: many CPU operations have no fp16 version and fail with "
            "'not implemented for Half', and the rest are slower than fp32. Use torch.float32 on the CPU "
            "(pick_dtype('cpu') gives it), or run on a GPU for fp16."
        ))
    return dtype


REHEARSAL_VARIABLE = "SDXL_TUTORIAL_REHEARSAL"


def rehearsal() -> bool:
    """True in the real-size rehearsal (`make rehearse`): full mode on random weights at the real size.

    Lessons then skip only their checks of what a *trained* model draws (`expect_trained`), saying so.
    """
    return os.environ.get(REHEARSAL_VARIABLE, "").strip() not in ("", "0")


def expect_trained(condition, claim: str) -> None:
    """Assert `claim` about what a trained model draws; the rehearsal's random weights skip it, saying so.

    (every lesson that checks what its pictures show)
    """
    if rehearsal():
        print(_("rehearsal (random weights): not checked: {claim}").format(claim=claim))
    elif not condition:
        raise AssertionError(claim)


def generator(seed: int) -> torch.Generator:
    """A seeded generator on the CPU. (01_denoising_loop, 05_sdxl_base)

    diffusers accepts a CPU generator whatever the model's device, and the noise it draws is then
    the same on CUDA, MPS and CPU: a seed gives the same starting noise everywhere. (The pictures still differ
    a little: an fp16 GPU and an fp32 CPU round differently along the way.)
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(_("seed must be a whole number >= 0, got {seed!r}.").format(seed=seed))
    return torch.Generator("cpu").manual_seed(seed)


def in_colab() -> bool:
    """True inside Google Colab. (00_setup)"""
    return "google.colab" in sys.modules


# ---------------------------------------------------------------------------------------------
# Memory


def _read_rss_peak_bytes() -> tuple[int, str]:
    """The process's peak resident memory, and since when it counts."""
    try:
        with open("/proc/self/status") as status:
            match = re.search(r"VmHWM:\s+(\d+) kB", status.read())
        if match:
            return int(match.group(1)) * 1024, "since the last reset"
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return (peak if sys.platform == "darwin" else peak * 1024), "since the process started"


def _reset_rss_peak() -> None:
    # Writing 5 to clear_refs resets the kernel's high-water mark (Linux only).
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def flush() -> None:
    """Free what can be freed and reset the peak-memory counters. (08_speed_and_memory)"""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    if torch.backends.mps.is_available():
        torch.mps.empty_cache()
    _reset_rss_peak()


@dataclass
class Measurement:
    """What `measure` found: wall time and peak memory of one block."""

    label: str = ""
    device: str = "cpu"
    seconds: float = float("nan")
    peak_bytes: int = 0
    memory_kind: str = ""  # what the peak counts, in English ("CUDA allocated", "process RSS"); shown as memory_label
    notes: list[str] = field(default_factory=list)

    @property
    def peak_gib(self) -> float:
        return self.peak_bytes / 2**30

    @property
    def memory_label(self) -> str:
        """What the peak counts, in the course's language."""
        return _(self.memory_kind)

    def __str__(self) -> str:
        label = f"{self.label}: " if self.label else ""
        return label + _("{seconds:.2f} s, peak {peak:.2f} GiB ({kind})").format(
            seconds=self.seconds, peak=self.peak_gib, kind=self.memory_label)


@contextmanager
def measure(label: str = "", device: str | None = None):
    """Measure wall time and peak memory of a `with` block. (08_speed_and_memory)

    On a CUDA GPU the peak is the GPU's allocated memory; elsewhere it is the peak resident memory
    of this process (RSS). GPU work is asynchronous, so the clock stops after a synchronize.
    """
    device = torch.device(device or pick_device()).type
    result = Measurement(label=label, device=device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    else:
        _reset_rss_peak()
    start = time.perf_counter()
    try:
        yield result
    finally:
        if device == "cuda":
            torch.cuda.synchronize()
        elif device == "mps":
            torch.mps.synchronize()
        result.seconds = time.perf_counter() - start
        if device == "cuda":
            result.peak_bytes, result.memory_kind = torch.cuda.max_memory_allocated(), N_("CUDA allocated")
        else:
            result.peak_bytes, since = _read_rss_peak_bytes()
            result.memory_kind = N_("process RSS")
            if since != "since the last reset":
                result.notes.append(_("peak RSS counted since the process started"))


# ---------------------------------------------------------------------------------------------
# What this machine has (helpers.models.environment_report puts it together with the mode)


def package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return _("not installed")


def free_accelerator_memory(device: str) -> int | None:
    """Free bytes on the accelerator, None on a CPU. (08_speed_and_memory)

    CUDA: what the driver reports free; MPS: the recommended working set minus what is allocated.
    """
    if device == "cuda" and torch.cuda.is_available():
        return torch.cuda.mem_get_info()[0]
    if device == "mps" and torch.backends.mps.is_available():
        return int(torch.mps.recommended_max_memory()) - int(torch.mps.current_allocated_memory())
    return None


def accelerator_description(device: str) -> str:
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        free, total = torch.cuda.mem_get_info()
        return _("{name}, {total:.1f} GiB ({free:.1f} GiB free)").format(name=props.name, total=total / 2**30,
                                                                         free=free / 2**30)
    if device == "mps":
        return _("Apple GPU (MPS), shares the system RAM")
    return _("CPU only ({count} cores)").format(count=os.cpu_count())
