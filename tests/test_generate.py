"""helpers.generate: the same pictures whatever the number of processes and the threads they start with, a killed
run finished without loss or duplicates (each missing picture drawn in the call it had), and bad input refused
with a clear message before anything is written.

Bad input is checked in this process; only the killed run starts a process (it pays Python's start-up with torch and
diffusers, several seconds). The same pictures from 1 and 2 processes are checked by lesson 11 (see the comment where
that test was).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import generate

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ["a red circle", "a blue square", "a green triangle", "a yellow circle"]
# 4 prompts x 2 seeds at 8 steps, 2 pictures per call: small, and each call long enough to kill a run between calls
OPTIONS = ["--seeds", "2", "--num-inference-steps", "8", "--batch-size", "2", "--mode", "tiny"]


@pytest.fixture(scope="module")
def environment(_shared_tiny_cache, tmp_path_factory):
    """What a launched process needs: tiny mode, the shared tiny cache, no user accelerate config; and a thread count
    unlike this process's (1 under `pytest -n 2`, all cores otherwise), which the script must override."""
    import torch

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SDXL_TUTORIAL_CACHE", str(_shared_tiny_cache))
        threads = "1" if torch.get_num_threads() > 1 else "2"  # 1 and 2 threads round differently, measured in tiny mode
        yield {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "HF_HOME": str(tmp_path_factory.mktemp("hf-home"))}


@pytest.fixture(scope="module")
def prompt_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompts") / "prompts.txt"
    path.write_text("\n".join(PROMPTS) + "\n")
    return path


def record_calls(patch) -> list[list[str]]:
    """Spy on the script's pipeline calls: each call's pictures, as file names, in their order in the batch."""
    calls, draw = [], generate.draw

    def recording(job, *arguments):
        batch = arguments[3]
        calls.append([job.file_name(item) for item in batch])
        return draw(job, *arguments)

    patch.setattr(generate, "draw", recording)
    return calls


@pytest.fixture(scope="module")
def uninterrupted(environment, prompt_file, tmp_path_factory):
    """The run in this process, uninterrupted: one process; its folder and its pipeline calls."""
    out = tmp_path_factory.mktemp("one-process") / "pictures"
    with pytest.MonkeyPatch.context() as patch:
        calls = record_calls(patch)
        assert generate.main(["--prompts", str(prompt_file), "--out", str(out), *OPTIONS]) == 0
    return out, calls


@pytest.fixture(scope="module")
def reference(uninterrupted):
    return uninterrupted[0]


def pictures(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.png"))}


def manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / generate.MANIFEST).read_text().splitlines()]


def test_one_process_makes_every_picture_once_with_its_settings(reference):
    lines = manifest(reference)
    assert len(pictures(reference)) == len(lines) == 8
    assert sorted(line["file"] for line in lines) == sorted(pictures(reference))
    from PIL import Image

    first = lines[0]
    with Image.open(reference / first["file"]) as image:
        assert image.text["prompt"] == first["prompt"] == "a red circle" and image.text["seed"] == "0"
        assert image.size == (32, 32)


# Two processes make the same pictures byte for byte: checked by lesson 11 (notebooks/11_generating_at_scale.ipynb, section
# 3), which `make test` runs under nbval. It launches the script with accelerate on 1 and on `processes` (2) processes,
# 4 prompts x 2 seeds, batch size 2, and asserts what this file's two-process test did: the summary's process count and
# each process's share of the pictures ([4, 4]), the same PNG files byte for byte, the same merged manifest, and one
# part file per process that drew (part-00000.jsonl, part-00001.jsonl). A launched process's own thread count is
# overridden (the killed run below starts with a thread count unlike this process's and must make the reference's bytes;
# and test_a_run_on_the_cpu_uses_its_own_thread_count_... checks the override itself).


def test_a_killed_run_finishes_with_every_picture_exactly_once(environment, prompt_file, reference, tmp_path):
    out = tmp_path / "pictures"
    command = [sys.executable, "-m", "helpers.generate", "--prompts", str(prompt_file), "--out", str(out), *OPTIONS]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    part = generate.part_path(out, 0)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if part.exists() and part.read_bytes().count(b"\n") >= 2:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait()
    assert process.returncode == -signal.SIGKILL, f"the run ended before it could be killed: {process.stderr.read()[-2000:]}"
    made_before = len(pictures(out))
    assert 2 <= made_before < 8 and not (out / generate.MANIFEST).exists()

    assert generate.main(["--prompts", str(prompt_file), "--out", str(out), *OPTIONS]) == 0
    summary = json.loads((out / generate.SUMMARY).read_text())
    assert summary["already_there"] == made_before and summary["made"] == 8 - made_before
    assert pictures(out) == pictures(reference), "every picture, each the same as in an uninterrupted run"
    assert manifest(out) == manifest(reference), "one line per picture, none twice"
    assert not [path for path in out.iterdir() if generate.TEMPORARY.match(path.name)]


def test_a_restart_repairs_what_a_kill_can_leave_behind(environment, prompt_file, reference, tmp_path):
    """A kill can leave: a temporary file, a picture without its line, a half-written last line; and a picture can be deleted."""
    out = tmp_path / "pictures"
    shutil.copytree(reference, out)
    (out / generate.MANIFEST).unlink()
    part = generate.part_path(out, 0)
    lines = part.read_text().splitlines(keepends=True)
    (out / json.loads(lines[0])["file"]).unlink()  # picture 1: never made (neither file nor line)
    (out / ".a-red-circle_seed0_x.png.tmp-123").write_bytes(b"half a PNG")  # killed while writing a picture
    # picture 2: killed between the picture and its line; picture 8 (the last line): killed in the middle of its line
    part.write_text("".join(lines[2:7]) + lines[7][: len(lines[7]) // 2])
    (out / json.loads(lines[3])["file"]).unlink()  # picture 4: deleted later, its line still there

    assert generate.main(["--prompts", str(prompt_file), "--out", str(out), *OPTIONS]) == 0
    summary = json.loads((out / generate.SUMMARY).read_text())
    assert summary["made"] == 2 and summary["already_there"] == 6, "the pictures on disk are kept, only the missing ones are written"
    assert pictures(out) == pictures(reference)
    assert manifest(out) == manifest(reference)
    assert not (out / ".a-red-circle_seed0_x.png.tmp-123").exists()
    assert part.read_text().endswith("\n") and all(json.loads(line) for line in part.read_text().splitlines())


def test_a_missing_picture_is_drawn_in_the_call_it_had_in_the_uninterrupted_run(environment, prompt_file, uninterrupted,
                                                                                 tmp_path, monkeypatch):
    """The same batch, the same neighbours, the same place in it: a picture's last bits can depend on all three."""
    reference, reference_calls = uninterrupted
    out = tmp_path / "pictures"
    shutil.copytree(reference, out)
    lines = generate.part_path(out, 0).read_text().splitlines()
    lost = [json.loads(lines[index])["file"] for index in (0, 3)]  # from two different calls of 2
    for name in lost:
        (out / name).unlink()
    calls = record_calls(monkeypatch)
    assert generate.main(["--prompts", str(prompt_file), "--out", str(out), *OPTIONS]) == 0
    for name in lost:
        assert [call for call in calls if name in call] == [call for call in reference_calls if name in call], \
            f"{name} must be drawn once, in the call (pictures and places) of the uninterrupted run"
    summary = json.loads((out / generate.SUMMARY).read_text())
    assert summary["made"] == 2 and summary["redrawn"] == 2, "the lost pictures' partners are drawn again, not written"
    assert pictures(out) == pictures(reference)


def test_a_run_on_the_cpu_uses_its_own_thread_count_and_gives_this_process_its_own_back(environment, prompt_file, tmp_path,
                                                                                      monkeypatch):
    import torch

    threads_when_drawing, draw = [], generate.draw

    def recording(*arguments):
        threads_when_drawing.append(torch.get_num_threads())
        return draw(*arguments)

    monkeypatch.setattr(generate, "draw", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        for cpu_threads, folder in (([], "default"), (["--cpu-threads", "2"], "two")):
            arguments = ["--prompts", str(prompt_file), "--out", str(tmp_path / folder), "--seeds", "1", "--num-inference-steps", "1",
                         "--batch-size", "4", "--mode", "tiny", *cpu_threads]
            assert generate.main(arguments) == 0
            assert torch.get_num_threads() == 3, "the caller's thread count is given back"
    finally:
        torch.set_num_threads(before)
    assert threads_when_drawing == [1, 2], "1 thread a process unless --cpu-threads says otherwise, whatever the caller had"


def test_on_a_gpu_the_run_asks_for_deterministic_kernels_and_gives_the_settings_back(monkeypatch):
    """Checked without a GPU: the switches only (that the kernels then agree needs two GPUs of one model)."""
    import torch

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark)
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = True
    try:
        with generate.reproducible_arithmetic("cuda:0", cpu_threads=1):
            assert torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.benchmark
            assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8", "cuBLAS is deterministic only with a fixed workspace"
        assert not torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.benchmark
    finally:
        torch.use_deterministic_algorithms(before[0])
        torch.backends.cudnn.benchmark = before[1]


def test_a_finished_run_run_again_makes_nothing(environment, prompt_file, reference, tmp_path):
    out = tmp_path / "pictures"
    shutil.copytree(reference, out)
    assert generate.main(["--prompts", str(prompt_file), "--out", str(out), *OPTIONS]) == 0
    summary = json.loads((out / generate.SUMMARY).read_text())
    assert summary["made"] == 0 and summary["already_there"] == 8 and manifest(out) == manifest(reference)


def test_base_and_refiner_make_pictures_that_say_where_the_base_handed_over(environment, prompt_file, tmp_path):
    out = tmp_path / "pictures"
    arguments = ["--prompts", str(prompt_file), "--out", str(out), "--model", "sdxl-base+refiner", "--seeds", "1",
                 "--num-inference-steps", "4", "--batch-size", "4", "--mode", "tiny"]
    assert generate.main(arguments) == 0
    from PIL import Image

    lines = manifest(out)
    assert len(lines) == len(PROMPTS) and all(line["model"] == "sdxl-base+refiner" for line in lines)
    with Image.open(out / lines[0]["file"]) as image:
        assert image.text["denoising_end"] == "0.8" and image.size == (32, 32)


# ---------------------------------------------------------------------------------------------
# Bad input: a message that says what is wrong, and nothing written


def refused(capsys, tmp_path, arguments, prompts_name="prompts.txt", prompts_text="a red circle\n"):
    """Run with bad input; return the message. Checks the exit status and that nothing was written."""
    if prompts_text is not None:
        (tmp_path / prompts_name).write_text(prompts_text)
    before = sorted(tmp_path.rglob("*"))
    options = {"--prompts": str(tmp_path / prompts_name), "--out": str(tmp_path / "pictures"), "--mode": "tiny"}
    for index in range(0, len(arguments), 2):
        options[arguments[index]] = arguments[index + 1]
    status = generate.main([part for pair in options.items() for part in pair])
    message = capsys.readouterr().err
    assert status == 2 and "Nothing was written." in message
    assert sorted(tmp_path.rglob("*")) == before, "bad input must write nothing"
    return message


def test_a_missing_prompt_file_is_refused(capsys, tmp_path, tiny_cache):
    assert "does not exist" in refused(capsys, tmp_path, [], prompts_text=None)


@pytest.mark.parametrize("text", ["", "\n   \n"])
def test_an_empty_prompt_file_is_refused(capsys, tmp_path, tiny_cache, text):
    assert "is empty" in refused(capsys, tmp_path, [], prompts_text=text)


@pytest.mark.parametrize("name, text, expected", [
    ("prompts.jsonl", '{"prompt": "a red circle"}\n\n{"prompt": "a blue square", "seed": 1\n', "line 3: not valid JSON"),
    ("prompts.jsonl", '{"prompt": "a red circle"}\n["a blue square"]\n', "line 2: a line must be a JSON object"),
    ("prompts.jsonl", '{"prompt": "a red circle", "sed": 3}\n', "line 1: unknown field 'sed'"),
    ("prompts.jsonl", '{"negative_prompt": "blurry"}\n', "line 1: no prompt"),
    ("prompts.jsonl", '{"prompt": "a red circle", "seed": -1}\n', "line 1: seed must be a whole number >= 0"),
    ("prompts.jsonl", '{"prompt": "a red circle", "guidance_scale": "strong"}\n', "line 1: guidance_scale must be a number"),
    ("prompts.csv", "prompt,seed\na red circle,0\na blue square,zero\n", "line 3: seed must be a whole number"),
    ("prompts.csv", "prompt,seed\na red circle,0,7\n", "line 2: 3 values for 2 columns"),
])
def test_a_malformed_line_is_refused_by_its_number(capsys, tmp_path, tiny_cache, name, text, expected):
    assert expected in refused(capsys, tmp_path, [], prompts_name=name, prompts_text=text)


def test_an_unknown_model_is_refused(capsys, tmp_path, tiny_cache):
    message = refused(capsys, tmp_path, ["--model", "sdxl-turbo"])
    assert "Unknown model 'sdxl-turbo'" in message and "sdxl-base+refiner" in message


def test_a_size_not_divisible_by_8_is_refused(capsys, tmp_path, tiny_cache):
    assert "not divisible by 8" in refused(capsys, tmp_path, ["--height", "30"])


def test_a_line_with_a_size_not_divisible_by_8_is_refused_by_its_number(capsys, tmp_path, tiny_cache):
    text = '{"prompt": "a red circle"}\n{"prompt": "a red circle", "width": 36}\n'
    message = refused(capsys, tmp_path, [], prompts_name="prompts.jsonl", prompts_text=text)
    assert "line 2" in message and "not divisible by 8" in message


def test_an_output_folder_that_is_a_file_is_refused(capsys, tmp_path, tiny_cache):
    (tmp_path / "pictures").write_text("not a folder")
    assert "is a file" in refused(capsys, tmp_path, [])


def test_a_cpu_thread_count_below_one_is_refused(capsys, tmp_path, tiny_cache):
    assert "--cpu-threads must be at least 1" in refused(capsys, tmp_path, ["--cpu-threads", "0"])


@pytest.mark.filterwarnings("ignore:Full mode on a CPU:UserWarning")  # said once a process without a GPU: not this test's subject
def test_full_mode_without_the_weights_is_refused(capsys, tmp_path, tiny_cache, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda *args, **kwargs: None)
    assert "Full mode needs the real weights" in refused(capsys, tmp_path, ["--mode", "full"])


# ---------------------------------------------------------------------------------------------
# Reading a prompt file, and cutting the work into calls (no model needed)


def job_from(tmp_path, name, text, *options):
    (tmp_path / name).write_text(text)
    return generate.validate(generate.parse_arguments(["--prompts", str(tmp_path / name), "--out", str(tmp_path / "pictures"),
                                                       "--mode", "tiny", *options]))


def test_a_jsonl_line_brings_its_own_seed_size_steps_and_guidance(tmp_path, tiny_cache):
    text = ('{"prompt": "a red circle"}\n'
            '{"prompt": "a blue square", "negative_prompt": "blurry", "seed": 7, "height": 48, "width": 40, '
            '"num_inference_steps": 5, "guidance_scale": 2.5}\n')
    job = job_from(tmp_path, "prompts.jsonl", text, "--seeds", "2")
    assert [(item.line, item.seed) for item in job.items] == [(1, 0), (1, 1), (2, 7), (2, 8)]
    square = job.items[2]
    assert (square.negative_prompt, square.height, square.width, square.num_inference_steps, square.guidance_scale) == \
        ("blurry", 48, 40, 5, 2.5)
    assert job.items[0].height == 32 and job.items[0].num_inference_steps == 20, "the mode's defaults where a line says nothing"
    assert not (tmp_path / "pictures").exists()


def test_a_csv_file_may_quote_commas_and_empty_cells_mean_the_default(tmp_path, tiny_cache):
    job = job_from(tmp_path, "prompts.csv", 'prompt,seed\n"a red circle, small",3\na blue square,\n')
    assert [(item.line, item.prompt, item.seed) for item in job.items] == [(2, "a red circle, small", 3), (3, "a blue square", 0)]


def test_the_same_picture_asked_twice_is_made_once(tmp_path, tiny_cache):
    job = job_from(tmp_path, "prompts.txt", "a red circle\na red circle\n", "--seeds", "2")
    assert len(job.items) == 2 and job.duplicates == 2


def test_batches_are_full_and_hold_one_group_each(tmp_path, tiny_cache):
    text = "".join(f'{{"prompt": "shape {k}", "height": {32 if k % 2 else 48}}}\n' for k in range(7))
    job = job_from(tmp_path, "prompts.jsonl", text)
    batches = generate.batches(list(job.items), 3)
    assert all(len(batch) == 3 and len({item.group() for item in batch}) == 1 for batch, _ in batches)
    kept = [item for batch, keep in batches for item in batch[:keep]]
    assert sorted(kept, key=lambda item: item.line) == list(job.items) and len(kept) == len(set(kept))
    assert [keep for _, keep in batches] == [3, 1, 3]  # 4 pictures at 48 px (3 + 1), 3 at 32 px


def test_file_names_change_with_any_setting(tmp_path, tiny_cache):
    job = job_from(tmp_path, "prompts.txt", "a red circle\n")
    other = job_from(tmp_path, "prompts.txt", "a red circle\n", "--guidance-scale", "3")
    assert job.file_name(job.items[0]).startswith("a-red-circle_seed0_")
    assert job.file_name(job.items[0]) != other.file_name(other.items[0])


def test_the_memory_plan_counts_the_batch(tmp_path, tiny_cache, monkeypatch):
    """Each process plans its GPU for a whole call: the UNet's working memory grows with the batch (the VAE is sliced)."""
    import helpers.memory

    planned = []

    def plan_memory(names, height, width, **options):
        planned.append((height, width, options["pictures_per_call"]))
        raise KeyboardInterrupt  # stop before loading anything

    monkeypatch.setattr(helpers.memory, "plan_memory", plan_memory)
    for batch_size in ("1", "2", "8"):
        job = job_from(tmp_path, "prompts.txt", "a red circle\n", "--batch-size", batch_size)
        with pytest.raises(KeyboardInterrupt):
            generate.load_pipelines(job, "cpu")
    assert planned == [(32, 32, 1), (32, 32, 2), (32, 32, 8)], "the plan is for the pictures' own size and the whole call"
