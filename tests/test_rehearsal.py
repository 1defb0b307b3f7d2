"""tools/rehearsal.py, cheaply: the Hub cache layout (with tiny configs), the file lists, the weight rules,
the RssAnon parser and the check of the logged memory decisions. No real-size model is built here (the real-size
LoRA files are checked on the meta device: their keys, shapes, and loading into SDXL base's UNet)."""

import ast
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("rehearsal", ROOT / "tools" / "rehearsal.py")
rehearsal = importlib.util.module_from_spec(_spec)
sys.modules["rehearsal"] = rehearsal  # dataclasses look their module up there
_spec.loader.exec_module(rehearsal)

BASE, REFINER = "stabilityai/stable-diffusion-xl-base-1.0", "stabilityai/stable-diffusion-xl-refiner-1.0"
INPAINT, CONTROLNET = "diffusers/stable-diffusion-xl-1.0-inpainting-0.1", "diffusers/controlnet-canny-sdxl-1.0"
LCM_LORA, LIGHTNING = "latent-consistency/lcm-lora-sdxl", "ByteDance/SDXL-Lightning"


def _tiny(model, component):
    from helpers.tiny.standins import tiny_config

    return tiny_config(model, component)


@pytest.mark.filterwarnings("ignore:The `local_dir_use_symlinks` argument:UserWarning")  # diffusers' own call
def test_a_small_repository_is_laid_out_as_huggingface_hub_finds_it(tmp_path, monkeypatch):
    import huggingface_hub
    from diffusers import UNet2DModel
    from huggingface_hub import constants

    repo = rehearsal.Repository("google/ddpm-cat-256", (rehearsal.Component("", _tiny("ddpm", "config"), False),),
                                rehearsal._write_ddpm_scheduler, ("scheduler_config.json",))
    cache = rehearsal.build_cache(tmp_path / "hub", repos=[repo], min_free_gib=0)

    folder = cache / "models--google--ddpm-cat-256"
    revision = (folder / "refs" / "main").read_text()
    assert len(revision) == 40 and int(revision, 16) >= 0
    assert sorted(p.name for p in (folder / "snapshots" / revision).iterdir()) == [
        "config.json", "diffusion_pytorch_model.safetensors", "scheduler_config.json"]
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))  # what HF_HUB_CACHE=<cache> sets at import
    found = huggingface_hub.try_to_load_from_cache("google/ddpm-cat-256", "config.json")
    assert isinstance(found, str) and Path(found) == folder / "snapshots" / revision / "config.json"
    assert huggingface_hub.try_to_load_from_cache(BASE, "model_index.json") is None

    unet = UNet2DModel.from_pretrained("google/ddpm-cat-256", cache_dir=cache, local_files_only=True, use_safetensors=True)
    assert all(torch.isfinite(p).all() for p in unet.parameters())
    assert any(p.abs().sum() > 0 for name, p in unet.named_parameters() if name.endswith("conv_out.weight"))
    assert rehearsal.cache_is_complete(cache, [repo])

    weights = folder / "snapshots" / revision / "diffusion_pytorch_model.safetensors"
    before = weights.stat().st_mtime_ns
    rehearsal.build_cache(cache, repos=[repo])  # the second run reuses the cache
    assert weights.stat().st_mtime_ns == before


def test_a_shared_component_is_a_hard_link_to_the_other_repositorys(tmp_path):
    vae = _tiny("sdxl-base", "vae")
    first = rehearsal.Repository("owner/first", (rehearsal.Component("vae", vae, True),))
    second = rehearsal.Repository("owner/second", (rehearsal.Component("vae", vae, True, shared_from="owner/first"),))
    cache = rehearsal.build_cache(tmp_path, repos=[first, second], min_free_gib=0)
    name = "vae/diffusion_pytorch_model.fp16.safetensors"
    a, b = (rehearsal.snapshot_folder(cache, repo) / name for repo in ("owner/first", "owner/second"))
    assert a.stat().st_ino == b.stat().st_ino


def test_the_real_repositories_list_the_files_the_lessons_load():
    repos = {repo.repo_id: repo for repo in rehearsal.repositories()}
    assert list(repos) == [BASE, REFINER, INPAINT, CONTROLNET, "google/ddpm-cat-256", "madebyollin/sdxl-vae-fp16-fix",
                           "madebyollin/taesdxl", LCM_LORA, LIGHTNING]
    base = repos[BASE].files()
    for name in ("model_index.json", "scheduler/scheduler_config.json", "tokenizer/vocab.json", "tokenizer_2/merges.txt",
                 "text_encoder/model.fp16.safetensors", "text_encoder_2/model.fp16.safetensors",
                 "unet/diffusion_pytorch_model.fp16.safetensors", "vae/diffusion_pytorch_model.fp16.safetensors"):
        assert name in base
    assert not [name for name in base if name.endswith(".safetensors") and ".fp16." not in name], "fp32 files are left out"
    refiner = repos[REFINER].files()
    assert "unet/diffusion_pytorch_model.fp16.safetensors" in refiner and "tokenizer_2/vocab.json" in refiner
    assert not [name for name in refiner if name.startswith(("text_encoder/", "tokenizer/"))]
    assert repos["google/ddpm-cat-256"].files() == ["config.json", "diffusion_pytorch_model.safetensors", "scheduler_config.json"]
    assert repos["madebyollin/sdxl-vae-fp16-fix"].components[0].config["force_upcast"] is False
    assert repos["madebyollin/taesdxl"].components[0].config["_class_name"] == "AutoencoderTiny"
    total = sum(rehearsal.expected_bytes(repo) for repo in repos.values()) / 1e9
    fp16_files = rehearsal.storage_dtype() == torch.float16  # on CUDA; a CPU's cache holds fp32 numbers
    assert (19 < total < 22) if fp16_files else (37 < total < 41), f"{total:.1f} GB"


def test_the_inpainting_repository_shares_the_bases_parts_and_has_its_own_9_channel_unet():
    inpaint = {component.path: component for component in {repo.repo_id: repo for repo in rehearsal.repositories()}[INPAINT].components}
    assert {path for path, component in inpaint.items() if component.shared_from == BASE} == {"text_encoder", "text_encoder_2", "vae"}
    assert inpaint["unet"].shared_from is None and inpaint["unet"].config["in_channels"] == 9
    files = {repo.repo_id: repo for repo in rehearsal.repositories()}[INPAINT].files()
    for name in ("model_index.json", "tokenizer/vocab.json", "tokenizer_2/merges.txt", "unet/diffusion_pytorch_model.fp16.safetensors"):
        assert name in files


def test_the_controlnet_repository_is_flat_with_the_fp16_variant_file_only():
    controlnet = {repo.repo_id: repo for repo in rehearsal.repositories()}[CONTROLNET]
    assert controlnet.files() == ["config.json", "diffusion_pytorch_model.fp16.safetensors"]
    assert controlnet.components[0].config["_class_name"] == "ControlNetModel"


@pytest.mark.filterwarnings("ignore:The `local_dir_use_symlinks` argument:UserWarning")  # diffusers' own call
def test_a_flat_fp16_controlnet_loads_from_the_cache_with_full_modes_call(tmp_path):
    from diffusers import ControlNetModel

    from helpers.tiny.standins import controlnet_config

    small = rehearsal.Repository(CONTROLNET, (rehearsal.Component("", controlnet_config(_tiny("sdxl-base", "unet")), True),))
    cache = rehearsal.build_cache(tmp_path / "hub", repos=[small], min_free_gib=0)
    controlnet = ControlNetModel.from_pretrained(CONTROLNET, variant="fp16", dtype=torch.float16, cache_dir=cache, local_files_only=True)
    assert controlnet.dtype == torch.float16


def test_random_weights_follow_the_rules():
    model = torch.nn.Sequential(torch.nn.Embedding(10, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 400),
                                torch.nn.GroupNorm(4, 400))
    state = rehearsal.random_weights(model, torch.float16, seed=0)
    assert state["0.weight"].dtype == torch.float16 and 0.01 < state["0.weight"].float().std() < 0.03
    assert (state["1.weight"] == 1).all() and (state["1.bias"] == 0).all() and (state["3.weight"] == 1).all()
    assert (state["2.bias"] == 0).all() and abs(state["2.weight"].float().std() - 8**-0.5) < 0.03
    with pytest.raises(ValueError, match="No rule"):
        class Odd(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = torch.nn.Parameter(torch.ones(3))

        rehearsal.random_weights(Odd(), torch.float32, seed=0)


def test_rss_anon_is_read_from_proc_status():
    status = "Name:\tpython\nVmRSS:\t 2048000 kB\nRssAnon:\t  1536000 kB\nRssFile:\t  512000 kB\n"
    assert rehearsal.rss_anon_bytes(status) == 1536000 * 1024
    assert rehearsal.rss_anon_bytes("Name:\tpython\n") is None
    assert rehearsal.read_rss_anon(os.getpid()) > 0


def test_a_decision_over_budget_fails_and_a_skipped_one_does_not(tmp_path):
    log = tmp_path / "plans.jsonl"
    decisions = [
        {"what": "sdxl-base", "plan": "fp16 on the GPU", "runs": True, "host_gib": 3.0, "gpu_gib": 9.5},
        {"what": "base + refiner", "plan": "everything on the GPU", "runs": False, "host_gib": 20.0, "gpu_gib": 30.0},
    ]
    log.write_text("".join(json.dumps(d) + "\n" for d in decisions))
    found, problems = rehearsal.check_decisions(log, 11.0, 15.0)
    assert len(found) == 2 and problems == []
    with log.open("a") as file:
        file.write(json.dumps({"what": "refiner", "plan": "model offload", "runs": True, "host_gib": 11.8, "gpu_gib": 6.0}) + "\n")
        file.write(json.dumps({"what": "vae", "plan": "on the GPU", "runs": True, "host_gib": 1.0, "gpu_gib": 16.0}) + "\n")
        file.write("not json\n")
    found, problems = rehearsal.check_decisions(log, 11.0, 15.0)
    assert len(found) == 4 and len(problems) == 3
    assert "host RAM" in problems[0] and "GPU" in problems[1] and "not a JSON" in problems[2]
    assert rehearsal.check_decisions(tmp_path / "missing.jsonl", 11.0, 15.0) == ([], [])


def _parameter_names(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    source = next("".join(c["source"]) for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    return {target.id for node in ast.parse(source).body if isinstance(node, ast.Assign) for target in node.targets}


@pytest.mark.parametrize("lesson", sorted(rehearsal.PARAMETERS_CPU))
def test_every_rehearsal_parameter_is_in_the_lessons_parameters_cell(lesson):
    notebook = next((ROOT / "notebooks").glob(f"{lesson}_*.ipynb"))
    names = _parameter_names(notebook)
    assert set(rehearsal.PARAMETERS_CPU[lesson]) <= names
    if lesson in rehearsal.LOCAL_SERVER_LESSONS:
        assert "base_url" in names


def _plan_and_calls(tmp_path, monkeypatch, calls):
    """A plan log as a lesson writes it: one plan (2 pictures a call at 128x128, which stands for 1024x1024), then `calls`."""
    from helpers import memory

    log = tmp_path / "plans.jsonl"
    monkeypatch.setenv("SDXL_TUTORIAL_MACHINE", "colab-t4")
    monkeypatch.setenv("SDXL_TUTORIAL_PLAN_LOG", str(log))
    memory.plan_memory(["sdxl-base"], 128, 128, mode="full", what="SDXL base", pictures_per_call=2)
    for call in calls:
        memory._append_to_log({"pictures": 0, "decoded_at_once": 0, "encoded_at_once": 0, "height": 128, "width": 128, **call})
    monkeypatch.delenv("SDXL_TUTORIAL_MACHINE")
    return log


def test_calls_within_their_plan_pass(tmp_path, monkeypatch):
    log = _plan_and_calls(tmp_path, monkeypatch, [
        {"call": "StableDiffusionXLPipeline", "pictures": 2}, {"call": "AutoencoderKL.decode", "decoded_at_once": 1},
        {"call": "AutoencoderKL.encode", "encoded_at_once": 1}, {"call": "StableDiffusionXLPipeline", "pictures": 1, "height": 64}])
    calls, problems = rehearsal.check_calls(log, rehearsal.declared("colab-t4"), scale=8)
    assert problems == [] and len(calls) == 4 and all(call["ok"] for call in calls)
    assert rehearsal.check_decisions(log, 11.0, 15.0)[1] == [], "the calls' lines are not decisions"
    assert rehearsal.summarize_calls(calls, 8)[0].startswith("2 x StableDiffusionXLPipeline; the largest, "
                                                              "StableDiffusionXLPipeline (2 pictures a call) at 1024x1024")


def test_a_call_beyond_its_plan_fails_whichever_call_it_is(tmp_path, monkeypatch):
    log = _plan_and_calls(tmp_path, monkeypatch, [
        {"call": "StableDiffusionXLPipeline", "pictures": 2}, {"call": "AutoencoderKL.decode", "decoded_at_once": 1},
        {"call": "StableDiffusionXLPipeline", "pictures": 4}, {"call": "AutoencoderKL.decode", "decoded_at_once": 4}])
    calls, problems = rehearsal.check_calls(log, rehearsal.declared("colab-t4"), scale=8)
    assert [call["ok"] for call in calls] == [True, True, False, False]
    assert len(problems) == 2 and "StableDiffusionXLPipeline (4 pictures a call) at 1024x1024 needs" in problems[0]
    assert "AutoencoderKL.decode (4 decoded at once) at 1024x1024" in problems[1] and "'SDXL base'" in problems[1]


def test_a_call_before_any_plan_of_its_process_fails(tmp_path):
    log = tmp_path / "plans.jsonl"
    log.write_text(json.dumps({"call": "StableDiffusionXLPipeline", "pictures": 1, "decoded_at_once": 0, "encoded_at_once": 0,
                               "height": 1024, "width": 1024, "pid": 1}) + "\n")
    calls, problems = rehearsal.check_calls(log, rehearsal.declared("colab-t4"))
    assert problems == ["StableDiffusionXLPipeline (1 picture a call) at 1024x1024 ran before any memory plan of its process"]


def test_the_rehearsal_fails_a_lesson_whose_call_exceeds_its_plan(tmp_path):
    notebook = tmp_path / "99_too_many_pictures.ipynb"
    cell = ("from helpers import memory\n"
            "memory.plan_memory(['sdxl-base'], height, height, mode='full', what='one picture a call')\n"
            "memory._append_to_log({'call': 'StableDiffusionXLPipeline', 'pictures': 4, 'decoded_at_once': 0,\n"
            "                       'encoded_at_once': 0, 'height': height, 'width': height})\n")
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "height = 1024", "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": cell, "outputs": [], "execution_count": None}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    environment = {**os.environ, "SDXL_TUTORIAL_MACHINE": "colab-t4", "PYTHONPATH": str(ROOT)}
    row = rehearsal.run_lesson(notebook, {"height": 128}, environment, tmp_path / "scratch", cuda=False,
                               budgets=(11.0, 15.0), timeout=120)
    assert not row["ok"], row.get("error")
    assert row["error"].startswith("a call its plan did not cover: StableDiffusionXLPipeline (4 pictures a call) at 1024x1024")
    assert "**FAILED**" in rehearsal.markdown_report([row], ["# test"])


def test_a_run_at_128_stands_for_1024_and_a_run_at_its_defaults_for_itself():
    assert rehearsal.call_scale({"height": 128}) == 8 and rehearsal.call_scale({}) == 1


_gpu_spec = importlib.util.spec_from_file_location("rehearse_gpu", ROOT / "tools" / "rehearse_gpu.py")
rehearse_gpu = importlib.util.module_from_spec(_gpu_spec)
_gpu_spec.loader.exec_module(rehearse_gpu)


def test_the_gpu_check_runs_the_tightest_lessons_at_1024_with_their_real_pictures_per_call():
    assert list(rehearse_gpu.LESSONS) == ["10", "06", "08", "11"]
    for lesson in rehearse_gpu.LESSONS:
        parameters = rehearse_gpu.lesson_parameters(lesson, smoke=False)
        assert (parameters["height"], parameters["width"]) == (1024, 1024)
        assert set(parameters) <= _parameter_names(next((ROOT / "notebooks").glob(f"{lesson}_*.ipynb")))
        assert "evaluation_seeds" not in parameters and "pictures_per_call" not in parameters, "the lesson's own counts"
    assert rehearse_gpu.lesson_parameters("10", smoke=False)["train_steps"] <= 3
    assert rehearse_gpu.lesson_parameters("11", smoke=False)["batch_size"] == 2
    with pytest.raises(SystemExit, match="not in the GPU check"):
        rehearse_gpu.lesson_parameters("04", smoke=False)


def test_the_cpu_smoke_run_takes_the_same_lessons_at_the_cpu_rehearsals_small_size():
    for lesson in rehearse_gpu.LESSONS:
        assert rehearse_gpu.lesson_parameters(lesson, smoke=True) == rehearsal.PARAMETERS_CPU[lesson]
        assert rehearse_gpu.lesson_parameters(lesson, smoke=True)["height"] == 128


def test_each_lesson_gets_the_time_left_less_a_minute_for_each_lesson_after_it():
    assert rehearse_gpu.lesson_timeout(started=0, now=90, lessons_left=4, budget_s=570) == 570 - 90 - 3 * 60
    assert rehearse_gpu.lesson_timeout(started=0, now=560, lessons_left=1, budget_s=570) == 30


def test_the_gpu_table_sets_measured_peaks_against_the_plans_with_the_date_and_card():
    decisions = [{"what": "LoRA training", "plan": "train on the GPU", "runs": True, "host_gib": 2.0, "gpu_gib": 11.37},
                 {"what": "LoRA training", "plan": "does not fit", "runs": False, "host_gib": 2.0, "gpu_gib": 40.5}]
    row = {"lesson": "10_lora_fine_tuning", "parameters": {"height": 1024, "train_steps": 2}, "ok": True, "seconds": 95.4,
           "peak_gpu_gib": 12.1, "peak_rss_anon_gib": 3.2, "decisions": decisions, "error": "",
           "calls": [{"ok": True}, {"ok": True}], "call_lines": ["2 x StableDiffusionXLPipeline; ..."]}
    table = rehearse_gpu.results_table([row], "NVIDIA H100 80GB HBM3, 79.2 GiB", "2026-12-07T00:00:00+00:00", 15.0, 11.0, False)
    assert "- date: 2026-12-07T00:00:00+00:00" in table and "- card: NVIDIA H100 80GB HBM3" in table
    line = next(line for line in table.splitlines() if line.startswith("| 10_lora"))
    assert "| height=1024, train_steps=2 | passed | 95 | 11.37 | 12.10 | 2.00 | 3.20 | 2 (0) |" in line
    assert "measured GPU above the plan by 0.73 GiB" in line and "measured host above the plan by 1.20 GiB" in line
    assert "  - calls: 2 x StableDiffusionXLPipeline; ..." in table


def test_a_rehearsal_builds_only_the_repositories_its_lessons_load():
    everything = {repo.repo_id for repo in rehearsal.repositories()}
    assert {repo.repo_id for repo in rehearsal.repositories_for(None)} == everything
    ci = {repo.repo_id for repo in rehearsal.repositories_for(["04", "6"])}  # what CI rehearses
    assert ci == everything - {INPAINT, CONTROLNET, LCM_LORA, LIGHTNING}
    assert {repo.repo_id for repo in rehearsal.repositories_for(["12"])} == everything - {CONTROLNET, LCM_LORA, LIGHTNING}
    assert {repo.repo_id for repo in rehearsal.repositories_for(["13"])} == everything - {INPAINT, LCM_LORA, LIGHTNING}
    assert {repo.repo_id for repo in rehearsal.repositories_for(["08"])} == everything - {INPAINT, CONTROLNET, LIGHTNING}
    assert {repo.repo_id for repo in rehearsal.repositories_for(["14"])} == everything - {INPAINT, CONTROLNET}
    assert {repo.repo_id for repo in rehearsal.repositories_for(["08", "14"])} == everything - {INPAINT, CONTROLNET}
    for lesson in sorted({notebook.name[:2] for notebook in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")} - {"08", "14"}):
        assert not {LCM_LORA, LIGHTNING} & {repo.repo_id for repo in rehearsal.repositories_for([lesson])}, lesson


def test_a_cache_built_for_some_lessons_is_completed_for_more(tmp_path, monkeypatch):
    vae = _tiny("sdxl-base", "vae")
    first, second = (rehearsal.Repository(repo_id, (rehearsal.Component("vae", vae, True),)) for repo_id in ("org/first", "org/second"))
    monkeypatch.setattr(rehearsal, "repositories", lambda: [first, second])
    monkeypatch.setattr(rehearsal, "LESSON_ONLY_REPOSITORIES", {"12": ("org/second",)})
    cache = rehearsal.build_cache(tmp_path, repos=rehearsal.repositories_for(["04"]), min_free_gib=0)
    assert rehearsal.cache_is_complete(cache, [first]) and not rehearsal.cache_is_complete(cache, [first, second])
    rehearsal.build_cache(cache, repos=rehearsal.repositories_for(["04", "12"]), min_free_gib=0)
    assert rehearsal.cache_is_complete(cache, [first, second])


# --- The few-step LoRAs (lessons 08 and 14): one fp16 file each, rank 64 on the 788 layers diffusers' LCM-LoRA example targets


def _loras():
    repos = {repo.repo_id: repo for repo in rehearsal.repositories()}
    return {repo_id: repos[repo_id].components[0] for repo_id in (LCM_LORA, LIGHTNING)}


@pytest.fixture(scope="module")
def real_lora_layout():
    return rehearsal.lora_layout(_loras()[LCM_LORA])  # SDXL base's UNet on the meta device: seconds, no memory


def test_the_lora_repositories_are_flat_with_the_one_file_the_catalogue_downloads():
    from helpers.models import CATALOGUE
    from helpers.tiny.standins import real_config
    from helpers.tiny.train_lcm import TARGET_MODULES

    repos = {repo.repo_id: repo for repo in rehearsal.repositories()}
    for name, repo_id, file_name in (("lcm-lora-sdxl", LCM_LORA, "pytorch_lora_weights.safetensors"),
                                     ("sdxl-lightning", LIGHTNING, "sdxl_lightning_4step_lora.safetensors")):
        entry = CATALOGUE[name]
        assert entry.hub_id == repo_id and repos[repo_id].files() == [file_name] == list(entry.download) == [entry.check_file]
        lora = repos[repo_id].components[0]
        assert isinstance(lora, rehearsal.LoraFile) and (lora.rank, lora.alpha) == (64, 8.0)
        assert lora.config == real_config("sdxl-base", "unet") and list(lora.target_modules) == TARGET_MODULES
        assert rehearsal.expected_bytes(repos[repo_id]) == 196_751_360 * 2, "fp16 on every machine: 394 MB, as on the Hub"
    assert rehearsal._fingerprint(repos[LCM_LORA]) != rehearsal._fingerprint(repos[LIGHTNING])


def test_the_real_size_lora_is_rank_64_on_788_layers_in_kohya_keys(real_lora_layout):
    layout = real_lora_layout
    assert len(layout) == 788 * 3 and all(key.startswith("lora_unet_") for key in layout)
    for suffix in (".lora_down.weight", ".lora_up.weight", ".alpha"):
        assert sum(key.endswith(suffix) for key in layout) == 788, suffix
    assert sum(torch.Size(shape).numel() for key, shape in layout.items() if not key.endswith(".alpha")) == 196_751_360
    attention = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q"
    conv = "lora_unet_down_blocks_0_resnets_0_conv1"
    feed_forward = "lora_unet_mid_block_attentions_0_transformer_blocks_0_ff_net_0_proj"
    expected = {f"{attention}.lora_down.weight": (64, 640), f"{attention}.lora_up.weight": (640, 64), f"{attention}.alpha": (),
                f"{conv}.lora_down.weight": (64, 320, 3, 3), f"{conv}.lora_up.weight": (320, 64, 1, 1),
                f"{feed_forward}.lora_down.weight": (64, 1280), f"{feed_forward}.lora_up.weight": (10240, 64),
                "lora_unet_up_blocks_0_upsamplers_0_conv.lora_down.weight": (64, 1280, 3, 3),
                "lora_unet_down_blocks_2_resnets_0_time_emb_proj.lora_up.weight": (1280, 64)}
    assert {key: layout[key] for key in expected} == expected
    assert sum("_attn1_to_" in key or "_attn2_to_" in key for key in layout if key.endswith(".alpha")) == 560


def test_the_real_size_lora_loads_into_sdxl_bases_unet_on_every_targeted_layer():
    from diffusers import StableDiffusionXLPipeline

    lora = _loras()[LIGHTNING]
    state = rehearsal.random_lora_weights(lora, seed=0, device="meta")  # the file's keys and shapes, no memory
    assert {value.dtype for value in state.values()} == {torch.float16}
    assert {value.item() for key, value in state.items() if key.endswith(".alpha")} == {8.0}
    unet = rehearsal.empty_model(lora.config)  # SDXL base's UNet on the meta device
    weights, alphas = StableDiffusionXLPipeline.lora_state_dict(state, unet_config=unet.config)  # what load_lora_weights does
    StableDiffusionXLPipeline.load_lora_into_unet(weights, network_alphas=alphas, unet=unet, adapter_name="lightning",
                                                  low_cpu_mem_usage=True)
    adapted = [module for module in unet.modules() if "lightning" in getattr(module, "lora_A", {})]
    assert len(adapted) == 788 and {module.scaling["lightning"] for module in adapted} == {8 / 64}


def _tiny_lora(unet_config: dict, rank: int = 4) -> "rehearsal.LoraFile":
    from helpers.lora import LORA_FILE
    from helpers.tiny.train_lcm import TARGET_MODULES

    return rehearsal.LoraFile("", unet_config, True, None, file_name=LORA_FILE, rank=rank, alpha=8.0,
                              target_modules=tuple(TARGET_MODULES))


def test_the_loras_keys_are_those_of_the_tiny_stand_ins(tiny_cache):
    from safetensors import safe_open

    import helpers

    base_unet = json.loads((Path(helpers.model_path("sdxl-base", "tiny")) / "unet" / "config.json").read_text())
    for name, file_name in (("lcm-lora-sdxl", "pytorch_lora_weights.safetensors"), ("sdxl-lightning", "sdxl_lightning_4step_lora.safetensors")):
        with safe_open(Path(helpers.model_path(name, "tiny")) / file_name, "pt") as committed:
            shapes = {key: tuple(committed.get_slice(key).get_shape()) for key in committed.keys()}
        rank = shapes[next(key for key in shapes if key.endswith(".lora_down.weight"))][0]
        assert rehearsal.lora_layout(_tiny_lora(base_unet, rank)) == shapes, name


def test_random_lora_weights_follow_the_rules():
    lora = _tiny_lora(_tiny("sdxl-base", "unet"), rank=16)
    state = rehearsal.random_lora_weights(lora, seed=3)
    assert {value.dtype for value in state.values()} == {torch.float16}
    assert {value.item() for key, value in state.items() if key.endswith(".alpha")} == {8.0}
    down = next(value for key, value in state.items() if key.endswith("attn1_to_q.lora_down.weight"))
    up = next(value for key, value in state.items() if key.endswith("attn1_to_q.lora_up.weight"))
    assert abs(down.float().std() * down.shape[1] ** 0.5 - 1) < 0.2 and abs(up.float().std() * 16**0.5 / 0.1 - 1) < 0.2
    again = rehearsal.random_lora_weights(lora, seed=3)
    assert all(torch.equal(state[key], again[key]) for key in state), "the same seed, the same numbers"


@pytest.mark.filterwarnings("ignore:The `local_dir_use_symlinks` argument:UserWarning")  # diffusers' own call
def test_a_lora_repository_in_the_cache_loads_with_full_modes_call_given_its_file_name(tmp_path, tiny_cache):
    from diffusers import StableDiffusionXLPipeline
    from safetensors.torch import load_file

    import helpers

    base = helpers.model_path("sdxl-base", "tiny")
    lora = _tiny_lora(json.loads((Path(base) / "unet" / "config.json").read_text()))
    cache = rehearsal.build_cache(tmp_path / "hub", repos=[rehearsal.Repository(LCM_LORA, (lora,))], min_free_gib=0)
    snapshot = rehearsal.snapshot_folder(cache, LCM_LORA)
    assert sorted(path.name for path in snapshot.iterdir()) == ["pytorch_lora_weights.safetensors"]
    assert {value.dtype for value in load_file(snapshot / "pytorch_lora_weights.safetensors").values()} == {torch.float16}
    pipe = StableDiffusionXLPipeline.from_pretrained(base, variant="fp16", dtype=torch.float32)
    pipe.load_lora_weights(LCM_LORA, weight_name="pytorch_lora_weights.safetensors", adapter_name="lcm", cache_dir=cache,
                           local_files_only=True)
    assert sum(1 for module in pipe.unet.modules() if "lcm" in getattr(module, "lora_A", {})) == 129
    # Offline (HF_HUB_OFFLINE=1, as in the rehearsal, or local_files_only) diffusers cannot guess a Hub repository's
    # file name: a lesson passes weight_name= for every LoRA it loads by Hub id.
    with pytest.raises(ValueError, match="offline mode, you must specify a `weight_name`"):
        pipe.load_lora_weights(LCM_LORA, adapter_name="again", cache_dir=cache, local_files_only=True)
