"""Bad exports are refused with every problem's file, line and column; unusual ones are read right."""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import pandas as pd
import pytest

from funnelsim.calibrate.layouts import write_export
from funnelsim.calibrate.problems import CrmDataError
from funnelsim.calibrate.reader import read_export
from funnelsim.errors import FunnelsimError
from tests.calibrate.sample import sample


def export(folder: Path, layout: str = "salesforce") -> Path:
    write_export(sample(), layout, folder)
    return folder


def rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def save(path: Path, table: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(table)


def set_cell(path: Path, row_id: str, column: str, value: str) -> int:
    """Set one cell of the row whose first column is `row_id`; returns its line number."""
    table = rows(path)
    col = table[0].index(column)
    line = next(i for i, r in enumerate(table) if r[0] == row_id)
    table[line][col] = value
    save(path, table)
    return line + 1


def refused(folder: Path, layout: str = "salesforce") -> str:
    with pytest.raises(CrmDataError) as info:
        read_export(folder, layout)
    assert info.value.exit_code == 2
    return str(info.value)


def test_the_error_is_a_funnelsim_error_that_pickles_and_exits_2(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Opportunity.csv", "O2", "Amount", "lots")
    with pytest.raises(CrmDataError) as info:
        read_export(folder, "salesforce")
    err = info.value
    assert isinstance(err, FunnelsimError) and err.exit_code == 2
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and type(again) is CrmDataError


def test_a_missing_table_is_named(tmp_path):
    folder = export(tmp_path)
    (folder / "Opportunity.csv").unlink()
    (folder / "Task.csv").unlink()  # optional: its absence is no problem
    assert refused(folder).startswith("Opportunity.csv: file not found in ")


def test_a_missing_column_is_named_with_the_header(tmp_path):
    folder = export(tmp_path)
    table = rows(folder / "Lead.csv")
    col = table[0].index("CreatedDate")
    save(folder / "Lead.csv", [r[:col] + r[col + 1 :] for r in table])
    message = refused(folder)
    assert "Lead.csv:1: CreatedDate: column 'CreatedDate' not found (the header has: Id, LeadSource" in message


def test_an_optional_custom_field_may_be_absent(tmp_path):
    folder = export(tmp_path)
    table = rows(folder / "Lead.csv")
    col = table[0].index("MQL_Date__c")
    save(folder / "Lead.csv", [r[:col] + r[col + 1 :] for r in table])
    crm = read_export(folder, "salesforce")
    assert crm.leads["mql_time"].isna().all() and crm.leads["created"].notna().all()


def test_an_unparseable_date_names_file_line_and_column(tmp_path):
    folder = export(tmp_path)
    line = set_cell(folder / "Lead.csv", "L3", "CreatedDate", "31/31/2026")
    assert line == 4
    assert "Lead.csv:4: CreatedDate: expected a date or time in one of the formats 'iso', " in refused(folder)
    assert "(got '31/31/2026')" in refused(folder)


def test_a_duplicate_id_says_where_the_first_is(tmp_path):
    folder = export(tmp_path)
    table = rows(folder / "Opportunity.csv")
    save(folder / "Opportunity.csv", [*table, table[2]])
    assert "Opportunity.csv:7: Id: expected each id once (got 'O2', first on line 3)" in refused(folder)


def test_a_lead_converted_to_an_opportunity_not_in_the_export(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Lead.csv", "L2", "ConvertedOpportunityId", "O999")
    message = refused(folder)
    assert (
        "Lead.csv:3: ConvertedOpportunityId: expected the id of an opportunity in Opportunity.csv (got 'O999')"
        in message
    )


def test_an_opportunity_whose_lead_is_missing(tmp_path):
    folder = export(tmp_path, "hubspot")
    set_cell(folder / "deals.csv", "O3", "Associated Contact", "C999")
    assert "deals.csv:4: Associated Contact: expected the id of a lead in contacts.csv (got 'C999')" in refused(
        folder, "hubspot"
    )


def test_a_close_before_the_creation(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Opportunity.csv", "O1", "CloseDate", "2025-12-01")
    assert "Opportunity.csv:2: CloseDate: expected a close date on or after the creation date" in refused(folder)


def test_a_close_on_the_day_of_creation_is_fine(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Opportunity.csv", "O1", "CloseDate", "2026-01-07")
    crm = read_export(folder, "salesforce")
    assert crm.opportunities.loc[0, "close_time"] == pd.Timestamp("2026-01-07 09:00")


def test_a_stage_not_in_the_map_suggests_the_nearest(tmp_path):
    folder = export(tmp_path)
    table = rows(folder / "OpportunityHistory.csv")
    table[4][table[0].index("StageName")] = "Closed Wonn"
    save(folder / "OpportunityHistory.csv", table)
    message = refused(folder)
    assert "OpportunityHistory.csv:5: StageName: expected a stage listed under 'stages:' in the map" in message
    assert "(got 'Closed Wonn') (did you mean 'Closed Won'?)" in message


def test_an_amount_that_is_not_a_number(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Opportunity.csv", "O2", "Amount", "25k")
    assert "Opportunity.csv:3: Amount: expected an amount like 25,000.00 (got '25k')" in refused(folder)


def test_an_unknown_outcome_value(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Opportunity.csv", "O2", "IsWon", "maybe")
    assert "Opportunity.csv:3: IsWon: expected true or false, one of 'true', '1', 'yes'" in refused(folder)


def test_a_won_flag_on_an_open_deal(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Opportunity.csv", "O3", "IsWon", "true")
    assert "Opportunity.csv:4: IsWon: a deal won must also be closed" in refused(folder)


def test_an_unknown_activity_type(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Task.csv", "00T000000000000002", "Type", "Lunch")
    assert "Task.csv:4: Type: expected a type listed under 'tables.activities.types:'" in refused(folder)


def test_problems_in_several_files_are_reported_together(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Lead.csv", "L3", "CreatedDate", "soon")
    set_cell(folder / "Opportunity.csv", "O2", "Amount", "25k")
    set_cell(folder / "Task.csv", "00T000000000000002", "Type", "Lunch")
    lines = refused(folder).splitlines()
    assert [line.split(":")[0] for line in lines] == ["Lead.csv", "Opportunity.csv", "Task.csv"]


def test_many_problems_are_capped_with_a_count(tmp_path):
    folder = export(tmp_path)
    table = rows(folder / "Lead.csv")
    extra = [[f"X{i}", "yesterday", *table[1][2:]] for i in range(30)]
    for r in extra:
        r[table[0].index("ConvertedOpportunityId")] = ""
    save(folder / "Lead.csv", table + extra)
    lines = refused(folder).splitlines()
    assert len(lines) == 21
    assert lines[0].startswith("Lead.csv:8: CreatedDate:")
    assert lines[-1] == "... and 10 more problems (30 rows have problems in all)"


def test_lines_count_quoted_newlines_and_blank_lines(tmp_path):
    folder = export(tmp_path)
    table = rows(folder / "Task.csv")
    table[1][table[0].index("Subject")] = "Call\nabout the\nproposal"
    table[3][table[0].index("Type")] = "Lunch"
    with open(folder / "Task.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows(table[:2])
        handle.write("\n")
        writer.writerows(table[2:])
    assert "Task.csv:7: Type:" in refused(folder)


def test_a_cut_line_is_reported(tmp_path):
    folder = export(tmp_path)
    path = folder / "Opportunity.csv"
    text = path.read_text().splitlines()
    text[3] = text[3][:12]
    path.write_text("\n".join(text) + "\n")
    assert "Opportunity.csv:4: expected 8 fields, got 2 (a cut or broken line?)" in refused(folder)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Lead.csv: file is empty"),
        (
            b"Id,CreatedDate,LeadSource,OwnerId,ConvertedDate,ConvertedOpportunityId\n",
            "Lead.csv: file has a header but no rows",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "Lead.csv: file is not a CSV file (it holds binary data)",
        ),
        ("Id,CreatedDate\nL1,x".encode("utf-16"), "Lead.csv: file is UTF-16 text; save it as UTF-8 CSV"),
        (b"PK\x03\x04rest", "Lead.csv: file is a ZIP archive (an Excel workbook?)"),
    ],
    ids=["empty", "header-only", "binary", "utf-16", "xlsx"],
)
def test_files_that_are_not_usable_csv(tmp_path, content, expected):
    folder = export(tmp_path)
    (folder / "Lead.csv").write_bytes(content)
    assert refused(folder).startswith(expected)


def test_a_file_in_windows_1252_says_so_with_its_line(tmp_path):
    folder = export(tmp_path)
    path = folder / "Lead.csv"
    set_cell(path, "L4", "LeadSource", "Salon Hôtel")
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    message = refused(folder)
    assert message.startswith("Lead.csv:5: file is not UTF-8 text (byte 0xf4); it looks like Windows-1252")


def test_a_utf8_bom_is_read(tmp_path):
    folder = export(tmp_path)
    path = folder / "Lead.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_export(folder, "salesforce").leads["lead_id"].iloc[0] == "L1"


def test_messy_dates_and_offsets(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Lead.csv", "L1", "CreatedDate", "1/5/2026 9:30 AM")
    set_cell(folder / "Lead.csv", "L2", "CreatedDate", "2026-01-06T12:00:00.000+0100")
    set_cell(folder / "Lead.csv", "L3", "CreatedDate", "1/8/2026")
    created = read_export(folder, "salesforce").leads["created"]
    assert list(created[:3]) == [
        pd.Timestamp("2026-01-05 09:30"),
        pd.Timestamp("2026-01-06 11:00"),
        pd.Timestamp("2026-01-08"),
    ]


def test_amounts_as_text_in_either_convention(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Opportunity.csv", "O1", "Amount", "$25,000.00")
    set_cell(folder / "Opportunity.csv", "O2", "Amount", "USD 1,200.5")
    assert list(read_export(folder, "salesforce").opportunities["amount"][:2]) == [25000.0, 1200.5]
    set_cell(folder / "Opportunity.csv", "O1", "Amount", "25.000,00 €")
    set_cell(folder / "Opportunity.csv", "O2", "Amount", "1.200,5")
    assert "Opportunity.csv:2: Amount: expected an amount like 25,000.00 (got '25.000,00 €')" in refused(folder)
    set_cell(folder / "Opportunity.csv", "O4", "Amount", "8.000,00")
    set_cell(folder / "Opportunity.csv", "O5", "Amount", "5000")
    european = tmp_path / "eu.yaml"
    european.write_text("extends: salesforce\namounts: {decimal: ',', thousands: '.'}\n")
    assert read_export(folder, european).opportunities["amount"].fillna(-1).tolist() == [25000, 1200.5, -1, 8000, 5000]


def test_unusual_rows_are_kept(tmp_path):
    crm = read_export(export(tmp_path), "salesforce")
    opps = crm.opportunities.set_index("opp_id")
    assert opps.loc["O3", "outcome"] == "open" and pd.isna(opps.loc["O3", "close_time"])  # a forecast is not a close
    assert "O5" not in set(crm.stage_history["opp_id"]) and opps.loc["O5", "stage"] == "discovery"
    assert "L5" in set(crm.leads["lead_id"]) and "L5" not in set(crm.activities["lead_id"].dropna())
    reopened = crm.stage_history[crm.stage_history["opp_id"] == "O4"]["stage"].tolist()
    assert reopened == ["discovery", "proposal", "lost", "discovery", "proposal", "won"]
    assert crm.reps.set_index("rep_id").loc["U3", "end"] == pd.Timestamp("2026-01-31")


def test_history_rows_that_change_only_the_amount_are_not_stage_entries(tmp_path):
    folder = export(tmp_path)
    table = rows(folder / "OpportunityHistory.csv")
    again = list(table[2])
    again[table[0].index("CreatedDate")] = "2026-01-25T10:00:00.000+0000"
    again[table[0].index("Amount")] = "30000.00"
    save(folder / "OpportunityHistory.csv", [*table[:3], again, *table[3:]])
    history = read_export(folder, "salesforce").stage_history
    pd.testing.assert_frame_equal(history, sample().stage_history)


def test_parquet_problems_say_row(tmp_path):
    folder = export(tmp_path)
    frame = pd.read_csv(folder / "Opportunity.csv", dtype=str)
    frame.loc[1, "Amount"] = "25k"
    frame.to_parquet(folder / "Opportunity.parquet", index=False)
    spec = tmp_path / "map.yaml"
    spec.write_text("extends: salesforce\ntables: {opportunities: {file: Opportunity.parquet}}\n")
    with pytest.raises(CrmDataError) as info:
        read_export(folder, spec)
    assert "Opportunity.parquet:row 2: Amount: expected an amount like 25,000.00 (got '25k')" in str(info.value)


def test_as_of_from_the_map(tmp_path):
    folder = export(tmp_path)
    spec = tmp_path / "map.yaml"
    spec.write_text("extends: salesforce\nas_of: 2026-03-01T12:00:00+01:00\n")
    assert read_export(folder, spec).as_of == pd.Timestamp("2026-03-01 11:00")


def test_an_outcome_column_with_its_own_values(tmp_path):
    folder = export(tmp_path)
    table = rows(folder / "Opportunity.csv")
    closed, won = table[0].index("IsClosed"), table[0].index("IsWon")
    result = {("true", "true"): "Won", ("true", "false"): "Lost", ("false", "false"): "Open"}
    table = [[*r, "Result" if i == 0 else result[(r[closed], r[won])]] for i, r in enumerate(table)]
    save(folder / "Opportunity.csv", table)
    spec = tmp_path / "map.yaml"
    spec.write_text(
        "extends: salesforce\ntables:\n  opportunities:\n    outcome:\n      closed: null\n      won: null\n"
        "      column: Result\n      values: {Won: won, Lost: lost, Open: open}\n"
    )
    pd.testing.assert_frame_equal(read_export(folder, spec).opportunities, sample().opportunities)
    set_cell(folder / "Opportunity.csv", "O3", "Result", "Wonn")
    with pytest.raises(CrmDataError) as info:
        read_export(folder, spec)
    assert "Opportunity.csv:4: Result: expected an outcome listed under 'outcome.values:'" in str(info.value)
    assert "(got 'Wonn') (did you mean 'Won'?)" in str(info.value)


def test_a_stage_that_contradicts_the_outcome_flags(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Opportunity.csv", "O3", "StageName", "Closed Won")
    assert (
        "Opportunity.csv:4: StageName: expected a stage that agrees with the deal's IsClosed, IsWon (got 'Closed Won')"
    ) in refused(folder)


def test_a_format_with_an_offset_is_read_as_utc(tmp_path):
    folder = export(tmp_path)
    set_cell(folder / "Lead.csv", "L1", "CreatedDate", "05.01.2026 10:30 +0100")
    spec = tmp_path / "map.yaml"
    spec.write_text("extends: salesforce\ndates:\n  formats: [iso, '%d.%m.%Y %H:%M %z', '%Y-%m-%d']\n")
    assert read_export(folder, spec).leads["created"].iloc[0] == pd.Timestamp("2026-01-05 09:30")
