"""Typed views of the params.yaml sections the model stages read.

Every stage validates the sections it uses before it touches a file, so a bad
value stops the stage with exit 2, names the parameter (``evaluation.limit``)
and leaves every earlier output as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from yonca.params import ParamsError, section


class _Section(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ModelParams(_Section):
    source: str = Field(min_length=1)
    path: Path
    base_model: str = Field(min_length=1)
    quantization: str = Field(min_length=1)


class JudgeParams(_Section):
    """The optional judge; off while ``endpoint`` is null."""

    endpoint: str | None = None
    model: str | None = None
    concurrency: int = Field(default=4, ge=1)
    max_tokens: int = Field(default=1024, ge=64)
    timeout: float = Field(default=120.0, gt=0)


class EvaluationParams(_Section):
    dataset: Path
    prompt: Path
    limit: int | None = Field(default=None, ge=1)
    n_ctx: int = Field(ge=256)
    max_tokens: int = Field(ge=1)
    temperature: float = Field(ge=0.0, le=2.0)
    seed: int
    cache_dir: Path | None = None
    weights: dict[str, float]
    judge: JudgeParams = JudgeParams()


class GateParams(_Section):
    threshold: float = Field(ge=0.0, le=1.0)
    max_category_drop: float = Field(default=0.05, ge=0.0, le=1.0)


class MlflowParams(_Section):
    tracking_uri: str = Field(min_length=1)
    artifact_location: str | None = None
    experiment: str = Field(min_length=1)
    model_name: str = Field(min_length=1)
    alias: str = Field(min_length=1)


SectionT = TypeVar("SectionT", bound=_Section)


def read_section(params: dict[str, Any], name: str, model: type[SectionT]) -> SectionT:
    """Validate section ``name`` of params.yaml; raise ParamsError naming the key."""
    try:
        return model.model_validate(section(params, name))
    except ValidationError as exc:
        problems = "; ".join(
            f"{name}.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ParamsError(
            f"params.yaml: {problems}. Fix the value and run the stage again."
        ) from exc


def score_weights(settings: EvaluationParams):
    """The scoring weights, or ParamsError naming ``evaluation.weights``."""
    from evaluation.scoring import ScoreWeights

    try:
        return ScoreWeights(**settings.weights)
    except (TypeError, ValueError) as exc:
        raise ParamsError(
            f"params.yaml: evaluation.weights: {exc}. Allowed keys: "
            f"{', '.join(ScoreWeights.__dataclass_fields__)}; they must sum to 1."
        ) from exc


def judge_settings(settings: EvaluationParams):
    """The judge of ``evaluation.judge``, or None when no endpoint is set.

    The API key, if the judge server wants one, is read from the environment
    (``YONCA_JUDGE_API_KEY``), never from params.yaml.
    """
    from evaluation.judge import JudgeSettings

    judge = settings.judge
    if not judge.endpoint:
        return None
    return JudgeSettings(
        endpoint=judge.endpoint,
        model=judge.model,
        concurrency=judge.concurrency,
        max_tokens=judge.max_tokens,
        timeout=judge.timeout,
    )
