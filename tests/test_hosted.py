"""helpers.hosted: retries, clear errors and safe file names, against a real InferenceClient and a local server."""

import time

import pytest
from huggingface_hub import InferenceClient
from PIL import Image

from helpers.hosted import HostedInferenceError, LocalTextToImageServer, pipeline_generator, safe_filename, text_to_image

TOKEN = "local-test-credential"  # not token-shaped on purpose: the repository scan must stay clean


def red(prompt, **parameters):
    return Image.new("RGB", (parameters.get("width") or 8, parameters.get("height") or 8), (220, 40, 40))


@pytest.fixture
def server():
    with LocalTextToImageServer(red, token=TOKEN) as running:
        yield running


@pytest.fixture
def client(server):
    return InferenceClient(model=server.url, token=TOKEN, timeout=5)


class Recorder:
    def __init__(self):
        self.waits, self.lines = [], []

    def sleep(self, seconds):
        self.waits.append(seconds)

    def log(self, line):
        self.lines.append(line)


# --- safe file names ---


@pytest.mark.parametrize("prompt, expected", [
    ("An astronaut riding a green horse", "an-astronaut-riding-a-green-horse.png"),
    ("Um gato/cão à janela", "um-gato-cao-a-janela.png"),
    ("../../etc/passwd", "etc-passwd.png"),
    ("", "image.png"),
    ("日本の猫", "image.png"),
    ("  ?!*  ", "image.png"),
])
def test_safe_filename_survives_slashes_accents_and_empty_prompts(prompt, expected):
    assert safe_filename(prompt) == expected


def test_safe_filename_is_short_and_can_carry_the_seed():
    name = safe_filename("a " * 100, seed=7)
    assert name.endswith("-7.png") and len(name) <= 48 + len("-7.png") and "--" not in name


# --- the happy path, through the real client ---


def test_the_client_gets_an_image_and_the_server_sees_the_parameters(server, client):
    image = text_to_image(client, "a red circle", height=16, width=24, seed=3)
    assert image.size == (24, 16) and image.getpixel((0, 0)) == (220, 40, 40)
    assert server.requests == [{"inputs": "a red circle", "parameters": {"height": 16, "width": 24, "seed": 3}}]


def test_an_empty_prompt_is_refused_before_any_request(server, client):
    with pytest.raises(HostedInferenceError, match="prompt is empty"):
        text_to_image(client, "   ")
    assert server.requests == []


# --- what goes wrong ---


@pytest.mark.parametrize("token", [None, "a-wrong-credential"])
def test_a_missing_or_bad_token_says_what_to_do_without_showing_it(server, token):
    client = InferenceClient(model=server.url, token=token, timeout=5)
    with pytest.raises(HostedInferenceError, match="refused the request \\(401\\).*HF_TOKEN") as caught:
        text_to_image(client, "a red circle")
    assert "a-wrong-credential" not in str(caught.value) and TOKEN not in str(caught.value)


def test_a_loading_model_is_retried_with_the_servers_estimate(server, client):
    server.script = [503, 503]
    recorder = Recorder()
    image = text_to_image(client, "a red circle", sleep=recorder.sleep, log=recorder.log)
    assert image.size == (8, 8)
    assert recorder.waits == [0.05, 0.05] and len(server.requests) == 3
    assert all("503, the model is loading" in line for line in recorder.lines)


def test_without_an_estimate_the_waits_double(server, client, monkeypatch):
    import helpers.hosted as hosted

    monkeypatch.setattr(hosted, "_wait_hint", lambda body: None)
    server.script = [503, 503, 503]
    recorder = Recorder()
    text_to_image(client, "a red circle", backoff=1.5, sleep=recorder.sleep, log=recorder.log)
    assert recorder.waits == [1.5, 3.0, 6.0]


def test_a_model_that_never_loads_ends_with_a_clear_error(server, client):
    server.script = [503] * 3
    recorder = Recorder()
    with pytest.raises(HostedInferenceError, match="still answered 503.*after 3 tries"):
        text_to_image(client, "a red circle", retries=2, sleep=recorder.sleep, log=recorder.log)
    assert len(recorder.waits) == 2


def test_a_body_that_is_not_an_image_is_named(server, client):
    server.script = ["not-an-image"]
    with pytest.raises(HostedInferenceError, match="not with an image"):
        text_to_image(client, "a red circle")


def test_other_server_errors_are_not_retried(server, client):
    server.script = [500]
    with pytest.raises(HostedInferenceError, match="answered 500"):
        text_to_image(client, "a red circle", sleep=lambda s: pytest.fail("a 500 must not be retried"))
    assert len(server.requests) == 1


def test_a_timeout_is_retried_then_explained():
    def slow(prompt, **parameters):
        time.sleep(1.0)
        return red(prompt, **parameters)

    with LocalTextToImageServer(slow) as server:
        client = InferenceClient(model=server.url, timeout=0.2)
        recorder = Recorder()
        with pytest.raises(HostedInferenceError, match="no answer within 0.2 s, 2 times.*timeout="):
            text_to_image(client, "a red circle", retries=1, sleep=recorder.sleep, log=recorder.log)
    assert recorder.waits == [2.0]


def test_pipeline_generator_refuses_unknown_parameters_with_a_400(client, server):
    server.generate = pipeline_generator(lambda *a, **k: pytest.fail("must not run"))
    with pytest.raises(HostedInferenceError, match="answered 400.*Unsupported parameters \\['style'\\]"):
        text_to_image(client, "a red circle", extra_body={"style": "oil"})


def test_the_server_refuses_a_malformed_request(server):
    import httpx

    response = httpx.post(server.url, content=b"not json", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400 and "inputs" in response.json()["error"]


def test_offline_mode_lets_only_this_machine_through(server, client, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert text_to_image(client, "a red circle").size == (8, 8)
    assert constants.HF_HUB_OFFLINE is True
    remote = InferenceClient(model="https://example.invalid/models/x", timeout=1)
    with pytest.raises(HostedInferenceError, match="HF_HUB_OFFLINE is set.*tiny mode"):
        text_to_image(remote, "a red circle")


def test_a_server_that_is_not_there_is_named(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with LocalTextToImageServer(red) as gone:
        url = gone.url
    with pytest.raises(HostedInferenceError, match="could not be reached.*check the network"):
        text_to_image(InferenceClient(model=url, timeout=2), "a red circle", retries=0)


def test_a_client_that_gave_up_leaves_no_traceback_behind(capfd):
    def slow(prompt, **parameters):
        time.sleep(0.5)
        return red(prompt, **parameters)

    with LocalTextToImageServer(slow) as server:
        with pytest.raises(HostedInferenceError):
            text_to_image(InferenceClient(model=server.url, timeout=0.1), "a red circle", retries=0)
        time.sleep(0.8)  # the server finishes and writes to a closed connection
    assert "Traceback" not in capfd.readouterr().err


def test_pipeline_generator_seeds_the_pipeline_like_the_lessons_do():
    seen = {}

    class Pipe:
        def __call__(self, prompt, generator=None, **parameters):
            seen.update(generator=generator, **parameters)
            return type("Output", (), {"images": [red(prompt)]})()

    generate = pipeline_generator(Pipe())
    generate("a red circle", seed=3, height=16)
    assert seen["generator"].initial_seed() == 3 and seen["height"] == 16
    generate("a red circle")
    assert seen["generator"] is None
    with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
        generate("a red circle", seed=-1)
