"""Human-readable summary of an evaluation record."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(record: dict[str, Any], console: Console | None = None) -> None:
    """Print overall, per-category and per-language scores, timings and verdict."""
    console = console or Console()
    summary, gate = record["summary"], record["gate"]

    table = Table(title="Golden-set evaluation", show_lines=False)
    table.add_column("group")
    table.add_column("score", justify="right")
    table.add_row("overall", f"{summary['golden_score']:.3f}")
    for name, value in summary["by_category"].items():
        table.add_row(f"category {name}", f"{value:.3f}")
    for name, value in summary["by_language"].items():
        table.add_row(f"language {name}", f"{value:.3f}")
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
        f"tokens/s {summary['tokens_per_second']:.1f}  "
        f"s/case {summary['seconds_per_case']:.2f}  "
        f"generating {summary['generation_seconds']:.1f}s  "
        f"scoring {summary['scoring_seconds']:.2f}s "
        f"({summary['scoring_overhead']:.1%} of generation)  {cache_text}"
    )
    verdict = "PASSED" if gate["passed"] else "FAILED"
    reasons = "; ".join(gate["reasons"]) or "all rules met"
    console.print(f"gate {verdict} at threshold {gate['threshold']:.2f}: {reasons}")
