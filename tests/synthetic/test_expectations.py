"""The expectation suites pass clean tables and name what breaks a bad one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthetic.errors import DataValidationError
from synthetic.expectations import validate
from synthetic.workflow import write_report


def _copy(tables):
    return {name: frame.copy() for name, frame in tables.items()}


def _duplicate_farm(tables):
    farms = tables["farms"]
    tables["farms"] = pd.concat([farms, farms.iloc[[3]]], ignore_index=True)


def _orphan_field(tables):
    tables["fields"].loc[[0, 1], "farm_id"] = "AZ-999999"


def _hot_day(tables):
    tables["weather"].loc[10, "temp_c"] = 80.0


def _empty_herd(tables):
    tables["livestock"].loc[0, "head_count"] = 0


def _harvest_before_sowing(tables):
    fields = tables["fields"]
    fields.loc[2, "expected_harvest_date"] = fields.loc[
        2, "sowing_date"
    ] - pd.Timedelta(days=10)


def _tea_outside_lankaran(tables):
    fields, farms = tables["fields"], tables["farms"]
    region = fields["farm_id"].map(farms.set_index("farm_id")["region"])
    row = np.flatnonzero(region.to_numpy() == "Guba-Khachmaz")[0]
    fields.loc[row, "crop"] = "tea"


def _reading_of_an_unknown_field(tables):
    tables["soil_moisture"].loc[[5, 6, 7], "field_id"] = "AZ-999999-F1"


def _waterlogged_reading(tables):
    tables["soil_moisture"].loc[4, "soil_moisture_pct"] = 75.0


def _reading_after_harvest(tables):
    readings, fields = tables["soil_moisture"], tables["fields"]
    harvest = fields.set_index("field_id")["expected_harvest_date"]
    field_id = readings.loc[0, "field_id"]
    readings.loc[0, "date"] = (harvest[field_id] + pd.Timedelta(days=30)).date()


def _oversized_field(tables):
    fields, farms = tables["fields"], tables["farms"]
    farm_id = fields.loc[0, "farm_id"]
    total = farms.set_index("farm_id").loc[farm_id, "total_area_ha"]
    fields.loc[0, "area_ha"] = total + 1


CORRUPTIONS = {
    "duplicate farm key": (
        _duplicate_farm,
        "farms: expect_column_values_to_be_unique on farm_id: 2 of",
    ),
    "field of an unknown farm": (
        _orphan_field,
        "fields: expect_column_values_to_be_in_set on farm_id: 2 of",
    ),
    "temperature out of range": (
        _hot_day,
        "weather: expect_column_values_to_be_between on temp_c: 1 of",
    ),
    "herd without animals": (
        _empty_herd,
        "livestock: expect_column_values_to_be_between on head_count: 1 of",
    ),
    "harvest before sowing": (
        _harvest_before_sowing,
        "fields: expect_column_pair_values_a_to_be_greater_than_b on "
        "expected_harvest_date: 1 of",
    ),
    "crop implausible for the region": (
        _tea_outside_lankaran,
        "fields: expect_column_values_to_be_in_set on crop: 1 of",
    ),
}


def test_clean_tables_pass_every_expectation(tables):
    report = validate(tables)

    assert report.success
    assert len(report.checks) >= 40
    assert {check.table for check in report.checks} == set(tables)


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupted_table_fails_with_a_summary_naming_the_check(tables, corruption):
    corrupt, expected_line = CORRUPTIONS[corruption]
    broken = _copy(tables)
    corrupt(broken)

    with pytest.raises(DataValidationError) as caught:
        validate(broken)

    message = str(caught.value)
    assert expected_line in message
    assert "yonca synth" in message
    assert not caught.value.report.success


def test_broken_soil_readings_are_each_named_and_counted(tables):
    broken = _copy(tables)
    _reading_of_an_unknown_field(broken)
    _waterlogged_reading(broken)
    _reading_after_harvest(broken)

    with pytest.raises(DataValidationError) as caught:
        validate(broken)

    message = str(caught.value)
    in_set = "soil_moisture: expect_column_values_to_be_in_set on"
    between = "soil_moisture: expect_column_values_to_be_between on"
    assert f"{in_set} field_id: 3 of" in message
    assert f"{between} soil_moisture_pct: 1 of" in message
    # The three readings of an unknown field have no season to fall in either.
    assert f"{in_set} date: 4 of" in message


def test_fields_larger_than_their_farm_are_counted(tables):
    broken = _copy(tables)
    _oversized_field(broken)
    farm_id = broken["fields"].loc[0, "farm_id"]
    fields_of_farm = int((broken["fields"]["farm_id"] == farm_id).sum())

    report = validate(broken, raise_on_failure=False)

    failed = {
        (c.table, c.expectation, c.column): c.unexpected_count for c in report.failures
    }
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    assert failed[("fields", pair, "area_ha")] == fields_of_farm


def test_summary_file_is_identical_for_equal_data(tables, tmp_path):
    first = write_report(validate(tables), tmp_path / "a.json")
    second = write_report(validate(_copy(tables)), tmp_path / "b.json")

    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text())["success"] is True
