"""The real CLIP BPE tokenizers for SDXL's tiny mode, with no network needed.

SDXL has two tokenizers, and both are the CLIP BPE tokenizer with the same
49,408-entry vocabulary; they differ only in the padding token. Tiny mode needs
no network, yet the lesson on tokens (04_sdxl_by_hand) should show real token ids.
So the vocabulary and merges are committed next to this file, in `tokenizer/`,
and `write_tokenizer` turns them into a folder that
`transformers.CLIPTokenizer.from_pretrained` loads.

The committed files were derived with `derive()` from the BPE merges file
`bpe_simple_vocab_16e6.txt.gz` in the open_clip_torch wheel (MIT licensed, the
same file as OpenAI's CLIP). To derive them again (needs PyPI):

    python -m helpers.tiny.clip_tokenizer
"""

import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

TOKENIZER_FILES = Path(__file__).parent / "tokenizer"

OPEN_CLIP_VERSION = "3.3.0"  # the open_clip_torch wheel the committed files came from

PAD_TOKEN = "<|endoftext|>"  # `tokenizer` (CLIP ViT-L) pads with <|endoftext|>, id 49407
PAD_TOKEN_2 = "!"  # `tokenizer_2` (OpenCLIP ViT-bigG) pads with "!", id 0

BOS_TOKEN = "<|startoftext|>"  # id 49406
EOS_TOKEN = "<|endoftext|>"  # id 49407
MODEL_MAX_LENGTH = 77


def bytes_to_unicode():
    """Map each of the 256 bytes to a printable character, as OpenAI CLIP does.

    Printable bytes map to themselves; the others (spaces, control bytes) map
    to characters from 256 upwards. The order of this dict is the order of the
    first 256 vocabulary entries.
    """
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def derive(out_dir=TOKENIZER_FILES):
    """Download the open_clip_torch wheel and write vocab.json and merges.txt into `out_dir`."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"Downloading open_clip_torch=={OPEN_CLIP_VERSION} (wheel only, no dependencies) ...")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             f"open_clip_torch=={OPEN_CLIP_VERSION}", "-d", tmp],
            check=True,
        )
        wheel = next(Path(tmp).glob("open_clip_torch-*.whl"))
        print(f"Reading open_clip/bpe_simple_vocab_16e6.txt.gz from {wheel.name}")
        with zipfile.ZipFile(wheel) as zf:
            lines = gzip.decompress(zf.read("open_clip/bpe_simple_vocab_16e6.txt.gz")).decode("utf-8").split("\n")

    # Same slicing as open_clip's SimpleTokenizer: skip the header line, keep
    # 49152 - 256 - 2 = 48,894 merges, so that 256 bytes + 256 bytes with </w>
    # + 48,894 merges + 2 special tokens = 49,408 tokens.
    merges = lines[1:49152 - 256 - 2 + 1]
    byte_symbols = list(bytes_to_unicode().values())
    tokens = byte_symbols + [s + "</w>" for s in byte_symbols]
    tokens += ["".join(merge.split()) for merge in merges]
    tokens += [BOS_TOKEN, EOS_TOKEN]
    vocab = {token: i for i, token in enumerate(tokens)}
    assert len(vocab) == len(tokens) == 49408, f"expected 49,408 distinct tokens, got {len(vocab)}"

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.json").write_text(
        json.dumps(vocab, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    (out_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    print(f"Wrote {out_dir / 'vocab.json'} ({len(vocab):,} tokens)")
    print(f"Wrote {out_dir / 'merges.txt'} ({len(merges):,} merges)")


def write_tokenizer(folder, pad_token):
    """Write a CLIPTokenizer folder into `folder` and return its path.

    `pad_token` is PAD_TOKEN ("<|endoftext|>") for SDXL's `tokenizer` or
    PAD_TOKEN_2 ("!") for `tokenizer_2`. The config files mirror the ones in
    the real SDXL repository.
    """
    if pad_token not in (PAD_TOKEN, PAD_TOKEN_2):
        raise ValueError(
            f"pad_token must be {PAD_TOKEN!r} (SDXL's tokenizer, CLIP ViT-L) "
            f"or {PAD_TOKEN_2!r} (SDXL's tokenizer_2, OpenCLIP ViT-bigG), got {pad_token!r}"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TOKENIZER_FILES / "vocab.json", folder / "vocab.json")
    shutil.copyfile(TOKENIZER_FILES / "merges.txt", folder / "merges.txt")

    tokenizer_config = {
        "add_prefix_space": False,
        "bos_token": BOS_TOKEN,
        "do_lower_case": True,
        "eos_token": EOS_TOKEN,
        "errors": "replace",
        "model_max_length": MODEL_MAX_LENGTH,
        "pad_token": pad_token,
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": EOS_TOKEN,
    }
    special_tokens_map = {
        "bos_token": BOS_TOKEN,
        "eos_token": EOS_TOKEN,
        "pad_token": pad_token,
        "unk_token": EOS_TOKEN,
    }
    for name, content in [("tokenizer_config.json", tokenizer_config), ("special_tokens_map.json", special_tokens_map)]:
        (folder / name).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return folder


if __name__ == "__main__":
    derive()
