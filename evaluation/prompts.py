"""Versioned prompt templates: render a golden case into model input."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from evaluation.errors import PromptTemplateError
from evaluation.golden import GoldenCase
from yonca.hashing import sha256_text

_REQUIRED = ("system", "user", "user_with_context", "completion")


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt template and the sha256 of the file it was read from."""

    path: Path
    sha256: str
    system: str
    user: str
    user_with_context: str
    completion: str
    completion_stop: tuple[str, ...] = ()

    def messages(self, case: GoldenCase) -> list[dict[str, str]]:
        """Chat messages for a model that carries a chat template."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self._user_text(case)},
        ]

    def completion_prompt(self, case: GoldenCase) -> str:
        """A plain prompt for a model without a chat template."""
        return self.completion.format(system=self.system, user=self._user_text(case))

    def _user_text(self, case: GoldenCase) -> str:
        if case.context:
            return self.user_with_context.format(
                context=case.context, question=case.question
            )
        return self.user.format(question=case.question)


def load_prompt_template(path: Path) -> PromptTemplate:
    """Read the template at ``path``; raise :class:`PromptTemplateError` if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptTemplateError(
            f"{path}: prompt template not found; check evaluation.prompt in "
            "params.yaml or --prompt."
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PromptTemplateError(f"{path}: not valid YAML ({exc}).") from exc

    missing = [
        key for key in _REQUIRED if not isinstance(data, dict) or key not in data
    ]
    if missing:
        raise PromptTemplateError(
            f"{path}: missing the key(s) {', '.join(missing)}; every template "
            f"needs {', '.join(_REQUIRED)}."
        )
    return PromptTemplate(
        path=path,
        sha256=sha256_text(text),
        completion_stop=tuple(str(stop) for stop in data.get("completion_stop", ())),
        **{key: str(data[key]) for key in _REQUIRED},
    )
