"""What an evaluation runs against: a GGUF file, a server, or any backend.

A target says how the candidate appears in the record, which hash identifies
its weights (and so keys the generation cache), whether it takes chat messages,
and how to start its backend. The backend starts only when an answer is not
already cached, so re-scoring a cached run never loads the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.backends import Backend, GenerationParams, LlamaCppBackend
from evaluation.endpoint import OpenAIEndpointBackend
from evaluation.model_file import inspect_gguf


@dataclass(frozen=True)
class Target:
    """A candidate under evaluation and how to reach it."""

    section: dict[str, Any]
    sha256: str | None
    use_chat: bool
    open_backend: Callable[[], Backend]
    concurrency: int = 1


def gguf_target(path: Path, params: GenerationParams) -> Target:
    """A GGUF run in process; checked now, loaded on the first uncached case."""
    info = inspect_gguf(path)
    section = {
        "kind": "gguf",
        "path": str(info.path),
        "sha256": info.sha256,
        "size_bytes": info.size_bytes,
        "name": info.name,
        "architecture": info.architecture,
        "quantization": info.quantization,
        "chat_template": info.chat_template is not None,
    }
    return Target(
        section=section,
        sha256=info.sha256,
        # Base models have no chat template: they get the completion prompt.
        use_chat=info.chat_template is not None,
        open_backend=lambda: LlamaCppBackend(path, params),
    )


def endpoint_target(url: str, params: GenerationParams, concurrency: int) -> Target:
    """A model behind an OpenAI-compatible server, asked ``concurrency`` at a time.

    A server does not reveal its weights, so the record has no model sha256
    and the generation cache is not used.
    """
    backend = OpenAIEndpointBackend(url, params)
    section = {
        "kind": "endpoint",
        "path": backend.url,
        "sha256": None,
        "size_bytes": None,
        "name": backend.model,
        "architecture": "unknown",
        "quantization": "unknown",
        "chat_template": True,
    }
    return Target(
        section=section,
        sha256=None,
        use_chat=True,
        open_backend=lambda: backend,
        concurrency=concurrency,
    )


def backend_target(backend: Backend, name: str, sha256: str | None = None) -> Target:
    """Any object with ``chat`` and ``complete``, asked with chat messages."""
    section = {
        "kind": "backend",
        "path": name,
        "sha256": sha256,
        "size_bytes": None,
        "name": name,
        "architecture": "unknown",
        "quantization": "unknown",
        "chat_template": True,
    }
    return Target(
        section=section, sha256=sha256, use_chat=True, open_backend=lambda: backend
    )
