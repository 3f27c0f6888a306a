"""A traced run is the same run, and its CRM tables say what happened in it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnelsim.calibrate.synthetic import Trace, crm_tables
from funnelsim.model.model import FunnelModel
from funnelsim.scenario.loader import load_scenario


@pytest.fixture(scope="module")
def traced():
    scenario = load_scenario("scenarios/baseline.yaml", ["horizon_weeks=12"])
    model = FunnelModel(scenario, rng=3)
    trace = Trace.attach(model)
    model.run()
    return scenario, model, crm_tables(model, trace)


def test_a_trace_changes_nothing(traced):
    scenario, model, _ = traced
    plain = FunnelModel(scenario, rng=3).run()
    assert plain.revenue == model.revenue
    assert plain.deals_won == model.deals_won
    assert plain.book.frame().equals(model.book.frame())


def test_the_tables_hold_every_lead_and_every_sale(traced):
    _, model, crm = traced
    assert len(crm.leads) == len(model.book) == model.leads_created
    assert crm.leads["lead_id"].is_unique and crm.opportunities["opp_id"].is_unique
    won = crm.opportunities[crm.opportunities["outcome"] == "won"]
    assert won["amount"].sum() == pytest.approx(model.revenue)
    by_rep = won["owner"].notna().sum()
    assert by_rep == model.deals_won


def test_stage_history_runs_forward_in_time_and_in_the_funnel(traced):
    _, _, crm = traced
    order = {s: i for i, s in enumerate(crm.stages)} | {"won": 99, "lost": 99}
    h = crm.stage_history.assign(rank=lambda d: d["stage"].map(order).astype(int))
    for _, deal in h.groupby("opp_id", sort=False):
        assert deal["entered"].is_monotonic_increasing
        assert deal["rank"].is_monotonic_increasing
    opp = crm.opportunities.set_index("opp_id")
    last = h.groupby("opp_id")["stage"].last()
    closed = opp["outcome"] != "open"
    assert (last[opp.index[closed]].to_numpy() == opp.loc[closed, "outcome"].to_numpy()).all()
    assert not last[opp.index[~closed]].isin(["won", "lost"]).any()
    assert (opp.loc[closed, "close_time"] >= opp.loc[closed, "created"]).all()
    assert opp.loc[~closed, "close_time"].isna().all()


def test_times_lie_on_working_hours_before_the_export(traced):
    _, _, crm = traced
    t = pd.concat([crm.leads["created"], crm.activities["time"], crm.stage_history["entered"]])
    assert (t <= crm.as_of).all()
    assert (t.dt.day_of_week < 5).all()
    hours = t.dt.hour + t.dt.minute / 60
    assert ((hours >= 9) & (hours <= 17)).all()
    # a first attempt is one of the lead's calls; SQLs were reached by a call first
    calls = crm.activities[crm.activities["type"] == "call"].groupby("lead_id")["time"].min()
    tried = crm.leads.dropna(subset=["first_contact"]).set_index("lead_id")
    assert np.array_equal(calls[tried.index].to_numpy(), tried["first_contact"].to_numpy())
    sql = crm.leads.dropna(subset=["sql_time"])
    assert (sql["sql_time"] >= sql["first_contact"]).all()
