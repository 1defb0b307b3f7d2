"""Lesson 09 run against a text-to-image server that this test starts (the `base_url` parameter).

The server runs the tiny SDXL behind the same protocol the hosted API speaks and requires a token, which
the lesson must read from HF_TOKEN (never from its code) and send. With `base_url` the `model` and `provider`
parameters are checked for their form only, not used: no provider lookup. In full mode without `base_url` the lesson asks the Hub which
provider serves `model`; offline (as every test is) that stops with a HostedInferenceError that says so. That case
stops at the lesson's fifth code cell and is judged by what it raised and printed there: its cells run in this process
(papermill's own parameter injection, the notebook's own cells, as tests/lesson_parameters.py runs settings cells),
which spares a kernel's start-up and imports (about 2.5 s of CPU).
"""

import contextlib
import io
import json
import warnings
from pathlib import Path

import papermill
import torch
from diffusers import StableDiffusionXLPipeline
from IPython.core.inputtransformer2 import TransformerManager
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

import helpers
from helpers.hosted import HostedInferenceError, LocalTextToImageServer, pipeline_generator

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


def run_in_this_process(parameters):
    """Lesson 09's code cells, `parameters` injected as papermill injects them, run in this process (in the notebooks'
    folder, as a kernel would) up to the first error: what they printed, and the error (None if there was none). Warnings
    they show (full mode on a CPU says so) are kept, as a kernel's stderr would; the deprecation policy stays armed."""
    notebook = parameterize_notebook(load_notebook_node(str(NOTEBOOK)), parameters, kernel_name="python3", language="python")
    transform, namespace, printed = TransformerManager().transform_cell, {"__name__": "__main__"}, io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.chdir(NOTEBOOK.parent), warnings.catch_warnings(record=True):
        for cell in (cell for cell in notebook.cells if cell.cell_type == "code"):
            try:
                exec(compile(transform(cell.source), "<lesson 09 cell>", "exec"), namespace)
            except Exception as error:  # noqa: BLE001 (what the learner would see)
                return printed.getvalue(), error
    return printed.getvalue(), None


def test_lesson_09_in_full_mode_offline_stops_at_the_provider_lookup_with_what_to_do(tmp_path):
    printed, error = run_in_this_process({"mode": "full", "output_dir": str(tmp_path / "out")})
    assert isinstance(error, HostedInferenceError), f"{type(error).__name__}: {error}"
    expected = "HF_HUB_OFFLINE is set, so the Hub cannot be asked which providers serve black-forest-labs/FLUX.1-schnell"
    assert expected in str(error)
    assert "model: black-forest-labs/FLUX.1-schnell" in printed  # full mode's default, before any request
    assert "provider:" not in printed and not (tmp_path / "out").exists(), "it stops at the lookup, before any request"
