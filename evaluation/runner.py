"""Evaluate a candidate on the golden set and apply the gate.

    python -m evaluation.runner --dataset golden/dataset.jsonl \
        --model models/candidate.gguf --threshold 0.85 --output eval-results.json

    python -m evaluation.runner --dataset golden/dataset.jsonl \
        --endpoint http://127.0.0.1:8080 --concurrency 4

    python -m evaluation.runner --dataset golden/dataset.jsonl \
        --model models/candidate.gguf --judge-endpoint http://127.0.0.1:8081

Exit status: 0 the gate passed, 1 it failed, 2 an input was unusable.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer

from evaluation.backends import Backend, GenerationParams
from evaluation.cache import DEFAULT_CACHE_DIR, GenerationCache, generation_key
from evaluation.errors import EvaluationError, UnusableInputError
from evaluation.generation import Answer, answer_cases
from evaluation.golden import GoldenCase, GoldenSet, load_golden_set
from evaluation.judge import JudgeSettings, not_computed_section, open_judge
from evaluation.metrics import load_metrics
from evaluation.prompts import PromptTemplate, load_prompt_template
from evaluation.record import RunTimes, build_record, cache_summary, write_record
from evaluation.report import print_summary
from evaluation.scoring import (
    CaseScore,
    GateVerdict,
    ScoreWeights,
    decide_gate,
    mean_by,
    score_answers,
)
from evaluation.targets import Target, backend_target, endpoint_target, gguf_target

log = structlog.get_logger("evaluation")

DEFAULT_PROMPT = Path("prompts/farm_assistant.v1.yaml")
EXIT_PASSED, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def evaluate(
    dataset: Path,
    model: Path | None = None,
    *,
    threshold: float,
    prompt: Path = DEFAULT_PROMPT,
    params: GenerationParams | None = None,
    weights: ScoreWeights | None = None,
    limit: int | None = None,
    progress: bool = True,
    cache_dir: Path | None = None,
    endpoint: str | None = None,
    concurrency: int = 4,
    backend: Backend | None = None,
    baseline: dict[str, Any] | None = None,
    max_category_drop: float | None = None,
    judge: JudgeSettings | None = None,
) -> dict[str, Any]:
    """Run a candidate on the golden set at ``dataset`` and return the record.

    The candidate is the GGUF at ``model``, the server at ``endpoint``, or
    ``backend``. Every input is checked before anything is generated, so a bad
    input costs nothing; that includes the ``judge`` endpoint, when one is
    given for the optional judge metrics. Answers and judgements are cached
    under ``cache_dir`` when given. Raises :class:`UnusableInputError` for
    unusable inputs, a failing judge included.
    """
    params = params or GenerationParams()
    weights = weights or ScoreWeights()
    golden = load_golden_set(dataset)
    template = load_prompt_template(prompt)
    target = _target(model, endpoint, backend, params, concurrency)
    judging = open_judge(judge, weights.judged)
    cache = GenerationCache(cache_dir) if cache_dir and target.sha256 else None
    cases = golden.subset(limit)
    log.info(
        "evaluation.start",
        model=target.section["path"],
        sha256=target.sha256,
        golden_set_sha256=golden.sha256,
        cases=len(cases),
        cache=str(cache.path) if cache else None,
        judge=judging.model if judging else None,
    )

    started = time.perf_counter()
    load_metrics()
    loaded_at = time.perf_counter()
    answers = _answer(cases, target, template, params, cache, progress)
    generated_at = time.perf_counter()

    answered = [(a.case, a.generation.text) for a in answers]
    judged = judging.judge(answered, cache_dir, progress) if judging else None
    judged_at = time.perf_counter()

    judgements = judged.judgements if judged else None
    scores = score_answers(answered, weights, judgements)
    results = [_result_row(a, s) for a, s in zip(answers, scores, strict=True)]
    scored_at = time.perf_counter()

    verdict = _gate(results, threshold, golden, baseline, max_category_drop)
    record = build_record(
        model=target.section,
        golden=golden,
        prompt=template,
        params=params,
        weights=weights,
        results=results,
        verdict=verdict,
        times=RunTimes(
            total=scored_at - started,
            loading_metrics=loaded_at - started,
            generating=generated_at - loaded_at,
            scoring=scored_at - judged_at,
            judging=judged_at - generated_at,
        ),
        cache=cache_summary(cache.path if cache else None, [a.cached for a in answers]),
        judge=judging.section(judged) if judging and judged else not_computed_section(),
    )
    log.info(
        "evaluation.done",
        sha256=target.sha256,
        golden_set_sha256=golden.sha256,
        golden_score=verdict.golden_score,
        gate="passed" if verdict.passed else "failed",
        cache_hit_rate=record["summary"]["cache"]["hit_rate"],
    )
    return record


def _target(
    model: Path | None,
    endpoint: str | None,
    backend: Backend | None,
    params: GenerationParams,
    concurrency: int,
) -> Target:
    given = [x for x in (model, endpoint, backend) if x is not None]
    if len(given) != 1:
        raise UnusableInputError(
            "give exactly one candidate: --model PATH for a GGUF file or "
            "--endpoint URL for an OpenAI-compatible server."
        )
    if backend is not None:
        return backend_target(backend, type(backend).__name__)
    if endpoint is not None:
        return endpoint_target(endpoint, params, concurrency)
    return gguf_target(model, params)


def _answer(
    cases: tuple[GoldenCase, ...],
    target: Target,
    template: PromptTemplate,
    params: GenerationParams,
    cache: GenerationCache | None,
    progress: bool,
) -> list[Answer]:
    key_of = _key_function(target, template, params) if cache else None
    try:
        return answer_cases(
            cases, target, template, cache=cache, key_of=key_of, progress=progress
        )
    finally:
        if cache is not None:
            cache.close()


def _key_function(target: Target, template: PromptTemplate, params: GenerationParams):
    model_sha256 = target.sha256 or ""

    def key_of(case: GoldenCase) -> str:
        return generation_key(model_sha256, case.content_hash, template.sha256, params)

    return key_of


def _result_row(answer: Answer, scored: CaseScore) -> dict[str, Any]:
    case, generation = answer.case, answer.generation
    return {
        "id": case.id,
        "category": case.category,
        "language": case.language,
        "critical": case.critical,
        "question": case.question,
        "answer": generation.text,
        "reference": case.reference,
        "score": scored.score,
        "fact_recall": scored.fact_recall,
        "similarity": scored.similarity,
        "chrf": scored.chrf,
        "rouge_l": scored.rouge_l,
        "string_similarity": scored.string_similarity,
        "missing_facts": list(scored.missing_facts),
        "violations": list(scored.violations),
        "completion_tokens": generation.completion_tokens,
        "seconds": round(generation.seconds, 4),
        "cached": answer.cached,
        **(asdict(scored.judgement) if scored.judgement else {}),
    }


def _gate(
    results: list[dict[str, Any]],
    threshold: float,
    golden: GoldenSet,
    baseline: dict[str, Any] | None,
    max_category_drop: float | None,
) -> GateVerdict:
    critical = [row["id"] for row in results if row["critical"] and row["violations"]]
    golden_score = round(sum(row["score"] for row in results) / len(results), 6)
    return decide_gate(
        golden_score,
        threshold,
        critical,
        by_category=mean_by(results, "category"),
        baseline_by_category=_comparable_baseline(baseline, golden, len(results)),
        max_category_drop=max_category_drop,
    )


def _comparable_baseline(
    baseline: dict[str, Any] | None, golden: GoldenSet, cases: int
) -> dict[str, float] | None:
    """The baseline's category scores, if it was scored on the same cases."""
    if baseline is None:
        return None
    try:
        scored_on = baseline["golden_set"]
        by_category = dict(baseline["summary"]["by_category"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnusableInputError(
            f"the baseline record lacks {exc}; pass an evaluation record written "
            "by this runner."
        ) from exc
    if scored_on.get("sha256") != golden.sha256 or (
        scored_on.get("cases_evaluated") != cases
    ):
        log.warning(
            "evaluation.baseline_ignored",
            golden_set_sha256=golden.sha256,
            baseline_golden_set_sha256=scored_on.get("sha256"),
            reason="the baseline was scored on other golden cases",
        )
        return None
    return by_category


cli = typer.Typer(add_completion=False, help=__doc__)


@cli.command()
def main(
    dataset: Annotated[Path, typer.Option(help="Golden set JSONL file.")],
    model: Annotated[Path | None, typer.Option(help="Candidate GGUF file.")] = None,
    endpoint: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL, instead.")
    ] = None,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.85,
    output: Annotated[Path, typer.Option(help="Where to write the record.")] = Path(
        "eval-results.json"
    ),
    prompt: Annotated[Path, typer.Option(help="Prompt template.")] = DEFAULT_PROMPT,
    limit: Annotated[int | None, typer.Option(min=1, help="First N cases.")] = None,
    max_tokens: Annotated[int, typer.Option(min=1)] = 128,
    n_ctx: Annotated[int, typer.Option(min=256)] = 2048,
    seed: int = 42,
    n_gpu_layers: Annotated[int, typer.Option(help="-1 puts all on the GPU.")] = 0,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Requests in flight to --endpoint.")
    ] = 4,
    cache_dir: Annotated[
        Path, typer.Option(help="Where generated answers are cached.")
    ] = DEFAULT_CACHE_DIR,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Generate every answer afresh.")
    ] = False,
    baseline: Annotated[
        Path | None, typer.Option(help="Record of the production model, to compare.")
    ] = None,
    max_category_drop: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Allowed drop per category.")
    ] = None,
    plots: Annotated[bool, typer.Option(help="Write PNG charts by the record.")] = True,
    judge_endpoint: Annotated[
        str | None,
        typer.Option(help="OpenAI-compatible judge server, for judge metrics."),
    ] = None,
    judge_model: Annotated[
        str | None, typer.Option(help="Judge model; the server's first by default.")
    ] = None,
    judge_concurrency: Annotated[
        int, typer.Option(min=1, help="Requests in flight to the judge.")
    ] = 4,
) -> None:
    """Evaluate a candidate on DATASET; exit 0 pass, 1 below the bar, 2 bad input."""
    from yonca.logs import configure_logging
    from yonca.privacy import disable_telemetry

    disable_telemetry()
    configure_logging()
    # instructor logs every failed judge attempt at ERROR; a judge that fails
    # is reported once, below, with what to do about it.
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    params = GenerationParams(
        n_ctx=n_ctx, max_tokens=max_tokens, seed=seed, n_gpu_layers=n_gpu_layers
    )
    try:
        _check_output(output)
        record = evaluate(
            dataset,
            model,
            endpoint=endpoint,
            threshold=threshold,
            prompt=prompt,
            params=params,
            limit=limit,
            concurrency=concurrency,
            cache_dir=None if no_cache else cache_dir,
            baseline=_read_baseline(baseline),
            max_category_drop=max_category_drop,
            judge=JudgeSettings(
                endpoint=judge_endpoint,
                model=judge_model,
                concurrency=judge_concurrency,
            )
            if judge_endpoint
            else None,
        )
    except UnusableInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_UNUSABLE) from exc
    except EvaluationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from exc

    write_record(record, output)
    print_summary(record)
    typer.echo(f"record written to {output}")
    if plots:
        from evaluation.plots import write_plots

        for path in write_plots(record, output):
            typer.echo(f"chart written to {path}")
    raise typer.Exit(EXIT_PASSED if record["gate"]["passed"] else EXIT_FAILED)


def _check_output(path: Path) -> None:
    """Fail before generating anything when the record could not be written."""
    if path.is_dir():
        raise UnusableInputError(
            f"--output {path}: is a directory; name a file such as "
            f"{path / 'eval-results.json'}."
        )
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnusableInputError(
            f"--output {path}: its folder cannot be created ({exc.strerror}); "
            "choose a writable location."
        ) from exc
    if not os.access(parent, os.W_OK):
        raise UnusableInputError(
            f"--output {path}: {parent} is not writable; choose another location."
        )


def _read_baseline(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(
            f"error: {path}: the baseline record cannot be read ({exc}); pass the "
            "eval-results.json of the production model or drop --baseline.",
            err=True,
        )
        raise typer.Exit(EXIT_UNUSABLE) from exc


if __name__ == "__main__":
    cli()
