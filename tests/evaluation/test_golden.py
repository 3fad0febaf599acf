from collections import Counter
from pathlib import Path

import pytest

from evaluation.errors import GoldenSetError
from evaluation.golden import load_golden_set
from tests.conftest import REPO, golden_case, write_cases

DATASET = REPO / "golden" / "dataset.jsonl"


CATEGORIES = {
    "irrigation",
    "fertilisation",
    "pests_diseases",
    "crop_calendar",
    "weather_risk",
    "livestock",
    "farm_records",
    "safety",
}


def test_committed_golden_set_has_120_cases_half_in_each_language():
    golden = load_golden_set(DATASET)
    languages = Counter(case.language for case in golden.cases)
    assert len(golden.cases) >= 120
    assert languages["az"] == languages["en"] == len(golden.cases) // 2
    assert len(golden.sha256) == 64


def test_every_category_has_cases_in_both_languages():
    golden = load_golden_set(DATASET)
    pairs = Counter((case.category, case.language) for case in golden.cases)
    for category in CATEGORIES:
        assert pairs[(category, "az")] >= 5, category
        assert pairs[(category, "en")] >= 5, category


def test_farm_record_cases_carry_their_farm_and_safety_cases_are_critical():
    golden = load_golden_set(DATASET)
    for case in golden.cases:
        if case.category == "farm_records":
            assert case.context and "AZ-" in case.context, case.id
            assert case.source.startswith("farm record"), case.id
        assert case.critical == (case.category == "safety"), case.id
        if case.critical:
            assert case.must_not_include, case.id


def test_malformed_line_names_file_and_line(tmp_path):
    path = write_cases(tmp_path / "g.jsonl", [golden_case()])
    path.write_text(path.read_text() + '{"id": "broken",\n', encoding="utf-8")
    with pytest.raises(GoldenSetError, match=r"g\.jsonl:2: not valid JSON"):
        load_golden_set(path)


def test_missing_reference_names_case_and_field(tmp_path):
    case = golden_case(id="pest-en-001")
    del case["reference"]
    path = write_cases(tmp_path / "g.jsonl", [case])
    with pytest.raises(GoldenSetError, match="case 'pest-en-001': field 'reference'"):
        load_golden_set(path)


def test_unknown_category_is_named(tmp_path):
    path = write_cases(tmp_path / "g.jsonl", [golden_case(category="astrology")])
    with pytest.raises(GoldenSetError, match="field 'category'"):
        load_golden_set(path)


def test_duplicate_ids_point_at_the_first_occurrence(tmp_path):
    path = write_cases(tmp_path / "g.jsonl", [golden_case(), golden_case()])
    with pytest.raises(GoldenSetError, match="duplicates line 1"):
        load_golden_set(path)


def test_byte_order_mark_is_refused(tmp_path):
    path = write_cases(tmp_path / "g.jsonl", [golden_case()])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with pytest.raises(GoldenSetError, match="byte-order mark"):
        load_golden_set(path)


def test_crlf_line_endings_are_refused(tmp_path):
    path = write_cases(tmp_path / "g.jsonl", [golden_case()])
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    with pytest.raises(GoldenSetError, match="CRLF"):
        load_golden_set(path)


def test_missing_file_says_what_to_do():
    with pytest.raises(GoldenSetError, match="not found"):
        load_golden_set(Path("/nonexistent/golden.jsonl"))


def test_integer_too_long_to_read_names_file_and_line(tmp_path):
    path = write_cases(tmp_path / "g.jsonl", [golden_case()])
    line = '{"id": "irr-en-902", "priority": ' + "7" * 5000 + "}\n"
    path.write_text(path.read_text() + line, encoding="utf-8")
    with pytest.raises(GoldenSetError, match=r"g\.jsonl:2: holds an integer of more"):
        load_golden_set(path)


def test_arrays_nested_too_deeply_name_file_and_line(tmp_path):
    path = write_cases(tmp_path / "g.jsonl", [golden_case()])
    path.write_text(path.read_text() + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(GoldenSetError, match=r"g\.jsonl:2: nests arrays"):
        load_golden_set(path)
