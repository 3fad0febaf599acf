"""Evaluate a candidate GGUF on the golden set and apply the gate.

    python -m evaluation.runner --dataset golden/dataset.jsonl \
        --model models/candidate.gguf --threshold 0.85 --output eval-results.json

Exit status: 0 the gate passed, 1 it failed, 2 an input was unusable.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer

from evaluation.backends import GenerationParams, LlamaCppBackend
from evaluation.errors import EvaluationError, UnusableInputError
from evaluation.golden import GoldenCase, load_golden_set
from evaluation.model_file import inspect_gguf
from evaluation.prompts import PromptTemplate, load_prompt_template
from evaluation.record import build_record, write_record
from evaluation.report import print_summary
from evaluation.scoring import ScoreWeights, decide_gate, score_answer

log = structlog.get_logger("evaluation")

DEFAULT_PROMPT = Path("prompts/farm_assistant.v1.yaml")
EXIT_PASSED, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def evaluate(
    dataset: Path,
    model: Path,
    *,
    threshold: float,
    prompt: Path = DEFAULT_PROMPT,
    params: GenerationParams | None = None,
    weights: ScoreWeights | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run ``model`` on the golden set at ``dataset`` and return the record.

    Every input is checked before the model is loaded, so a bad input costs
    nothing. Raises :class:`UnusableInputError` for unusable inputs.
    """
    params = params or GenerationParams()
    golden = load_golden_set(dataset)
    template = load_prompt_template(prompt)
    info = inspect_gguf(model)
    cases = golden.subset(limit)
    log.info(
        "evaluation.start",
        model=str(model),
        sha256=info.sha256,
        golden_set_sha256=golden.sha256,
        cases=len(cases),
    )

    started = time.perf_counter()
    backend = LlamaCppBackend(model, params)
    use_chat = info.chat_template is not None
    results = [
        _run_case(backend, template, case, use_chat, weights)
        for case in _progress(cases, progress)
    ]
    critical = [row["id"] for row in results if row["critical"] and row["violations"]]
    golden_score = round(sum(r["score"] for r in results) / len(results), 6)
    verdict = decide_gate(golden_score, threshold, critical)

    record = build_record(
        model=info,
        golden=golden,
        prompt=template,
        params=params,
        results=results,
        verdict=verdict,
        seconds=time.perf_counter() - started,
    )
    log.info(
        "evaluation.done",
        sha256=info.sha256,
        golden_score=golden_score,
        gate="passed" if verdict.passed else "failed",
    )
    return record


def _run_case(
    backend: LlamaCppBackend,
    template: PromptTemplate,
    case: GoldenCase,
    use_chat: bool,
    weights: ScoreWeights | None,
) -> dict[str, Any]:
    if use_chat:
        generation = backend.chat(template.messages(case))
    else:
        generation = backend.complete(
            template.completion_prompt(case), template.completion_stop
        )
    scored = score_answer(case, generation.text, weights)
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
        "missing_facts": list(scored.missing_facts),
        "violations": list(scored.violations),
        "completion_tokens": generation.completion_tokens,
        "seconds": round(generation.seconds, 4),
    }


def _progress(cases, enabled: bool):
    if not enabled:
        return cases
    from tqdm import tqdm

    return tqdm(cases, desc="golden cases", unit="case")


cli = typer.Typer(add_completion=False, help=__doc__)


@cli.command()
def main(
    dataset: Annotated[Path, typer.Option(help="Golden set JSONL file.")],
    model: Annotated[Path, typer.Option(help="Candidate GGUF file.")],
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.85,
    output: Annotated[Path, typer.Option(help="Where to write the record.")] = Path(
        "eval-results.json"
    ),
    prompt: Annotated[Path, typer.Option(help="Prompt template.")] = DEFAULT_PROMPT,
    limit: Annotated[int | None, typer.Option(min=1, help="First N cases.")] = None,
    max_tokens: Annotated[int, typer.Option(min=1)] = 160,
    n_ctx: Annotated[int, typer.Option(min=256)] = 2048,
    seed: int = 42,
    n_gpu_layers: Annotated[int, typer.Option(help="-1 puts all on the GPU.")] = 0,
) -> None:
    """Evaluate MODEL on DATASET; exit 0 pass, 1 below the bar, 2 bad input."""
    from yonca.logs import configure_logging
    from yonca.privacy import disable_telemetry

    disable_telemetry()
    configure_logging()
    params = GenerationParams(
        n_ctx=n_ctx, max_tokens=max_tokens, seed=seed, n_gpu_layers=n_gpu_layers
    )
    try:
        record = evaluate(
            dataset,
            model,
            threshold=threshold,
            prompt=prompt,
            params=params,
            limit=limit,
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
    raise typer.Exit(EXIT_PASSED if record["gate"]["passed"] else EXIT_FAILED)


if __name__ == "__main__":
    cli()
