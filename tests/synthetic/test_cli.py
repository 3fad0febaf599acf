"""The synth/validate commands and the two DVC stage modules, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import structlog
from typer.testing import CliRunner

from pipelines import synthesize as synthesize_stage
from pipelines import validate as validate_stage
from synthetic.cli import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_logging():
    # The stage modules bind logging to the stderr pytest captures for one test.
    yield
    structlog.reset_defaults()


def _write_params(directory: Path, out_dir: str, farms: int = 60) -> None:
    (directory / "params.yaml").write_text(
        f"synthetic:\n  seed: 3\n  farms: {farms}\n  out_dir: {out_dir}\n"
        "  chunk_size: 50\n",
        encoding="utf-8",
    )


def test_synth_then_validate_succeeds(tmp_path):
    out = tmp_path / "data"

    made = runner.invoke(
        app, ["synth", "--seed", "5", "--farms", "80", "--out", str(out)]
    )
    checked = runner.invoke(app, ["validate", "--data", str(out)])

    assert made.exit_code == 0, made.output
    assert "farms=80" in made.output
    assert (out / "synthetic.db").is_file()
    assert checked.exit_code == 0, checked.output
    assert "expectations passed" in checked.output


def test_validate_exits_1_and_names_the_broken_expectation(tmp_path):
    out = tmp_path / "data"
    runner.invoke(app, ["synth", "--seed", "5", "--farms", "40", "--out", str(out)])
    weather = pd.read_parquet(out / "weather.parquet")
    weather.loc[0, "humidity_pct"] = 140.0
    weather.to_parquet(out / "weather.parquet", index=False)

    result = runner.invoke(app, ["validate", "--data", str(out)])

    assert result.exit_code == 1
    assert "weather: expect_column_values_to_be_between on humidity_pct: 1 of" in (
        result.output
    )


def test_validate_stage_on_a_missing_directory_exits_2_naming_it(tmp_path):
    _write_params(tmp_path, "no/such/dir")
    env = os.environ | {"PYTHONPATH": str(REPO)}

    result = subprocess.run(
        [sys.executable, "-m", "pipelines.validate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2
    assert "no/such/dir does not exist" in result.stderr
    assert "yonca synth" in result.stderr


def test_stages_write_tables_and_a_deterministic_summary(tmp_path, monkeypatch, capsys):
    _write_params(tmp_path, "data/synthetic")
    monkeypatch.chdir(tmp_path)

    assert synthesize_stage.main() == 0
    assert validate_stage.main() == 0
    summary = tmp_path / "reports/validation/summary.json"
    first = summary.read_bytes()
    assert validate_stage.main() == 0

    assert summary.read_bytes() == first
    assert json.loads(first)["rows"]["farms"] == 60
    assert (tmp_path / "reports/validation/docs/index.html").is_file()
    assert "farms=60" in capsys.readouterr().out


def test_validate_stage_exits_1_with_the_summary_on_stderr(
    tmp_path, monkeypatch, capsys
):
    _write_params(tmp_path, "data/synthetic")
    monkeypatch.chdir(tmp_path)
    assert synthesize_stage.main() == 0
    fields = pd.read_parquet("data/synthetic/fields.parquet")
    fields.loc[0, "farm_id"] = "AZ-999999"
    fields.to_parquet("data/synthetic/fields.parquet", index=False)

    assert validate_stage.main() == 1

    err = capsys.readouterr().err
    assert "fields: expect_column_values_to_be_in_set on farm_id: 1 of" in err
    assert (
        json.loads(Path("reports/validation/summary.json").read_text())["failed"] >= 1
    )
