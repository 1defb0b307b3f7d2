"""helpers.tiny.standins: the real configs, and stand-ins that load exactly like the real models."""

import json

import numpy as np
import pytest
import torch
from diffusers import (
    AutoencoderKL,
    AutoPipelineForInpainting,
    ControlNetModel,
    DDPMScheduler,
    EulerDiscreteScheduler,
    StableDiffusionXLControlNetPipeline,
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
    UNet2DModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

import helpers
from helpers.tiny import standins
from helpers.tiny.standins import TINY_SIZES, ensure_standin, real_config, tiny_config

LOAD = dict(variant="fp16", use_safetensors=True, dtype=torch.float32)  # the lessons' own call


def count(model):
    return sum(parameter.numel() for parameter in model.parameters())


# --- The committed configs are the real ones: they rebuild the published parameter counts ---


@pytest.mark.parametrize(
    "model, component, expected",
    [
        ("sdxl-base", "unet", 2_567_463_684),
        ("sdxl-refiner", "unet", 2_259_526_660),
        ("sdxl-base", "vae", 83_653_863),
        ("sdxl-base", "text_encoder", 123_060_480),
        ("sdxl-base", "text_encoder_2", 694_659_840),
        ("sdxl-inpaint", "unet", 2_567_463_684 + 5 * 320 * 3 * 3),  # conv_in takes 5 more channels
        ("controlnet-canny", "config", 1_251_014_160),
    ],
)
def test_real_configs_have_the_published_parameter_counts(model, component, expected):
    config = real_config(model, component)
    with torch.device("meta"):
        if model == "controlnet-canny":
            built = ControlNetModel.from_config(config)
        elif component == "unet":
            built = UNet2DConditionModel.from_config(config)
        elif component == "vae":
            built = AutoencoderKL.from_config(config)
        elif component == "text_encoder":
            built = CLIPTextModel(CLIPTextConfig(**config))
        else:
            built = CLIPTextModelWithProjection(CLIPTextConfig(**config))
    assert count(built) == expected


def test_base_and_refiner_share_the_vae_and_text_encoder_2_configs():
    for component in ("vae", "text_encoder_2", "scheduler"):
        assert real_config("sdxl-base", component) == real_config("sdxl-refiner", component)


def test_the_inpainting_repository_is_sdxl_base_with_a_9_channel_unet():
    for component in ("text_encoder", "text_encoder_2", "vae", "scheduler"):
        assert real_config("sdxl-inpaint", component) == real_config("sdxl-base", component)
    unet = real_config("sdxl-inpaint", "unet")
    assert unet["in_channels"] == 9 and {**unet, "in_channels": 4} == real_config("sdxl-base", "unet")
    index = json.loads((standins.CONFIGS / "sdxl-inpaint" / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionXLInpaintPipeline" and index["requires_aesthetics_score"] is False


def test_the_controlnet_config_copies_the_base_unets_encoder_settings():
    controlnet, unet = real_config("controlnet-canny", "config"), real_config("sdxl-base", "unet")
    shared = set(controlnet) & set(unet) - {"_class_name", "_diffusers_version"}
    assert {key for key in shared if controlnet[key] != unet[key]} == set()
    assert controlnet["conditioning_channels"] == 3 and controlnet["controlnet_conditioning_channel_order"] == "rgb"


# --- The stand-ins change sizes only ---


@pytest.mark.parametrize("model, component", [(m, c) for m, parts in TINY_SIZES.items() for c in parts])
def test_tiny_configs_keep_every_real_key_and_block_type(model, component):
    real, tiny = real_config(model, component), tiny_config(model, component)
    assert set(tiny) == set(real)
    for key in ("down_block_types", "up_block_types"):
        if key in real:
            assert set(tiny[key]) <= set(real[key]), "no new kinds of block"
    changed = {key for key in real if real[key] != tiny[key]}
    assert changed <= set(TINY_SIZES[model][component])
    assert all(key not in changed for key in ("_class_name", "architectures", "addition_embed_type", "hidden_act"))


def test_tiny_unet_conditioning_sizes_add_up_like_sdxl():
    base, refiner = tiny_config("sdxl-base", "unet"), tiny_config("sdxl-refiner", "unet")
    encoder_1, encoder_2 = tiny_config("sdxl-base", "text_encoder"), tiny_config("sdxl-base", "text_encoder_2")
    assert base["cross_attention_dim"] == encoder_1["hidden_size"] + encoder_2["hidden_size"]
    assert refiner["cross_attention_dim"] == encoder_2["hidden_size"]
    time_ids = base["addition_time_embed_dim"]
    assert base["projection_class_embeddings_input_dim"] == encoder_2["projection_dim"] + 6 * time_ids
    assert refiner["projection_class_embeddings_input_dim"] == encoder_2["projection_dim"] + 5 * time_ids


def test_a_size_for_a_key_the_real_config_lacks_is_refused(monkeypatch):
    monkeypatch.setitem(TINY_SIZES["ddpm"], "config", {"not_a_real_key": 1})
    with pytest.raises(KeyError, match="not_a_real_key"):
        tiny_config("ddpm", "config")


# --- The stand-ins load through the real models' calls ---


def test_base_standin_loads_as_an_sdxl_pipeline_with_the_fp16_variant(tiny_cache):
    pipe = StableDiffusionXLPipeline.from_pretrained(helpers.model_path("sdxl-base-random", "tiny"), **LOAD)
    assert isinstance(pipe.text_encoder, CLIPTextModel)
    assert isinstance(pipe.text_encoder_2, CLIPTextModelWithProjection)
    assert isinstance(pipe.scheduler, EulerDiscreteScheduler)
    assert pipe.unet.config.addition_embed_type == "text_time"
    assert pipe.config.force_zeros_for_empty_prompt is True
    assert {pipe.unet.dtype, pipe.vae.dtype, pipe.text_encoder.dtype, pipe.text_encoder_2.dtype} == {torch.float32}
    assert pipe.default_sample_size * pipe.vae_scale_factor == helpers.defaults("sdxl-base-random").height


def test_base_standin_tokenizers_pad_like_sdxls(tiny_cache):
    pipe = StableDiffusionXLPipeline.from_pretrained(helpers.model_path("sdxl-base-random", "tiny"), **LOAD)
    assert pipe.tokenizer.pad_token_id == 49407 and pipe.tokenizer_2.pad_token_id == 0
    assert pipe.tokenizer.model_max_length == pipe.tokenizer_2.model_max_length == 77
    assert len(pipe.tokenizer) == 49408


def test_base_standin_generates_an_image_of_the_default_size(tiny_cache):
    pipe = StableDiffusionXLPipeline.from_pretrained(helpers.model_path("sdxl-base-random", "tiny"), **LOAD)
    image = pipe("a red circle", num_inference_steps=2, generator=helpers.generator(0)).images[0]
    assert image.size == (64, 64)


def test_refiner_standin_has_the_refiners_structure(tiny_cache):
    pipe = StableDiffusionXLImg2ImgPipeline.from_pretrained(helpers.model_path("sdxl-refiner-random", "tiny"), **LOAD)
    assert pipe.text_encoder is None and pipe.tokenizer is None
    assert pipe.config.requires_aesthetics_score is True
    assert pipe.config.force_zeros_for_empty_prompt is False
    assert pipe.unet.config.cross_attention_dim == pipe.text_encoder_2.config.hidden_size


def test_refiner_standin_shares_the_bases_text_encoder_2_and_vae_files(tiny_cache):
    refiner = ensure_standin("sdxl-refiner-random", tiny_cache)
    base = ensure_standin("sdxl-base-random", tiny_cache)
    for component in ("text_encoder_2", "vae"):
        for file in (base / component).iterdir():
            assert (refiner / component / file.name).read_bytes() == file.read_bytes()


def test_refiner_accepts_the_bases_own_text_encoder_2_and_vae(tiny_cache):
    base = StableDiffusionXLPipeline.from_pretrained(helpers.model_path("sdxl-base-random", "tiny"), **LOAD)
    refiner = StableDiffusionXLImg2ImgPipeline.from_pretrained(
        helpers.model_path("sdxl-refiner-random", "tiny"), text_encoder_2=base.text_encoder_2, vae=base.vae, **LOAD
    )
    assert refiner.vae is base.vae and refiner.text_encoder_2 is base.text_encoder_2
    latents = base("a red circle", num_inference_steps=4, denoising_end=0.75, output_type="latent", generator=helpers.generator(0)).images
    image = refiner("a red circle", image=latents, num_inference_steps=4, denoising_start=0.75).images[0]
    assert image.size == (64, 64)


def test_sdxl_standins_have_the_real_fp16_variant_file_names(tiny_cache):
    from safetensors.torch import load_file

    folder = ensure_standin("sdxl-base-random", tiny_cache)
    for component, weights in [("unet", "diffusion_pytorch_model"), ("vae", "diffusion_pytorch_model"),
                               ("text_encoder", "model"), ("text_encoder_2", "model")]:
        fp16 = load_file(folder / component / f"{weights}.fp16.safetensors")
        assert {tensor.dtype for tensor in fp16.values()} == {torch.float16}
        assert (folder / component / f"{weights}.safetensors").is_file()


def test_sdxl_standins_keep_the_real_model_index(tiny_cache):
    for name, real in [("sdxl-base-random", "sdxl-base"), ("sdxl-refiner-random", "sdxl-refiner")]:
        built = json.loads((ensure_standin(name, tiny_cache) / "model_index.json").read_text())
        assert built == json.loads((standins.CONFIGS / real / "model_index.json").read_text())


def test_inpaint_standin_loads_as_the_inpainting_pipeline_with_a_9_channel_unet(tiny_cache):
    folder = helpers.model_path("sdxl-inpaint", "tiny")
    pipe = AutoPipelineForInpainting.from_pretrained(folder, **LOAD)
    assert isinstance(pipe, StableDiffusionXLInpaintPipeline)
    assert pipe.unet.config.in_channels == 9 and pipe.unet.config.out_channels == 4
    assert pipe.config.requires_aesthetics_score is False and pipe.config.force_zeros_for_empty_prompt is True
    assert json.loads((ensure_standin("sdxl-inpaint", tiny_cache) / "model_index.json").read_text()) == json.loads(
        (standins.CONFIGS / "sdxl-inpaint" / "model_index.json").read_text())


def test_inpaint_standin_has_the_real_layout_and_only_the_trained_sizes_differ(tiny_cache):
    from helpers.tiny.train import TRAINED_SIZES

    folder = ensure_standin("sdxl-inpaint", tiny_cache)
    for component, weights in [("unet", "diffusion_pytorch_model"), ("vae", "diffusion_pytorch_model"),
                               ("text_encoder", "model"), ("text_encoder_2", "model")]:
        assert (folder / component / f"{weights}.fp16.safetensors").is_file() and (folder / component / f"{weights}.safetensors").is_file()
        real = real_config("sdxl-inpaint", component)
        built = json.loads((folder / component / "config.json").read_text())
        changed = {key for key in real if key in built and built[key] != real[key]} - {"_diffusers_version", "_name_or_path", "dtype", "transformers_version"}
        measured = {"scaling_factor"} if component == "vae" else set()  # 1 / std of the latents, as SDXL's was found
        assert changed <= set(TRAINED_SIZES["sdxl-base"][component]) | measured, component
    assert (folder / "tokenizer" / "vocab.json").is_file() and (folder / "tokenizer_2" / "merges.txt").is_file()
    base = ensure_standin("sdxl-base", tiny_cache)
    for component in ("text_encoder", "text_encoder_2", "vae"):  # the inpainting repository's are the base's
        for file in (base / component).iterdir():
            assert (folder / component / file.name).read_bytes() == file.read_bytes()


def test_controlnet_standin_loads_with_the_real_call_and_keeps_the_real_keys(tiny_cache):
    folder = helpers.model_path("controlnet-canny", "tiny")
    controlnet = ControlNetModel.from_pretrained(folder, variant="fp16", dtype=torch.float16)  # full mode's very call
    assert controlnet.dtype == torch.float16
    assert sorted(path.name for path in ensure_standin("controlnet-canny", tiny_cache).iterdir() if path.name[0] != ".") == [
        "config.json", "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.safetensors"]
    real = real_config("controlnet-canny", "config")
    built = json.loads((ensure_standin("controlnet-canny", tiny_cache) / "config.json").read_text())
    assert set(built) == set(real)
    changed = {key for key in real if built[key] != real[key]}
    assert changed <= {*standins.CONTROLNET_SIZE_KEYS, "conditioning_embedding_out_channels"}
    # the tiny VAE halves a picture once: the conditioning embedding halves it once too
    assert len(built["conditioning_embedding_out_channels"]) == 2


def test_controlnet_standin_runs_in_the_sdxl_controlnet_pipeline(tiny_cache):
    controlnet = ControlNetModel.from_pretrained(helpers.model_path("controlnet-canny", "tiny"), variant="fp16", dtype=torch.float32)
    pipe = StableDiffusionXLControlNetPipeline.from_pretrained(helpers.model_path("sdxl-base", "tiny"), controlnet=controlnet, **LOAD)
    control = torch.zeros(1, 3, 32, 32)
    image = pipe("a red circle", image=control, num_inference_steps=2, generator=helpers.generator(0)).images[0]
    assert image.size == (32, 32)


def test_ddpm_standin_keeps_the_flat_layout_of_ddpm_cat_256(tiny_cache):
    path = helpers.model_path("ddpm-random", "tiny")
    unet = UNet2DModel.from_pretrained(path, use_safetensors=True, dtype=torch.float32)
    scheduler = DDPMScheduler.from_pretrained(path)
    assert unet.config.in_channels == 3 and unet.config.sample_size == helpers.defaults("ddpm-random", "tiny").height
    assert scheduler.config.beta_schedule == "linear" and scheduler.config.clip_sample is True
    noise = torch.randn(1, 3, 32, 32, generator=helpers.generator(0))
    assert unet(noise, 10).sample.shape == noise.shape


# --- The cache ---


def test_standins_are_built_once_and_reused(tiny_cache):
    folder = ensure_standin("ddpm-random", tiny_cache)
    weights = folder / "diffusion_pytorch_model.safetensors"
    before = weights.stat().st_mtime_ns
    assert ensure_standin("ddpm-random", tiny_cache) == folder
    assert weights.stat().st_mtime_ns == before


def test_standins_are_the_same_on_every_build(tmp_path, tiny_cache):
    first = ensure_standin("ddpm-random", tiny_cache) / "diffusion_pytorch_model.safetensors"
    second = ensure_standin("ddpm-random", tmp_path) / "diffusion_pytorch_model.safetensors"
    assert first.read_bytes() == second.read_bytes()


def test_a_stale_or_unfinished_folder_is_rebuilt(tmp_path):
    folder = ensure_standin("ddpm-random", tmp_path)
    (folder / ".complete").write_text("an older build")
    (folder / "config.json").unlink()
    assert (ensure_standin("ddpm-random", tmp_path) / "config.json").is_file()


def test_unknown_standin_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Valid stand-ins"):
        ensure_standin("sdxl-turbo-random", tmp_path)


def test_missing_trained_weights_say_how_to_get_them_back(tmp_path, monkeypatch):
    monkeypatch.setattr(standins, "CHECKPOINTS", tmp_path / "nowhere")
    standins._fingerprint.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="git checkout -- helpers/tiny/checkpoints.*helpers.tiny.train"):
            ensure_standin("sdxl-base", tmp_path / "cache")
    finally:
        standins._fingerprint.cache_clear()



def test_a_second_builder_waits_for_the_first_and_reuses_its_folder(tmp_path, monkeypatch):
    # Two lessons open at once (or two test workers) on an empty cache: one builds, the other waits for it
    # instead of deleting the folder the first one is loading from.
    import threading

    from filelock import FileLock

    builds = []
    real_build = standins._build
    monkeypatch.setattr(standins, "_build", lambda *args: builds.append(args[0]) or real_build(*args))
    lock = FileLock(str(tmp_path / ".ddpm-random.lock"))
    lock.acquire()  # the first builder is at work
    waiting = threading.Thread(target=ensure_standin, args=("ddpm-random", tmp_path))
    waiting.start()
    waiting.join(timeout=1.0)
    assert waiting.is_alive() and not builds, "the second builder waits while the first holds the lock"
    standins._build("ddpm-random", tmp_path, tmp_path / "ddpm-random", standins._fingerprint())  # the first finishes
    lock.release()
    waiting.join(timeout=30)
    assert not waiting.is_alive() and builds == ["ddpm-random"], "the second found the folder built and built nothing"
    assert UNet2DModel.from_pretrained(tmp_path / "ddpm-random", dtype=torch.float32) is not None


# --- The trained stand-ins do what their real models do (measured in docs/maintaining.md; thresholds with margin) ---


def test_the_controlnet_puts_the_object_where_the_edges_are_and_without_it_the_object_goes_anywhere(tiny_cache):
    # measured over these 4 seeds at 10 steps: IoU 0.86 with the control, 0.11 with its scale at 0 (24 held-out
    # pictures at 20 steps: 0.88 against 0.19, centre error 0.5 px against 9.5)
    from helpers.tiny.shapes import foreground_mask
    from helpers.tiny.train_controlnet import placed

    controlnet = ControlNetModel.from_pretrained(helpers.model_path("controlnet-canny", "tiny"), variant="fp16", dtype=torch.float32)
    pipe = StableDiffusionXLControlNetPipeline.from_pretrained(helpers.model_path("sdxl-base", "tiny"), controlnet=controlnet, **LOAD)
    pipe.set_progress_bar_config(disable=True)
    overlap = {1.0: [], 0.0: []}
    for seed in range(4):
        source = placed(np.random.default_rng(seed + 1000))
        for scale, found in overlap.items():
            image = pipe(source.caption, image=helpers.edge_map(source.image), controlnet_conditioning_scale=scale,
                         num_inference_steps=10, generator=helpers.generator(seed)).images[0]
            drawn, wanted = foreground_mask(image), foreground_mask(source.image)
            found.append((drawn & wanted).sum() / max(1, (drawn | wanted).sum()))
    assert np.mean(overlap[1.0]) > 0.6 and np.mean(overlap[1.0]) > np.mean(overlap[0.0]) + 0.4, overlap


def test_the_inpainting_model_paints_the_asked_colour_into_the_mask(tiny_cache):
    # measured over these 6 seeds at 10 steps: 6 of 6 (24 held-out pictures at 20 steps: colour and shape 23/24,
    # as the base's blending)
    from PIL import Image

    from helpers.tiny import shapes
    from helpers.tiny.train_inpaint import random_mask

    pipe = AutoPipelineForInpainting.from_pretrained(helpers.model_path("sdxl-inpaint", "tiny"), **LOAD)
    pipe.set_progress_bar_config(disable=True)
    right = 0
    for seed in range(6):
        rng = np.random.default_rng(seed + 2000)
        source = shapes.plain(rng)
        colour = next(name for name in ("blue", "orange", "green") if name != source.colour)
        mask = random_mask(rng, shapes.foreground_mask(source.image), "object")  # a box around the object
        image = pipe(shapes.caption(colour, source.shape), image=source.image, mask_image=Image.fromarray(mask.astype(np.uint8) * 255),
                     strength=1.0, num_inference_steps=10, generator=helpers.generator(seed)).images[0]
        region = np.where(mask[..., None] > 0.5, np.asarray(image), np.uint8([240, 240, 235]))  # only what was painted
        right += shapes.object_colour(Image.fromarray(region.astype(np.uint8))) == colour
    assert right >= 4, f"the asked colour in {right} of 6 masks"


# --- The few-step LoRAs (lesson 14): the LoRA helpers/tiny/train_lcm.py distils, under each real repository's file name


LORA_FILES = {"lcm-lora-sdxl": "pytorch_lora_weights.safetensors", "sdxl-lightning": "sdxl_lightning_4step_lora.safetensors"}


@pytest.mark.parametrize("name", sorted(LORA_FILES))
def test_lora_standins_hold_the_real_file_in_kohya_style_keys_fp16_with_alphas(name, tiny_cache):
    from safetensors.torch import load_file

    folder = ensure_standin(name, tiny_cache)
    assert sorted(path.name for path in folder.iterdir() if path.name[0] != ".") == [LORA_FILES[name]]
    weights = load_file(folder / LORA_FILES[name])
    assert {tensor.dtype for tensor in weights.values()} == {torch.float16}
    layers = {key.split(".")[0] for key in weights}
    assert all(layer.startswith("lora_unet_") for layer in layers)
    assert set(weights) == {f"{layer}.{part}" for layer in layers for part in ("lora_down.weight", "lora_up.weight", "alpha")}
    for layer in layers:  # alpha = rank: the scale alpha/rank is 1
        assert weights[f"{layer}.alpha"].item() == weights[f"{layer}.lora_down.weight"].shape[0]


def _unet_output(unet):
    generator = torch.Generator().manual_seed(0)
    config = unet.config
    latents = torch.randn(1, config.in_channels, 4, 4, generator=generator)
    text = torch.randn(1, 77, config.cross_attention_dim, generator=generator)
    pooled = torch.randn(1, config.projection_class_embeddings_input_dim - 6 * config.addition_time_embed_dim, generator=generator)
    time_ids = torch.tensor([[32.0, 32, 0, 0, 32, 32]])
    with torch.no_grad():
        return unet(latents, 500, encoder_hidden_states=text, added_cond_kwargs={"text_embeds": pooled, "time_ids": time_ids}).sample


@pytest.mark.parametrize("name", sorted(LORA_FILES))
def test_lora_standins_load_on_every_targeted_layer_of_the_tiny_base_and_change_its_output(name, tiny_cache):
    from peft import LoraConfig

    from helpers.tiny.train_lcm import TARGET_MODULES

    pipe = StableDiffusionXLPipeline.from_pretrained(helpers.model_path("sdxl-base", "tiny"), **LOAD)
    with torch.device("meta"):  # the layers the LCM-LoRA's target list picks out of the tiny UNet
        targets = UNet2DConditionModel.from_config(pipe.unet.config)
        targets.add_adapter(LoraConfig(r=8, target_modules=TARGET_MODULES))
    targeted = sum(1 for module in targets.modules() if hasattr(module, "lora_A"))
    before = _unet_output(pipe.unet)
    # lesson 14's calls: the Lightning repository holds many files, so its LoRA is named
    options = {"weight_name": LORA_FILES[name]} if name == "sdxl-lightning" else {}
    pipe.load_lora_weights(helpers.model_path(name, "tiny"), adapter_name="few-step", **options)
    adapted = [module for module in pipe.unet.modules() if "few-step" in getattr(module, "lora_A", {})]
    assert len(adapted) == targeted == 129
    assert {module.scaling["few-step"] for module in adapted} == {1.0}
    assert (_unet_output(pipe.unet) - before).abs().max() > 1e-2
