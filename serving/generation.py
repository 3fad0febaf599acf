"""Run one OpenAI request on the served model and shape the answer.

Blocking llama.cpp calls run in worker threads so the event loop keeps
accepting, queueing and answering health checks while a model decodes.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import structlog
from anyio import CancelScope

from serving.disconnect import until_disconnected
from serving.engine import Piece, Prompt, Sampling
from serving.errors import ContextWindowError, InvalidRequestError, ServingError
from serving.metrics import ServingMetrics
from serving.model_manager import ServedModel
from serving.schemas import ChatCompletionRequest, CompletionRequest
from serving.settings import ServingSettings
from serving.structured_output import grammar_for

log = structlog.get_logger("serving")

CHAT = "chat.completion"
TEXT = "text_completion"

# Each generation holds one thread for its whole length. asyncio's default
# pool has a handful of threads on a small machine, fewer than llama-server
# may have slots; threads here are started only when needed.
_GENERATION_THREADS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="generate")


@dataclass
class Job:
    """A planned generation: who asked, on which model, with what prompt."""

    kind: str
    served: ServedModel
    prompt: Prompt
    sampling: Sampling
    include_usage: bool
    id: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    completion_tokens: int = 0

    def __post_init__(self) -> None:
        prefix = "chatcmpl" if self.kind == CHAT else "cmpl"
        self.id = f"{prefix}-{uuid.uuid4().hex}"

    @property
    def fingerprint(self) -> str:
        info = self.served.info
        return f"v{info.version}-{info.sha256[:12]}"


def plan(
    request: ChatCompletionRequest | CompletionRequest,
    served: ServedModel,
    settings: ServingSettings,
) -> Job:
    """Tokenize the prompt and fit max_tokens to the context window (blocking)."""
    engine = served.engine
    chat = isinstance(request, ChatCompletionRequest)
    try:
        if chat:
            kind, prompt = CHAT, engine.chat_prompt(request.message_dicts())
        else:
            kind, prompt = TEXT, engine.text_prompt(request.prompt_text())
    except UnicodeEncodeError as exc:
        # JSON lets a client send a lone UTF-16 surrogate ("\ud800"), which
        # no UTF-8 text, and so no prompt, can hold.
        raise InvalidRequestError(
            "the text holds a lone UTF-16 surrogate escape, which is not a "
            "character; send valid Unicode text",
            param="messages" if chat else "prompt",
        ) from exc

    max_tokens = fit_max_tokens(
        len(prompt.tokens),
        request.requested_max_tokens(),
        settings.llm_max_tokens,
        engine.n_ctx,
        prompt_param="messages" if chat else "prompt",
    )
    sampling = Sampling(
        max_tokens=max_tokens,
        temperature=_given(request.temperature, settings.llm_temperature),
        top_p=_given(request.top_p, 0.95),
        stop=request.stop_list(),
        seed=llama_seed(request.seed),
        presence_penalty=_given(request.presence_penalty, 0.0),
        frequency_penalty=_given(request.frequency_penalty, 0.0),
        grammar=grammar_for(request.response_format),
    )
    return Job(kind, served, prompt, sampling, request.include_usage())


def fit_max_tokens(
    prompt_tokens: int,
    requested: int | None,
    cap: int,
    n_ctx: int,
    *,
    prompt_param: str = "messages",
) -> int:
    """``requested`` capped at ``cap``; refused if the prompt leaves no room."""
    if prompt_tokens >= n_ctx:
        raise ContextWindowError(
            f"the prompt is {prompt_tokens} tokens, which does not fit the "
            f"model's context window of {n_ctx}; shorten the prompt or messages",
            param=prompt_param,
        )
    if requested is None:
        return min(cap, n_ctx - prompt_tokens)

    wanted = min(requested, cap)
    if prompt_tokens + wanted > n_ctx:
        raise ContextWindowError(
            f"the prompt is {prompt_tokens} tokens and max_tokens is {wanted}: "
            f"{prompt_tokens + wanted} tokens exceed the model's context window "
            f"of {n_ctx}; shorten the prompt or lower max_tokens",
            param="max_tokens",
        )
    return wanted


# llama.cpp seeds are 32-bit and LLAMA_DEFAULT_SEED (0xFFFFFFFF) means "pick one
# at random": a client's seed is folded into the other 2**32 - 1 values, so
# every seed, negative and 64-bit ones included, gives repeatable sampling.
_SEED_VALUES = 0xFFFFFFFF


def llama_seed(seed: int | None) -> int | None:
    """The llama.cpp seed for an OpenAI ``seed``; None leaves sampling random."""
    return None if seed is None else seed % _SEED_VALUES


def _given(value, default):
    return default if value is None else value


class Generation:
    """One request planned and decoded in a single worker thread.

    The thread tokenizes the prompt, hands the planned :class:`Job` to the
    event loop, then decodes at once: decoding goes on while the response
    headers travel, and the request costs one thread hop rather than one for
    planning and one for decoding. Streamed, each piece is handed over as it
    is decoded, without waiting for the previous one to be sent; whole, the
    answer is handed over once, joined.

    ``stop`` asks the thread to end after the piece it is decoding and waits
    for it: the llama context must be idle before the next turn begins.
    """

    _END = object()

    def __init__(
        self,
        request: ChatCompletionRequest | CompletionRequest,
        served: ServedModel,
        settings: ServingSettings,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._items: asyncio.Queue = asyncio.Queue()
        self._cancel = threading.Event()
        self._whole = not request.stream
        self._worker = self._loop.run_in_executor(
            _GENERATION_THREADS, self._run, request, served, settings
        )

    async def planned(self) -> Job:
        """The planned job, or the client's mistake that stopped planning."""
        item = await self._items.get()
        if isinstance(item, BaseException):
            await self.stop()
            raise item
        return item

    async def pieces(self) -> AsyncIterator[Piece]:
        """Decoded pieces in order; the last carries the finish reason."""
        while (item := await self._items.get()) is not self._END:
            if isinstance(item, Exception):
                raise item
            yield item

    async def stop(self) -> None:
        self._cancel.set()
        # Shielded: a client that disconnects cancels this task, and the
        # model must not be handed on while the thread still decodes.
        with CancelScope(shield=True):
            await self._worker

    def cancel(self) -> None:
        """Ask the thread to stop after the piece it is decoding."""
        self._cancel.set()

    def _run(self, request, served: ServedModel, settings: ServingSettings) -> None:
        hand_over = self._loop.call_soon_threadsafe
        try:
            job = plan(request, served, settings)
        except Exception as exc:  # re-raised by planned(), in the event loop
            hand_over(self._items.put_nowait, exc)
            return
        hand_over(self._items.put_nowait, job)

        try:
            if self._whole:
                hand_over(self._items.put_nowait, self._collect(job))
            else:
                self._decode(job, hand_over)
        except Exception as exc:  # re-raised by pieces(), in the event loop
            hand_over(self._items.put_nowait, exc)
        finally:
            hand_over(self._items.put_nowait, self._END)

    def _decode(self, job: Job, hand_over) -> None:
        pieces = job.served.engine.stream(job.prompt, job.sampling)
        try:
            for piece in pieces:
                hand_over(self._items.put_nowait, piece)
                if self._cancel.is_set():
                    break
        finally:
            pieces.close()

    def _collect(self, job: Job) -> Piece:
        parts, last = [], Piece("", "stop")
        pieces = job.served.engine.stream(job.prompt, job.sampling)
        try:
            for piece in pieces:
                parts.append(piece.text)
                last = piece
                if self._cancel.is_set():
                    break
        finally:
            pieces.close()
        return Piece("".join(parts), last.finish_reason, last.completion_tokens)


async def complete(
    job: Job,
    generation: Generation,
    metrics: ServingMetrics,
    disconnected: Callable[[], Awaitable[bool]],
) -> dict:
    """The whole answer; generation stops early if the client goes away."""
    watcher = asyncio.create_task(_watch(disconnected, generation))
    started = time.perf_counter()
    try:
        # A whole generation hands over one piece: the joined answer.
        answer = Piece("", "stop")
        async for piece in generation.pieces():
            answer = piece
    finally:
        watcher.cancel()
        await generation.stop()
    job.completion_tokens = answer.completion_tokens
    metrics.record_generation(answer.completion_tokens, time.perf_counter() - started)
    return _whole_body(job, answer.text, answer.finish_reason or "stop")


async def _watch(disconnected, generation: Generation) -> None:
    await until_disconnected(disconnected)
    generation.cancel()


async def stream(
    job: Job, generation: Generation, metrics: ServingMetrics
) -> AsyncIterator[bytes]:
    """Server-sent events in OpenAI's chunk format, ending with ``[DONE]``."""
    started = time.perf_counter()
    try:
        if job.kind == CHAT:
            yield sse_event(_chunk(job, {"role": "assistant", "content": ""}, None))
        async for piece in generation.pieces():
            delta = {"content": piece.text} if piece.text else {}
            job.completion_tokens = piece.completion_tokens
            yield sse_event(_chunk(job, delta, piece.finish_reason))
        if job.include_usage:
            yield sse_event(
                {**_chunk(job, {}, None), "choices": [], "usage": _usage(job)}
            )
        yield b"data: [DONE]\n\n"
    except ServingError as exc:
        log.error("generation.failed", reason=exc.message, cause=repr(exc.__cause__))
        yield sse_event(_error_event())
    finally:
        await generation.stop()
        metrics.record_generation(job.completion_tokens, time.perf_counter() - started)


def _whole_body(job: Job, text: str, finish_reason: str) -> dict:
    if job.kind == CHAT:
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish_reason,
            "logprobs": None,
        }
    else:
        choice = {
            "index": 0,
            "text": text,
            "finish_reason": finish_reason,
            "logprobs": None,
        }
    return {**_envelope(job), "choices": [choice], "usage": _usage(job)}


def _chunk(job: Job, delta: dict, finish_reason: str | None) -> dict:
    if job.kind == CHAT:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        envelope = {**_envelope(job), "object": "chat.completion.chunk"}
        return {**envelope, "choices": [choice]}
    choice = {
        "index": 0,
        "text": delta.get("content", ""),
        "finish_reason": finish_reason,
        "logprobs": None,
    }
    return {**_envelope(job), "choices": [choice]}


def _envelope(job: Job) -> dict:
    return {
        "id": job.id,
        "object": job.kind,
        "created": job.created,
        "model": job.served.info.name,
        "system_fingerprint": job.fingerprint,
    }


def _usage(job: Job) -> dict:
    prompt_tokens = len(job.prompt.tokens)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": job.completion_tokens,
        "total_tokens": prompt_tokens + job.completion_tokens,
    }


def _error_event() -> dict:
    return {
        "error": {
            "message": "the model failed while generating; retry the request",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }


def sse_event(payload: dict) -> bytes:
    """One server-sent event carrying ``payload`` as JSON."""
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"
