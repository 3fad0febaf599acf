"""Scripted candidates: backends with LlamaCppBackend's interface whose answers
are written from the golden set itself, so what they say is known exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evaluation.backends import Generation
from evaluation.golden import GoldenCase

Script = Callable[[GoldenCase], str]


class ScriptedBackend:
    """Answers each golden case with ``script(case)``; thread-safe."""

    def __init__(self, cases: Sequence[GoldenCase], script: Script) -> None:
        self._cases = list(cases)
        self._script = script
        self.calls = 0

    def chat(self, messages: list[dict[str, str]]) -> Generation:
        return self._answer(messages[-1]["content"])

    def complete(self, prompt: str, stop: tuple[str, ...] = ()) -> Generation:
        return self._answer(prompt)

    def _answer(self, prompt: str) -> Generation:
        self.calls += 1
        case = next(case for case in self._cases if case.question in prompt)
        text = self._script(case)
        return Generation(text=text, completion_tokens=len(text.split()), seconds=0.5)
