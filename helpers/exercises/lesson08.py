"""Checks for the exercises of lesson 08 (see helpers/exercises/__init__.py)."""

from __future__ import annotations

import math
import numbers

from ..i18n import _
from . import call, compare_number, report, unfinished

__all__ = ["check_base_gpu_gib", "check_pick_placement", "check_break_even"]

GIB = 2**30
MARGIN = 1.1  # the allocator's margin on GPU needs, as in helpers.memory


def _placeholder():
    ...


def unwritten(function) -> bool:
    """True while `function` is the placeholder `...` (or a value still `...`): a body that does nothing.

    `unfinished` knows values; a function whose body is only `...` (or `pass`) compiles to the same code as
    `_placeholder` whatever its arguments, so the learner's function that has not been written is recognised.
    """
    if unfinished(function):
        return True
    code = getattr(function, "__code__", None)
    return code is not None and code.co_code == _placeholder.__code__.co_code


def _base_numbers():
    from ..memory import PARAMETERS, WORKING_GIB

    return PARAMETERS["sdxl-base"], WORKING_GIB


def check_base_gpu_gib(gpu_gib) -> None:
    """Exercise: the GPU memory SDXL base needs in fp16 at 1024x1024 with everything on the GPU, in GiB."""
    name = "base_gpu_gib"
    if unfinished(gpu_gib):
        return report(name, None, _("replace `...` with an expression: (weights + working memory) × the margin, in GiB."))
    parameters, working = _base_numbers()
    weights = sum(parameters.values()) * 2 / GIB
    expected = (weights + max(working.values())) * MARGIN
    wrong = compare_number(gpu_gib, expected, "gpu_gib", rel=0.005)
    if wrong is None:
        return report(name, True, _("{expected:.2f} GiB: it fits a free Colab T4's 15 GiB, with room to spare but not "
                                    "for the refiner beside it (lesson 06).").format(expected=expected))
    if isinstance(gpu_gib, bool) or not isinstance(gpu_gib, (int, float)):
        return report(name, False, wrong)
    mistakes = [  # (what a common mistake gives, what to say)
        ((weights * 2 + max(working.values())) * MARGIN, _("that counts 4 bytes per parameter (fp32); fp16 takes 2.")),
        ((sum(parameters.values()) * 2 / 1e9 + max(working.values())) * MARGIN,
         _("the weights are in GB (10⁹ bytes); divide the bytes by 2**30 for GiB.")),
        ((parameters["unet"] * 2 / GIB + max(working.values())) * MARGIN,
         _("that counts the UNet's weights only: the text encoders and the VAE are on the GPU too (sum every part).")),
        ((weights + sum(working.values())) * MARGIN,
         _("that adds every stage's working memory, but the stages run one after another: only the largest counts.")),
        ((weights + working["unet"]) * MARGIN,
         _("that takes the UNet's working memory; the largest stage is another one (look at every value).")),
        (weights + max(working.values()), _("the weights and the working memory are right; the margin (× 1.1) is missing.")),
        (weights * MARGIN + max(working.values()), _("the margin applies to the whole need, weights and working memory together.")),
        (weights * MARGIN, _("the working memory of the largest stage is missing.")),
        (weights, _("that is the weights alone: add the largest stage's working memory, then the margin.")),
    ]
    for value, hint in mistakes:
        if abs(gpu_gib - value) <= 0.005 * value:
            return report(name, False, hint)
    return report(name, False, wrong + " " + _("Weights: the sum of the parameters × 2 bytes, in GiB; add the largest "
                                               "working memory; multiply by 1.1."))


# The needs of SDXL base in fp16 at 1024x1024 (GPU GiB, host GiB), fastest placement first, as lesson 08's
# plan computes them; and base + refiner, with one more placement, so a function cannot rely on the names.
BASE_NEEDS = {"everything on the GPU": (11.0, 2.0), "model CPU offload": (6.9, 8.5), "group offload": (4.7, 8.3),
              "sequential CPU offload": (4.4, 8.5)}
BOTH_NEEDS = {"everything on the GPU": (15.6, 2.0), "the UNets take turns on the GPU": (11.7, 6.8),
              "model CPU offload": (6.9, 12.7), "group offload": (4.7, 12.5), "sequential CPU offload": (4.4, 12.7)}
# (needs, GPU GiB, usable host GiB, the right answer, the machine in words)
SCENARIOS = [
    (BASE_NEEDS, 15.0, 11.0, "everything on the GPU", lambda: _("a free Colab T4 (15 GiB GPU, 11 GiB usable RAM)")),
    (BASE_NEEDS, 8.0, 12.0, "model CPU offload", lambda: _("an 8 GiB GPU with 12 GiB usable RAM")),
    (BASE_NEEDS, 6.0, 12.0, "group offload", lambda: _("a 6 GiB GPU with 12 GiB usable RAM")),
    (BASE_NEEDS, 4.5, 12.0, "sequential CPU offload", lambda: _("a 4.5 GiB GPU with 12 GiB usable RAM")),
    (BASE_NEEDS, 24.0, 6.0, "everything on the GPU", lambda: _("a 24 GiB GPU with 6 GiB usable RAM")),
    (BASE_NEEDS, 8.0, 6.0, None, lambda: _("an 8 GiB GPU with only 6 GiB usable RAM")),
    (BASE_NEEDS, 4.0, 30.0, None, lambda: _("a 4 GiB GPU with 30 GiB usable RAM")),
    (BOTH_NEEDS, 15.0, 11.0, "the UNets take turns on the GPU", lambda: _("a free Colab T4, base + refiner")),
    (BOTH_NEEDS, 80.0, 120.0, "everything on the GPU", lambda: _("an 80 GiB GPU, base + refiner")),
]


def check_pick_placement(pick_placement) -> None:
    """Exercise: the fastest placement whose GPU *and* host needs both fit, or None."""
    name = "pick_placement"
    if unwritten(pick_placement):
        return report(name, None, _("replace `...` with a function pick_placement(needs, gpu_gib, host_gib)."))
    for needs, gpu_gib, host_gib, expected, machine_words in SCENARIOS:
        machine = machine_words()
        answer, error = call(name, pick_placement, dict(needs), gpu_gib, host_gib)
        if error:
            return report(name, False, _("on {machine}: {error}").format(machine=machine, error=error))
        if answer == expected:
            continue
        if answer is not None and answer not in needs:
            return report(name, False, _("on {machine} it returned {answer!r}: return a placement's name (a key of "
                                         "`needs`), or None when none fits.").format(machine=machine, answer=answer))
        if answer is None:
            return report(name, False, _("on {machine} it returned None, but a placement fits both memories there: "
                                         "return the first that fits.").format(machine=machine))
        gpu_need, host_need = needs[answer]
        if gpu_need > gpu_gib:
            hint = _("it needs {need} GiB of GPU memory: check the GPU memory.").format(need=gpu_need)
        elif host_need > host_gib:
            hint = _("it needs {need} GiB of host RAM: check the host RAM too (on Colab, that is what kills the "
                     "kernel).").format(need=host_need)
        else:
            hint = _("it fits, but a faster placement fits too: when several fit, take the first in `needs` (fastest first).")
        return report(name, False, _("on {machine} it picked {answer!r}, but {hint}").format(machine=machine, answer=answer,
                                                                                             hint=hint))
    return report(name, True, _("all {count} machines placed as plan_memory places them: both memories checked, the "
                                "fastest that fits, None when nothing does.").format(count=len(SCENARIOS)))


# (compile seconds, seconds per picture without, with torch.compile)
# No case divides exactly, so "no slower" (<=) and "faster" (<) give the same count.
BREAK_EVEN_CASES = [(90.0, 3.31, 2.54), (45.0, 0.8, 0.45), (600.0, 30.0, 23.0), (45.0, 0.5, 0.6), (45.0, 0.5, 0.5)]


def _break_even(compile_seconds, eager_seconds, compiled_seconds):
    saved = eager_seconds - compiled_seconds
    return None if saved <= 0 else math.ceil(compile_seconds / saved)


def check_break_even(pictures_to_break_even) -> None:
    """Exercise: how many pictures until a compile pays for itself (None if it never does)."""
    name = "break_even"
    if unwritten(pictures_to_break_even):
        return report(name, None, _("replace `...` with a function pictures_to_break_even(compile_seconds, "
                                    "eager_seconds, compiled_seconds)."))
    for case in BREAK_EVEN_CASES:
        expected = _break_even(*case)
        answer, error = call(name, pictures_to_break_even, *case)
        where = _("a {compile:g} s compile, {eager:g} s per picture without, {compiled:g} s with").format(
            compile=case[0], eager=case[1], compiled=case[2])
        if error:
            if expected is None:
                return report(name, False, _("with {where}: {error}. When compiling saves no time per picture, return "
                                             "None.").format(where=where, error=error))
            return report(name, False, _("with {where}: {error}").format(where=where, error=error))
        if expected is None:
            if answer is not None:
                return report(name, False, _("with {where} it returned {answer!r}: a compiled picture that is no "
                                             "faster never pays the compile back: return None.")
                              .format(where=where, answer=answer))
            continue
        if answer is None:
            return report(name, False, _("with {where} it returned None, but it does pay off there: compare the total "
                                         "time with and without compiling after n pictures.").format(where=where))
        if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or not math.isfinite(answer) or answer != int(answer):
            return report(name, False, _("with {where} it returned {answer!r}: a number of pictures is a whole number "
                                         "(round up: a part-picture is not drawn).").format(where=where, answer=answer))
        if answer == expected - 1:
            return report(name, False, _("with {where} it is one short: at that count the compile is not yet paid back "
                                         "(round up, not down).").format(where=where))
        if answer != expected:
            per_picture = case[0] / case[2]
            if abs(answer - per_picture) < 1.5 or abs(answer - case[0] / case[1]) < 1.5:
                return report(name, False, _("with {where} it is off: the compile is paid back by the time *saved* "
                                             "per picture, not by a picture's time.").format(where=where))
            direction = _("too large") if answer > expected else _("too small")
            return report(name, False, _("with {where} it is {direction}: compare the total time with and without "
                                         "compiling after n pictures.").format(where=where, direction=direction))
    return report(name, True, _("pictures to break even = compile time / time saved per picture, rounded up; never "
                                "when nothing is saved."))
