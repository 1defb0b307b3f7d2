"""The offline CLIP tokenizers give the same token ids as the real SDXL ones.

Expected ids were checked against open_clip's own SimpleTokenizer (open_clip_torch 3.3.0).
These tests never call derive(): it needs the network.
"""

import json
import warnings

import pytest
from transformers import AutoTokenizer, CLIPTokenizer

from helpers.tiny.clip_tokenizer import PAD_TOKEN, PAD_TOKEN_2, TOKENIZER_FILES, write_tokenizer

START, END = 49406, 49407


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return CLIPTokenizer.from_pretrained(write_tokenizer(tmp_path_factory.mktemp("sdxl") / "tokenizer", PAD_TOKEN))


@pytest.fixture(scope="module")
def tokenizer_2(tmp_path_factory):
    return CLIPTokenizer.from_pretrained(write_tokenizer(tmp_path_factory.mktemp("sdxl") / "tokenizer_2", PAD_TOKEN_2))


def test_committed_vocab_has_49408_tokens_ending_with_start_and_end_of_text():
    vocab = json.loads((TOKENIZER_FILES / "vocab.json").read_text(encoding="utf-8"))
    assert len(vocab) == 49408
    assert vocab["<|startoftext|>"] == START
    assert vocab["<|endoftext|>"] == END
    assert vocab["!"] == 0


def test_committed_merges_have_a_version_header_and_48894_merges():
    lines = (TOKENIZER_FILES / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#version: 0.2"
    assert len(lines[1:]) == 48894
    assert lines[1] == "i n"


def test_a_photo_of_a_cat_gets_the_known_clip_ids(tokenizer):
    assert tokenizer("a photo of a cat").input_ids == [START, 320, 1125, 539, 320, 2368, END]


@pytest.mark.parametrize(
    "prompt, ids",
    [
        ("An astronaut riding a green horse", [START, 550, 18376, 6765, 320, 1901, 4558, END]),
        ("a red circle", [START, 320, 736, 7117, END]),
        ("a watercolor painting of a fox, 4k", [START, 320, 14211, 3086, 539, 320, 3240, 267, 275, 330, END]),
    ],
)
def test_both_tokenizers_give_open_clip_ids(tokenizer, tokenizer_2, prompt, ids):
    assert tokenizer(prompt).input_ids == ids
    assert tokenizer_2(prompt).input_ids == ids


def test_prompts_are_lower_cased(tokenizer):
    assert tokenizer("A PHOTO OF A CAT").input_ids == tokenizer("a photo of a cat").input_ids


def test_both_tokenizers_have_model_max_length_77(tokenizer, tokenizer_2):
    assert tokenizer.model_max_length == 77
    assert tokenizer_2.model_max_length == 77


def test_tokenizer_pads_to_77_with_end_of_text(tokenizer):
    ids = tokenizer("a red circle", padding="max_length").input_ids
    assert ids == [START, 320, 736, 7117, END] + [END] * 72


def test_tokenizer_2_pads_to_77_with_exclamation_mark_id_0(tokenizer_2):
    ids = tokenizer_2("a red circle", padding="max_length").input_ids
    assert ids == [START, 320, 736, 7117, END] + [0] * 72


def test_long_prompt_is_truncated_to_77_ids_ending_in_end_of_text(tokenizer):
    ids = tokenizer("a photo of a cat " * 30, padding="max_length", truncation=True).input_ids
    assert len(ids) == 77
    assert ids[0] == START
    assert ids[-1] == END


def test_tokenizer_keeps_exclamation_marks_as_open_clip_does(tokenizer):
    assert tokenizer("! !! !!!").input_ids == [START, 256, 748, 995, END]


def test_tokenizer_2_turns_every_exclamation_mark_into_pad_id_0_like_real_sdxl(tokenizer_2):
    # "!" is tokenizer_2's pad token, so transformers splits it out of the text as a
    # special token. The real SDXL tokenizer_2 does the same (diffusers issue #4153).
    assert tokenizer_2("! !! !!!").input_ids == [START, 0, 0, 0, 0, 0, 0, END]


def test_write_tokenizer_rejects_any_other_pad_token(tmp_path):
    with pytest.raises(ValueError, match=r"'<\|endoftext\|>'.*tokenizer.*'!'.*tokenizer_2"):
        write_tokenizer(tmp_path, pad_token="<pad>")


def test_loading_emits_no_future_or_deprecation_warning(tmp_path):
    folder = write_tokenizer(tmp_path / "tokenizer_2", PAD_TOKEN_2)
    from helpers.warnings_policy import make_deprecations_errors

    with warnings.catch_warnings():
        make_deprecations_errors()  # the libraries' own deprecations at Colab's versions are listed there, with reasons
        AutoTokenizer.from_pretrained(folder)
        CLIPTokenizer.from_pretrained(folder)
