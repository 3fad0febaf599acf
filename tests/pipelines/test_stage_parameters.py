"""A bad value in params.yaml stops a stage at once, names it, and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.project import BIN, copy_project, run

PYTHON = str(BIN / "python")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("params"))


def _with_params(project: Path, section: str, key: str, value) -> None:
    original = project / "params.original.yaml"
    if not original.exists():
        original.write_text((project / "params.yaml").read_text())
    params = yaml.safe_load(original.read_text())
    if value is _DELETE:
        del params[section][key]
    else:
        params[section][key] = value
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


_DELETE = object()


@pytest.mark.parametrize(
    ("section", "key", "value", "named"),
    [
        ("gate", "threshold", 1.5, "gate.threshold"),
        ("gate", "threshold", "high", "gate.threshold"),
        ("evaluation", "limit", 0, "evaluation.limit"),
        ("evaluation", "limit", "abc", "evaluation.limit"),
        ("evaluation", "max_tokens", -1, "evaluation.max_tokens"),
        ("evaluation", "n_ctx", "big", "evaluation.n_ctx"),
        ("evaluation", "seed", _DELETE, "evaluation.seed"),
        ("evaluation", "weights", {"facts": 0.5, "bleu": 0.5}, "evaluation.weights"),
        ("evaluation", "weights", {"facts": 0.7}, "evaluation.weights"),
    ],
)
def test_evaluate_stage_names_the_bad_parameter(project, section, key, value, named):
    _with_params(project, section, key, value)
    result = run([PYTHON, "-m", "pipelines.evaluate"], cwd=project)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "outputs/eval-record.json").exists()


def test_fetch_model_checks_parameters_before_replacing_the_model(project, tiny_gguf):
    models = project / "models"
    models.mkdir(exist_ok=True)
    (models / "candidate.gguf").write_bytes(b"GGUF previous candidate")
    _with_params(project, "model", "base_model", _DELETE)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["model"]["source"] = str(tiny_gguf)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    result = run([PYTHON, "-m", "pipelines.fetch_model"], cwd=project)

    assert result.returncode == 2
    assert "model.base_model" in result.stderr
    assert (models / "candidate.gguf").read_bytes() == b"GGUF previous candidate"


def test_a_non_gguf_source_is_named_in_the_error(project, tmp_path):
    text = tmp_path / "notes.gguf"
    text.write_text("these are notes, not weights")
    _with_params(project, "model", "source", str(text))
    result = run([PYTHON, "-m", "pipelines.fetch_model"], cwd=project)
    assert result.returncode == 2
    assert str(text) in result.stderr and "not a GGUF" in result.stderr


def test_evaluate_stage_names_the_golden_line_holding_a_huge_integer(project):
    golden = project / "golden" / "huge-integer.jsonl"
    lines = (project / "golden" / "dataset.jsonl").read_text().splitlines()[:2]
    lines.append('{"id": "irr-en-999", "priority": ' + "9" * 5000 + "}")
    golden.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _with_params(project, "evaluation", "dataset", str(golden))

    result = run([PYTHON, "-m", "pipelines.evaluate"], cwd=project)

    assert result.returncode == 2, result.stderr
    assert f"{golden}:3: holds an integer of more than 4300 digits" in result.stderr
    assert "Traceback" not in result.stderr
