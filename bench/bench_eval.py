"""Benchmark: what scoring adds to the time spent generating answers.

One evaluation run of a candidate on the golden set, with the generation cache
off so every answer is generated in this run. The record splits the run into
loading the metrics (ragas and its scorers, once per process), generating and
scoring; the budget is scoring at most 5% of generation.

    python bench/bench_eval.py                      # the tiny random GGUF
    python bench/bench_eval.py --model models/candidate.gguf --limit 32
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUDGET = 0.05


def run(model: Path, dataset: Path, limit: int | None, max_tokens: int) -> dict:
    """Evaluate ``model`` with the cache off and return the record's summary."""
    from evaluation.backends import GenerationParams
    from evaluation.runner import evaluate

    record = evaluate(
        dataset,
        model,
        threshold=0.85,
        prompt=ROOT / "prompts" / "farm_assistant.v1.yaml",
        params=GenerationParams(max_tokens=max_tokens),
        limit=limit,
        progress=False,
    )
    return record


def report(record: dict, command: str) -> bool:
    """Print the figures; return whether scoring stayed within the budget."""
    summary = record["summary"]
    cases = record["golden_set"]["cases_evaluated"]
    answering = summary["seconds_per_case"] * cases
    scoring = summary["scoring_seconds"]
    load = summary["metrics_load_seconds"]
    within = summary["scoring_overhead"] <= BUDGET

    print(f"model       {record['model']['name']} ({record['model']['sha256'][:12]})")
    print(f"cases       {cases}, max_tokens {record['generation']['max_tokens']}")
    print(
        f"generation  {answering:8.2f} s  {summary['seconds_per_case']:.3f} s/case  "
        f"{summary['tokens_per_second']:.1f} tokens/s"
    )
    print(
        f"scoring     {scoring:8.3f} s  {1000 * scoring / cases:.2f} ms/case  "
        f"{summary['scoring_overhead']:.2%} of generation (budget {BUDGET:.0%}: "
        f"{'met' if within else 'MISSED'})"
    )
    print(
        f"metric load {load:8.2f} s  once per process, before generation "
        f"({load / answering:.1%} of this run's generation)"
    )
    print(f"golden score {summary['golden_score']:.3f}")
    print(f"rerun: {command}")
    return within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="GGUF to run (default: tiny)")
    parser.add_argument("--dataset", type=Path, default=ROOT / "golden/dataset.jsonl")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()

    from yonca.logs import configure_logging
    from yonca.privacy import disable_telemetry

    disable_telemetry()
    configure_logging(level="WARNING")
    command = " ".join(["python bench/bench_eval.py", *sys.argv[1:]])
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or _tiny_model(Path(scratch))
        record = run(model, args.dataset, args.limit, args.max_tokens)
    return 0 if report(record, command) else 1


def _tiny_model(folder: Path) -> Path:
    from tests.support.tiny_gguf import write_tiny_gguf

    return write_tiny_gguf(folder / "tiny.gguf")


if __name__ == "__main__":
    sys.exit(main())
