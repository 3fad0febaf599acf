"""OpenAI-compatible servers for the judge tests: a rule-following judge and a
scripted candidate, both real HTTP apps to run on a loopback port.

The judge reads the structured prompts ragas sends, takes the JSON input at
their end and answers as a careful judge would, by rule: an answer breaks into
its sentences, and a sentence is supported when the context holds it word for
word (ignoring case and the final full stop). Invented sentences are therefore
unsupported, and what it says is known exactly.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from evaluation.golden import GoldenCase
from tests.evaluation.scripted import Script, ScriptedBackend

JUDGE_MODEL = "rule-judge"


class Traffic:
    """Counts the requests a server received and held at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.in_flight = 0
        self.peak = 0

    def enter(self) -> None:
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


def judge_app(traffic: Traffic, behaviour: str = "rules") -> FastAPI:
    """A judge server; ``behaviour`` "prose" answers without JSON, "broken"
    answers HTTP 500, and "rules" judges by the rules of this module."""
    app = FastAPI()

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [_model(JUDGE_MODEL)]}

    @app.post("/v1/chat/completions")
    def chat(body: dict):
        traffic.enter()
        try:
            time.sleep(0.02)  # let concurrent requests overlap visibly
            if behaviour == "broken":
                return JSONResponse({"error": "judge crashed"}, status_code=500)
            if behaviour == "prose":
                return _completion(body, "Every statement looks right to me.")
            task = _task(body["messages"][-1]["content"])
            return _completion(body, json.dumps(_judge(task)))
        finally:
            traffic.leave()

    return app


def candidate_app(cases: Sequence[GoldenCase], script: Script) -> FastAPI:
    """A candidate server answering each golden case with ``script(case)``."""
    app = FastAPI()
    backend = ScriptedBackend(cases, script)

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [_model("scripted-candidate")]}

    @app.post("/v1/chat/completions")
    def chat(body: dict):
        answer = backend.chat(body["messages"])
        return _completion(body, answer.text)

    return app


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, split after a full stop, ! or ?."""
    return [part for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part]


def _judge(task: dict) -> dict:
    if "question" in task:  # break an answer into statements
        return {"statements": sentences(task["answer"])}
    if "atomicity" in task:  # break a text into claims
        return {"claims": sentences(task["response"])}
    context = _plain(task["context"])
    return {
        "statements": [
            {
                "statement": statement,
                "reason": "stated in the context"
                if _plain(statement) in context
                else "not in the context",
                "verdict": int(_plain(statement) in context),
            }
            for statement in task["statements"]
        ]
    }


def _task(prompt: str) -> dict:
    """The JSON input ragas puts after the examples, between input: and Output:."""
    start = prompt.rindex("\ninput: ") + len("\ninput: ")
    return json.loads(prompt[start : prompt.rindex("\nOutput:")])


def _plain(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".")


def _model(name: str) -> dict:
    return {"id": name, "object": "model", "created": 0, "owned_by": "tests"}


def _completion(body: dict, content: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", JUDGE_MODEL),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
