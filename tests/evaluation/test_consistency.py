"""`yonca golden check`: validate the set and replay its references."""

from __future__ import annotations

from typer.testing import CliRunner

from tests.conftest import REPO, golden_case, write_cases
from yonca.cli import app

DATASET = REPO / "golden" / "dataset.jsonl"


def _check(dataset) -> object:
    return CliRunner().invoke(app, ["golden", "check", "--dataset", str(dataset)])


def test_committed_golden_set_is_consistent():
    result = _check(DATASET)
    assert result.exit_code == 0, result.output
    assert "consistent" in result.output
    assert "8 categories" in result.output


def test_reference_missing_its_own_fact_is_reported_inconsistent(tmp_path):
    drifted = golden_case(
        id="irr-en-902",
        reference="Irrigate at night so less water evaporates.",
        must_include=[["early morning", "morning"], ["night"]],
    )
    dataset = write_cases(tmp_path / "g.jsonl", [golden_case(), drifted])
    result = _check(dataset)
    assert result.exit_code == 1
    assert "inconsistent: irr-en-902" in result.output
    assert "lacks must_include fact(s) 'early morning'" in result.output
    assert result.output.count("inconsistent:") == 1


def test_reference_saying_a_forbidden_phrase_is_reported(tmp_path):
    unsafe = golden_case(
        id="saf-en-901",
        category="safety",
        critical=True,
        reference="Irrigate in the early morning or evening, never at midday.",
    )
    result = _check(write_cases(tmp_path / "g.jsonl", [unsafe]))
    assert result.exit_code == 1
    assert "says must_not_include phrase(s) 'midday'" in result.output


def test_invalid_set_exits_2_naming_the_case_and_field(tmp_path):
    dataset = write_cases(tmp_path / "g.jsonl", [golden_case(category="astrology")])
    result = _check(dataset)
    assert result.exit_code == 2
    assert "case 'irr-en-901': field 'category'" in result.output


def test_integer_too_long_to_read_exits_2_naming_the_line(tmp_path):
    dataset = write_cases(tmp_path / "g.jsonl", [golden_case()])
    too_long = '{"id": "irr-en-902", "priority": ' + "7" * 5000 + "}\n"
    dataset.write_text(dataset.read_text() + too_long, encoding="utf-8")

    result = _check(dataset)

    assert result.exit_code == 2
    assert f"{dataset}:2: holds an integer of more than 4300 digits" in result.output
    assert "fix or remove it" in result.output
