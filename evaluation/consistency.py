"""Check that the golden set agrees with its own scorer.

Every reference answer, scored as if a model had given it, must reach the
minimum (0.95 by default). A reference that misses one of its own
``must_include`` facts, or says one of its ``must_not_include`` phrases, would
punish a model for answering exactly as the reference does: such a case is
inconsistent and must be fixed before the set can gate anything.

    yonca golden check --dataset golden/dataset.jsonl
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from evaluation.errors import GoldenSetError
from evaluation.golden import GoldenSet, load_golden_set
from evaluation.scoring import CaseScore, ScoreWeights, score_answers

MINIMUM_REFERENCE_SCORE = 0.95


@dataclass(frozen=True)
class Inconsistency:
    """A golden case whose reference answer scores below the minimum."""

    case_id: str
    score: CaseScore

    def describe(self) -> str:
        """One line saying what is wrong with the case and what to fix."""
        problems = []
        if self.score.missing_facts:
            missing = ", ".join(repr(fact) for fact in self.score.missing_facts)
            problems.append(f"reference lacks must_include fact(s) {missing}")
        if self.score.violations:
            said = ", ".join(repr(phrase) for phrase in self.score.violations)
            problems.append(f"reference says must_not_include phrase(s) {said}")
        detail = "; ".join(problems) or "reference scores low against itself"
        return f"{self.case_id}: score {self.score.score:.3f}: {detail}"


def find_inconsistencies(
    golden: GoldenSet,
    weights: ScoreWeights | None = None,
    minimum: float = MINIMUM_REFERENCE_SCORE,
) -> list[Inconsistency]:
    """The cases whose reference answer scores below ``minimum``."""
    scores = score_answers([(case, case.reference) for case in golden.cases], weights)
    return [
        Inconsistency(case.id, score)
        for case, score in zip(golden.cases, scores, strict=True)
        if score.score < minimum
    ]


golden_app = typer.Typer(
    help="The golden set: validate it and replay its references through the scorer.",
    no_args_is_help=True,
    add_completion=False,
)


@golden_app.command("check")
def check_command(
    dataset: Annotated[Path, typer.Option(help="Golden set JSONL file.")] = Path(
        "golden/dataset.jsonl"
    ),
    minimum: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Lowest score a reference may get.")
    ] = MINIMUM_REFERENCE_SCORE,
) -> None:
    """Validate DATASET and check every reference scores at least MINIMUM.

    Exit status: 0 consistent, 1 some case inconsistent, 2 the set is invalid.
    """
    try:
        golden = load_golden_set(dataset)
    except GoldenSetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    inconsistent = find_inconsistencies(golden, _configured_weights(), minimum)
    for problem in inconsistent:
        typer.echo(f"inconsistent: {problem.describe()}")
    typer.echo(_summary_line(golden, len(inconsistent), minimum))
    raise typer.Exit(1 if inconsistent else 0)


def _configured_weights() -> ScoreWeights:
    """The weights of params.yaml when run from the repository, else defaults."""
    from yonca.params import ParamsError, load_params

    try:
        weights = load_params().get("evaluation", {}).get("weights")
    except ParamsError:
        return ScoreWeights()
    return ScoreWeights(**weights) if weights else ScoreWeights()


def _summary_line(golden: GoldenSet, inconsistent: int, minimum: float) -> str:
    languages = sorted({case.language for case in golden.cases})
    categories = sorted({case.category for case in golden.cases})
    verdict = "consistent" if not inconsistent else f"{inconsistent} inconsistent"
    return (
        f"{golden.path}: {len(golden.cases)} cases, {len(categories)} categories, "
        f"languages {'/'.join(languages)}, sha256 {golden.sha256[:12]}: "
        f"{verdict} (every reference must score >= {minimum:.2f})"
    )
