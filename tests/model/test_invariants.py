"""Conservation laws of a run: hours, leads and money all add up."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim.model.agents import Lead
from funnelsim.model.model import FunnelModel
from funnelsim.results.kpis import funnel, run_kpis
from funnelsim.results.records import LeadState
from tests.helpers import baseline


@pytest.fixture(scope="module", params=["least_loaded", "round_robin", "best_match", "pool"])
def finished(request):
    scenario = baseline(
        horizon_weeks=13,
        sales={
            "routing": request.param,
            "teams": [
                {"name": "ae", "reps": 12, "selling_share": 0.3, "skill": {"dist": "beta", "a": 4, "b": 2}},
                {"name": "sdr", "reps": 6, "hours_per_week": 45, "selling_share": 0.5, "skill": 0.5},
            ],
        },
    )
    return FunnelModel(scenario, rng=1).run()


def test_rep_hours_used_never_exceed_available(finished):
    for rep in finished.reps:
        assert 0 <= rep.hours_used <= rep.hours_available + 1e-9
    k = run_kpis(finished)
    assert k["rep_utilization"] > 0.5  # this team is busy: the check is not vacuous


def test_every_lead_ends_in_exactly_one_state(finished):
    book = finished.book.arrays()
    assert len(book["state"]) == finished.leads_created
    assert len(finished.agents_by_type.get(Lead, [])) == 0  # none left alive as agents
    counts = np.bincount(book["state"], minlength=len(LeadState))
    assert counts.sum() == finished.leads_created
    assert counts[LeadState.WON] == finished.deals_won
    assert counts[LeadState.WON_BY_EMAIL] == finished.deals_won_by_email
    # every rep's open leads were released when they ended
    assert all(r.open_leads >= 0 for r in finished.reps)
    # leads waiting for a first attempt at the end are exactly the open, untried ones
    untried = (book["state"] == LeadState.OPEN) & (book["first_attempt"] < 0) & (book["entered"] >= 0)
    assert finished.waiting_first_touch == np.count_nonzero(untried)


def test_money_adds_up(finished):
    k = run_kpis(finished)
    book = finished.book.arrays()
    assert k["profit"] == pytest.approx(k["revenue"] - k["cost"])
    assert k["revenue"] == pytest.approx(book["value"].sum())
    assert k["cost"] == pytest.approx(k["lead_cost"] + k["email_cost"] + k["salary_cost"] + k["training_cost"])
    last = finished.datacollector.get_model_vars_dataframe().iloc[-1]
    assert last["cost"] == pytest.approx(k["cost"]) and last["revenue"] == pytest.approx(k["revenue"])
    # salaries are paid for each working day a rep (or marketer) is on the payroll
    headcount = finished.datacollector.get_model_vars_dataframe()["headcount"].to_numpy()
    assert k["leavers"] > 0  # attrition is on: the payroll changes during the run
    expected = (headcount * 132_290 + 8 * 133_380).sum() / (52 * 5)
    assert k["salary_cost"] == pytest.approx(expected)


def test_funnel_narrows(finished):
    f = funnel(finished).to_numpy()
    assert np.all(np.diff(f) <= 0)
    assert f[-1] == finished.deals_won


def test_budget_caps_monthly_lead_spend():
    capped = FunnelModel(baseline(horizon_weeks=8, marketing={"budget_per_month": 50_000}), rng=2).run()
    free = FunnelModel(baseline(horizon_weeks=8), rng=2).run()
    months = capped.days_total / capped.days_per_month
    assert capped.lead_cost <= 50_000 * np.ceil(months) + 1e-6
    assert capped.leads_created < free.leads_created


def test_targeting_trades_volume_for_fit():
    wide = FunnelModel(baseline(horizon_weeks=8), rng=4).run()
    narrow = FunnelModel(baseline(horizon_weeks=8), rng=4, targeting=0.6).run()
    assert narrow.leads_created == pytest.approx(wide.leads_created * 0.4, rel=0.06)
    assert narrow.book.arrays()["fit"].mean() > wide.book.arrays()["fit"].mean() + 0.1
    # the same weekly spend (cost exponent 1) buys the smaller, better volume
    assert narrow.lead_cost == pytest.approx(wide.lead_cost, rel=0.06)


def test_levers_as_keywords_change_the_model():
    m = FunnelModel(rng=0, reps=7, leads_per_week=120, selling_share=0.5, routing="pool", horizon_weeks=2)
    assert len(m.reps) == 7
    assert sum(c.leads_per_week for c in m.config.marketing.channels) == pytest.approx(120)
    assert {r.daily_hours for r in m.reps} == {40 * 0.5 / 5}
    assert m.config.sales.routing == "pool"


def test_newest_first_answers_new_leads_faster_under_load():
    load = {"horizon_weeks": 13, "sales": {"teams": [{"name": "ae", "reps": 15}]}}
    fifo = run_kpis(FunnelModel(baseline(**load), rng=9).run())
    lifo = run_kpis(FunnelModel(baseline(**load), rng=9, prioritisation="newest_first").run())
    assert lifo["response_within_1h_share"] > fifo["response_within_1h_share"]


def test_no_reps_means_no_lead_is_worked():
    model = FunnelModel(baseline(horizon_weeks=4), rng=1, reps=0).run()
    k = run_kpis(model)
    assert k["leads_worked"] == 0 and k["deals_won"] == k["deals_won_by_email"]
    assert np.count_nonzero(model.book.arrays()["state"] == LeadState.UNASSIGNED) == model.sales_entries
