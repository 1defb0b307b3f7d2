"""Lesson 09 run against a text-to-image server that this test starts (the `base_url` parameter).

The server runs the tiny SDXL behind the same protocol the hosted API speaks and requires a token, which
the lesson must read from HF_TOKEN (never from its code) and send. With `base_url` the `model` and `provider`
parameters are checked for their form only, not used: no provider lookup. In full mode without `base_url` the lesson asks the Hub which
provider serves `model`; offline (as every test is) that stops with a HostedInferenceError that says so.
"""

import json
from pathlib import Path

import papermill
import pytest
import torch
from diffusers import StableDiffusionXLPipeline

import helpers
from helpers.hosted import LocalTextToImageServer, pipeline_generator

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "09_hosted_inference.ipynb"
CREDENTIAL = "test-run-credential"


def test_lesson_09_talks_to_a_server_given_as_base_url(tmp_path, monkeypatch):
    pipe = StableDiffusionXLPipeline.from_pretrained(helpers.model_path("sdxl-base", "tiny"), dtype=torch.float32,
                                                     variant="fp16", use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    monkeypatch.setenv("HF_TOKEN", CREDENTIAL)
    with LocalTextToImageServer(pipeline_generator(pipe), token=CREDENTIAL) as server:
        papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "run.ipynb"), kernel_name="python3", progress_bar=False,
                                   parameters={"mode": "tiny", "base_url": server.url, "seed": 2,
                                               "output_dir": str(tmp_path / "out"),
                                               # well-formed (the settings cell checks that in every mode), but
                                               # never looked up with base_url: offline, a lookup would fail
                                               "model": "org/not-looked-up", "provider": "together"},
                                   cwd=str(NOTEBOOK.parent))
    prompt = helpers.defaults("sdxl-base", "tiny", lesson="09").prompt  # the lesson's own subject, "a blue triangle"
    assert [request["inputs"] for request in server.requests] == [prompt, prompt]  # section 3 and the form's fallback
    assert server.requests[0]["parameters"]["seed"] == 2
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["a-blue-triangle-2.png", "a-blue-triangle-3.png"]
    outputs = json.dumps(json.loads((tmp_path / "run.ipynb").read_text())["cells"])
    assert CREDENTIAL not in outputs, "the token must never appear in the notebook's outputs"


def test_lesson_09_in_full_mode_offline_stops_at_the_provider_lookup_with_what_to_do(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "run.ipynb"), kernel_name="python3", progress_bar=False,
                                   parameters={"mode": "full", "output_dir": str(tmp_path / "out")},
                                   cwd=str(NOTEBOOK.parent))
    assert caught.value.ename == "HostedInferenceError"
    expected = "HF_HUB_OFFLINE is set, so the Hub cannot be asked which providers serve black-forest-labs/FLUX.1-schnell"
    assert expected in caught.value.evalue
    ran = json.loads((tmp_path / "run.ipynb").read_text())["cells"]
    printed = "".join("".join(output.get("text", "")) for cell in ran for output in cell.get("outputs", []))
    assert "model: black-forest-labs/FLUX.1-schnell" in printed  # full mode's default, before any request
