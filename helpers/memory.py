"""How to fit SDXL in the memory you have: a plan from the free accelerator memory, with the arithmetic shown.

The figures are the parameter counts of the real checkpoints (see ../shared/SDXL-FACTS.md and the
meta-device test in tests/test_standins.py), times the bytes per parameter, plus the working memory a
1024x1024 picture needs (activations with classifier-free guidance, and the VAE decoding in fp32): a
published measurement puts fp16 SDXL base at 10.47 GiB peak, 6.46 GiB of it weights.
(08_speed_and_memory)
"""

from __future__ import annotations

from dataclasses import dataclass, field

GIB = 1024**3
PARAMETERS = {
    "base UNet": 2_567_463_684,
    "refiner UNet": 2_259_526_660,
    "text_encoder (CLIP-L)": 123_060_480,
    "text_encoder_2 (bigG, shared)": 694_659_840,
    "VAE (shared)": 83_653_863,
}
WORKING_GIB = 4.0  # activations at 1024x1024 with guidance (batch 2) and the fp32 VAE decode
SEQUENTIAL_MINIMUM_GIB = 3.0  # one layer at a time, with VAE tiling: what is left is working memory
MARGIN = 1.1  # CUDA context, allocator fragmentation


@dataclass(frozen=True)
class MemoryPlan:
    """A recommendation: its name, the code lines that apply it, and the arithmetic behind it."""

    name: str
    code: tuple[str, ...]
    arithmetic: list[str] = field(default_factory=list)
    free_gib: float | None = None

    def __str__(self) -> str:
        free = f"{self.free_gib:.1f} GiB free" if self.free_gib is not None else "no accelerator"
        lines = [f"Plan: {self.name} ({free})", *[f"  {line}" for line in self.arithmetic], "Code:"]
        return "\n".join(lines + [f"  {line}" for line in self.code])


def _gib(parameters: int, bytes_per_parameter: int = 2) -> float:
    return parameters * bytes_per_parameter / GIB


def recommend_memory_plan(device: str | None = None, free_bytes: int | None = None, refiner: bool = True) -> MemoryPlan:
    """The memory plan for SDXL base (and the refiner) in fp16 on this machine, from its free memory.

    Bands: everything on the accelerator; fp16 + model CPU offload (e.g. a 16 GB Colab T4 with base +
    refiner); sequential CPU offload + VAE tiling (e.g. 8 GB); tiny mode (a CPU, or too little memory).
    Pass `free_bytes` to ask about another machine.
    """
    from .device import free_accelerator_memory, pick_device

    device = device or pick_device()
    if free_bytes is None:
        free_bytes = free_accelerator_memory(device)
    tiny = ("SDXL_TUTORIAL_MODE=tiny  # or mode = 'tiny' in a lesson's parameters cell",)
    if device == "cpu" or free_bytes is None:
        return MemoryPlan("tiny mode on the CPU", tiny, [
            "No CUDA or MPS accelerator: the real SDXL in fp32 on a CPU needs about 14 GB of RAM and minutes per picture.",
            "fp16 does not run on a CPU, and diffusers' offloading needs an accelerator to offload to.",
        ])
    free = free_bytes / GIB
    parts = {name: count for name, count in PARAMETERS.items() if refiner or name != "refiner UNet"}
    weights = sum(_gib(count) for count in parts.values())
    largest_name = max(parts, key=parts.get)
    largest = _gib(parts[largest_name])
    everything = (weights + WORKING_GIB) * MARGIN
    one_model = (largest + WORKING_GIB) * MARGIN
    arithmetic = [
        " + ".join(f"{name} {_gib(count):.2f}" for name, count in parts.items()) + f" = {weights:.2f} GiB of fp16 weights",
        f"everything on the {device}: ({weights:.2f} + {WORKING_GIB:.1f} working) x {MARGIN} = {everything:.1f} GiB",
        f"model offload keeps one model at a time, the largest is the {largest_name}: "
        f"({largest:.2f} + {WORKING_GIB:.1f}) x {MARGIN} = {one_model:.1f} GiB",
        f"sequential offload keeps one layer at a time: about {SEQUENTIAL_MINIMUM_GIB:.1f} GiB, and is several times slower",
    ]
    load = "pipe = StableDiffusionXLPipeline.from_pretrained(..., dtype=torch.float16, variant='fp16', use_safetensors=True)"
    if free >= everything:
        return MemoryPlan(f"everything on the {device} in fp16", (load, f"pipe.to('{device}')"), arithmetic, free)
    if free >= one_model:
        return MemoryPlan("fp16 + model CPU offload", (load, "pipe.enable_model_cpu_offload()  # no pipe.to(device)"), arithmetic, free)
    if free >= SEQUENTIAL_MINIMUM_GIB:
        return MemoryPlan("fp16 + sequential CPU offload + VAE tiling",
                          (load, "pipe.enable_sequential_cpu_offload()  # no pipe.to(device)", "pipe.vae.enable_tiling()"),
                          arithmetic, free)
    return MemoryPlan("tiny mode: too little accelerator memory for SDXL", tiny, arithmetic, free)
