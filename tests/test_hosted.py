"""Hosted text-to-image: lesson 09's retry loop and error mapping (written in the lesson's cells tagged
"hosted-call", run here as they are), and helpers.hosted's provider choice, safe file names and local server,
against a real InferenceClient. The Hub's answers about providers are stand-ins (monkeypatched `model_info`):
no test uses the network."""

import datetime
import email.utils
import importlib
import json
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError
from PIL import Image

from helpers.checks import ParameterError
from helpers.hosted import (FULL_MODE_MODEL, HTTP_TIMEOUTS, NO_GUIDANCE, SDXL_GUIDANCE, HostedInferenceError,
                            LocalTextToImageServer, check_base_url, check_model_id, check_provider, choose_provider,
                            default_guidance, describe_request, hosted_model, inference_target, pipeline_generator,
                            provider_requests, retry_after, safe_filename, suggested_steps, text_to_image_providers)

LESSON = Path(__file__).parents[1] / "notebooks" / "09_hosted_inference.ipynb"


def lesson_code(tag: str = "hosted-call") -> dict:
    """Run the lesson's cells tagged `tag` (in order, quietly) and return what they define."""
    cells = json.loads(LESSON.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if tag in c["metadata"].get("tags", [])]
    namespace = {"print": lambda *args, **kwargs: None}
    for source in sources:
        exec(compile(source, str(LESSON), "exec"), namespace)
    return namespace


LESSON_CODE = lesson_code()
text_to_image = LESSON_CODE["text_to_image"]

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


def hub_http_library():
    """The HTTP library this huggingface_hub uses (1.x: httpx, 2.x: httpx2): its errors derive from its HTTPError."""
    return importlib.import_module(HfHubHTTPError.__bases__[0].__module__)


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
    monkeypatch.setitem(LESSON_CODE, "estimated_time", lambda body: None)
    server.script = [503, 503, 503]
    recorder = Recorder()
    text_to_image(client, "a red circle", backoff=1.5, sleep=recorder.sleep, log=recorder.log)
    assert recorder.waits == [1.5, 3.0, 6.0]


def test_a_model_that_never_loads_ends_with_a_clear_error(server, client):
    server.script = [503] * 3
    recorder = Recorder()
    with pytest.raises(HostedInferenceError, match="gave 503, the model is loading, 3 times. Try again in a minute"):
        text_to_image(client, "a red circle", retries=2, sleep=recorder.sleep, log=recorder.log)
    assert len(recorder.waits) == 2


def test_the_waits_double_up_to_the_cap_and_a_servers_estimate_wins():
    wait_before_retry = LESSON_CODE["wait_before_retry"]
    assert [wait_before_retry(attempt) for attempt in range(7)] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert wait_before_retry(3, backoff=0.5, max_wait=10.0) == 4.0
    assert wait_before_retry(0, told=20.0) == 20.0 and wait_before_retry(0, told=600.0) == 60.0


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_answers_that_time_can_fix_are_retried(server, client, status):
    server.script = [status]
    recorder = Recorder()
    assert text_to_image(client, "a red circle", sleep=recorder.sleep, log=recorder.log).size == (8, 8)
    assert len(recorder.waits) == 1 and len(server.requests) == 2
    assert f"{status}, {LESSON_CODE['RETRIED'][status]}; waiting" in recorder.lines[0]


def test_the_lessons_stop_error_is_none_only_for_the_retried_statuses():
    stop_error = LESSON_CODE["stop_error"]
    assert [s for s in (400, 401, 402, 403, 404, 410, 429, 500, 502, 503, 504) if stop_error("m", s, "b") is None] == [
        429, 502, 503, 504]
    assert "refused the request (403)" in str(stop_error("m", 403, "b"))


def test_a_body_that_is_not_an_image_is_named(server, client):
    server.script = ["not-an-image"]
    with pytest.raises(HostedInferenceError, match="not with an image"):
        text_to_image(client, "a red circle")


def test_a_rate_limit_waits_as_long_as_its_retry_after_header_says(server, client):
    server.script = [429]  # the demo server's 429 carries "Retry-After: 1"
    recorder = Recorder()
    assert text_to_image(client, "a red circle", sleep=recorder.sleep, log=recorder.log).size == (8, 8)
    assert recorder.waits == [1.0]
    assert "429, too many requests; waiting 1.00 s (the server asked for 1 s)" in recorder.lines[0]


def test_a_retry_after_longer_than_the_cap_is_capped(server, client):
    server.script = [(429, {"Retry-After": "300"})]
    recorder = Recorder()
    text_to_image(client, "a red circle", max_wait=60.0, sleep=recorder.sleep, log=recorder.log)
    assert recorder.waits == [60.0] and "waiting 60.00 s (the server asked for 300 s)" in recorder.lines[0]


def test_a_retry_after_given_as_a_date_counts_the_seconds_left(server, client):
    when = email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30),
                                       usegmt=True)
    server.script = [(429, {"Retry-After": when})]
    recorder = Recorder()
    text_to_image(client, "a red circle", sleep=recorder.sleep, log=recorder.log)
    assert 25.0 <= recorder.waits[0] <= 30.0


def test_a_rate_limit_without_retry_after_backs_off(server, client):
    server.script = [(429, {})]
    recorder = Recorder()
    text_to_image(client, "a red circle", sleep=recorder.sleep, log=recorder.log)
    assert recorder.waits == [2.0] and "asked" not in recorder.lines[0]


def test_a_retry_after_on_a_503_wins_over_its_estimate(server, client):
    server.script = [(503, {"Retry-After": "3"})]
    recorder = Recorder()
    text_to_image(client, "a red circle", sleep=recorder.sleep, log=recorder.log)
    assert recorder.waits == [3.0]


class Answer:
    """An error's HTTP response, as retry_after reads it."""

    def __init__(self, headers):
        self.response = type("Response", (), {"headers": headers})()


@pytest.mark.parametrize("header, expected", [
    ({"Retry-After": "120"}, 120.0), ({"Retry-After": " 0 "}, 0.0), ({}, None), ({"Retry-After": "soon"}, None),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: no wait
])
def test_retry_after_reads_seconds_or_a_date(header, expected):
    assert retry_after(Answer(header)) == expected


def test_retry_after_without_a_response_is_none():
    assert retry_after(ValueError("no response")) is None


@pytest.mark.parametrize("status, expected", [
    (402, r"answered 402, .*credits are used up.*monthly credits.*PRO.*lessons 00-08.*said: .*monthly included credits"),
    (404, r"answered 404, not found: .*Check the model id.*text-to-image"),
    (410, r"answered 410, gone: the model is no longer served there.*`provider` and `model`.*no longer supported by"),
])
def test_credits_a_missing_model_and_a_retired_one_say_what_to_do(server, client, status, expected):
    server.script = [status]
    with pytest.raises(HostedInferenceError, match=expected):
        text_to_image(client, "a red circle", sleep=lambda s: pytest.fail(f"a {status} must not be retried"))
    assert len(server.requests) == 1


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


def every_kind_of_timeout():
    """A timeout as each client raises it: Python's, huggingface_hub's (2.x: any timeout; 1.x: Python's, converted),
    and the HTTP libraries' own (which 1.x lets through), whichever of those libraries are installed."""
    kinds = [TimeoutError("timed out"), InferenceTimeoutError("Inference call timed out: https://example.invalid")]
    for timeout in HTTP_TIMEOUTS:
        library = sys.modules[timeout.__module__]
        kinds += [library.ReadTimeout("timed out"), library.ConnectTimeout("timed out")]
    return kinds


class TimingOutClient:
    """A client whose every text_to_image call times out with `error`."""

    model, provider, timeout = "org/model", "nscale", 30

    def __init__(self, error):
        self.error, self.calls = error, 0

    def text_to_image(self, prompt, **parameters):
        self.calls += 1
        raise self.error


@pytest.mark.parametrize("error", every_kind_of_timeout(), ids=lambda e: f"{type(e).__module__}.{type(e).__name__}")
def test_a_timeout_is_retried_whichever_class_the_client_raises_it_as(error):
    client, recorder = TimingOutClient(error), Recorder()
    expected = r"org/model \(provider nscale\) gave no answer within 30 s, 3 times.*timeout="
    with pytest.raises(HostedInferenceError, match=expected):
        text_to_image(client, "a red circle", retries=2, sleep=recorder.sleep, log=recorder.log)
    assert client.calls == 3 and recorder.waits == [2.0, 4.0]
    assert all("no answer within 30 s; waiting" in line for line in recorder.lines)


def test_the_timeouts_of_the_http_library_huggingface_hub_uses_are_listed():
    assert hub_http_library().TimeoutException in HTTP_TIMEOUTS


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


# --- which provider serves a model (the Hub's provider mapping, stood in for) ---


def mapping(*entries):
    """The Hub's `inferenceProviderMapping` for a model: (provider, status, task) triples, in the Hub's order."""
    return {provider: {"status": status, "providerId": f"{provider}/model", "task": task}
            for provider, status, task in entries}


@pytest.fixture
def hub(monkeypatch):
    """Answers model_info (ours and huggingface_hub's own lookup) from `hub.models`: {model id: mapping or error}."""
    import huggingface_hub
    from huggingface_hub.hf_api import HfApi, ModelInfo
    from huggingface_hub.inference._providers import _common

    class Hub:
        models, asked = {}, []

        def model_info(self, repo_id, *, expand=None, token=None, **kwargs):
            self.asked.append((repo_id, expand))
            answer = self.models[repo_id]
            if isinstance(answer, Exception):
                raise answer
            return ModelInfo(id=repo_id, inferenceProviderMapping=answer)

    stand_in = Hub()
    monkeypatch.setattr(huggingface_hub, "model_info", stand_in.model_info)
    monkeypatch.setattr(HfApi, "model_info", lambda api, repo_id, **kwargs: stand_in.model_info(repo_id, **kwargs))
    _common._fetch_inference_provider_mapping.cache_clear()
    yield stand_in
    _common._fetch_inference_provider_mapping.cache_clear()


def test_auto_picks_the_first_live_provider_in_the_hubs_order(hub):
    hub.models["org/model"] = mapping(("hf-inference", "staging", "text-to-image"), ("nscale", "live", "text-to-image"),
                                      ("together", "live", "text-to-image"))
    provider, reason = choose_provider("org/model")
    assert provider == "nscale" and "first live text-to-image provider" in reason and "also live: together" in reason
    assert hub.asked == [("org/model", ["inferenceProviderMapping"])]


def test_a_named_provider_that_serves_the_model_is_used_staging_with_a_caveat(hub):
    hub.models["org/model"] = mapping(("nscale", "live", "text-to-image"), ("hf-inference", "staging", "text-to-image"))
    assert choose_provider("org/model", "nscale") == ("nscale",
                                                      "you asked for it, and it serves org/model for text-to-image")
    provider, reason = choose_provider("org/model", "hf-inference")
    assert provider == "hf-inference" and "staging" in reason


@pytest.mark.parametrize("answer, expected", [
    (None, r"No Inference Provider serves org/model for text-to-image\. .*base_url"),
    ({}, r"No Inference Provider serves org/model for text-to-image\."),
    (mapping(("fal-ai", "live", "image-to-image")), r"for text-to-image \(it is served for image-to-image only\)"),
    (mapping(("hf-inference", "staging", "text-to-image")), r"live right now \(listed: hf-inference \(staging\)\)"),
    (mapping(("fireworks-ai", "live", "text-to-image")), r"live on fireworks-ai, but this huggingface_hub cannot call"),
])
def test_auto_explains_when_nothing_serves_the_model(hub, answer, expected):
    hub.models["org/model"] = answer
    with pytest.raises(HostedInferenceError, match=expected):
        choose_provider("org/model")


def test_a_named_provider_that_does_not_serve_the_model_lists_those_that_do(hub):
    hub.models["org/model"] = mapping(("nscale", "live", "text-to-image"), ("together", "staging", "text-to-image"))
    listed = r"hf-inference does not serve org/model.*nscale \(live\), together \(staging\)"
    with pytest.raises(HostedInferenceError, match=listed):
        choose_provider("org/model", "hf-inference")
    with pytest.raises(HostedInferenceError, match=r"Unknown provider 'no-such-provider'.*'auto'.*nscale"):
        choose_provider("org/model", "no-such-provider")


def test_the_lookups_own_failures_say_what_to_do(hub, monkeypatch):
    from huggingface_hub import constants
    from huggingface_hub.errors import HFValidationError, RepositoryNotFoundError

    http = hub_http_library()
    not_found = http.Response(404, request=http.Request("GET", "https://huggingface.co/api/models/org/gone"))
    hub.models["org/gone"] = RepositoryNotFoundError("404", response=not_found)
    hub.models["org/offline"] = http.ConnectError("Name or service not known")
    hub.models["org/slow"] = http.ReadTimeout("The read operation timed out")
    hub.models["bad id!"] = HFValidationError("Repo id must use alphanumeric chars")
    for model, expected in [("org/gone", "The Hub has no model 'org/gone'.*check `model`"),
                            ("org/offline", "could not be reached \\(ConnectError\\).*tiny mode"),
                            ("org/slow", "could not be reached \\(ReadTimeout\\).*tiny mode"),
                            ("bad id!", "not a model id: use 'owner/name'")]:
        with pytest.raises(HostedInferenceError, match=expected):
            choose_provider(model)
    monkeypatch.undo()  # the real model_info, offline: it must not try the network
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HostedInferenceError, match="HF_HUB_OFFLINE is set.*tiny mode"):
        choose_provider(FULL_MODE_MODEL)


@pytest.mark.parametrize("answer, expected", [
    ({}, "No Inference Provider serves org/model for text-to-image \\(the Hub lists none\\)"),  # StopIteration
    (None, "No Inference Provider serves org/model.*No provider mapping found"),
])
def test_text_to_image_explains_a_model_that_no_provider_serves(hub, answer, expected):
    hub.models["org/model"] = answer
    client = InferenceClient(model="org/model", token=TOKEN, timeout=5)  # provider "auto": the client looks it up
    with pytest.raises(HostedInferenceError, match=expected) as caught:
        text_to_image(client, "a red circle")
    assert "`model` and `provider`" in str(caught.value)


def test_a_timeout_of_the_clients_own_provider_lookup_is_retried_too(hub):
    hub.models["org/model"] = hub_http_library().ReadTimeout("The read operation timed out")
    client = InferenceClient(model="org/model", token=TOKEN, timeout=5)  # provider "auto": the client looks it up
    recorder = Recorder()
    with pytest.raises(HostedInferenceError, match="org/model gave no answer within 5 s, 2 times"):
        text_to_image(client, "a red circle", retries=1, sleep=recorder.sleep, log=recorder.log)
    assert recorder.waits == [2.0] and len(hub.asked) == 2


def test_text_to_image_explains_a_provider_that_does_not_serve_the_model(hub):
    hub.models["org/model"] = mapping(("nscale", "live", "text-to-image"))
    client = InferenceClient(model="org/model", provider="together", token=TOKEN, timeout=5)
    with pytest.raises(HostedInferenceError, match=r"org/model \(provider together\) for text-to-image.*not supported by"):
        text_to_image(client, "a red circle")
    hf_inference = InferenceClient(model="org/model", provider="hf-inference", token=TOKEN, timeout=5)  # checks the task
    with pytest.raises(HostedInferenceError, match=r"cannot be called for text-to-image.*support task.*Check `model`"):
        text_to_image(hf_inference, "a red circle")


def test_text_to_image_without_any_token_says_how_to_provide_one(hub, monkeypatch):
    from huggingface_hub.inference._providers import _common

    monkeypatch.setattr(_common, "get_token", lambda: None)
    hub.models["org/model"] = mapping(("nscale", "live", "text-to-image"))
    with pytest.raises(HostedInferenceError, match="No token for org/model.*HF_TOKEN"):
        text_to_image(InferenceClient(model="org/model", provider="nscale", timeout=5), "a red circle")


@pytest.mark.filterwarnings("ignore:Full mode on a CPU")  # hosted full mode needs no GPU
def test_full_mode_calls_a_hub_model_and_tiny_mode_or_a_url_do_not():
    assert hosted_model("full") == FULL_MODE_MODEL and hosted_model("full", "org/model") == "org/model"
    assert hosted_model("tiny", "org/model") is None and hosted_model("full", "org/model", "http://127.0.0.1:1") is None
    assert inference_target("full", None, "org/model") == ("org/model", None)
    assert inference_target("tiny", "http://127.0.0.1:1", "org/model") == ("http://127.0.0.1:1", None)
    assert suggested_steps(FULL_MODE_MODEL) == 4
    assert suggested_steps("org/model") is None and suggested_steps(None) is None


# --- what the client sends each provider, and the checks of the lesson's parameters ---


PARAMETERS = dict(negative_prompt=None, height=1024, width=768, num_inference_steps=4, guidance_scale=None, seed=7)


def test_every_provider_gets_the_prompt_and_no_none_value():
    bodies = provider_requests("a red fox", PARAMETERS)
    assert set(bodies) == set(text_to_image_providers()) and "hf-inference" in bodies
    for provider, body in bodies.items():
        assert "a red fox" in json.dumps(body), provider
        assert "guidance_scale" not in json.dumps(body) and "negative_prompt" not in json.dumps(body), provider


def test_a_url_gets_the_parameters_as_they_are_and_renames_are_named():
    bodies = provider_requests("a red fox", PARAMETERS, ["hf-inference", "together", "fal-ai"])
    assert bodies["hf-inference"] == {"inputs": "a red fox",
                                      "parameters": {"height": 1024, "width": 768, "num_inference_steps": 4, "seed": 7}}
    sent, dropped = describe_request(PARAMETERS, bodies["together"])
    assert "num_inference_steps as steps" in sent and dropped == []
    sent, dropped = describe_request(PARAMETERS, bodies["fal-ai"])
    assert {"height as image_size", "width as image_size"} <= set(sent)


def test_a_dropped_parameter_is_named():
    body = {"prompt": "a red fox", "size": "768x1024", "seed": 7}  # what nscale's translation builds (no steps)
    assert describe_request(PARAMETERS, body) == (["height as size", "width as size", "seed"], ["num_inference_steps"])
    assert describe_request(PARAMETERS, None) == ([], [])


def test_guidance_is_sent_only_to_a_url_by_default():
    assert default_guidance(None) == SDXL_GUIDANCE == 5.0
    assert default_guidance(FULL_MODE_MODEL) is None and FULL_MODE_MODEL in NO_GUIDANCE


@pytest.mark.parametrize("model", ["", "  ", "owner/name/extra", "bad id!", 42, "a" * 200 + "/b"])
def test_a_malformed_model_id_is_refused_without_the_network(model):
    with pytest.raises(ParameterError, match=r"model=.* is not a Hub model id.*owner/name"):
        check_model_id(model)


def test_a_well_formed_model_id_or_none_passes():
    assert check_model_id(None) is None and check_model_id(FULL_MODE_MODEL) == FULL_MODE_MODEL


@pytest.mark.parametrize("provider", ["", "nscal", None, "HF-INFERENCE"])
def test_an_unknown_provider_is_refused_with_the_list(provider):
    with pytest.raises(ParameterError, match=r"provider=.* is not one of 'auto', .*'nscale'"):
        check_provider(provider)


@pytest.mark.parametrize("base_url", ["", "127.0.0.1:8000", "ftp://example.com", "http://", 8000])
def test_a_base_url_that_is_not_an_http_url_is_refused(base_url):
    with pytest.raises(ParameterError, match=r"base_url=.* is not an http\(s\) URL"):
        check_base_url(base_url)


def test_an_http_url_or_none_passes():
    assert check_base_url(None) is None and check_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
