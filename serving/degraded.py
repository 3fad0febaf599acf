"""Answers from the rule-based adviser, in OpenAI's shapes, marked as degraded.

A client can tell such an answer from a model's in two ways: the
``X-Yonca-Degraded: true`` header, and ``system_fingerprint`` set to
``rules-only`` instead of the model version. ``usage`` counts words rather than
tokens, since no tokenizer is involved; ``stop`` strings end the answer as they
would a model's, and ``max_tokens`` (capped at LLM_MAX_TOKENS as for a model)
cuts it after that many words, with ``finish_reason`` ``length``.

Asked for a JSON object, the rules answer ``{"answer": "<their text>"}``. They
cannot follow a JSON Schema, so a ``json_schema`` request gets a 503 instead of
an answer its client would fail to read.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

from fastapi.responses import JSONResponse, Response, StreamingResponse

from serving.errors import NotReadyError
from serving.generation import CHAT, TEXT, sse_event
from serving.rules import advise
from serving.schemas import ChatCompletionRequest, CompletionRequest, ResponseFormat
from serving.services import Services
from serving.structured_output import schema_to_follow

DEGRADED_HEADER = "X-Yonca-Degraded"
FINGERPRINT = "rules-only"


def rules_response(
    body: ChatCompletionRequest | CompletionRequest, services: Services
) -> Response:
    """The rules' answer to ``body``, whole or as server-sent events."""
    chat = isinstance(body, ChatCompletionRequest)
    question = _request_text(body)
    limit = min(
        body.requested_max_tokens() or services.settings.llm_max_tokens,
        services.settings.llm_max_tokens,
    )
    text, finish_reason = _cut(advise(question), limit, body.stop_list())
    answer = _shaped(text, body.response_format)
    services.metrics.degraded_answers.inc()

    envelope = {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}",
        "object": CHAT if chat else TEXT,
        "created": int(time.time()),
        "model": services.settings.model_name,
        "system_fingerprint": FINGERPRINT,
    }
    usage = _usage(question, text)
    headers = {DEGRADED_HEADER: "true"}
    if body.stream:
        usage = usage if body.include_usage() else None
        events = _events(envelope, answer, finish_reason, usage)
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={**headers, "Cache-Control": "no-cache"},
        )
    choice = _choice(chat, answer, finish_reason)
    whole = {**envelope, "choices": [choice], "usage": usage}
    return JSONResponse(whole, headers=headers)


def _request_text(body: ChatCompletionRequest | CompletionRequest) -> str:
    if isinstance(body, CompletionRequest):
        return body.prompt_text()
    # Farm records may sit in the system message or in the user's; the
    # assistant's earlier answers are not records.
    messages = body.message_dicts()
    return "\n".join(m["content"] for m in messages if m["role"] != "assistant")


def _cut(text: str, limit: int, stops: list[str]) -> tuple[str, str]:
    """``text`` up to its first stop string and at most ``limit`` words.

    The finish reason is ``length`` when the word limit cut the text.
    """
    found = [i for stop in stops if stop and (i := text.find(stop)) >= 0]
    if found:
        text = text[: min(found)]
    words = list(re.finditer(r"\S+", text))
    if len(words) <= limit:
        return text, "stop"
    return text[: words[limit - 1].end()], "length"


def _shaped(answer: str, response_format: ResponseFormat | None) -> str:
    """The rules' text in the shape ``response_format`` asks for."""
    if response_format is None or schema_to_follow(response_format) is None:
        return answer
    if response_format.type == "json_schema":
        raise NotReadyError(
            "the model is not answering now, and the rule-based answers given "
            "meanwhile cannot follow a JSON schema; retry later, or ask with "
            'response_format {"type": "json_object"} or without it',
            param="response_format",
        )
    return json.dumps({"answer": answer}, ensure_ascii=False)


def _choice(chat: bool, answer: str, finish_reason: str) -> dict:
    if chat:
        message = {"role": "assistant", "content": answer}
        return {"index": 0, "message": message, "finish_reason": finish_reason}
    return {
        "index": 0,
        "text": answer,
        "finish_reason": finish_reason,
        "logprobs": None,
    }


def _events(
    envelope: dict, answer: str, finish_reason: str, usage: dict | None
) -> Iterator[bytes]:
    if envelope["object"] == CHAT:
        chunk = {**envelope, "object": "chat.completion.chunk"}
        deltas = [{"role": "assistant", "content": ""}, {"content": answer}, {}]
        for number, delta in enumerate(deltas):
            finish = finish_reason if number == len(deltas) - 1 else None
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            yield sse_event({**chunk, "choices": [choice]})
    else:
        chunk = envelope
        yield sse_event({**chunk, "choices": [_choice(False, answer, finish_reason)]})
    if usage is not None:
        yield sse_event({**chunk, "choices": [], "usage": usage})
    yield b"data: [DONE]\n\n"


def _usage(question: str, text: str) -> dict:
    prompt, completion = len(question.split()), len(text.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
