"""A stage that fails under `dvc repro` leaves the outputs of its last good run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.project import BIN, copy_project, run

DVC = str(BIN / "dvc")
PYTHON = str(BIN / "python")


@pytest.fixture
def project(tmp_path) -> Path:
    """A scratch project whose synthesize and validate stages ran once."""
    project = copy_project(tmp_path / "project", synthetic={"farms": 40})
    result = run([DVC, "repro", "validate"], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    return project


def _set_param(project: Path, section: str, key: str, value) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params[section][key] = value
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_failed_synthesize_keeps_the_previous_tables(project):
    before = _snapshot(project / "data/synthetic")
    _set_param(project, "synthetic", "farms", 0)

    result = run([DVC, "repro", "synthesize"], cwd=project)

    assert result.returncode != 0
    assert "synthetic.farms" in result.stderr
    assert _snapshot(project / "data/synthetic") == before
    assert sorted(p.name for p in (project / "data").iterdir()) == [
        ".gitignore",
        "synthetic",
    ]


def test_failed_validate_keeps_the_previous_report(project):
    report = project / "reports/validation"
    before = _snapshot(report)
    assert "summary.json" in before
    (project / "data/synthetic/farms.parquet").write_bytes(b"not parquet")

    result = run([DVC, "repro", "--single-item", "validate"], cwd=project)

    assert result.returncode != 0
    assert "farms.parquet cannot be read as Parquet" in result.stderr
    assert _snapshot(report) == before


def test_evaluate_that_fails_keeps_the_previous_record_and_metrics(project):
    previous = {
        "outputs/eval-record.json": b'{"summary": {"golden_score": 0.42}}\n',
        "metrics/eval.json": b'{"golden_score": 0.42}\n',
        "outputs/eval-record-by-category.png": b"previous chart",
        "outputs/eval-record-latency.png": b"previous chart",
    }
    (project / "models").mkdir()
    (project / "models/candidate.gguf").write_bytes(b"GGUF previous candidate")
    for name, content in previous.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes(content)
    _set_param(project, "evaluation", "limit", 0)

    result = run([DVC, "repro", "--single-item", "evaluate"], cwd=project)

    assert result.returncode != 0
    assert "evaluation.limit" in result.stderr
    for name, content in previous.items():
        assert (project / name).read_bytes() == content, name


def test_synthesize_refuses_an_out_dir_holding_other_files(project):
    golden = project / "golden"
    before = _snapshot(golden)
    _set_param(project, "synthetic", "out_dir", "golden")

    result = run([PYTHON, "-m", "pipelines.synthesize"], cwd=project)

    assert result.returncode == 2
    assert "synthetic.out_dir in params.yaml is golden" in result.stderr
    assert "dataset.jsonl" in result.stderr and "data/synthetic" in result.stderr
    assert _snapshot(golden) == before
