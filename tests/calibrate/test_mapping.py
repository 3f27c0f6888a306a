"""Maps are validated like scenario files: every problem names the file and line; presets extend."""

from __future__ import annotations

import pickle

import pytest

from funnelsim.calibrate.mapping import CrmMap, MapError, load_map, preset_path
from funnelsim.errors import FunnelsimError


def refused(path) -> list[str]:
    with pytest.raises(MapError) as info:
        load_map(path)
    assert info.value.exit_code == 2 and isinstance(info.value, FunnelsimError)
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)
    return str(info.value).splitlines()


@pytest.mark.parametrize("name", ["salesforce", "hubspot"])
def test_presets_are_package_data_and_load(name):
    assert preset_path(name).is_file()
    spec = load_map(name)
    assert isinstance(spec, CrmMap) and spec.stage_order == ["qualify", "discovery", "proposal", "negotiation"]
    assert spec.stage_names()["Closed Won"] == "won"


def test_pyproject_ships_the_presets():
    import tomllib

    from funnelsim.errors import CHECKOUT

    data = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    assert "presets/*.yaml" in data["tool"]["setuptools"]["package-data"]["funnelsim.calibrate"]


def test_unknown_keys_suggest_and_name_their_lines(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "extends: salesforce\n"
        "stagse:\n"
        "  Discovery Call: discovery\n"
        "tables:\n"
        "  opportunities:\n"
        "    columns:\n"
        "      amout: Amount\n"
    )
    lines = refused(path)
    assert lines[0] == (
        f"{path}:2: stagse: unknown field 'stagse'; allowed: tables, dates, amounts, stage_order, stages, as_of, "
        "extends (did you mean 'stages'?)"
    )
    assert lines[1].startswith(f"{path}:7: tables.opportunities.columns.amout: unknown field 'amout'; allowed: opp_id")
    assert lines[1].endswith("(did you mean 'amount'?)")


def test_wrong_types_and_values_name_their_lines(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "extends: salesforce\n"
        "dates:\n"
        "  dayfirst: perhaps\n"
        "stages:\n"
        "  Contract: signing\n"
        "tables:\n"
        "  opportunities:\n"
        "    file: Opps.xlsx\n"
    )
    assert refused(path) == [
        f"{path}:3: dates.dayfirst: expected true or false, got 'perhaps'",
        f"{path}:4: stages: each stage must map onto one of qualify, discovery, proposal, negotiation, won, lost "
        "(got 'Contract': 'signing')",
        f"{path}:8: tables.opportunities.file: expected a .csv or .parquet file name (got 'Opps.xlsx')",
    ]


def test_an_outcome_in_two_forms_after_merging_is_refused(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "extends: salesforce\ntables:\n  opportunities:\n    outcome:\n      column: Result\n      values: {W: won}\n"
    )
    (line,) = refused(path)
    assert line.startswith(f"{path}:4: tables.opportunities.outcome: give the outcome in exactly one form")
    assert "(when extending a map, set the base's form to null)" in line
    path.write_text(
        "extends: salesforce\ntables:\n  opportunities:\n    outcome:\n"
        "      closed: null\n      won: null\n      column: Result\n      values: {W: won, L: lost, O: open}\n"
    )
    outcome = load_map(path).tables.opportunities.outcome
    assert outcome.column == "Result" and outcome.closed is None


def test_extends_merges_mappings_and_replaces_lists(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("extends: salesforce\nstages:\n  Discovery Call: discovery\n")
    path = tmp_path / "map.yaml"
    path.write_text(
        "extends: base.yaml\n"
        "dates: {formats: ['%d.%m.%Y']}\n"
        "stages:\n  Prospecting: null\n"
        "tables:\n  leads:\n    columns: {mql_time: null, channel: Source__c}\n  reps: null\n"
    )
    spec = load_map(path)
    names = spec.stage_names()
    assert names["Discovery Call"] == "discovery" and names["Closed Won"] == "won" and "Prospecting" not in names
    assert spec.dates.formats == ["%d.%m.%Y"]
    cols = spec.tables.leads.columns
    assert cols.mql_time is None and cols.channel == "Source__c" and cols.lead_id == "Id"
    assert spec.tables.reps is None and spec.tables.leads.file == "Lead.csv"


def test_extends_a_missing_base_or_a_cycle(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("extends: nosuch\n")
    assert refused(path) == [
        f"{path}:1: extends: cannot find 'nosuch' (looked for {tmp_path}/nosuch; presets: salesforce, hubspot)"
    ]
    path.write_text("extends: map.yaml\n")
    assert refused(path)[0].startswith(f"{path}:1: extends: extends cycle")


def test_a_map_file_with_bad_yaml(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("extends: salesforce\nstages:\n  a: b\n  a: c\n")
    assert refused(path) == [f"{path}:4: stages.a: duplicate key 'a' (first given on line 3)"]


def test_dayfirst_swaps_day_and_month():
    from funnelsim.calibrate.mapping import Dates

    assert Dates(formats=["iso", "%m/%d/%Y %H:%M"], dayfirst=True).parse_formats() == ["iso", "%d/%m/%Y %H:%M"]


def test_an_empty_map_file_says_what_a_map_holds(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("")
    assert refused(path) == [f"{path}: file is empty; expected a map with at least 'tables' (or 'extends: salesforce')"]
    path.write_text("- a\n")
    assert "(like 'tables: ...')" in refused(path)[0]


def test_a_map_without_the_required_columns(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("extends: salesforce\ntables:\n  leads:\n    columns: {created: null}\n")
    (line,) = refused(path)
    assert line == f"{path}:3: tables.leads: columns must name the user's column for created"


def test_reading_a_map_imports_no_pandas():
    import subprocess
    import sys

    code = "import sys; from funnelsim.calibrate.mapping import load_map; load_map('salesforce'); "
    code += "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_date_format_that_strptime_cannot_use(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("extends: salesforce\ndates:\n  formats: [iso, 'DD/MM/YYYY']\n")
    assert refused(path) == [
        f"{path}:3: dates.formats: 'DD/MM/YYYY' is not a strptime format like '%m/%d/%Y %H:%M' (or 'iso')"
    ]
