"""The OpenAI-compatible routes: chat completions, text completions, models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from serving.degraded import FINGERPRINT, rules_response
from serving.errors import UnknownModelError
from serving.generation import Generation, Job, complete, stream
from serving.queue import Turn
from serving.schemas import ChatCompletionRequest, CompletionRequest
from serving.services import AnswerSource, Services
from serving.structured_output import check_response_format

router = APIRouter(prefix="/v1")


@router.get("/models")
async def list_models(request: Request) -> dict:
    """The model this server answers with: a vetted version, or the rules."""
    services: Services = request.app.state.services
    served = services.manager.current
    if services.answer_source() is not AnswerSource.MODEL:
        owner = FINGERPRINT
    elif served is not None:
        owner = f"version {served.info.version}"
    else:
        return {"object": "list", "data": []}
    model = {
        "id": services.settings.model_name,
        "object": "model",
        "created": 0,
        "owned_by": owner,
    }
    return {"object": "list", "data": [model]}


@router.post("/chat/completions")
async def create_chat_completion(body: ChatCompletionRequest, request: Request):
    """Answer chat messages, whole or streamed over server-sent events."""
    return await _generate(body, request)


@router.post("/completions")
async def create_completion(body: CompletionRequest, request: Request):
    """Continue a plain prompt, whole or streamed over server-sent events."""
    return await _generate(body, request)


async def _generate(body: ChatCompletionRequest | CompletionRequest, request: Request):
    services: Services = request.app.state.services
    _check_model_name(body.model, services)
    await check_response_format(body.response_format)
    if services.answer_source() is not AnswerSource.MODEL:
        return rules_response(body, services)
    services.manager.require_ready()  # 503 at once rather than after queueing

    started = await _start(body, services, request.is_disconnected)
    if started is None:
        # Nobody is left to read an answer. 499, "client closed request",
        # keeps the request apart from server errors in metrics and logs.
        return Response(status_code=499)
    job, generation, turn = started
    request.state.job = job
    release = _once(job.served.release, turn.release)
    if body.stream:
        return ReleasingStreamingResponse(
            stream(job, generation, services.metrics),
            finish=generation.stop,
            release=release,
        )
    try:
        return await complete(
            job, generation, services.metrics, request.is_disconnected
        )
    finally:
        release()


async def _start(
    body, services: Services, disconnected: Callable[[], Awaitable[bool]]
) -> tuple[Job, Generation, Turn] | None:
    """Take a turn at the model, check the current model out and plan the job.

    None if the client disconnects while waiting for its turn.
    """
    turn = await services.queue.take_turn(disconnected)
    if turn is None:
        return None

    served = generation = None
    try:
        served = services.manager.check_out()
        generation = Generation(body, served, services.settings)
        job = await generation.planned()
    except BaseException:
        if generation is not None:
            await generation.stop()
        if served is not None:
            served.release()
        turn.release()
        raise
    return job, generation, turn


def _check_model_name(name: str, services: Services) -> None:
    settings = services.settings
    pinned = f"{settings.model_name}@{settings.model_alias}"
    if name not in (settings.model_name, pinned):
        raise UnknownModelError(
            f"model '{name}' is not served here; use '{settings.model_name}' "
            "(see GET /v1/models)",
            param="model",
        )


def _once(*actions: Callable[[], None]) -> Callable[[], None]:
    done = False

    def run() -> None:
        nonlocal done
        if done:
            return
        done = True
        for action in actions:
            action()

    return run


class ReleasingStreamingResponse(StreamingResponse):
    """An SSE response that frees the model even if it never starts streaming.

    ``finish`` waits for the generation to stop, so the model is released
    only once its context is idle.
    """

    def __init__(
        self,
        content,
        *,
        finish: Callable[[], Awaitable[None]],
        release: Callable[[], None],
    ) -> None:
        super().__init__(
            content,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._finish = finish
        self._release = release

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._finish()
            self._release()
