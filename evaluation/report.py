"""Human-readable summary of an evaluation record."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(record: dict[str, Any], console: Console | None = None) -> None:
    """Print overall, per-category and per-language scores, timings and verdict.

    When a judge ran, its metrics stand beside the scores; otherwise a line
    says they were not computed and why.
    """
    console = console or Console()
    summary, gate = record["summary"], record["gate"]
    judged = summary.get("judge")

    table = Table(title="Golden-set evaluation", show_lines=False)
    table.add_column("group")
    table.add_column("score", justify="right")
    if judged:
        table.add_column("faithfulness", justify="right")
        table.add_column("factual correctness", justify="right")
    table.add_row("overall", f"{summary['golden_score']:.3f}", *_judged(judged))
    for group in ("category", "language"):
        judged_groups = judged[f"by_{group}"] if judged else {}
        for name, value in summary[f"by_{group}"].items():
            table.add_row(
                f"{group} {name}",
                f"{value:.3f}",
                *_judged(judged_groups.get(name)),
            )
    console.print(table)

    cache = summary["cache"]
    cache_text = (
        f"cache hit rate {cache['hit_rate']:.0%} ({cache['hits']}/"
        f"{cache['hits'] + cache['misses']})"
        if cache["enabled"]
        else "cache off"
    )
    console.print(
        f"cases {record['golden_set']['cases_evaluated']}  "
        # Cached answers keep the time they first took: the model's speed.
        f"model {summary['tokens_per_second']:.1f} tokens/s, "
        f"{summary['seconds_per_case']:.2f} s/case as generated  "
        f"this run: generating {summary['generation_seconds']:.1f}s  "
        f"scoring {summary['scoring_seconds']:.2f}s "
        f"({summary['scoring_overhead']:.1%} of generation)  {cache_text}"
    )
    console.print(_judge_line(record))
    verdict = "PASSED" if gate["passed"] else "FAILED"
    reasons = "; ".join(gate["reasons"]) or "all rules met"
    console.print(f"gate {verdict} at threshold {gate['threshold']:.2f}: {reasons}")


def _judged(means: dict[str, float | None] | None) -> list[str]:
    if means is None:
        return []
    return [
        "-" if means[metric] is None else f"{means[metric]:.3f}"
        for metric in ("faithfulness", "factual_correctness")
    ]


def _judge_line(record: dict[str, Any]) -> str:
    judge = record.get("judge") or {}
    if not judge.get("computed"):
        reason = judge.get("reason", "the record predates judge metrics")
        return f"judge metrics not computed: {reason}"
    cache, weights = judge["cache"], record["weights"]
    weight = weights.get("faithfulness", 0) + weights.get("factual_correctness", 0)
    return (
        f"judge {judge['model']} at {judge['endpoint']}: "
        f"judging {judge['seconds']:.1f}s, cached {cache['hits']}/"
        f"{cache['hits'] + cache['misses']}, share of the score {weight:g}"
    )
