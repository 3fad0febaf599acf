"""Bad parameters stop both entry points with exit 2 and name the parameter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import structlog
from typer.testing import CliRunner

from pipelines import synthesize as synthesize_stage
from synthetic.cli import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()

GOOD = {"seed": "3", "farms": "20", "out_dir": "data/synthetic", "chunk_size": "10"}

# kind: (params.yaml value(s) that replace the good ones, what stderr must say)
STAGE_CASES = {
    "zero farms": ({"farms": "0"}, "synthetic.farms in params.yaml: farms must be"),
    "negative farms": ({"farms": "-5"}, "farms must be at least 1, got -5"),
    "seed that is text": ({"seed": "abc"}, "synthetic.seed in params.yaml"),
    "seed with a fraction": ({"seed": "4.5"}, "seed must be a whole number, got 4.5"),
    "chunk size of 0": ({"chunk_size": "0"}, "chunk_size must be at least 1, got 0"),
    "unknown region": (
        {"region_weights": "{Aran: 2, Lankaran-Astara: 1}"},
        "synthetic.region_weights in params.yaml: region_weights names unknown "
        "region(s) 'Aran'",
    ),
    "misspelt parameter": ({"farm": "10"}, "farm is not a synthetic parameter"),
}

CLI_CASES = {
    "zero farms": (["--farms", "0"], "Invalid value for --farms: farms must be"),
    "negative farms": (["--farms", "-5"], "farms must be at least 1, got -5"),
    "seed that is text": (["--seed", "abc"], "Invalid value for '--seed'"),
    "seed with a fraction": (["--seed", "4.5"], "Invalid value for '--seed'"),
    "chunk size of 0": (["--chunk-size", "0"], "Invalid value for --chunk-size"),
    "unknown region": (
        ["--region", "Aran=2"],
        "Invalid value for --region: region_weights names unknown region(s) 'Aran'",
    ),
    "region weight that is not a number": (
        ["--region", "Lankaran-Astara=lots"],
        "Invalid value for --region: the weight in 'Lankaran-Astara=lots'",
    ),
}


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    structlog.reset_defaults()


def _write_params(directory: Path, **changes: str) -> None:
    values = GOOD | changes
    lines = "".join(f"  {name}: {value}\n" for name, value in values.items())
    (directory / "params.yaml").write_text("synthetic:\n" + lines, encoding="utf-8")


@pytest.mark.parametrize("kind", sorted(STAGE_CASES))
def test_stage_refuses_bad_parameter_naming_it(kind, tmp_path, monkeypatch, capsys):
    changes, expected = STAGE_CASES[kind]
    _write_params(tmp_path, **changes)
    monkeypatch.chdir(tmp_path)

    assert synthesize_stage.main() == 2

    assert expected in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("kind", sorted(CLI_CASES))
def test_synth_command_refuses_bad_parameter_naming_it(kind, tmp_path):
    args, expected = CLI_CASES[kind]
    out = tmp_path / "out"

    result = runner.invoke(app, ["synth", *args, "--out", str(out)])

    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())
    assert not out.exists()


def test_stage_run_as_a_module_exits_2_on_a_text_seed(tmp_path):
    _write_params(tmp_path, seed='"abc"')

    result = subprocess.run(
        [sys.executable, "-m", "pipelines.synthesize"],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2
    assert "synthetic.seed in params.yaml" in result.stderr
    assert "seed must be a whole number, got 'abc'" in result.stderr
    assert "Traceback" not in result.stderr


def test_region_weights_keep_farms_in_the_named_regions(tmp_path, monkeypatch):
    _write_params(tmp_path, region_weights="{Lankaran-Astara: 3, Guba-Khachmaz: 1}")
    monkeypatch.chdir(tmp_path)

    assert synthesize_stage.main() == 0

    farms = pd.read_parquet(tmp_path / "data/synthetic/farms.parquet")
    assert set(farms["region"]) <= {"Lankaran-Astara", "Guba-Khachmaz"}
    counts = farms["region"].value_counts()
    assert counts["Lankaran-Astara"] > counts.get("Guba-Khachmaz", 0)
