"""An export cut at an earlier date knows nothing of what came after."""

from __future__ import annotations

import pandas as pd
import pytest

from funnelsim.calibrate.synthetic import simulate_export
from funnelsim.calibrate.window import as_of, span_weeks
from funnelsim.scenario.loader import load_scenario


@pytest.fixture(scope="module")
def crm():
    return simulate_export(load_scenario("scenarios/baseline.yaml", ["horizon_weeks=16"]), 2)


def test_nothing_after_the_cutoff_is_seen(crm):
    cutoff = crm.as_of - pd.Timedelta(weeks=6)
    early = as_of(crm, cutoff)
    assert early.as_of == cutoff
    assert span_weeks(early) == pytest.approx(span_weeks(crm) - 6)
    times = [early.leads[c].dropna() for c in ("created", "first_contact", "mql_time", "sql_time")] + [
        early.opportunities["created"],
        early.opportunities["close_time"].dropna(),
        early.stage_history["entered"],
    ]
    assert all((t < cutoff).all() for t in times)
    # a deal closed after the cutoff is open again, in the stage it was in at the cutoff
    later = crm.opportunities[crm.opportunities["close_time"] >= cutoff].set_index("opp_id")
    reopened = early.opportunities.set_index("opp_id").loc[later.index.intersection(early.opportunities["opp_id"])]
    assert len(reopened) > 20
    assert (reopened["outcome"] == "open").all() and reopened["close_time"].isna().all()
    last = early.stage_history.groupby("opp_id")["stage"].last()
    assert (reopened["stage"] == last[reopened.index]).all()
    assert not reopened["stage"].isin(["won", "lost"]).any()
    # what was known before stays exactly as it was
    before = crm.opportunities[crm.opportunities["close_time"] < cutoff].set_index("opp_id")
    kept = early.opportunities.set_index("opp_id").loc[before.index]
    assert (kept["outcome"] == before["outcome"]).all()
    assert early.leads["opp_id"].dropna().isin(early.opportunities["opp_id"]).all()
