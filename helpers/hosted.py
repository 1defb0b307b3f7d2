"""Hosted text-to-image, done right: retries, clear errors, safe file names, and a local stand-in server.

`huggingface_hub.InferenceClient` sends the request; what it leaves to us lives here:
- `text_to_image`: a 503 ("model is loading") or 429 is retried with backoff (the client does not
  retry by itself), and every failure becomes a `HostedInferenceError` that says what to do;
- `safe_filename`: a file name from a prompt that survives "/", accents and empty prompts;
- `LocalTextToImageServer`: an HTTP server on 127.0.0.1 that speaks the same text-to-image protocol
  (JSON `{"inputs": prompt, "parameters": {...}}` in, PNG bytes out), backed by the tiny SDXL. Tiny mode
  runs the lesson's client code against it; the tests script its failures (401, 503, a non-image body).
(09_hosted_inference)
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
import time
import unicodedata
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

RETRIED_STATUSES = {429: "too many requests", 503: "the model is loading"}


class HostedInferenceError(RuntimeError):
    """A hosted text-to-image call failed; the message says why and what to do."""


def _status_and_body(error) -> tuple[int | None, str]:
    response = getattr(error, "response", None)
    if response is None:
        return None, ""
    try:
        body = response.text
    except Exception:  # a streamed body that was not read
        body = ""
    return response.status_code, body[:300]


def _wait_hint(body: str) -> float | None:
    """The server's own estimate of how long the model needs to load, if it sent one."""
    try:
        estimate = json.loads(body).get("estimated_time")
    except (ValueError, AttributeError):
        return None
    return float(estimate) if isinstance(estimate, (int, float)) and estimate >= 0 else None


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@contextmanager
def _loopback_allowed(target):
    """Let a request to this very machine through even when HF_HUB_OFFLINE is set.

    Offline mode (which tiny mode and the tests set) makes huggingface_hub refuse every request, even one to
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


def text_to_image(client, prompt: str, *, retries: int = 4, backoff: float = 2.0, max_wait: float = 60.0,
                  sleep=time.sleep, log=print, **parameters):
    """`client.text_to_image(prompt, **parameters)` with retries on 503/429 and timeouts, and clear errors.

    Waits `backoff`, 2x`backoff`, 4x`backoff`... seconds between tries (or the server's `estimated_time`),
    at most `max_wait` each, and says so through `log`. Never prints the token. A server on this machine
    (127.0.0.1) is reachable even with HF_HUB_OFFLINE set; anything else is not.
    """
    from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, OfflineModeIsEnabled
    from PIL import UnidentifiedImageError

    if not isinstance(prompt, str) or not prompt.strip():
        raise HostedInferenceError("The prompt is empty: describe the picture you want, e.g. 'a red circle'.")
    target = client.model or "the default model"
    for attempt in range(retries + 1):
        try:
            with _loopback_allowed(client.model):
                return client.text_to_image(prompt, **parameters)
        except OfflineModeIsEnabled as error:
            raise HostedInferenceError(
                f"HF_HUB_OFFLINE is set, so {target} cannot be reached. Unset it (and restart the kernel) to use the "
                "hosted API, or run this lesson in tiny mode, which talks to a server on this machine."
            ) from error
        except UnidentifiedImageError as error:
            raise HostedInferenceError(
                f"{target} answered, but not with an image (the body could not be read as PNG or JPEG). "
                "The URL may point at a web page or at a model that is not a text-to-image model: check `model`."
            ) from error
        except InferenceTimeoutError as error:
            problem, wait = f"no answer within {client.timeout} s", backoff * 2**attempt
            if attempt == retries:
                raise HostedInferenceError(
                    f"{target} gave {problem}, {retries + 1} times. Try again later, ask for fewer "
                    "`num_inference_steps`, or give the client more time: InferenceClient(..., timeout=120)."
                ) from error
        except HfHubHTTPError as error:
            status, body = _status_and_body(error)
            if status in (401, 403):
                raise HostedInferenceError(
                    f"{target} refused the request ({status}): the token is missing, invalid or lacks the permission "
                    "to call inference. Create a token with the 'Make calls to Inference Providers' permission at "
                    "https://huggingface.co/settings/tokens and provide it as HF_TOKEN or a Colab secret (see 00_setup); "
                    "never paste it into a cell."
                ) from error
            if status not in RETRIED_STATUSES:
                raise HostedInferenceError(
                    f"{target} answered {status}: {body or error}. Check the model id and the parameters."
                ) from error
            problem, hint = f"{status}, {RETRIED_STATUSES[status]}", _wait_hint(body)
            wait = hint if hint is not None else backoff * 2**attempt
            if attempt == retries:
                raise HostedInferenceError(
                    f"{target} still answered {problem} after {retries + 1} tries. Wait a minute and run the cell again."
                ) from error
        except Exception as error:
            # The HTTP library's own connection errors (httpx's ConnectError...) are not ConnectionErrors.
            if not isinstance(error, ConnectionError) and "Connect" not in type(error).__name__:
                raise
            raise HostedInferenceError(
                f"{target} could not be reached ({type(error).__name__}): check the network connection and the URL."
            ) from error
        wait = min(wait, max_wait)
        log(f"{target}: {problem}; waiting {wait:.2f} s before try {attempt + 2} of {retries + 1}")
        sleep(wait)


def safe_filename(prompt: str, *, seed: int | None = None, suffix: str = ".png", max_length: int = 48) -> str:
    """A file name made from a prompt: ASCII letters, digits and '-' only, never empty, never a path.

    "Um gato/cão à janela" -> "um-gato-cao-a-janela.png"; with seed=3 -> "um-gato-cao-a-janela-3.png".
    """
    ascii_text = unicodedata.normalize("NFKD", str(prompt)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].rstrip("-") or "image"
    return f"{slug}-{seed}{suffix}" if seed is not None else f"{slug}{suffix}"


# ---------------------------------------------------------------------------------------------
# A local server that speaks the text-to-image protocol


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
    `script`: what to answer to the next requests, in order, before answering normally:
    401, 503 (model loading, with an `estimated_time`), 500, or "not-an-image" (200 with an HTML body).
    `requests` records each request's parameters (never its headers). Use it as a context manager.
    """

    def __init__(self, generate, *, token: str | None = None, script=()):
        self.generate, self.token, self.script = generate, token, list(script)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

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

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
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
                if scripted == 401 or not authorised:
                    return self._error(401, "Invalid credentials in Authorization header")
                if scripted == 503:
                    return self._error(503, "Model is currently loading", estimated_time=0.05)
                if scripted == 500:
                    return self._error(500, "Internal server error")
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
            raise ValueError(f"Unsupported parameters {sorted(unknown)}; this server takes {sorted(known)}.")
        seed = parameters.pop("seed", None)
        return pipe(prompt, generator=seeded(seed) if seed is not None else None, **parameters).images[0]

    return generate


def inference_target(mode: str | None = None, base_url: str | None = None):
    """Where the lesson's InferenceClient sends its requests: `(model, local_server_or_None)`.

    `base_url` wins (a deployed endpoint, or the test's server). Full mode: the real SDXL base on the
    Hugging Face Hub. Tiny mode: a LocalTextToImageServer on this machine running the tiny SDXL, started
    here (call `.stop()` on it when done).
    """
    if base_url:
        return base_url, None
    from .models import CATALOGUE, current_mode, model_path

    if current_mode(mode) == "full":
        return CATALOGUE["sdxl-base"].hub_id, None
    import torch
    from diffusers import StableDiffusionXLPipeline

    pipe = StableDiffusionXLPipeline.from_pretrained(model_path("sdxl-base", "tiny"), dtype=torch.float32,
                                                     variant="fp16", use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    server = LocalTextToImageServer(pipeline_generator(pipe)).start()
    return server.url, server
