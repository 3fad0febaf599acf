"""Charts of an evaluation record, written as PNG files beside it.

Two charts: the score of each category against the gate threshold, and the
spread of answer latencies. matplotlib draws without a display (Agg).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_plots(record: dict[str, Any], record_path: Path) -> list[Path]:
    """Write the charts next to ``record_path`` and return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    stem = record_path.with_suffix("")
    paths = [
        _category_chart(record, Path(f"{stem}-by-category.png")),
        _latency_histogram(record, Path(f"{stem}-latency.png")),
    ]
    return paths


def _category_chart(record: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    scores = record["summary"]["by_category"]
    threshold = record["gate"]["threshold"]
    figure, axes = plt.subplots(figsize=(8, 4))
    colours = ["tab:green" if v >= threshold else "tab:red" for v in scores.values()]
    axes.bar(list(scores), list(scores.values()), color=colours)
    axes.axhline(threshold, color="black", linestyle="--", label="gate threshold")
    axes.set_ylim(0, 1)
    axes.set_ylabel("mean case score")
    axes.set_title(f"Golden score by category ({record['model']['name']})")
    axes.tick_params(axis="x", labelrotation=30)
    axes.legend(loc="upper right")
    return _save(figure, path)


def _latency_histogram(record: dict[str, Any], path: Path) -> Path:
    import matplotlib.pyplot as plt

    seconds = [row["seconds"] for row in record["results"]]
    figure, axes = plt.subplots(figsize=(8, 4))
    axes.hist(seconds, bins=min(30, max(5, len(seconds) // 4)), color="tab:blue")
    axes.set_xlabel("seconds per answer")
    axes.set_ylabel("cases")
    axes.set_title(f"Answer latency ({len(seconds)} cases)")
    return _save(figure, path)


def _save(figure, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
