"""The GGUF as an MLflow pyfunc model, for `mlflow models serve` and `load_model`.

MLflow stores this file inside every registered version and runs it to build
the model ("models from code"), so nothing is unpickled at load time. It may
import only third-party packages: a registered version must load where this
repository is not installed. llama-cpp-python loads the GGUF that the version
carries under ``artifacts/``.

``predict`` answers each question or chat conversation with one text. MLflow
checks the input against the signature and hands it over as a DataFrame with
a ``question`` column (a text, or a list of texts) and a ``messages`` column
(OpenAI chat messages, ``[{"role": ..., "content": ...}]``). So these work:

- a DataFrame with either column, one question or conversation per row;
- ``{"question": "..."}`` or ``{"question": ["...", "..."]}``;
- ``{"messages": [...]}``, one conversation, as the OpenAI chat API takes it.

A bare string or list of strings does not: the signature check turns it into
an unnamed column and drops it.

Generation parameters are ``max_tokens`` and ``temperature`` as OpenAI names
them, greedy by default so that a question gets the same answer each time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

GGUF_ARTIFACT = "gguf"
DEFAULT_MAX_TOKENS = 128
DEFAULT_TEMPERATURE = 0.0
DEFAULT_N_CTX = 4096
# A base model without a chat template is asked in the Question/Answer shape
# that the golden evaluation uses for such models.
_QUESTION, _ANSWER = "Question", "Answer"


class GgufChatModel(PythonModel):
    """One GGUF in one llama.cpp context; answers questions and conversations.

    The context is set up from the environment variables the API reads too:
    ``LLM_CONTEXT_SIZE`` (4096), ``LLAMA_N_GPU_LAYERS`` (0) and
    ``LLAMA_N_THREADS`` (all cores).
    """

    def load_context(self, context) -> None:
        from llama_cpp import Llama

        self._llama = Llama(
            model_path=context.artifacts[GGUF_ARTIFACT],
            n_ctx=_setting("LLM_CONTEXT_SIZE", DEFAULT_N_CTX),
            n_gpu_layers=_setting("LLAMA_N_GPU_LAYERS", 0),
            n_threads=_setting("LLAMA_N_THREADS", os.cpu_count() or 1),
            verbose=False,
        )
        self._has_template = bool(self._llama.metadata.get("tokenizer.chat_template"))
        # One llama context runs one generation at a time, and the scoring
        # server may call predict from several threads.
        self._lock = threading.Lock()

    def predict(
        self, context, model_input: pd.DataFrame, params: dict | None = None
    ) -> list[str]:
        params = params or {}
        max_tokens = int(params.get("max_tokens", DEFAULT_MAX_TOKENS))
        temperature = float(params.get("temperature", DEFAULT_TEMPERATURE))
        # llama.cpp reads max_tokens <= 0 as "until the context is full".
        if max_tokens < 1:
            raise InvalidInputError(f"max_tokens must be at least 1, not {max_tokens}")
        if not temperature >= 0:
            raise InvalidInputError(f"temperature must be 0 or more, not {temperature}")
        return [
            self._answer(messages, max_tokens, temperature)
            for messages in conversations(model_input)
        ]

    def _answer(self, messages: list[dict], max_tokens: int, temperature: float):
        with self._lock:
            if self._has_template:
                reply = self._llama.create_chat_completion(
                    messages=messages, max_tokens=max_tokens, temperature=temperature
                )
                return reply["choices"][0]["message"]["content"] or ""

            reply = self._llama.create_completion(
                transcript(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                stop=[f"\n{_QUESTION}:"],
            )
            return reply["choices"][0]["text"].strip()


class InvalidInputError(MlflowException, ValueError):
    """Input or parameters this model cannot answer.

    ``mlflow models serve`` passes an MlflowException's message on to the
    client with its status (400 here); any other exception becomes a generic
    "unexpected error" that hides what to fix.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)


def conversations(model_input: pd.DataFrame | Mapping) -> list[list[dict]]:
    """The chat conversations to answer, one per answer, in input order.

    A dict stands for one row. Raises ``ValueError`` naming the accepted shapes
    when a row holds neither a question nor messages.
    """
    if isinstance(model_input, Mapping):
        rows = [model_input]
    else:
        rows = pd.DataFrame(model_input).to_dict("records")
    found = [conversation for row in rows for conversation in _from_row(row)]
    if not found:
        raise InvalidInputError(f"nothing to answer: {_SHAPES}")
    return found


_SHAPES = (
    "send a 'question' (a text or a list of texts) or 'messages' (a list of "
    "{'role': ..., 'content': ...}), e.g. "
    "{'messages': [{'role': 'user', 'content': 'When should I sow wheat?'}]}"
)


def _from_row(row: Mapping) -> list[list[dict]]:
    messages = row.get("messages")
    if _is_sequence(messages) and len(messages):
        listed = [dict(message) for message in messages if isinstance(message, Mapping)]
        if len(listed) < len(messages) or not all(map(_is_message, listed)):
            raise InvalidInputError(f"a message lacks its role or content: {_SHAPES}")
        return [listed]

    question = row.get("question")
    if isinstance(question, str):
        return [_asked(question)]
    if _is_sequence(question):
        return [_asked(str(item)) for item in question]
    raise InvalidInputError(f"a row holds neither a question nor messages: {_SHAPES}")


def _is_sequence(value: Any) -> bool:
    """True for a list or array; False for text and for pandas' missing values."""
    return isinstance(value, Iterable) and not isinstance(value, str | Mapping)


def _is_message(message: Mapping) -> bool:
    return "role" in message and "content" in message


def _asked(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


def _setting(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(
            f"{name} is '{value}', not a whole number; set it to one or unset it "
            f"to use {default}"
        ) from exc


def transcript(messages: list[dict]) -> str:
    """The conversation as plain text that ends where the answer begins."""
    speakers = {"user": _QUESTION, "assistant": _ANSWER}
    turns = []
    for message in messages:
        speaker = speakers.get(message["role"])
        content = str(message["content"] or "")
        turns.append(f"{speaker}: {content}" if speaker else content)
    return "\n".join(turns) + f"\n{_ANSWER}:"


mlflow.models.set_model(GgufChatModel())
