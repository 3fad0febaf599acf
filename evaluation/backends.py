"""Inference backends that turn a rendered prompt into an answer."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from evaluation.errors import GenerationError, ModelFileError


@dataclass(frozen=True)
class GenerationParams:
    """Generation settings, named as llama.cpp names them; part of every record."""

    n_ctx: int = 2048
    max_tokens: int = 128
    temperature: float = 0.0
    seed: int = 42
    n_gpu_layers: int = 0


@dataclass(frozen=True)
class Generation:
    """One answer with its token count and the time it took."""

    text: str
    completion_tokens: int
    seconds: float


class Backend(Protocol):
    """What the runner needs from an inference engine."""

    def chat(self, messages: list[dict[str, str]]) -> Generation:
        """Answer chat messages (the engine applies the chat template)."""
        ...

    def complete(self, prompt: str, stop: tuple[str, ...] = ()) -> Generation:
        """Continue a plain prompt, stopping at any of ``stop``."""
        ...


class LlamaCppBackend:
    """Runs a GGUF in process with llama-cpp-python, one request at a time."""

    def __init__(self, model_path: Path, params: GenerationParams) -> None:
        from llama_cpp import Llama

        self.params = params
        try:
            self._llama = Llama(
                model_path=str(model_path),
                n_ctx=params.n_ctx,
                n_gpu_layers=params.n_gpu_layers,
                n_threads=os.cpu_count() or 1,
                seed=params.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"{model_path}: llama.cpp could not load the model ({exc}); "
                "check that it is a complete GGUF for a supported architecture."
            ) from exc

    def chat(self, messages: list[dict[str, str]]) -> Generation:
        """Answer chat messages using the GGUF's own chat template."""
        return self._timed(
            lambda: self._llama.create_chat_completion(
                messages=messages, **self._sampling()
            ),
            lambda response: response["choices"][0]["message"]["content"] or "",
        )

    def complete(self, prompt: str, stop: tuple[str, ...] = ()) -> Generation:
        """Continue a plain prompt, for models without a chat template."""
        return self._timed(
            lambda: self._llama.create_completion(
                prompt=prompt, stop=list(stop), **self._sampling()
            ),
            lambda response: response["choices"][0]["text"],
        )

    def _sampling(self) -> dict:
        # The seed is reset on every call so each case is independent of order.
        return {
            "max_tokens": self.params.max_tokens,
            "temperature": self.params.temperature,
            "seed": self.params.seed,
        }

    def _timed(self, call, extract) -> Generation:
        started = time.perf_counter()
        try:
            response = call()
        except (ValueError, RuntimeError) as exc:
            raise GenerationError(f"llama.cpp failed to generate: {exc}") from exc
        elapsed = time.perf_counter() - started
        return Generation(
            text=extract(response).strip(),
            completion_tokens=int(response["usage"]["completion_tokens"]),
            seconds=elapsed,
        )
