"""Charts written next to the evaluation record."""

from __future__ import annotations

from evaluation.plots import write_plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _record() -> dict:
    rows = [
        {"category": "irrigation", "seconds": 0.8},
        {"category": "safety", "seconds": 2.4},
        {"category": "safety", "seconds": 1.1},
    ]
    return {
        "model": {"name": "tiny-random"},
        "gate": {"threshold": 0.85},
        "summary": {"by_category": {"irrigation": 0.91, "safety": 0.42}},
        "results": rows,
    }


def test_category_chart_and_latency_histogram_land_beside_the_record(tmp_path):
    record_path = tmp_path / "out" / "eval-results.json"
    paths = write_plots(_record(), record_path)
    assert [p.name for p in paths] == [
        "eval-results-by-category.png",
        "eval-results-latency.png",
    ]
    for path in paths:
        assert path.parent == record_path.parent
        assert path.read_bytes().startswith(PNG_MAGIC)
        assert path.stat().st_size > 5_000
