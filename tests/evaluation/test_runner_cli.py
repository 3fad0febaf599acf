"""The CI eval gate as a user runs it: `python -m evaluation.runner ...`."""

import json

from tests.conftest import REPO, golden_case, run_module, write_cases
from tests.support.tiny_gguf import truncate

DATASET = str(REPO / "golden" / "dataset.jsonl")


def _runner(*args: str):
    return run_module("evaluation.runner", *args)


def test_missing_model_exits_2_naming_the_file(tmp_path):
    missing = tmp_path / "absent.gguf"
    result = _runner("--dataset", DATASET, "--model", str(missing))
    assert result.returncode == 2
    assert "absent.gguf: model file not found" in result.stderr


def test_truncated_model_exits_2_saying_truncated(tiny_gguf, tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_gguf.read_bytes())
    truncate(cut, 0.7)
    result = _runner("--dataset", DATASET, "--model", str(cut))
    assert result.returncode == 2
    assert "cut.gguf" in result.stderr
    assert "truncated" in result.stderr or "corrupt" in result.stderr


def test_malformed_golden_line_exits_2_naming_line(tiny_gguf, tmp_path):
    dataset = write_cases(tmp_path / "golden.jsonl", [golden_case()])
    with dataset.open("a", encoding="utf-8") as stream:
        stream.write("not json at all\n")
    result = _runner("--dataset", str(dataset), "--model", str(tiny_gguf))
    assert result.returncode == 2
    assert "golden.jsonl:2: not valid JSON" in result.stderr


def test_broken_candidate_exits_1_and_writes_a_failed_record(tiny_gguf, tmp_path):
    output = tmp_path / "eval-results.json"
    result = _runner(
        "--dataset",
        DATASET,
        "--model",
        str(tiny_gguf),
        "--threshold",
        "0.85",
        "--output",
        str(output),
        "--limit",
        "4",
        "--max-tokens",
        "16",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert result.returncode == 1, result.stderr
    record = json.loads(output.read_text())
    assert record["gate"]["passed"] is False
    assert record["summary"]["golden_score"] < 0.5
    assert len(record["results"]) == 4
    assert "gate FAILED" in result.stdout
    assert "cache hit rate 0% (0/4)" in result.stdout
    assert (tmp_path / "eval-results-by-category.png").exists()
    assert (tmp_path / "eval-results-latency.png").exists()


def test_zero_threshold_passes_and_exits_0(tiny_gguf, tmp_path):
    output = tmp_path / "eval-results.json"
    dataset = write_cases(tmp_path / "golden.jsonl", [golden_case()])
    result = _runner(
        "--dataset",
        str(dataset),
        "--model",
        str(tiny_gguf),
        "--threshold",
        "0",
        "--output",
        str(output),
        "--max-tokens",
        "8",
        "--no-cache",
        "--no-plots",
    )
    assert result.returncode == 0, result.stderr
    assert "cache off" in result.stdout
    assert json.loads(output.read_text())["gate"]["passed"] is True


def test_unwritable_output_is_refused_before_generating(tiny_gguf, tmp_path):
    result = _runner(
        "--dataset",
        DATASET,
        "--model",
        str(tiny_gguf),
        "--output",
        str(tmp_path),
    )
    assert result.returncode == 2
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.stderr
