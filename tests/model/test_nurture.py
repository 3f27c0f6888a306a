"""Nurture emails against the geometric law they follow, and their bill."""

from __future__ import annotations

import math

import numpy as np
import pytest

from funnelsim.model.model import FunnelModel
from funnelsim.model.nurture import emails_until_event_array
from funnelsim.results.records import LeadState
from tests.helpers import baseline

P_ENGAGE, P_CLOSE, MAX = 0.06, 0.02, 6


def test_emails_until_event_is_geometric():
    rng = np.random.default_rng(1)
    p = 0.1
    k = emails_until_event_array(rng.random(50_000), np.full(50_000, p), 10_000)
    assert k.min() == 1
    assert k.mean() == pytest.approx(1 / p, rel=0.02)
    assert np.mean(k == 1) == pytest.approx(p, abs=0.005)
    assert emails_until_event_array(np.array([0.3, 0.3]), np.array([0.0, 1.0]), 5).tolist() == [6, 1]


@pytest.fixture(scope="module")
def nurtured():
    """Every lead below the MQL threshold, fit at the reference, one email a day."""
    scenario = baseline(
        horizon_weeks=30,
        marketing={
            "mql_threshold": 1.0,
            "score_noise_sd": 0.0,
            "budget_per_month": None,
            "channels": [{"name": "c", "leads_per_week": 400, "cost_per_lead": 10, "fit": 0.5}],
            "nurture": {
                "enabled": True,
                "email_interval_days": 1,
                "max_emails": MAX,
                "cost_per_email": 0.5,
                "engage_probability": P_ENGAGE,
                "email_close_probability": P_CLOSE,
            },
        },
        people={"attrition": {"annual_rate": 0.0}},
    )
    model = FunnelModel(scenario, rng=11).run()
    return model, model.book.arrays()


def test_nurture_outcomes_follow_the_per_email_chances(nurtured):
    model, book = nurtured
    early = book["created"] < model.horizon - 10 * model.calendar.hours_per_day  # nurture had time to end
    state, emails, via = book["state"][early], book["emails"][early], book["via_nurture"][early]
    n = len(state)
    p = P_ENGAGE + P_CLOSE
    q_exhaust = (1 - p) ** MAX
    shares = {
        "exhausted": (np.mean(state == LeadState.NURTURE_EXHAUSTED), q_exhaust),
        "won_by_email": (np.mean(state == LeadState.WON_BY_EMAIL), (1 - q_exhaust) * P_CLOSE / p),
        "to_sales": (np.mean(via == 1), (1 - q_exhaust) * P_ENGAGE / p),
    }
    for name, (got, want) in shares.items():
        assert abs(got - want) < 4 * math.sqrt(want * (1 - want) / n), name
    assert np.all(emails[state == LeadState.NURTURE_EXHAUSTED] == MAX)
    replied = emails[(via == 1) | (state == LeadState.WON_BY_EMAIL)]
    k = np.arange(1, MAX + 1)
    law = p * (1 - p) ** (k - 1) / (1 - q_exhaust)
    assert abs(replied.mean() - (k * law).sum()) < 4 * replied.std() / math.sqrt(len(replied))


def test_every_email_sent_is_billed(nurtured):
    model, book = nurtured
    assert model.email_cost == pytest.approx(book["emails"].sum() * 0.5, rel=1e-12)
    assert model.deals_won_by_email == int(np.sum(book["state"] == LeadState.WON_BY_EMAIL)) > 0


def test_referrals_below_the_threshold_are_nurtured_as_agents():
    """A referral is an agent from the start; below the threshold its nurture is planned by the
    same rule as bought leads', and its emails are billed like theirs."""
    scenario = baseline(
        horizon_weeks=30,
        marketing={"mql_threshold": 0.7},
        people={"referrals": {"probability_per_deal": 1.0, "fit": 0.4, "delay_weeks": 1}},
    )
    model = FunnelModel(scenario, rng=4).run()
    book = model.book.arrays()
    referral = book["channel"] == len(scenario.marketing.channels)
    nurture_states = [LeadState.NURTURE_EXHAUSTED, LeadState.WON_BY_EMAIL, LeadState.NURTURING]
    ended_in_nurture = np.isin(book["state"][referral], nurture_states)
    assert referral.sum() == model.referral_leads > 50
    assert np.all(ended_in_nurture | (book["via_nurture"][referral] == 1))
    arrived = referral & (book["created"] < model.horizon)  # the rest were still on their way
    assert book["emails"][arrived].min() >= 1
    cost = scenario.marketing.nurture.cost_per_email
    assert model.email_cost == pytest.approx(book["emails"].sum() * cost, rel=1e-12)
