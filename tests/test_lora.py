"""helpers.lora: the training pictures, the checks of what a learner passes in, and the LoRA file check."""

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import lora
from helpers.checks import ParameterError
from helpers.tiny import shapes


def test_the_tiny_concept_is_rings_in_the_worlds_colours_deterministic_by_seed():
    first, second = lora.tiny_concept_pictures(12, seed=3), lora.tiny_concept_pictures(12, seed=3)
    assert all(p.caption.endswith(" ring") and p.caption.split()[1] in shapes.COLOURS for p in first)
    assert all(np.array_equal(np.asarray(a.image), np.asarray(b.image)) for a, b in zip(first, second))
    assert all(shapes.is_ring(p.image) for p in first)
    assert first[0].original_size == (32, 32) and first[0].crops_coords_top_left == (0, 0)


def test_the_prior_pictures_are_the_worlds_own():
    assert {p.caption.split()[-1] for p in lora.tiny_world_pictures(40, seed=0)} <= set(shapes.SHAPES)


def test_a_missing_picture_folder_is_refused_naming_the_parameter(tmp_path):
    with pytest.raises(ParameterError, match=r"picture_folder=.*nowhere.* is not an existing folder.*or use None"):
        lora.check_picture_folder(tmp_path / "nowhere", "a sks dog", 64)


def test_a_picture_folder_is_checked_before_anything_loads(tmp_path):
    with pytest.raises(ParameterError, match=r"picture_folder=.* is empty"):
        lora.check_picture_folder(tmp_path, "a sks dog", 64)
    Image.new("RGB", (20, 40)).save(tmp_path / "small.png")
    with pytest.raises(ParameterError, match=r"picture_folder=.*small.png \(20x40\)"):
        lora.check_picture_folder(tmp_path, "a sks dog", 64)


def test_a_good_picture_folder_or_none_passes(tmp_path):
    Image.new("RGB", (64, 64)).save(tmp_path / "good.png")
    assert lora.check_picture_folder(tmp_path, "a sks dog", 64) == tmp_path
    assert lora.check_picture_folder(None, "a sks dog", 64) is None


def test_the_sdxl_lora_count_per_rank_adds_up_from_the_real_config():
    """Every transformer block of SDXL base's UNet has a self-attention (q, k, v, out: channels -> channels) and a
    cross-attention (q, out the same; k, v: the text's 2048 features -> channels); A and B add inputs + outputs per
    unit of rank. (helpers.memory.count_lora_parameters, which builds the UNet on the meta device, gives the same.)"""
    import json
    from pathlib import Path

    import helpers

    config = json.loads((Path(helpers.__file__).parent / "tiny" / "configs" / "sdxl-base" / "unet" / "config.json").read_text())
    channels, depth, layers = config["block_out_channels"], config["transformer_layers_per_block"], config["layers_per_block"]

    def block(width):
        return 4 * 2 * width + 2 * 2 * width + 2 * (config["cross_attention_dim"] + width)

    down = sum(layers * d * block(c) for c, d, kind in zip(channels, depth, config["down_block_types"]) if "CrossAttn" in kind)
    up = sum((layers + 1) * d * block(c) for c, d, kind in zip(channels[::-1], depth[::-1], config["up_block_types"])
             if "CrossAttn" in kind)
    middle = depth[-1] * block(channels[-1])
    assert down + middle + up == lora.SDXL_BASE_LORA_PER_RANK
    assert 16 * lora.SDXL_BASE_LORA_PER_RANK == 23_224_320  # rank 16, as lesson 10 says


def test_a_missing_folder_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        lora.load_picture_folder(tmp_path / "nowhere", "a sks dog", 64)


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is empty"):
        lora.load_picture_folder(tmp_path, "a sks dog", 64)


def test_an_unreadable_file_is_named(tmp_path):
    Image.new("RGB", (64, 64)).save(tmp_path / "good.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg"):
        lora.load_picture_folder(tmp_path, "a sks dog", 64)


def test_a_picture_too_small_for_the_training_size_is_named_with_its_size(tmp_path):
    Image.new("RGB", (20, 40)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match=r"small.png \(20x40\).*at least 32"):
        lora.load_picture_folder(tmp_path, "a sks dog", 64)


def test_pictures_are_squared_and_keep_their_original_size_and_crop(tmp_path):
    Image.new("RGB", (300, 200), (200, 10, 10)).save(tmp_path / "wide.png")
    (picture,) = lora.load_picture_folder(tmp_path, "a sks dog", 100)
    assert picture.image.size == (100, 100) and picture.caption == "a sks dog"
    assert picture.original_size == (200, 300) and picture.crops_coords_top_left == (0, 25)


def test_the_default_instance_pictures_are_rings_the_folder_loader_accepts(tmp_path):
    folder = lora.make_default_instance_pictures(tmp_path / "stand-ins", count=3, size=64)
    pictures = lora.load_picture_folder(folder, "a sks ring", 64)
    assert len(pictures) == 3 and all(shapes.is_ring(p.image) for p in pictures)


def _unet(block_out_channels):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(sample_size=8, block_out_channels=block_out_channels, layers_per_block=1,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=16,
                                attention_head_dim=2, norm_num_groups=8)


def _saved_lora(unet, folder, rank=2):
    from diffusers import StableDiffusionXLPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionXLPipeline.save_lora_weights(folder, unet_lora_layers=layers)
    return folder


def test_a_lora_file_that_fits_reports_its_rank_and_layers(tmp_path):
    torch.manual_seed(0)
    folder = _saved_lora(_unet((16, 32)), tmp_path / "lora", rank=2)
    found = lora.check_lora_file(folder, _unet((16, 32)))
    assert found["rank"] == 2 and found["layers"] == 32 and found["bytes"] > 0


def test_a_lora_made_for_another_base_model_is_refused_naming_a_layer(tmp_path):
    folder = _saved_lora(_unet((16, 32)), tmp_path / "lora")
    with pytest.raises(lora.LoraMismatchError, match=r"made for another base model.*expects 32 inputs.*has 48"):
        lora.check_lora_file(folder, _unet((16, 48)))


def test_a_file_without_unet_layers_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"text_encoder.something.weight": torch.zeros(2, 2)}, str(tmp_path / lora.LORA_FILE))
    with pytest.raises(lora.LoraMismatchError, match="no UNet LoRA layers"):
        lora.check_lora_file(tmp_path, _unet((16, 32)))


def test_a_missing_lora_file_says_how_to_save_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_lora_weights"):
        lora.lora_file(tmp_path)
