"""helpers.models: the mode, the catalogue, defaults, and the full-mode offline message."""

import warnings
from pathlib import Path

import pytest

import helpers
from helpers import models
from helpers.tiny import shapes


@pytest.fixture
def on_cpu(monkeypatch):
    monkeypatch.setattr(models, "pick_device", lambda: "cpu")


@pytest.fixture
def on_gpu(monkeypatch):
    monkeypatch.setattr(models, "pick_device", lambda: "cuda")


def test_auto_mode_is_tiny_on_a_cpu(monkeypatch, on_cpu):
    monkeypatch.delenv("SDXL_TUTORIAL_MODE", raising=False)
    assert helpers.current_mode() == "tiny"
    assert "no CUDA or MPS GPU" in helpers.mode_reason()


def test_auto_mode_is_full_on_a_gpu(monkeypatch, on_gpu):
    monkeypatch.setenv("SDXL_TUTORIAL_MODE", "auto")
    assert helpers.current_mode() == "full"
    assert "CUDA GPU was found" in helpers.mode_reason()


def test_the_argument_wins_over_the_environment(monkeypatch, on_gpu):
    monkeypatch.setenv("SDXL_TUTORIAL_MODE", "full")
    assert helpers.current_mode("tiny") == "tiny"
    assert "the `mode` parameter" in helpers.mode_reason("tiny")


def test_mode_is_case_and_space_tolerant(on_gpu):
    assert helpers.current_mode(" Full ") == "full"


def test_unknown_mode_lists_the_valid_ones(monkeypatch):
    with pytest.raises(ValueError, match="Unknown mode 'huge'.*tiny, full, auto"):
        helpers.current_mode("huge")
    monkeypatch.setenv("SDXL_TUTORIAL_MODE", "small")
    with pytest.raises(ValueError, match="SDXL_TUTORIAL_MODE"):
        helpers.current_mode()


def test_full_mode_on_a_cpu_warns_that_it_is_slow(monkeypatch, on_cpu):
    monkeypatch.setattr(models, "_warned_full_on_cpu", False)
    with pytest.warns(UserWarning, match="many minutes per image"):
        assert helpers.current_mode("full") == "full"


def test_full_mode_returns_the_hub_ids(monkeypatch, on_gpu):
    monkeypatch.setattr(models, "_check_hub_reachable", lambda name, entry: None)
    assert helpers.model_path("sdxl-base", "full") == "stabilityai/stable-diffusion-xl-base-1.0"
    assert helpers.model_path("sdxl-refiner", "full") == "stabilityai/stable-diffusion-xl-refiner-1.0"
    assert helpers.model_path("ddpm", "full") == "google/ddpm-cat-256"
    assert helpers.model_path("sdxl-inpaint", "full") == "diffusers/stable-diffusion-xl-1.0-inpainting-0.1"
    assert helpers.model_path("controlnet-canny", "full") == "diffusers/controlnet-canny-sdxl-1.0"
    assert helpers.model_path("lcm-lora-sdxl", "full") == "latent-consistency/lcm-lora-sdxl"
    assert helpers.model_path("sdxl-lightning", "full") == "ByteDance/SDXL-Lightning"


def test_unknown_model_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown model name 'sdxl-turbo'.*sdxl-base, sdxl-refiner, ddpm"):
        helpers.model_path("sdxl-turbo", "tiny")


def test_full_mode_offline_without_cached_weights_says_what_to_do(monkeypatch, tmp_path, on_gpu):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(helpers.ModelUnavailableError) as error:
        helpers.model_path("sdxl-base", "full")
    message = str(error.value)
    assert "stabilityai/stable-diffusion-xl-base-1.0" in message
    assert "not in your Hugging Face cache" in message
    assert "SDXL_TUTORIAL_MODE=tiny" in message and "mode = 'tiny'" in message


def test_full_mode_offline_uses_weights_already_in_the_cache(monkeypatch, tmp_path, on_gpu):
    from huggingface_hub import constants

    snapshot = tmp_path / "models--google--ddpm-cat-256" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "models--google--ddpm-cat-256" / "refs").mkdir()
    (tmp_path / "models--google--ddpm-cat-256" / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert helpers.model_path("ddpm", "full") == "google/ddpm-cat-256"


def test_full_mode_without_network_explains_the_connection_failure(monkeypatch, tmp_path, on_gpu):
    import huggingface_hub
    from huggingface_hub import constants

    def unreachable(*args, **kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "model_info", unreachable)
    with pytest.raises(helpers.ModelUnavailableError, match="could not be reached.*ConnectionError"):
        helpers.model_path("sdxl-refiner", "full")


def test_random_standins_are_local_folders_in_both_modes(tiny_cache, on_gpu, monkeypatch):
    monkeypatch.setattr(models, "_check_hub_reachable", lambda name, entry: pytest.fail("no Hub for stand-ins"))
    for mode in ("tiny", "full"):
        path = helpers.model_path("ddpm-random", mode)
        assert path.startswith(str(tiny_cache)) and path.endswith("ddpm-random")


def test_tiny_mode_sdxl_names_are_the_trained_models(tiny_cache):
    for name in ("sdxl-base", "sdxl-refiner"):
        path = helpers.model_path(name, "tiny")
        assert path.endswith(name) and path != helpers.model_path(f"{name}-random", "tiny")


def test_tiny_mode_inpainting_and_controlnet_are_local_folders_built_on_the_tiny_base(tiny_cache):
    for name, check_file in (("sdxl-inpaint", "unet/config.json"), ("controlnet-canny", "config.json")):
        path = Path(helpers.model_path(name, "tiny"))
        assert path.name == name and path.parent == tiny_cache and (path / check_file).is_file()


def test_prepare_downloads_the_controlnets_fp16_weights_and_not_its_bin_files(monkeypatch, on_gpu):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(models, "_check_hub_reachable", lambda name, entry: None)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, **kw: calls.append((repo, kw)) or "/x")
    helpers.prepare("controlnet-canny", "full")
    helpers.prepare("sdxl-inpaint", "full")
    (controlnet, first), (inpaint, second) = calls
    assert controlnet == "diffusers/controlnet-canny-sdxl-1.0" and inpaint == "diffusers/stable-diffusion-xl-1.0-inpainting-0.1"
    assert "*.fp16.safetensors" in first["allow_patterns"]
    assert second["allow_patterns"] == ["unet/*.json", "unet/*.fp16.safetensors"]  # lesson 12 loads only its UNet
    for options in (first, second):
        assert not {"*.bin", "*.safetensors", "unet/*.safetensors"} & set(options["allow_patterns"])


LORA_FILES = {"lcm-lora-sdxl": "pytorch_lora_weights.safetensors", "sdxl-lightning": "sdxl_lightning_4step_lora.safetensors"}


def test_prepare_downloads_only_the_few_step_loras_one_file(monkeypatch, on_gpu):
    # SDXL-Lightning's repository also holds 5.1 GB UNets and 6.9 GB checkpoints: full mode fetches the 4-step LoRA only
    import huggingface_hub

    calls = []
    monkeypatch.setattr(models, "_check_hub_reachable", lambda name, entry: None)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, **kw: calls.append((repo, kw)) or "/x")
    for name in LORA_FILES:
        helpers.prepare(name, "full")
    assert calls == [("latent-consistency/lcm-lora-sdxl", {"allow_patterns": [LORA_FILES["lcm-lora-sdxl"]]}),
                     ("ByteDance/SDXL-Lightning", {"allow_patterns": [LORA_FILES["sdxl-lightning"]]})]


@pytest.mark.parametrize("name", sorted(LORA_FILES))
def test_full_mode_offline_finds_a_few_step_lora_by_its_one_file(name, monkeypatch, tmp_path, on_gpu):
    from huggingface_hub import constants

    repo = tmp_path / ("models--" + models.CATALOGUE[name].hub_id.replace("/", "--"))
    (repo / "snapshots" / "0123abcd").mkdir(parents=True)
    (repo / "snapshots" / "0123abcd" / LORA_FILES[name]).write_bytes(b"")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert helpers.model_path(name, "full") == models.CATALOGUE[name].hub_id


def test_few_step_loras_default_to_4_steps_and_sdxls_sizes(on_gpu):
    for name in LORA_FILES:
        for mode in ("tiny", "full"):
            chosen, base = helpers.defaults(name, mode), helpers.defaults("sdxl-base", mode)
            assert chosen.num_inference_steps == 4 and (chosen.height, chosen.width, chosen.prompt) == (base.height, base.width, base.prompt)


def test_tiny_mode_few_step_loras_are_folders_holding_only_the_real_file(tiny_cache):
    for name, file_name in LORA_FILES.items():
        path = Path(helpers.model_path(name, "tiny"))
        assert path.name == name and path.parent == tiny_cache
        assert sorted(item.name for item in path.iterdir() if not item.name.startswith(".")) == [file_name]
        assert models.CATALOGUE[name].check_file == file_name


def test_tiny_mode_ddpm_is_lesson_03s_committed_model(tiny_cache):
    path = Path(helpers.model_path("ddpm", "tiny"))
    assert path.name == "ddpm" and path != Path(helpers.model_path("ddpm-random", "tiny"))
    committed = Path(models.__file__).parent / "tiny" / "checkpoints" / "ddpm"
    for name in ("config.json", "scheduler_config.json", "diffusion_pytorch_model.safetensors"):
        assert (path / name).read_bytes() == (committed / name).read_bytes()


def test_full_mode_only_models_say_so_in_tiny_mode(tiny_cache):
    for name in ("sdxl-vae-fp16-fix", "taesdxl"):
        with pytest.raises(helpers.ModelUnavailableError, match=f"'{name}'.*has no tiny version.*full mode"):
            helpers.model_path(name, "tiny")


def test_tiny_mode_paths_are_absolute_under_the_cache_variable(tiny_cache):
    from pathlib import Path

    path = Path(helpers.model_path("sdxl-refiner", "tiny"))
    assert path.is_absolute() and path.parent == tiny_cache
    assert (path / "model_index.json").is_file()


def test_defaults_follow_the_mode(on_gpu):
    assert helpers.defaults("sdxl-base", "full").height == 1024
    assert helpers.defaults("sdxl-base", "full").num_inference_steps == 30
    assert helpers.defaults("sdxl-base", "tiny").height == 32
    assert helpers.defaults("sdxl-base-random", "full").height == 64
    assert helpers.defaults("ddpm", "full").height == 256


def test_defaults_keep_a_lessons_choices_and_fill_the_nones():
    chosen = helpers.defaults("sdxl-base", "tiny", height=None, width=128, num_inference_steps=3, prompt=None)
    assert (chosen.height, chosen.width, chosen.num_inference_steps) == (32, 128, 3)
    assert chosen.prompt == helpers.defaults("sdxl-base", "tiny").prompt


@pytest.mark.parametrize("height, width", [(100, 64), (64, 1023), (0, 64), (64.0, 64)])
def test_sizes_must_be_positive_multiples_of_8(height, width):
    with pytest.raises(ValueError, match="height|width"):
        helpers.defaults("sdxl-base", "tiny", height=height, width=width)


def test_defaults_reject_bad_step_counts_and_unknown_keys():
    with pytest.raises(ValueError, match="num_inference_steps must be a whole number"):
        helpers.defaults("sdxl-base", "tiny", num_inference_steps=0)
    with pytest.raises(ValueError, match="not \\['guidance'\\]"):
        helpers.defaults("sdxl-base", "tiny", guidance=5)


def test_prepare_downloads_only_the_files_the_lessons_load(monkeypatch, on_gpu):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(models, "_check_hub_reachable", lambda name, entry: None)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, **kw: calls.append((repo, kw)) or "/x")
    assert helpers.prepare("sdxl-base", "full") == "stabilityai/stable-diffusion-xl-base-1.0"
    repo, options = calls[0]
    assert "*.fp16.safetensors" in options["allow_patterns"]
    assert "*.safetensors" not in options["allow_patterns"]


def test_prepare_in_tiny_mode_builds_without_the_network(tiny_cache, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda *a, **k: pytest.fail("no download in tiny mode"))
    with warnings.catch_warnings():
        path = helpers.prepare("ddpm", "tiny")
    assert (tiny_cache / "ddpm" / "config.json").is_file() and path.endswith("ddpm")


# --- Lesson 03's training settings ---


def test_training_defaults_follow_the_mode(on_gpu):
    tiny, full = helpers.training_defaults("tiny"), helpers.training_defaults("full")
    assert (tiny.image_size, tiny.base_channels, tiny.batch_size, tiny.train_steps) == (16, 32, 32, 300)
    assert full.image_size > tiny.image_size and full.base_channels > tiny.base_channels and full.train_steps > tiny.train_steps


def test_training_defaults_keep_a_lessons_choices_and_fill_the_nones():
    chosen = helpers.training_defaults("tiny", train_steps=50, batch_size=None, image_size=24, learning_rate=1e-3)
    assert (chosen.train_steps, chosen.batch_size, chosen.image_size, chosen.learning_rate) == (50, 32, 24, 1e-3)


@pytest.mark.parametrize("chosen, message", [
    ({"image_size": 18}, "image_size must be a multiple of 4.*try 16"),
    ({"base_channels": 48}, "base_channels must be a multiple of 32.*try 64"),
    ({"train_steps": 0}, "train_steps must be a whole number"),
    ({"batch_size": 2.5}, "batch_size must be a whole number"),
    ({"learning_rate": 4}, "learning_rate must be between 0 and 1"),
    ({"epochs": 3}, "not \\['epochs'\\]"),
])
def test_training_defaults_reject_bad_settings_with_the_fix(chosen, message):
    with pytest.raises(ValueError, match=message):
        helpers.training_defaults("tiny", **chosen)


def test_environment_report_names_versions_device_and_mode(capsys, monkeypatch):
    monkeypatch.setenv("SDXL_TUTORIAL_MODE", "tiny")
    report = models.environment_report()
    printed = capsys.readouterr().out
    for key in ("python", "torch", "diffusers", "transformers", "accelerator", "ram", "mode"):
        assert key in report and key in printed
    assert report["mode"] == "tiny"
    assert "SDXL_TUTORIAL_MODE" in report["mode_reason"]


def test_environment_report_says_cpu_only_without_a_gpu(monkeypatch):
    monkeypatch.setattr(models, "pick_device", lambda: "cpu")
    assert models.environment_report(print_it=False)["accelerator"].startswith("CPU only")


def test_device_does_not_import_models():
    """Data flows one way: models (the mode) builds on device (the hardware), never the reverse."""
    import ast
    from pathlib import Path

    source = Path(helpers.device.__file__).read_text()
    imported = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {"models", "helpers.models"} & imported


def test_sizes_far_beyond_the_trained_size_stop_before_any_work_with_the_way_on(monkeypatch):
    monkeypatch.delenv("SDXL_TUTORIAL_ANY_SIZE", raising=False)
    with pytest.raises(helpers.SizeTooLargeError) as caught:
        helpers.defaults("sdxl-base", "tiny", height=1024, width=1024)
    message = str(caught.value)
    assert "1024 times the pixels" in message and "(32x32)" in message
    assert "full mode on a GPU" in message and "SDXL_TUTORIAL_ANY_SIZE=1" in message
    assert helpers.defaults("sdxl-base", "tiny", height=128, width=128).height == 128  # 16x: still allowed
    monkeypatch.setenv("SDXL_TUTORIAL_ANY_SIZE", "1")
    assert helpers.defaults("sdxl-base", "tiny", height=1024, width=1024).width == 1024


def test_full_mode_allows_sdxls_sizes_and_refuses_far_beyond(monkeypatch, on_gpu):
    monkeypatch.delenv("SDXL_TUTORIAL_ANY_SIZE", raising=False)
    assert helpers.defaults("sdxl-base", "full", height=1536, width=640).height == 1536
    with pytest.raises(helpers.SizeTooLargeError, match="1024x1024"):
        helpers.defaults("sdxl-base", "full", height=4096, width=8192)


def test_a_lesson_gets_its_own_subject_in_each_mode(on_gpu):
    assert helpers.defaults("sdxl-base", "tiny", lesson="05").prompt == "a green triangle"
    assert helpers.defaults("sdxl-base", "tiny", lesson="05", prompt="a blue square").prompt == "a blue square"
    assert helpers.defaults("sdxl-base", "full", lesson="06").prompt == "A majestic lion jumping from a big stone at night"
    tiny = [helpers.defaults("sdxl-base", "tiny", lesson=lesson).prompt for lesson in ("05", "06", "08", "09")]
    assert len(set(tiny)) == len(tiny) and "a red circle" not in tiny  # lessons 00 and 04 draw the red circle
    assert all(all(shapes.parse_caption(prompt)) for prompt in tiny)
    with pytest.raises(ValueError, match="No subject for lesson '42'"):
        helpers.defaults("sdxl-base", "tiny", lesson="42")
