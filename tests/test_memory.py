"""helpers.memory: host RAM and GPU memory planned separately, one test per kind of machine."""

import json

import pytest
import torch

from helpers import memory
from helpers.memory import (
    GIB, MACHINES, PARAMETERS, Machine, WontFitError, declared_machine, model_parameters, plan_memory,
    recommend_memory_plan,
)


def test_free_colab_t4_base_alone_fits_entirely_on_the_gpu_with_little_host_ram():
    plan = recommend_memory_plan("colab-t4", refiner=False)
    assert plan.name == "everything on the GPU" and plan.code == ("pipe.to(device)",)
    assert plan.gpu_gib <= 15 and plan.host_gib <= 11


def test_free_colab_t4_base_and_refiner_take_turns_because_model_offload_would_fill_the_host_ram():
    plan = recommend_memory_plan("colab-t4", refiner=True)
    assert plan.name == "the UNets take turns on the GPU" and plan.offload == "turns"
    assert plan.host_gib <= 11 and plan.gpu_gib <= 15
    text = str(plan)
    assert "too big · everything on the GPU" in text
    # what the old plan chose: model offload keeps all 10.7 GiB of weights in the 11 GiB of usable host RAM
    weights = sum(sum(PARAMETERS[name].values()) for name in ("sdxl-base",)) + PARAMETERS["sdxl-refiner"]["unet"]
    assert f"= {weights * 2 / GIB:.2f} GiB of float16 weights" in text


def test_colab_high_ram_t4_has_the_same_gpu_so_the_same_plan():
    assert recommend_memory_plan("colab-t4-highram").name == "the UNets take turns on the GPU"


@pytest.mark.parametrize("machine", ["a100-40gb", "h100-80gb"])
def test_a_large_gpu_holds_base_and_refiner_at_once(machine):
    plan = recommend_memory_plan(machine)
    assert plan.name == "everything on the GPU" and plan.gpu_gib <= MACHINES[machine].gpu_gib


def test_an_8_gb_gpu_with_16_gb_ram_offloads_the_base_model_by_model():
    plan = recommend_memory_plan("consumer-8gb", refiner=False)
    # the largest model with its own working memory fits 8 GB: no need for the slow sequential offload
    assert plan.name == "model CPU offload" and plan.gpu_gib <= 8
    assert plan.code == ("pipe.enable_model_cpu_offload()  # and never pipe.to(device)",)


def test_an_8_gb_gpu_with_16_gb_ram_cannot_hold_base_and_refiner_in_its_host_ram():
    plan = recommend_memory_plan("consumer-8gb", refiner=True)
    assert not plan.runs and plan.host_gib > MACHINES["consumer-8gb"].host_budget
    with pytest.raises(WontFitError, match="What to do"):
        plan.require()


def test_apple_silicon_16_gb_shares_one_memory_between_gpu_and_host():
    base = recommend_memory_plan("apple-16gb", refiner=False)
    assert base.name == "everything on the Apple GPU" and base.host_gib <= MACHINES["apple-16gb"].host_budget
    assert not recommend_memory_plan("apple-16gb", refiner=True).runs


def test_a_cpu_only_machine_is_sent_to_tiny_mode():
    plan = recommend_memory_plan("cpu-16gb", refiner=False)
    assert plan.name.startswith("tiny mode") and "SDXL_TUTORIAL_MODE=tiny" in plan.code[0]


def test_fp32_base_on_a_free_colab_t4_is_refused_before_loading_for_host_ram():
    plan = recommend_memory_plan("colab-t4", refiner=False, dtype=torch.float32)
    assert not plan.runs
    # 3.47 B parameters x 4 bytes, cast from the fp16 files in host RAM
    assert "+ 12.92 GiB while the files are cast to float32" in str(plan)


def test_vae_tiling_is_only_recommended_where_it_tiles():
    small_gpu = Machine("4.5 GB GPU", "cuda", 32.0, 4.5)  # too small for group offload's 4.7 GiB
    at_1024 = recommend_memory_plan(small_gpu, refiner=False)
    at_2048 = recommend_memory_plan(Machine("8 GB GPU", "cuda", 32.0, 8.0), refiner=False, height=2048, width=2048)
    assert at_1024.offload == "sequential" and not any("enable_tiling" in line for line in at_1024.code)
    assert at_2048.offload == "sequential" and any("enable_tiling" in line for line in at_2048.code)


def test_plans_from_the_tiny_models_count_their_real_files(tmp_path, monkeypatch):
    monkeypatch.setenv("SDXL_TUTORIAL_CACHE", str(tmp_path))
    parts = model_parameters(["sdxl-base", "sdxl-refiner"], "tiny")
    assert set(parts) == {"sdxl-base/text_encoder", "sdxl-base/text_encoder_2", "sdxl-base/unet", "sdxl-base/vae", "sdxl-refiner/unet"}
    assert 4_000_000 < parts["sdxl-base/unet"] < 5_000_000  # the tiny base UNet: 4.17 M
    plan = plan_memory(["sdxl-base"], 32, 32, dtype=torch.float32, mode="tiny", machine=MACHINES["cpu-16gb"])
    assert plan.runs and plan.name == "everything on the CPU"


def test_a_declared_machine_replaces_this_one(monkeypatch):
    monkeypatch.setenv("SDXL_TUTORIAL_MACHINE", "colab-t4")
    assert declared_machine() is MACHINES["colab-t4"]
    monkeypatch.setenv("SDXL_TUTORIAL_MACHINE", "host=12.7,gpu=15")
    machine = declared_machine()
    assert (machine.host_gib, machine.gpu_gib, machine.device) == (12.7, 15.0, "cuda")
    monkeypatch.setenv("SDXL_TUTORIAL_MACHINE", "a big one")
    with pytest.raises(ValueError, match="colab-t4"):
        declared_machine()


def test_the_rehearsal_plans_for_the_real_size_and_logs_each_decision(tmp_path, monkeypatch):
    log = tmp_path / "plans.jsonl"
    monkeypatch.setenv("SDXL_TUTORIAL_MACHINE", "colab-t4")
    monkeypatch.setenv("SDXL_TUTORIAL_REHEARSAL", "1")
    monkeypatch.setenv("SDXL_TUTORIAL_PLAN_LOG", str(log))
    plan = plan_memory(["sdxl-base", "sdxl-refiner"], 128, 128, mode="full", what="lesson 06")
    assert "at 1024x1024" in str(plan), "a rehearsal at 128x128 still plans the real 1024x1024 run"
    assert "float16 weights" in str(plan), "the lesson's own dtype on the declared T4 is fp16, whatever this CPU runs"
    plan_memory(["sdxl-base"], dtype=torch.float32, mode="full", what="fp32 rung")
    recommend_memory_plan("a100-40gb")  # a question about another machine is not this lesson's decision
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["what"], r["runs"]) for r in records] == [("lesson 06", True), ("fp32 rung", False)]
    assert records[0]["host_gib"] <= 11 and records[0]["gpu_gib"] <= 15


def test_place_keeps_everything_on_a_cpu_whatever_the_plan():
    class Pipe:
        moved_to = None

        def to(self, device):
            self.moved_to = device
            return self

    plan = recommend_memory_plan("consumer-8gb", refiner=False)
    assert plan.offload == "model"
    assert plan.place(Pipe(), "cpu").moved_to == "cpu"


def test_one_placement_can_be_checked_on_its_own():
    offload = plan_memory(["sdxl-base"], dtype=torch.float16, machine=MACHINES["colab-t4"], mode="full", placement="model CPU offload")
    assert offload.name == "model CPU offload" and offload.runs and 8 < offload.host_gib <= 11
    with pytest.raises(ValueError, match="everything on the GPU"):
        plan_memory(["sdxl-base"], dtype=torch.float16, machine=MACHINES["colab-t4"], mode="full", placement="teleport")


# --- Group offload: the next layer copied on a CUDA stream while one works (lesson 08) ---


def test_the_largest_layers_are_the_real_models_built_on_the_meta_device():
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from helpers.tiny.standins import real_config

    def largest(model):  # the most parameters one module holds itself: what one group holds at leaf level
        return max(sum(p.numel() for p in module.parameters(recurse=False)) for module in model.modules())

    with torch.device("meta"):
        built = {
            ("sdxl-base", "text_encoder"): CLIPTextModel(CLIPTextConfig(**real_config("sdxl-base", "text_encoder"))),
            ("sdxl-base", "text_encoder_2"): CLIPTextModelWithProjection(CLIPTextConfig(**real_config("sdxl-base", "text_encoder_2"))),
            ("sdxl-base", "unet"): UNet2DConditionModel.from_config(real_config("sdxl-base", "unet")),
            ("sdxl-base", "vae"): AutoencoderKL.from_config(real_config("sdxl-base", "vae")),
            ("sdxl-refiner", "unet"): UNet2DConditionModel.from_config(real_config("sdxl-refiner", "unet")),
            ("sdxl-inpaint", "unet"): UNet2DConditionModel.from_config(real_config("sdxl-inpaint", "unet")),
            ("controlnet-canny", "controlnet"): ControlNetModel.from_config(real_config("controlnet-canny", "config")),
        }
    assert {key: largest(model) for key, model in built.items()} == {
        (name, part): count for name, parts in memory.LARGEST_LAYER.items() for part, count in parts.items()
        if (name, part) in built}


def test_group_offload_of_sdxl_base_on_a_free_t4_by_hand():
    plan = plan_memory(["sdxl-base"], dtype=torch.float16, mode="full", machine=MACHINES["colab-t4"], placement="group offload")
    base = PARAMETERS["sdxl-base"]
    vae = base["vae"] * 2 / GIB  # 0.156 GiB: excluded from offloading, on the GPU throughout
    next_layer = 63_242_240 * 2 / GIB  # text_encoder_2's token embedding, 49,408 x 1,280: the largest layer
    assert plan.gpu_gib == pytest.approx((0.5 + next_layer + vae + 3.5) * 1.1) == pytest.approx(4.701, abs=1e-3)
    pinned = (base["text_encoder"] + base["text_encoder_2"] + base["unet"]) * 2 / GIB  # 6.305 GiB
    assert plan.host_gib == pytest.approx(2.0 + pinned) == pytest.approx(8.305, abs=1e-3)
    assert plan.runs and plan.offload == "group" and "enable_group_offload" in plan.code[0]
    assert "(0.5 context and running layer, as sequential + 0.12 next layer, copied ahead + 0.16 VAE, kept on the GPU + 3.50 " \
           "working) x 1.1 = 4.7 GiB GPU; the other 6.31 GiB of weights pinned in host RAM" in str(plan)


@pytest.mark.parametrize("gpu_gib, chosen", [(15.0, "everything on the GPU"), (8.0, "model CPU offload"),
                                              (6.0, "group offload"), (4.5, "sequential CPU offload")])
def test_group_offload_is_chosen_only_when_the_faster_placements_do_not_fit_and_it_does(gpu_gib, chosen):
    plan = recommend_memory_plan(Machine(f"{gpu_gib} GB GPU", "cuda", 32.0, gpu_gib), refiner=False)
    assert plan.name == chosen
    tried = chosen in ("group offload", "sequential CPU offload")
    assert ("group offload" in str(plan)) == tried, "tried after model offload, before sequential offload"


def test_group_offload_counts_the_refiners_unet_in_pinned_host_ram_so_a_free_t4_cannot():
    plan = plan_memory(["sdxl-base", "sdxl-refiner"], dtype=torch.float16, mode="full", machine=MACHINES["colab-t4"],
                       placement="group offload")
    weights = (sum(PARAMETERS["sdxl-base"].values()) + PARAMETERS["sdxl-refiner"]["unet"]) * 2 / GIB
    assert not plan.runs and plan.host_gib == pytest.approx(2.0 + weights - PARAMETERS["sdxl-base"]["vae"] * 2 / GIB)


@pytest.mark.parametrize("machine", ["cpu-16gb", "apple-16gb"])
def test_a_machine_without_a_cuda_gpu_has_no_group_offload(machine):
    with pytest.raises(ValueError, match="No placement 'group offload'"):
        plan_memory(["sdxl-base"], dtype=torch.float32, mode="full", machine=MACHINES[machine], placement="group offload")
    assert "group offload" not in str(recommend_memory_plan(machine, refiner=False))


def test_place_calls_enable_group_offload_as_the_plans_code_says():
    import ast
    import inspect

    from diffusers import StableDiffusionXLPipeline

    class Pipe:
        calls = []

        def enable_group_offload(self, *args, **kwargs):
            self.calls.append((args, kwargs))

        def to(self, device):
            raise AssertionError("a group-offloaded pipeline is never moved with .to()")

    plan = recommend_memory_plan(Machine("6 GB GPU", "cuda", 32.0, 6.0), refiner=False)
    plan.place(Pipe(), "cuda")
    (args, kwargs), = Pipe.calls
    call = ast.parse(plan.code[0]).body[0].value
    assert kwargs == {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords} and args == ("cuda",)
    inspect.signature(StableDiffusionXLPipeline.enable_group_offload).bind(None, *args, **kwargs)  # the installed API
    class OnCpu:
        moved_to = None

        def to(self, device):
            self.moved_to = device

    assert plan.place(OnCpu(), "cpu").moved_to == "cpu", "on a CPU (a rehearsal of a T4) everything stays put"


# --- Few-step LoRAs (lesson 08's LCM-LoRA rung, lesson 14): counted with the UNet they go into ---

# diffusers' LCM-LoRA script's default targets (examples/consistency_distillation/train_lcm_distill_lora_sdxl.py)
LCM_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2", "conv1", "conv2",
               "conv_shortcut", "downsamplers.0.conv", "upsamplers.0.conv", "time_emb_proj"]


def test_the_few_step_loras_are_rank_64_on_the_lcm_scripts_layers_counted_by_peft_on_the_meta_device():
    from diffusers import UNet2DConditionModel
    from peft import LoraConfig

    from helpers.tiny.standins import real_config

    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(real_config("sdxl-base", "unet"))
        unet.add_adapter(LoraConfig(r=64, lora_alpha=64, target_modules=LCM_TARGETS))
    lora = {name: module for name, module in unet.named_modules() if ".lora_" in name}
    count = sum(p.numel() for module in lora.values() for p in module.parameters(recurse=False))
    assert sum(1 for name in lora if name.endswith("lora_A.default")) == 788
    assert PARAMETERS["lcm-lora-sdxl"]["lora"] == PARAMETERS["sdxl-lightning"]["lora"] == count == 196_751_360
    assert count * 2 / 1e6 == pytest.approx(393.5, abs=0.1), "the 394 MB fp16 files"
    largest = max(sum(p.numel() for p in module.parameters(recurse=False)) for module in lora.values())
    assert memory.LARGEST_LAYER["lcm-lora-sdxl"]["lora"] == memory.LARGEST_LAYER["sdxl-lightning"]["lora"] == largest


def test_a_lora_counts_in_the_unets_stage_with_no_working_memory_of_its_own():
    t4 = MACHINES["colab-t4"]
    base, lora = sum(PARAMETERS["sdxl-base"].values()) * 2 / GIB, PARAMETERS["lcm-lora-sdxl"]["lora"] * 2 / GIB  # 0.366 GiB
    alone = plan_memory(["sdxl-base", "lcm-lora-sdxl"], dtype=torch.float16, mode="full", machine=t4)
    assert alone.name == "everything on the GPU" and alone.gpu_gib == pytest.approx((base + lora + 3.5) * 1.1)
    assert alone.host_gib == pytest.approx(2.0 + lora), "the LoRA's file is read into host RAM; the base's are mapped"
    assert "lcm-lora-sdxl/lora 0.37" in str(alone) and "while the LoRA's file is read" in str(alone)
    offloaded = plan_memory(["sdxl-base", "lcm-lora-sdxl"], dtype=torch.float16, mode="full", machine=t4, placement="model CPU offload")
    unet = PARAMETERS["sdxl-base"]["unet"] * 2 / GIB
    assert offloaded.gpu_gib == pytest.approx((unet + lora + 1.5) * 1.1), "it moves with the UNet, adds no working memory"
    turns = plan_memory(["sdxl-base", "sdxl-refiner", "lcm-lora-sdxl"], dtype=torch.float16, mode="full", machine=t4)
    assert turns.name == "the UNets take turns on the GPU" and "text encoders + VAE 1.68 stay" in str(turns)
    assert "one UNet (largest 5.15)" in str(turns), "the base's UNet 4.78 + its LoRA 0.37"


def test_tiny_lora_files_count_their_weights_not_their_alpha_scalars():
    from diffusers import StableDiffusionXLPipeline

    from helpers import model_path

    parts = model_parameters(["sdxl-base", "lcm-lora-sdxl", "sdxl-lightning"], "tiny")
    assert set(parts) >= {"lcm-lora-sdxl/lora", "sdxl-lightning/lora"} and "lcm-lora-sdxl/unet" not in parts
    pipe = StableDiffusionXLPipeline.from_pretrained(model_path("sdxl-base", "tiny"), dtype=torch.float32)
    pipe.load_lora_weights(model_path("lcm-lora-sdxl", "tiny"))
    injected = sum(p.numel() for name, p in pipe.unet.named_parameters() if ".lora_" in name)
    assert parts["lcm-lora-sdxl/lora"] == injected > 0


def _sdxl_lora(rank):
    from helpers.tiny.standins import real_config

    return memory.count_lora_parameters(real_config("sdxl-base", "unet"), rank)


def test_a_rank_4_lora_on_sdxls_attention_projections_has_5_8_million_parameters():
    assert _sdxl_lora(4) == 5_806_080 and _sdxl_lora(8) == 2 * 5_806_080


def test_lora_training_at_1024_with_gradient_checkpointing_fits_a_free_colab_t4():
    plan = memory.plan_training_memory(["sdxl-base"], 1024, 1024, lora_parameters=_sdxl_lora(16), cached_pictures=6,
                                       machine=memory.MACHINES["colab-t4"], mode="full")
    assert plan.runs and plan.gpu_gib < 15 and plan.host_gib < 3
    assert any("gradient checkpointing" in line for line in plan.arithmetic)
    assert "unet.enable_gradient_checkpointing()" in plan.code


def test_lora_training_without_gradient_checkpointing_does_not_fit_a_t4():
    plan = memory.plan_training_memory(["sdxl-base"], 1024, 1024, lora_parameters=_sdxl_lora(16), gradient_checkpointing=False,
                                       machine=memory.MACHINES["colab-t4"], mode="full")
    assert not plan.runs
    with pytest.raises(memory.WontFitError, match="does not fit"):
        plan.require()


def test_lora_training_in_fp32_on_a_t4_is_refused_for_its_host_ram_copy():
    import torch

    plan = memory.plan_training_memory(["sdxl-base"], 1024, 1024, lora_parameters=_sdxl_lora(16), dtype=torch.float32,
                                       machine=memory.MACHINES["colab-t4"], mode="full")
    assert not plan.runs and plan.host_gib > 11


def test_lora_state_costs_16_bytes_a_parameter():
    plan = memory.plan_training_memory(["sdxl-base"], 1024, 1024, lora_parameters=2**30 // 16,
                                       machine=memory.MACHINES["a100-40gb"], mode="full")
    assert any("= 1.000 GiB" in line for line in plan.arithmetic)


def test_the_rehearsal_plans_training_for_the_real_size_and_logs_it(tmp_path, monkeypatch):
    log = tmp_path / "plans.jsonl"
    monkeypatch.setenv("SDXL_TUTORIAL_MACHINE", "colab-t4")
    monkeypatch.setenv("SDXL_TUTORIAL_PLAN_LOG", str(log))
    plan = memory.plan_training_memory(["sdxl-base"], 128, 128, lora_parameters=_sdxl_lora(16), mode="full", what="LoRA")
    assert "1024x1024" in plan.arithmetic[2] and plan.runs
    assert json.loads(log.read_text())["what"] == "LoRA"


def test_a_call_of_several_pictures_counts_the_unets_work_for_each_but_decodes_one_at_a_time():
    t4 = MACHINES["colab-t4"]
    one, two, eight = (plan_memory(("sdxl-base",), 1024, 1024, mode="full", machine=t4, pictures_per_call=n)
                       for n in (1, 2, 8))
    assert one.gpu_gib == two.gpu_gib, "up to 2 pictures a call the VAE's decode (one picture) needs the most"
    assert eight.gpu_gib > two.gpu_gib and "8 pictures a call" in str(eight)


def _lesson_10_full_pictures_per_call() -> int:
    """The lesson's own default, read from its settings cell: `pick(pictures_per_call, <tiny>, <full>)`."""
    import re
    from pathlib import Path

    notebook = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / "10_lora_fine_tuning.ipynb").read_text())
    source = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    return int(re.search(r"pick\(pictures_per_call, [^,]+, (\d+)\)", source).group(1))


def test_lesson_10_on_a_free_colab_t4_at_1024_counts_its_drawing_and_encoding_and_fits():
    pictures = _lesson_10_full_pictures_per_call()
    plan = memory.plan_training_memory(["sdxl-base"], 1024, 1024, lora_parameters=_sdxl_lora(16), cached_pictures=80,
                                       pictures_per_call=pictures, decoded_at_once=1, encoded_at_once=1,
                                       machine=MACHINES["colab-t4"], mode="full")
    assert plan.runs and plan.gpu_gib <= 12, f"{plan.gpu_gib:.1f} GiB: the T4 plan should keep a margin under 15"
    text = str(plan)
    assert f"drawing: {pictures} picture(s) a call at 1024x1024" in text and "encoded one at a time" in text
    assert "pipe.vae.enable_slicing()" in plan.code


def test_lesson_10s_old_calls_four_pictures_decoded_at_once_and_its_pictures_encoded_together_do_not_fit_a_t4():
    plan = memory.plan_training_memory(["sdxl-base"], 1024, 1024, lora_parameters=_sdxl_lora(16), cached_pictures=80,
                                       pictures_per_call=4, decoded_at_once=4, encoded_at_once=6,
                                       machine=MACHINES["colab-t4"], mode="full")
    assert not plan.runs and plan.gpu_gib > 20  # 4 x 3.5 GiB decoding, 6 x 2.5 GiB encoding, in fp32


def test_training_plans_take_the_largest_stage_not_their_sum():
    def plan(**counts):
        return memory.plan_training_memory(["sdxl-base"], 1024, 1024, lora_parameters=_sdxl_lora(16),
                                           machine=MACHINES["a100-40gb"], mode="full", **counts)

    one = plan(pictures_per_call=1)
    assert plan(pictures_per_call=2).gpu_gib == one.gpu_gib, "two pictures' UNet work (3.0) < one decode (3.5)"
    assert plan(pictures_per_call=4).gpu_gib > one.gpu_gib
    assert plan(decoded_at_once=2).gpu_gib > one.gpu_gib and plan(encoded_at_once=2).gpu_gib > one.gpu_gib


def test_a_picture_count_must_be_a_whole_number():
    with pytest.raises(ValueError, match="pictures_per_call"):
        plan_memory(["sdxl-base"], 1024, 1024, mode="full", machine=MACHINES["colab-t4"], pictures_per_call=1.5)


def test_decoding_a_call_at_once_costs_a_picture_of_vae_work_each():
    t4 = MACHINES["colab-t4"]
    sliced = plan_memory(["sdxl-base"], 1024, 1024, mode="full", machine=t4, pictures_per_call=2)
    at_once = plan_memory(["sdxl-base"], 1024, 1024, mode="full", machine=t4, pictures_per_call=2, decoded_at_once=2)
    assert at_once.gpu_gib == pytest.approx(sliced.gpu_gib + 3.5 * memory.MARGIN)


def test_a_recorded_call_is_planned_again_as_its_plan_was(tmp_path, monkeypatch):
    log = tmp_path / "plans.jsonl"
    monkeypatch.setenv("SDXL_TUTORIAL_MACHINE", "colab-t4")
    monkeypatch.setenv("SDXL_TUTORIAL_PLAN_LOG", str(log))
    plan = plan_memory(["sdxl-base", "sdxl-refiner"], 128, 128, mode="full", what="lesson 06", pictures_per_call=2)
    record = json.loads(log.read_text())
    assert record["arguments"]["placement"] == plan.name == "the UNets take turns on the GPU"
    assert record["arguments"]["height"] == 1024 and record["pid"] > 0
    monkeypatch.delenv("SDXL_TUTORIAL_MACHINE")
    t4 = MACHINES["colab-t4"]
    same = memory.plan_for_call(record, {"call": "StableDiffusionXLPipeline", "pictures": 2, "height": 128, "width": 128}, t4, 8)
    assert same.name == plan.name and same.gpu_gib <= plan.gpu_gib + 1e-9
    decode = memory.plan_for_call(record, {"call": "AutoencoderKL.decode", "decoded_at_once": 3, "height": 128, "width": 128}, t4, 8)
    assert decode.gpu_gib > plan.gpu_gib, "three pictures decoded at once in fp32 need more than the plan's one"
    wide = memory.plan_for_call(record, {"call": "StableDiffusionXLPipeline", "pictures": 1, "height": 152, "width": 104}, t4, 8)
    assert "at 832x1216" in str(wide) and wide.gpu_gib <= plan.gpu_gib, "a bucket of 1 megapixel is planned at its own size"


@pytest.mark.filterwarnings("ignore::FutureWarning")

def _recording(tmp_path, monkeypatch, *pipelines):
    """Switch on the rehearsal's call recording for `pipelines` and the VAE, into a log in tmp_path (undone after the test)."""
    import diffusers

    for cls, name in (*((pipeline, "__call__") for pipeline in pipelines), (diffusers.AutoencoderKL, "encode"),
                      (diffusers.AutoencoderKL, "decode")):
        monkeypatch.setattr(cls, name, getattr(cls, name))  # put back after the test
    log = tmp_path / "plans.jsonl"
    monkeypatch.setenv("SDXL_TUTORIAL_PLAN_LOG", str(log))
    assert memory.record_calls()
    return log

def test_the_hooks_record_a_pipeline_call_and_each_vae_decode(tmp_path, monkeypatch):
    import diffusers
    from diffusers import StableDiffusionXLPipeline

    from helpers import model_path

    log = _recording(tmp_path, monkeypatch, StableDiffusionXLPipeline, diffusers.StableDiffusionXLImg2ImgPipeline,
                     diffusers.StableDiffusionXLInpaintPipeline)
    pipe = StableDiffusionXLPipeline.from_pretrained(model_path("sdxl-base", "tiny"), dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    call = dict(prompt="a red circle", num_inference_steps=2, height=32, width=24, num_images_per_prompt=2)
    pipe(**call)
    pipe.vae.enable_slicing()
    pipe(**call, output_type="np")
    with torch.no_grad():
        pipe.vae.encode(x=torch.zeros(3, 3, 16, 16))  # by keyword, three pictures, sliced: one at a time
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["call"], r["pictures"], r["decoded_at_once"], r["encoded_at_once"], r["height"], r["width"]) for r in records] == [
        ("AutoencoderKL.decode", 0, 2, 0, 32, 24), ("StableDiffusionXLPipeline", 2, 0, 0, 32, 24),
        ("AutoencoderKL.decode", 0, 1, 0, 32, 24), ("StableDiffusionXLPipeline", 2, 0, 0, 32, 24),
        ("AutoencoderKL.encode", 0, 0, 1, 16, 16)]


# --- Lesson 12 (the inpainting UNet beside the base) and lesson 13 (the base with a ControlNet) ---


def test_the_new_repositories_parameter_counts_are_their_real_configs_built_on_the_meta_device():
    from diffusers import ControlNetModel, UNet2DConditionModel

    from helpers.tiny.standins import real_config

    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(real_config("sdxl-inpaint", "unet"))
        controlnet = ControlNetModel.from_config(real_config("controlnet-canny", "config"))
    assert PARAMETERS["sdxl-inpaint"]["unet"] == sum(p.numel() for p in unet.parameters())
    assert PARAMETERS["controlnet-canny"]["controlnet"] == sum(p.numel() for p in controlnet.parameters())
    for part in ("text_encoder", "text_encoder_2", "vae"):
        assert PARAMETERS["sdxl-inpaint"][part] == PARAMETERS["sdxl-base"][part]


def test_the_inpainting_unet_beside_the_base_is_planned_as_a_second_unet_sharing_the_bases_encoders_and_vae():
    plan = plan_memory(["sdxl-base", "sdxl-inpaint"], dtype=torch.float16, mode="full", machine=MACHINES["colab-t4"])
    parts = json.loads(json.dumps(list(model_parameters(["sdxl-base", "sdxl-inpaint"], "full"))))
    assert parts == ["sdxl-base/text_encoder", "sdxl-base/text_encoder_2", "sdxl-base/unet", "sdxl-base/vae", "sdxl-inpaint/unet"]
    assert plan.name == "the UNets take turns on the GPU" and plan.host_gib <= 11 and plan.gpu_gib <= 15


def test_the_base_with_a_controlnet_fits_a_free_colab_t4_with_both_on_the_gpu_at_once():
    plan = plan_memory(["sdxl-base", "controlnet-canny"], dtype=torch.float16, mode="full", machine=MACHINES["colab-t4"])
    weights = (sum(PARAMETERS["sdxl-base"].values()) + PARAMETERS["controlnet-canny"]["controlnet"]) * 2 / GIB
    assert plan.name == "everything on the GPU" and plan.offload is None
    assert f"= {weights:.2f} GiB of float16 weights" in str(plan) and "controlnet-canny/controlnet 2.33" in str(plan)
    assert plan.gpu_gib <= 15 and plan.host_gib <= 11


def test_a_controlnet_runs_with_the_unet_so_their_working_memory_adds_up():
    t4 = MACHINES["colab-t4"]
    alone = plan_memory(["sdxl-base"], 2048, 2048, dtype=torch.float16, mode="full", machine=t4, placement="sequential CPU offload")
    steered = plan_memory(["sdxl-base", "controlnet-canny"], 2048, 2048, dtype=torch.float16, mode="full", machine=t4,
                          placement="sequential CPU offload")
    # at 2048x2048 tiling keeps the VAE at one tile, so the largest stage is the UNet's step, with the ControlNet in it
    unet_step = (memory.WORKING_GIB["unet"] + memory.WORKING_GIB["controlnet"]) * 4
    assert f"({memory.SEQUENTIAL_GPU_GIB} + {unet_step:.2f}) x {memory.MARGIN}" in str(steered)
    assert steered.gpu_gib - alone.gpu_gib == pytest.approx(memory.WORKING_GIB["controlnet"] * 4 * memory.MARGIN)


def test_model_offload_keeps_the_controlnet_on_the_gpu_beside_the_unet_never_taking_turns():
    consumer = MACHINES["consumer-8gb"]
    plan = plan_memory(["sdxl-base", "controlnet-canny"], dtype=torch.float16, mode="full", machine=Machine("12 GB GPU", "cuda", 32.0, 12.0))
    assert plan.offload == "model"
    unet, controlnet = (PARAMETERS[name][part] * 2 / GIB for name, part in (("sdxl-base", "unet"), ("controlnet-canny", "controlnet")))
    work = memory.WORKING_GIB["unet"] + memory.WORKING_GIB["controlnet"]
    assert plan.gpu_gib == pytest.approx((unet + controlnet + work) * memory.MARGIN)
    assert "turns" not in str(plan_memory(["sdxl-base", "controlnet-canny"], dtype=torch.float16, mode="full", machine=consumer))


def test_tiny_plans_count_the_tiny_controlnet_and_inpainting_unet_from_their_files(tmp_path, monkeypatch):
    monkeypatch.setenv("SDXL_TUTORIAL_CACHE", str(tmp_path))
    parts = model_parameters(["sdxl-base", "sdxl-inpaint", "controlnet-canny"], "tiny")
    assert set(parts) == {"sdxl-base/text_encoder", "sdxl-base/text_encoder_2", "sdxl-base/unet", "sdxl-base/vae",
                          "sdxl-inpaint/unet", "controlnet-canny/controlnet"}
    assert parts["sdxl-inpaint/unet"] - parts["sdxl-base/unet"] == 5 * 32 * 3 * 3  # conv_in's 5 more input channels
    assert 1_000_000 < parts["controlnet-canny/controlnet"] < parts["sdxl-base/unet"]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_the_hooks_record_a_controlnet_pipeline_call(tmp_path, monkeypatch):
    from diffusers import ControlNetModel, StableDiffusionXLControlNetPipeline

    from helpers import model_path

    log = _recording(tmp_path, monkeypatch, StableDiffusionXLControlNetPipeline)
    controlnet = ControlNetModel.from_pretrained(model_path("controlnet-canny", "tiny"), dtype=torch.float32)
    pipe = StableDiffusionXLControlNetPipeline.from_pretrained(model_path("sdxl-base", "tiny"), controlnet=controlnet, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    pipe("a red circle", image=torch.zeros(1, 3, 32, 32), num_inference_steps=2, num_images_per_prompt=2)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["call"], r["pictures"], r["height"], r["width"]) for r in records][-1] == ("StableDiffusionXLControlNetPipeline", 2, 32, 32)
