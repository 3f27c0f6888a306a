"""Canonical tables written in a vendor's layout read back as the same tables."""

from __future__ import annotations

import pandas as pd
import pytest

from funnelsim.calibrate.canonical import TABLES
from funnelsim.calibrate.layouts import write_export
from funnelsim.calibrate.reader import read_export
from tests.calibrate.sample import sample


def assert_same(expected, got) -> None:
    for name in TABLES:
        want, have = expected.table(name), got.table(name)
        if want is None:
            assert have is None, name
        else:
            pd.testing.assert_frame_equal(have, want, obj=name)
    assert got.as_of == expected.as_of
    assert got.stages == expected.stages


def test_salesforce_round_trip_gives_the_same_tables(tmp_path):
    crm = sample()
    files = write_export(crm, "salesforce", tmp_path)
    assert sorted(f.name for f in files) == [
        "Lead.csv",
        "Opportunity.csv",
        "OpportunityHistory.csv",
        "Task.csv",
        "User.csv",
    ]
    back = read_export(tmp_path, "salesforce")
    assert_same(crm, back)
    assert back.sources["opportunities"] == "Opportunity.csv"


def test_salesforce_files_look_like_salesforce(tmp_path):
    write_export(sample(), "salesforce", tmp_path)
    opp = pd.read_csv(tmp_path / "Opportunity.csv", dtype=str).set_index("Id")
    assert opp.loc["O1", "StageName"] == "Closed Won" and opp.loc["O1", "IsWon"] == "true"
    assert opp.loc["O3", "StageName"] == "Proposal/Price Quote" and opp.loc["O3", "IsClosed"] == "false"
    assert opp.loc["O1", "CreatedDate"] == "2026-01-07T09:00:00.000+0000" and opp.loc["O1", "CloseDate"] == "2026-02-10"
    assert "LeadId" not in opp.columns  # the link is Lead.ConvertedOpportunityId
    history = pd.read_csv(tmp_path / "OpportunityHistory.csv", dtype=str)
    assert list(history[history["OpportunityId"] == "O4"]["StageName"]) == [
        "Qualification",
        "Proposal/Price Quote",
        "Closed Lost",
        "Qualification",
        "Proposal/Price Quote",
        "Closed Won",
    ]


def test_hubspot_round_trip_keeps_all_its_layout_can_hold(tmp_path):
    crm = sample()
    write_export(crm, "hubspot", tmp_path)
    deals = pd.read_csv(tmp_path / "deals.csv", dtype=str).set_index("Record ID")
    assert deals.loc["O4", 'Date entered "Presentation Scheduled (Sales Pipeline)"'] == "2026-02-01 10:00"
    assert deals.loc["O1", "Deal Stage"] == "Closed Won" and deals.loc["O3", "Deal Stage"] == "Presentation Scheduled"
    back = read_export(tmp_path, "hubspot")
    history = crm.stage_history
    # HubSpot keeps one "Date entered" a stage: the reopened deal O4 keeps its latest entries.
    reopened = history[(history["opp_id"] == "O4") & (history["entered"] < pd.Timestamp("2026-01-20"))]
    crm.stage_history = history.drop(reopened.index)
    crm.stage_history = crm.stage_history.sort_values(["opp_id", "entered"], kind="stable").reset_index(drop=True)
    crm.activities["type"] = crm.activities["type"].replace("demo", "meeting")  # HubSpot has no demo
    crm.reps = None
    assert_same(crm, back)


@pytest.mark.parametrize("layout", ["salesforce", "hubspot"])
def test_parquet_files_read_back_the_same(tmp_path, layout):
    from funnelsim.calibrate.mapping import load_map

    spec = load_map(layout)
    tables = {
        name: table.model_copy(update={"file": table.file.replace(".csv", ".parquet")})
        for name in TABLES
        if (table := getattr(spec.tables, name)) is not None
    }
    spec = spec.model_copy(update={"tables": spec.tables.model_copy(update=tables)})
    crm = sample()
    write_export(crm, spec, tmp_path)
    assert (tmp_path / tables["leads"].file).read_bytes()[:4] == b"PAR1"
    back = read_export(tmp_path, spec)
    pd.testing.assert_frame_equal(back.leads, crm.leads)
    pd.testing.assert_frame_equal(back.opportunities, crm.opportunities)
