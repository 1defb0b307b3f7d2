"""Hosted text-to-image plumbing: the provider lookup, the client's own failures, safe file names, a local server.

Lesson 09 writes the lesson itself in its cells: which HTTP answers are worth a retry, the backoff between
tries, and the message for each failure (its `text_to_image`). What it leaves here is plumbing:
- `choose_provider` / `pick_provider`: ask the Hub which Inference Providers serve a model for text-to-image
  (its provider mapping) and pick one, saying which and why; every failure is a `HostedInferenceError`;
- `explain_unanswered`: the failures that come before any server answers (offline mode, the client's own
  provider lookup, a missing token, an unreachable host) as `HostedInferenceError`s that say what to do;
  `loopback_allowed` lets a request to this very machine through when HF_HUB_OFFLINE is set;
  `status_and_body`, `retry_after`, `estimated_time` and `describe_target` read an error and name the target;
- `check_model_id`, `check_provider`, `check_base_url`: the lesson's settings cell refuses a malformed `model`,
  `provider` or `base_url` before any work, in both modes (no network needed);
- `provider_requests` and `describe_request`: the request body this huggingface_hub builds for each provider from
  the same parameters, and which of them it renames or drops;
- `HTTP_TIMEOUTS`: the timeout exceptions of the HTTP libraries installed, which huggingface_hub 1.x lets through;
- `safe_filename`: a file name from a prompt that survives "/", accents and empty prompts;
- `LocalTextToImageServer`: an HTTP server on 127.0.0.1 that speaks the same text-to-image protocol
  (JSON `{"inputs": prompt, "parameters": {...}}` in, PNG bytes out), backed by the tiny SDXL. Tiny mode
  runs the lesson's client code against it; the tests and the lesson script its failures (401, 402, 404,
  410, 429, 500, 502, 503, 504, a non-image body).
(09_hosted_inference)
"""

from __future__ import annotations

import datetime
import email.utils
import importlib
import io
import json
import re
import sys
import threading
import unicodedata
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from .i18n import _

TEXT_TO_IMAGE = "text-to-image"

# Full mode's hosted model. stabilityai/stable-diffusion-xl-base-1.0 left the hf-inference provider in
# mid-2026 (it answers 410, "deprecated and no longer supported": symfony/ai#2327, 2026-07-15), and the
# Inference Providers docs have not shown it for any provider since June 2026 (huggingface/hub-docs#2497,
# #2535). FLUX.1-schnell is what symfony/ai moved to; those docs showed it for nscale, together and
# hf-inference in mid-2026, and for nscale still in August 2026 (#2717). Lesson 09's `model` and `provider`
# parameters choose another.
FULL_MODE_MODEL = "black-forest-labs/FLUX.1-schnell"
# Step counts that suit a hosted model (a distilled model needs few; some providers refuse more).
SUGGESTED_STEPS = {"black-forest-labs/FLUX.1-schnell": 4}
# Hosted models that have no guidance input: FLUX.1-schnell is timestep-distilled without one (its transformer's
# config: guidance_embeds false; diffusers' Flux docs: "guidance_scale needs to be 0" for it), so a guidance_scale
# sent to it changes nothing. Lesson 09 sends none by default.
NO_GUIDANCE = {"black-forest-labs/FLUX.1-schnell"}
# The guidance scale SDXL's pipeline uses when none is sent (tiny mode's server runs it)
SDXL_GUIDANCE = 5.0


class HostedInferenceError(RuntimeError):
    """A hosted text-to-image call failed; the message says why and what to do."""


def status_and_body(error) -> tuple[int | None, str]:
    """The HTTP status of an error that carries a response (huggingface_hub's HfHubHTTPError), and the first
    300 characters of its body; (None, "") for an error without one."""
    response = getattr(error, "response", None)
    if response is None:
        return None, ""
    try:
        body = response.text
    except Exception:  # a streamed body that was not read
        body = ""
    return response.status_code, body[:300]


def retry_after(error) -> float | None:
    """Seconds the server asked us to wait in its `Retry-After` header (a 429's or a 503's), if it sent one.

    The header holds either a number of seconds ("120") or an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"),
    from which the seconds left are counted (0 if it is past). None without a header, or with one that is neither.
    """
    response = getattr(error, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    if value is None:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


def estimated_time(body: str) -> float | None:
    """The server's own estimate, in seconds, of how long the model needs to load (`estimated_time` in a 503's
    JSON body), if it sent one."""
    try:
        estimate = json.loads(body).get("estimated_time")
    except (ValueError, AttributeError):
        return None
    return float(estimate) if isinstance(estimate, (int, float)) and estimate >= 0 else None


def _http_timeouts() -> tuple[type[Exception], ...]:
    found = []
    for library in ("httpx", "httpx2"):  # huggingface_hub 1.x's HTTP library, and 2.x's
        try:
            found.append(importlib.import_module(library).TimeoutException)
        except ImportError:
            pass
    return tuple(found)


# A timeout reaches the caller under different names. huggingface_hub 2.x turns any httpx2 timeout of the
# inference request into an InferenceTimeoutError (a Python TimeoutError); 1.x (Colab's: its transformers 5
# needs huggingface_hub < 2) turns only Python's TimeoutError into one, so httpx's ReadTimeout, ConnectTimeout...
# come through as they are. Neither turns the timeout of another request of the call (the provider lookup
# before it, some providers' picture download after it). These are the HTTP libraries' own timeout classes,
# those installed: lesson 09 retries them like a TimeoutError.
HTTP_TIMEOUTS = _http_timeouts()


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@contextmanager
def loopback_allowed(target):
    """Let a request to this very machine through even when HF_HUB_OFFLINE is set.

    Offline mode (which the test runs set) makes huggingface_hub refuse every request, even one to
    127.0.0.1. A request to a server on this machine never leaves it, so for such a target it is lifted
    for the duration of the call; any other target stays blocked.
    """
    from huggingface_hub import constants

    local = isinstance(target, str) and urlparse(target).hostname in LOOPBACK_HOSTS
    saved = constants.HF_HUB_OFFLINE
    if local:
        constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved


def describe_target(client) -> str:
    """How messages name where a client's requests go: the model, and the provider when one was chosen."""
    model = client.model or _("the default model")
    provider = getattr(client, "provider", None)
    if provider and provider != "auto" and not str(model).startswith(("http://", "https://")):
        return _("{model} (provider {provider})").format(model=model, provider=provider)
    return model


def _unanswered(error, target: str) -> HostedInferenceError | None:
    """The HostedInferenceError for a failure before any server answered, or None for any other error."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    message = str(error)
    if isinstance(error, (TimeoutError, *HTTP_TIMEOUTS)):  # even a ConnectTimeout: lesson 09 retries a timeout
        return None
    if isinstance(error, OfflineModeIsEnabled):
        return HostedInferenceError(_(
            "HF_HUB_OFFLINE is set, so {target} cannot be reached. Unset it (and restart the kernel) to use the "
            "hosted API, or run this lesson in tiny mode, which talks to a server on this machine.").format(target=target))
    if isinstance(error, ValueError) and "api_key" in message:
        return HostedInferenceError(_(
            "No token for {target}: Inference Providers need one. Provide it as HF_TOKEN or a Colab "
            "secret (see 00_setup), with the 'Make calls to Inference Providers' permission; never paste "
            "it into a cell.").format(target=target))
    if isinstance(error, ValueError) and "support task" in message:
        return HostedInferenceError(_(
            "{target} cannot be called for text-to-image ({message}). Check `model`: it must be a "
            "text-to-image model on the Hub, e.g. {example!r}.").format(target=target, message=message,
                                                                       example=FULL_MODE_MODEL))
    if isinstance(error, StopIteration) or (isinstance(error, ValueError) and "provider" in message.lower()):
        return HostedInferenceError(_(
            "No Inference Provider serves {target} for text-to-image ({message}). "
            "Choose another model or provider with the lesson's `model` and `provider` parameters (section 2 "
            "asks the Hub who serves a model), e.g. model={example!r}, or run SDXL yourself "
            "in lessons 00-08.").format(target=target, message=message or _("the Hub lists none"),
                                        example=FULL_MODE_MODEL))
    # The HTTP library's own connection errors (httpx's ConnectError...) are not ConnectionErrors.
    if not isinstance(error, HfHubHTTPError) and (isinstance(error, ConnectionError)
                                                  or "Connect" in type(error).__name__):
        return HostedInferenceError(_(
            "{target} could not be reached ({kind}): check the network connection and the URL.").format(
            target=target, kind=type(error).__name__))
    return None


class explain_unanswered:  # noqa: N801 (used as a context manager, like contextlib's)
    """`with explain_unanswered(target):` failures before any server answers, as HostedInferenceErrors that say
    what to do.

    HF_HUB_OFFLINE set; the client's own provider lookup (a ValueError "No provider mapping found" or "not
    supported by provider", a bare StopIteration when the Hub lists no provider, "doesn't support task" from
    hf-inference); no token (a ValueError about the api_key); a host that cannot be reached. HTTP answers,
    timeouts and everything else pass through unchanged: what to do about those is lesson 09's subject.
    """

    def __init__(self, target: str):
        self.target = target

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        explained = _unanswered(error, self.target) if error is not None else None
        if explained is not None:
            raise explained from error
        return False


def _mapping_line(mappings) -> str:
    return ", ".join(f"{m.provider} ({m.status})" for m in mappings) or _("none")


def pick_provider(mappings, model: str, provider: str | None = "auto", *, task: str = TEXT_TO_IMAGE) -> tuple[str, str]:
    """The provider to call for `model` among the Hub's `mappings` (InferenceProviderMapping objects), and why.

    "auto": the first one that serves `task`, is "live" (not "staging", a test setup, nor "error", a failed
    health check) and that this huggingface_hub can call, in the Hub's order. A named provider: that one, if
    it serves the model for `task`. Anything else is a `HostedInferenceError` that lists who does serve it.
    """
    from huggingface_hub.inference._providers import PROVIDERS

    provider = provider or "auto"
    if provider != "auto" and provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise HostedInferenceError(_("Unknown provider {provider!r}: use 'auto' or one of {known}.").format(
            provider=provider, known=known))
    for_task = [m for m in mappings or [] if m.task == task]
    if not for_task:
        other = sorted({m.task for m in mappings or []})
        served = " " + _("(it is served for {tasks} only)").format(tasks=", ".join(other)) if other else ""
        raise HostedInferenceError(_(
            "No Inference Provider serves {model} for {task}{served}. Choose another `model` (e.g. "
            "{example!r}), run SDXL yourself in lessons 00-08, or deploy the model on an Inference "
            "Endpoint and give its URL as `base_url`.").format(model=model, task=task, served=served,
                                                               example=FULL_MODE_MODEL))
    can_call = [m for m in for_task if task in PROVIDERS.get(m.provider, {})]
    live = [m for m in can_call if m.status == "live"]
    upgrade = _("this huggingface_hub cannot call it for {task}: upgrade it (pip install -U huggingface_hub)").format(
        task=task)
    if provider == "auto":
        if not live:
            uncallable = [m.provider for m in for_task if m.status == "live"]
            problem = (_("it is live on {providers}, but {upgrade}").format(providers=", ".join(uncallable),
                                                                            upgrade=upgrade) if uncallable
                       else _("listed: {providers}").format(providers=_mapping_line(for_task)))
            raise HostedInferenceError(_(
                "No provider serves {model} for {task} live right now ({problem}). Try again later, name one "
                "of the listed ones as `provider` to try it anyway, or choose another `model`.").format(
                model=model, task=task, problem=problem))
        others = ("; " + _("also live: {providers}").format(providers=", ".join(m.provider for m in live[1:]))
                  if live[1:] else "")
        return live[0].provider, _("the first live {task} provider the Hub lists for {model}").format(
            task=task, model=model) + others
    chosen = next((m for m in for_task if m.provider == provider), None)
    if chosen is None:
        raise HostedInferenceError(_(
            "{provider} does not serve {model} for {task}. Providers that do: {providers}. "
            "Set `provider` to one of them, or to 'auto'.").format(provider=provider, model=model, task=task,
                                                                   providers=_mapping_line(for_task)))
    if chosen not in can_call:
        raise HostedInferenceError(_("{provider} serves {model}, but {upgrade}; or set `provider` to 'auto'.").format(
            provider=provider, model=model, upgrade=upgrade))
    caveat = {"staging": " " + _("(status staging: a test setup, it may fail)"),
              "error": " " + _("(status error: its last health check failed, it may fail)")}.get(chosen.status, "")
    return provider, _("you asked for it, and it serves {model} for {task}").format(model=model, task=task) + caveat


def choose_provider(model: str, provider: str | None = "auto", *, token=None,
                    task: str = TEXT_TO_IMAGE) -> tuple[str, str]:
    """Ask the Hub which Inference Providers serve `model` (its provider mapping) and pick one: `(provider, reason)`.

    One request to huggingface.co (`model_info(model, expand=["inferenceProviderMapping"])`), then
    `pick_provider`. Offline, an unknown model, a refused token, no provider for the task, or a named provider
    that does not serve it: a `HostedInferenceError` that says what to do.
    """
    from huggingface_hub import model_info
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, OfflineModeIsEnabled, RepositoryNotFoundError

    try:
        info = model_info(model, expand=["inferenceProviderMapping"], token=token)
    except OfflineModeIsEnabled as error:
        raise HostedInferenceError(_(
            "HF_HUB_OFFLINE is set, so the Hub cannot be asked which providers serve {model}. Unset it (and restart "
            "the kernel) to use the hosted API, or run this lesson in tiny mode.").format(model=model)) from error
    except HFValidationError as error:
        raise HostedInferenceError(_(
            "{model!r} is not a model id: use 'owner/name', e.g. {example!r}.").format(
            model=model, example=FULL_MODE_MODEL)) from error
    except RepositoryNotFoundError as error:
        raise HostedInferenceError(_(
            "The Hub has no model {model!r} (or it is private and this token cannot see it): check `model`, "
            "e.g. {example!r}.").format(model=model, example=FULL_MODE_MODEL)) from error
    except HfHubHTTPError as error:
        status, body = status_and_body(error)
        advice = (_("the token is invalid: fix HF_TOKEN (see 00_setup)") if status in (401, 403)
                  else _("try again in a minute"))
        raise HostedInferenceError(_("The Hub answered {status} when asked who serves {model}: {advice}.").format(
            status=status, model=model, advice=advice)) from error
    except Exception as error:
        # httpx's ConnectError and the HTTP libraries' timeouts are not ConnectionErrors
        unreachable = isinstance(error, (ConnectionError, TimeoutError, *HTTP_TIMEOUTS))
        if not unreachable and "Connect" not in type(error).__name__:
            raise
        raise HostedInferenceError(_(
            "The Hub could not be reached ({kind}) to ask who serves {model}: check the network "
            "connection, or run this lesson in tiny mode.").format(kind=type(error).__name__, model=model)) from error
    return pick_provider(info.inference_provider_mapping, model, provider, task=task)


def hosted_model(mode: str | None = None, model: str | None = None, base_url: str | None = None) -> str | None:
    """The Hub model id the lesson calls through Inference Providers, or None when it talks to a URL.

    None with `base_url` or in tiny mode (a server on this machine). Full mode: `model`, or FULL_MODE_MODEL.
    """
    from .models import current_mode

    if base_url is not None or current_mode(mode) != "full":
        return None
    return FULL_MODE_MODEL if model is None else model


def suggested_steps(model: str | None) -> int | None:
    """The step count that suits a hosted model (FLUX.1-schnell: 4), or None: the mode's default."""
    return SUGGESTED_STEPS.get(model)


def default_guidance(model: str | None) -> float | None:
    """The guidance scale to send when the lesson's `guidance_scale` is None: SDXL's own 5.0 for a URL (tiny mode's
    server runs SDXL), None (send nothing: the model's own default) for a Hub model, which for one without a
    guidance input (FLUX.1-schnell) is the only honest choice."""
    return SDXL_GUIDANCE if model is None else None


def text_to_image_providers() -> list[str]:
    """The Inference Providers this huggingface_hub can call for text-to-image, sorted."""
    from huggingface_hub.inference._providers import PROVIDERS

    return sorted(name for name, tasks in PROVIDERS.items() if TEXT_TO_IMAGE in tasks)


def check_provider(provider) -> str:
    """`provider` if it is "auto" or a provider this huggingface_hub can call for text-to-image; else a
    ParameterError listing them. No network: whether it serves the model is section 2's lookup. (09_hosted_inference)"""
    from .checks import one_of

    return one_of("provider", provider, ["auto", *text_to_image_providers()],
                  hint=_("Use 'auto' (the first live provider the Hub lists for the model) or one of these names."))


def check_model_id(model) -> str | None:
    """`model` if it is None (full mode's default) or a well-formed Hub model id ('owner/name'); else a ParameterError.
    No network: whether the Hub has it is section 2's lookup. (09_hosted_inference)"""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    from .checks import ParameterError

    if model is None:
        return None
    try:
        if not isinstance(model, str) or not model.strip():
            raise HFValidationError("not a text")
        validate_repo_id(model)
    except HFValidationError:
        raise ParameterError(_("model={model!r} is not a Hub model id. Write it as 'owner/name', e.g. "
                               "model={example!r}, or None for that one.").format(model=model,
                                                                                  example=FULL_MODE_MODEL)) from None
    return model


def check_base_url(base_url) -> str | None:
    """`base_url` if it is None or an http(s) URL with a host; else a ParameterError. (09_hosted_inference)"""
    from .checks import ParameterError

    if base_url is None:
        return None
    parsed = urlparse(base_url) if isinstance(base_url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ParameterError(_("base_url={base_url!r} is not an http(s) URL. Give the address of an endpoint, e.g. "
                               "base_url='https://<name>.endpoints.huggingface.cloud' or 'http://127.0.0.1:8000', or "
                               "None to use the mode's target.").format(base_url=base_url))
    return base_url


# What a provider's request calls our parameters when it renames them
RENAMED = {"steps": ("num_inference_steps",), "size": ("width", "height"), "image_size": ("width", "height")}


def provider_requests(prompt: str, parameters: dict, providers=None, *, model: str = "org/model") -> dict:
    """The JSON body this huggingface_hub's InferenceClient builds for each provider's text-to-image request, from
    `prompt` and `parameters` (None values are not sent): {provider: body, or None if this version cannot say}.

    Built offline by each provider's own helper in huggingface_hub (the code `text_to_image` runs before sending),
    for a stand-in model id. What the provider's server then does with each field is up to it (and the model).
    """
    from huggingface_hub.hf_api import InferenceProviderMapping
    from huggingface_hub.inference._providers import PROVIDERS

    bodies = {}
    for provider in providers or text_to_image_providers():
        helper = PROVIDERS.get(provider, {}).get(TEXT_TO_IMAGE)
        mapping = InferenceProviderMapping(provider=provider, hf_model_id=model, providerId=model,
                                           task=TEXT_TO_IMAGE, status="live")
        try:  # a private method: another huggingface_hub may build the body another way
            bodies[provider] = helper._prepare_payload_as_dict(prompt, dict(parameters), mapping)
        except Exception:  # noqa: BLE001
            bodies[provider] = None
    return bodies


def describe_request(parameters: dict, body: dict | None) -> tuple[list[str], list[str]]:
    """(what is sent, what is dropped) of `parameters`' non-None names in a provider's request `body`: a name is sent
    as itself, or renamed (num_inference_steps as steps, width and height as size or image_size)."""
    if body is None:
        return [], []
    fields = dict(body)
    for nested in ("parameters", "input"):  # hf-inference's {"inputs", "parameters"}; replicate's {"input": {...}}
        if isinstance(fields.get(nested), dict):
            fields.update(fields.pop(nested))
    sent, dropped = [], []
    for name in (name for name, value in parameters.items() if value is not None):
        renamed = [key for key, ours in RENAMED.items() if name in ours and key in fields]
        if name in fields:
            sent.append(name)
        elif renamed:
            sent.append(_("{name} as {renamed}").format(name=name, renamed=renamed[0]))
        else:
            dropped.append(name)
    return sent, dropped


def safe_filename(prompt: str, *, seed: int | None = None, suffix: str = ".png", max_length: int = 48) -> str:
    """A file name made from a prompt: ASCII letters, digits and '-' only, never empty, never a path.

    "Um gato/cão à janela" -> "um-gato-cao-a-janela.png"; with seed=3 -> "um-gato-cao-a-janela-3.png".
    """
    ascii_text = unicodedata.normalize("NFKD", str(prompt)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].rstrip("-") or "image"
    return f"{slug}-{seed}{suffix}" if seed is not None else f"{slug}{suffix}"


# ---------------------------------------------------------------------------------------------
# A local server that speaks the text-to-image protocol


# What LocalTextToImageServer answers to a scripted status: bodies shaped like the hosted API's. The 402 and
# 410 texts are the Hugging Face router's own (huggingface/agents-course#386; symfony/ai#2327).
SCRIPTED_ERRORS = {
    401: {"error": "Invalid credentials in Authorization header"},
    402: {"error": "You have exceeded your monthly included credits for Inference Providers. "
                   "Subscribe to PRO to get 20x more monthly included credits."},
    404: {"error": "Model scripted/not-a-model does not exist"},
    410: {"error": "The requested model is deprecated and no longer supported by provider hf-inference."},
    429: {"error": "Too many requests: rate limit reached, try again later"},
    500: {"error": "Internal server error"},
    502: {"error": "Bad gateway"},
    503: {"error": "Model is currently loading", "estimated_time": 0.05},
    504: {"error": "Gateway timeout"},
}
# ... and the headers: a rate limit says when to come back (RFC 9110's Retry-After, in whole seconds)
SCRIPTED_HEADERS = {429: {"Retry-After": "1"}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a slow request the client has given up on

    def handle_error(self, request, client_address):
        # A client that timed out has closed the connection before the answer: expected, not an error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class LocalTextToImageServer:
    """A text-to-image HTTP server on 127.0.0.1, backed by `generate(prompt, **parameters) -> PIL image`.

    `token`: if set, requests must carry `Authorization: Bearer <token>`, else 401.
    `script`: what to answer to the next requests, in order, before answering normally: a status in
    SCRIPTED_ERRORS (401, 402, 404, 410, 429, 500, 502, 503, 504), with the JSON body the hosted API sends for it
    (and a 429's `Retry-After: 1` header, SCRIPTED_HEADERS); a `(status, headers)` pair, for other headers (e.g.
    `(429, {"Retry-After": "120"})`, or `(429, {})` for none); or "not-an-image" (200 with an HTML body).
    `requests` records each request's parameters (never its headers). Use it as a context manager.
    """

    def __init__(self, generate, *, token: str | None = None, script=()):
        self.generate, self.token, self.script = generate, token, list(script)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _next_scripted(self):
        with self._lock:
            return self.script.pop(0) if self.script else None

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the lesson's output clean
                pass

            def _reply(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, message: str, **extra) -> None:
                self._reply(status, json.dumps({"error": message, **extra}).encode(), "application/json")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    payload = json.loads(self.rfile.read(length) or b"{}")
                    prompt, parameters = payload["inputs"], dict(payload.get("parameters") or {})
                except (ValueError, KeyError, TypeError):
                    return self._error(400, 'Expected JSON {"inputs": prompt, "parameters": {...}}.')
                server.requests.append({"inputs": prompt, "parameters": parameters})
                scripted = server._next_scripted()
                authorised = server.token is None or self.headers.get("Authorization") == f"Bearer {server.token}"
                if not authorised:
                    scripted = 401
                scripted, headers = scripted if isinstance(scripted, tuple) else (scripted, None)
                if scripted in SCRIPTED_ERRORS:
                    headers = SCRIPTED_HEADERS.get(scripted, {}) if headers is None else headers
                    return self._reply(scripted, json.dumps(SCRIPTED_ERRORS[scripted]).encode(), "application/json",
                                       headers)
                if scripted == "not-an-image":
                    return self._reply(200, b"<html><body>Welcome!</body></html>", "text/html")
                try:
                    image = server.generate(prompt, **parameters)
                except (TypeError, ValueError) as error:
                    return self._error(400, str(error))
                buffer = io.BytesIO()
                image.save(buffer, format="PNG")
                self._reply(200, buffer.getvalue(), "image/png")

        return Handler


def pipeline_generator(pipe):
    """`generate(prompt, **parameters)` for LocalTextToImageServer, running a diffusers text-to-image pipeline.

    Takes the parameters the hosted API takes (negative_prompt, height, width, num_inference_steps,
    guidance_scale, seed); refuses any other with a clear 400.
    """
    from .device import generator as seeded

    known = {"negative_prompt", "height", "width", "num_inference_steps", "guidance_scale", "seed"}

    def generate(prompt, **parameters):
        unknown = set(parameters) - known
        if unknown:
            raise ValueError(_("Unsupported parameters {unknown}; this server takes {known}.").format(
                unknown=sorted(unknown), known=sorted(known)))
        seed = parameters.pop("seed", None)
        return pipe(prompt, generator=seeded(seed) if seed is not None else None, **parameters).images[0]

    return generate


def inference_target(mode: str | None = None, base_url: str | None = None, model: str | None = None):
    """Where the lesson's InferenceClient sends its requests: `(model, local_server_or_None)`.

    `base_url` wins (a deployed endpoint, or the test's server). Full mode: `model` on the Hugging Face Hub
    (None: FULL_MODE_MODEL), called through Inference Providers. Tiny mode: a LocalTextToImageServer on this
    machine running the tiny SDXL, started here (call `.stop()` on it when done).
    """
    if base_url is not None:
        return base_url, None
    hub_id = hosted_model(mode, model)
    if hub_id:
        return hub_id, None
    import torch
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    from .models import model_path

    # Loading the server's model is plumbing here, not the lesson: no "Loading ..." progress bars (transformers'
    # torchvision notice is filtered course-wide: helpers.warnings_policy)
    from diffusers import StableDiffusionXLPipeline

    bars = [(library, library.is_progress_bar_enabled()) for library in (diffusers_logging, transformers_logging)]
    for library, _enabled in bars:
        library.disable_progress_bar()
    try:
        pipe = StableDiffusionXLPipeline.from_pretrained(model_path("sdxl-base", "tiny"), dtype=torch.float32,
                                                         variant="fp16", use_safetensors=True)
    finally:
        for library, enabled in bars:
            if enabled:
                library.enable_progress_bar()
    pipe.set_progress_bar_config(disable=True)
    server = LocalTextToImageServer(pipeline_generator(pipe)).start()
    return server.url, server
