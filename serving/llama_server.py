"""The llama-server engine: the vetted GGUF served by llama.cpp's own HTTP server.

With ``LLAMA_SERVER_URL`` set, generation runs in a separate ``llama-server``
process that decodes one sequence per slot at once (continuous batching).
This engine offers the interface of ``serving.engine.LlamaEngine`` over
llama-server's native endpoints:

    GET  /props           the GGUF it serves, its slots, each slot's context
    POST /apply-template  chat messages rendered with the GGUF's own template
    POST /tokenize        prompt text to tokens, so limits and usage are exact
    POST /completion      a token prompt in, text streamed back as events

A vetted model is served only if llama-server runs on its file: the path in
``/props`` must be readable here and hash to the version's sha256. Requests
re-read ``/props`` every few seconds and are refused (503) while llama-server
serves anything else, e.g. after a restart on another file.

Run llama-server with ``--no-prefill-assistant``: by default it continues a
chat's last message when that message is the assistant's, where the in-process
engine (and the golden evaluation) answer it with a new turn. ``/props`` does
not say which way it was started, so this is not checked.

llama-server's failures are translated here, the cause kept: unreachable,
timed out, 5xx or unreadable answers become EngineUnavailableError (503); a
4xx means this module built a bad request and becomes EngineError (500).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import structlog

from serving.cache import VettedModel
from serving.engine import Piece, Prompt, Sampling, format_transcript
from serving.errors import (
    EngineError,
    EngineMismatchError,
    EngineUnavailableError,
    InvalidRequestError,
    ModelLoadError,
)
from serving.gguf_metadata import has_key
from serving.settings import ServingSettings
from yonca.hashing import sha256_file

log = structlog.get_logger("serving")

_CONNECT_SECONDS = 5.0
# How long requests trust the last look at /props before looking again. After
# llama-server fails to answer, the next request looks at once: a restart may
# have put another file behind the same address.
_RECHECK_SECONDS = 2.0
# What the last event of a stream needs; by default llama-server repeats the
# whole prompt and every generation setting in it.
_FINAL_FIELDS = ["content", "stop", "stop_type", "tokens_predicted"]
# sha256 of files llama-server served, by file signature (see _signature).
_HASHES: dict[tuple, str] = {}


class LlamaServerEngine:
    """A running llama-server, confirmed to serve the vetted GGUF ``model``.

    Unlike LlamaEngine it may be used from many threads at once: every
    generation is its own HTTP request, and llama-server decodes up to
    ``slots`` of them together. Raises EngineMismatchError when llama-server
    cannot be reached or serves another file.
    """

    def __init__(
        self,
        url: str,
        model: VettedModel,
        *,
        slots: int | None = None,
        api_key: str | None = None,
        timeout_seconds: float = 120.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.n_ctx = 0
        self.slots = slots or 1
        self._fixed_slots = slots
        self._client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else None,
            timeout=httpx.Timeout(timeout_seconds, connect=_CONNECT_SECONDS),
        )
        # The manager verified the cached file's bytes just before this.
        self._confirmed = _signature(model.path)
        self._checked_at = 0.0
        self._mismatch: str | None = None
        self._check_lock = threading.Lock()
        try:
            self._adopt(self._initial_props())
            self._checked_at = time.monotonic()
            self._transcript = not _has_chat_template(model.path)
        except BaseException:
            self._client.close()
            raise

    @classmethod
    def from_settings(
        cls, model: VettedModel, settings: ServingSettings
    ) -> LlamaServerEngine:
        key = settings.llama_server_api_key
        return cls(
            settings.llama_server_url or "",
            model,
            slots=settings.llama_server_slots,
            api_key=key.get_secret_value() if key else None,
            timeout_seconds=settings.llama_server_timeout_seconds,
        )

    @property
    def problem(self) -> str | None:
        """Why llama-server cannot answer for the vetted model, as last checked."""
        return self._mismatch

    def chat_prompt(self, messages: list[dict[str, str]]) -> Prompt:
        """Render chat messages as the in-process engine would, then tokenize."""
        self._check_still_serving()
        if self._transcript:
            # No template in the GGUF: the question/answer transcript the
            # golden evaluation scored, not llama-server's ChatML fallback.
            rendered = format_transcript(messages)
            tokens = self._tokenize(rendered.prompt, parse_special=True)
            return Prompt(tokens, list(rendered.stop))

        response = self._send("POST", "/apply-template", {"messages": messages})
        # A template that refuses the messages makes llama.cpp answer 400, or
        # 500 when the template itself fails while rendering them.
        if response.status_code in (400, 500) and _error_text(response):
            log.info("llama_server.template_refused", detail=_error_text(response))
            raise InvalidRequestError(
                "the model's chat template cannot render these messages; check "
                "that roles alternate between user and assistant",
                param="messages",
            )
        data = self._decode(response, "/apply-template")
        rendered = self._field(data, "prompt", str, "/apply-template")
        return Prompt(self._tokenize(rendered, parse_special=True))

    def text_prompt(self, text: str) -> Prompt:
        """Tokenize a plain prompt for a text completion."""
        self._check_still_serving()
        return Prompt(self._tokenize(text, parse_special=False))

    def stream(self, prompt: Prompt, sampling: Sampling) -> Iterator[Piece]:
        """Generate text piece by piece; closing the iterator stops generation.

        Closing drops the HTTP connection, which llama-server takes as the
        signal to free the slot.
        """
        request = self._client.build_request(
            "POST", "/completion", json=completion_body(prompt, sampling)
        )
        try:
            response = _resent_if_stale(lambda: self._client.send(request, stream=True))
            try:
                yield from self._pieces(response)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise self._unavailable("/completion", _describe(exc)) from exc

    def _pieces(self, response: httpx.Response) -> Iterator[Piece]:
        if response.status_code != 200:
            response.read()
            self._decode(response, "/completion")
        for event in self._events(response):
            completion_tokens = int(event.get("tokens_predicted", 0))
            text = event.get("content") or ""
            if event.get("stop"):
                finish = "length" if event.get("stop_type") == "limit" else "stop"
                yield Piece(text, finish, completion_tokens)
                return
            if text:
                yield Piece(text, completion_tokens=completion_tokens)
        raise self._unavailable("/completion", "the stream ended before its last event")

    def close(self) -> None:
        """Close the connections to llama-server; llama-server itself keeps running."""
        self._client.close()

    # Checking what llama-server serves.

    def _initial_props(self) -> dict:
        try:
            return self._decode(self._send("GET", "/props"), "/props")
        except EngineUnavailableError as exc:
            problem = f"it is not answering: {exc.reason}"
        except EngineError as exc:
            problem = exc.message
        raise EngineMismatchError(
            f"llama-server at {self.url} cannot be used ({problem}); "
            f"{self._how_to_start()}"
        )

    def _check_still_serving(self) -> None:
        with self._check_lock:
            if time.monotonic() - self._checked_at >= _RECHECK_SECONDS:
                self._recheck()
            mismatch = self._mismatch
        if mismatch is not None:
            raise EngineUnavailableError("it no longer serves the vetted model")

    def _recheck(self) -> None:
        props = self._decode(self._send("GET", "/props"), "/props")
        try:
            self._adopt(props)
        except EngineMismatchError as exc:
            if self._mismatch is None:
                log.error("llama_server.mismatch", reason=exc.message)
            self._mismatch = exc.message
        else:
            if self._mismatch is not None:
                log.info("llama_server.serving_vetted", sha256=self.model.sha256)
            self._mismatch = None
        self._checked_at = time.monotonic()

    def _adopt(self, props: dict) -> None:
        """Check that ``props`` describe the vetted file; take its slots and n_ctx."""
        try:
            served = str(props["model_path"])
            n_ctx = int(props["default_generation_settings"]["n_ctx"])
            total_slots = int(props["total_slots"])
        except (KeyError, TypeError, ValueError) as exc:
            raise EngineMismatchError(
                f"{self.url}/props lacks model_path, total_slots or n_ctx; check "
                "that LLAMA_SERVER_URL is the address of a llama-server"
            ) from exc
        self._check_file(served)
        self.n_ctx = n_ctx
        self.slots = self._fixed_slots or total_slots

    def _check_file(self, served: str) -> None:
        path = Path(served)
        signature = _signature(path) if path.is_absolute() else None
        if signature is None:
            raise EngineMismatchError(
                f"llama-server at {self.url} serves '{served}', which this service "
                "cannot read to check it against the vetted sha256 "
                f"{self.model.sha256[:12]}; {self._how_to_start()}"
            )
        if signature == self._confirmed:
            return

        try:
            actual = _sha256(path, signature)
        except OSError as exc:
            raise EngineMismatchError(
                f"{served} cannot be read to verify it ({exc.strerror}); "
                f"{self._how_to_start()}"
            ) from exc
        if actual != self.model.sha256:
            raise EngineMismatchError(
                f"llama-server at {self.url} serves {served} (sha256 "
                f"{actual[:12]}), not the vetted GGUF of version "
                f"{self.model.version} (sha256 {self.model.sha256[:12]}); "
                f"{self._how_to_start()}"
            )
        self._confirmed = signature

    def _how_to_start(self) -> str:
        address = httpx.URL(self.url)
        return (
            f"start llama-server on the vetted file: `llama-server -m "
            f"{self.model.path.resolve()} --host {address.host} --port "
            f"{address.port or 80} --parallel 4 --no-prefill-assistant` (on "
            "another machine, mount the model cache at the same path)"
        )

    # Talking to llama-server.

    def _tokenize(self, text: str, *, parse_special: bool) -> list[int]:
        body = {"content": text, "add_special": True, "parse_special": parse_special}
        data = self._decode(self._send("POST", "/tokenize", body), "/tokenize")
        tokens = self._field(data, "tokens", list, "/tokenize")
        if not all(isinstance(token, int) for token in tokens):
            raise self._unavailable("/tokenize", "tokens that are not token ids")
        return tokens

    def _send(self, method: str, path: str, body: dict | None = None):
        try:
            return _resent_if_stale(
                lambda: self._client.request(method, path, json=body)
            )
        except httpx.HTTPError as exc:
            raise self._unavailable(path, _describe(exc)) from exc

    def _decode(self, response: httpx.Response, path: str) -> dict:
        status = response.status_code
        if status >= 500:
            log.warning("llama_server.failed", path=path, detail=_error_text(response))
            raise self._unavailable(path, f"status {status}")
        if status >= 400:
            raise EngineError(
                f"llama-server refused {path} with status {status}: "
                f"{_error_text(response)}; check LLAMA_SERVER_API_KEY and that "
                "LLAMA_SERVER_URL points at a llama-server"
            )
        try:
            data = response.json()
        except ValueError as exc:
            raise self._unavailable(path, "an answer that is not JSON") from exc
        if not isinstance(data, dict):
            raise self._unavailable(path, "an answer that is not a JSON object")
        return data

    def _field(self, data: dict, name: str, kind: type, path: str):
        value = data.get(name)
        if not isinstance(value, kind):
            raise self._unavailable(path, f"an answer without '{name}'")
        return value

    def _events(self, response: httpx.Response) -> Iterator[dict]:
        """The JSON events of a /completion stream, raising on an error event."""
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue  # blank separators and ":" keep-alive pings
            try:
                event = json.loads(line[6:])
            except ValueError as exc:
                raise self._unavailable(
                    "/completion", "an event that is not JSON"
                ) from exc
            if not isinstance(event, dict):
                raise self._unavailable("/completion", "an event that is not an object")
            if "error" in event:
                log.warning("llama_server.stream_error", error=event["error"])
                raise self._unavailable("/completion", "it failed while generating")
            yield event

    def _unavailable(self, path: str, reason: str) -> EngineUnavailableError:
        log.warning("llama_server.unavailable", url=self.url, path=path, reason=reason)
        self._checked_at = float("-inf")
        return EngineUnavailableError(reason)


def completion_body(prompt: Prompt, sampling: Sampling) -> dict:
    """The streamed /completion request that generates ``prompt``'s answer."""
    body = {
        "prompt": prompt.tokens,
        "n_predict": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "presence_penalty": sampling.presence_penalty,
        "frequency_penalty": sampling.frequency_penalty,
        # As the in-process engine generates: no repetition penalty.
        "repeat_penalty": 1.0,
        "stop": prompt.stop + sampling.stop,
        "stream": True,
        "cache_prompt": True,
        "response_fields": _FINAL_FIELDS,
    }
    if sampling.seed is not None:
        body["seed"] = sampling.seed
    if sampling.grammar is not None:
        # The grammar the in-process engine would use, not llama-server's
        # own conversion of a json_schema (see serving.structured_output).
        body["grammar"] = sampling.grammar
    return body


def _signature(path: Path) -> tuple | None:
    """What identifies a file's bytes without reading them, or None if unreadable."""
    try:
        stat = path.stat()
    except OSError:
        return None
    if not os.access(path, os.R_OK):
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _has_chat_template(path: Path) -> bool:
    try:
        return has_key(path, "tokenizer.chat_template")
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"the metadata of {path.name} cannot be read; the file is not a "
            "complete GGUF"
        ) from exc


def _resent_if_stale(send: Callable[[], httpx.Response]) -> httpx.Response:
    """``send()``, once more if the connection closed before any answer came.

    llama-server's HTTP threads may close a kept-alive connection just as it
    is reused; the request then never reached it, and sending it again on a
    new connection is safe.
    """
    try:
        return send()
    except httpx.RemoteProtocolError:
        return send()


def _sha256(path: Path, signature: tuple) -> str:
    """The file's sha256, hashed once per signature.

    A version refused for its engine is tried again at every refresh, and
    hashing a large GGUF takes seconds.
    """
    if signature not in _HASHES:
        if len(_HASHES) >= 8:
            _HASHES.clear()
        _HASHES[signature] = sha256_file(path)
    return _HASHES[signature]


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return "the connection broke"


def _error_text(response: httpx.Response) -> str:
    """llama-server's own error message, for the log."""
    try:
        error = response.json().get("error", {})
        return str(error.get("message", "")) if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        return response.text[:200]
