"""The simulator against textbook results in the limiting cases where they hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from funnelsim.model.curves import ResponseCurve
from funnelsim.model.model import FunnelModel
from funnelsim.results.records import LeadState
from tests.helpers import queue_scenario


def erlang_c(c: int, offered: float) -> float:
    """Probability an arrival waits in an M/M/c queue with offered load `offered` = lambda/mu."""
    rho = offered / c
    top = offered**c / math.factorial(c) / (1 - rho)
    return top / (sum(offered**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("c", "lam", "mu"), [(5, 4.0, 1.0), (2, 1.2, 1.0)])
def test_mmc_utilisation_and_wait_match_erlang_c(c, lam, mu):
    waits, utils = [], []
    for seed in range(3):
        model = FunnelModel(queue_scenario(c, lam, 1 / mu, weeks=150), rng=seed).run()
        book = model.book.arrays()
        worked = book["first_attempt"] >= 0
        # business-hour waits: the clock of an M/M/c queue that never closes
        waits.append(np.mean(book["first_attempt"][worked] - book["entered"][worked]))
        utils.append(sum(r.hours_used for r in model.reps) / sum(r.hours_available for r in model.reps))
    rho = lam / (c * mu)
    expected_wait = erlang_c(c, lam / mu) / (c * mu - lam)
    assert np.mean(utils) == pytest.approx(rho, rel=0.02)
    assert np.mean(waits) == pytest.approx(expected_wait, rel=0.08)


def test_mmc_share_waiting_matches_erlang_c():
    c, lam = 5, 4.0
    model = FunnelModel(queue_scenario(c, lam, 1.0, weeks=150), rng=7).run()
    book = model.book.arrays()
    worked = book["first_attempt"] >= 0
    waited = np.mean(book["first_attempt"][worked] - book["entered"][worked] > 1e-9)
    assert waited == pytest.approx(erlang_c(c, lam), abs=0.03)


def test_unlimited_capacity_wins_are_leads_times_stage_rates():
    rates = [0.5, 0.6, 0.4]
    stages = [{"name": f"s{i}", "conversion": p, "hours": 0.0} for i, p in enumerate(rates)]
    scenario = queue_scenario(3, 30.0, 1.0, weeks=20, stages=stages)
    model = FunnelModel(scenario, rng=11).run()
    n = model.sales_entries
    p = float(np.prod(rates))
    won = model.deals_won
    assert abs(won - n * p) < 4 * math.sqrt(n * p * (1 - p))
    # every stage separately: leads lost at stage k ~ Binomial(reaching k, 1 - p_k)
    book = model.book.arrays()
    reaching = n
    for k, rate in enumerate(rates):
        lost = int(np.count_nonzero((book["state"] == LeadState.LOST) & (book["stage"] == k)))
        assert abs((reaching - lost) - reaching * rate) < 4 * math.sqrt(reaching * rate * (1 - rate))
        reaching -= lost
    assert reaching == won


def test_qualify_rate_by_response_time_reproduces_the_curve():
    """Overloaded reps respond at every delay; each bucket's qualify rate follows the curve."""
    points = [[0, 1.0], [1, 1.0], [2, 0.3], [24, 0.05]]
    scenario = queue_scenario(
        2,
        2.6,
        1.0,
        weeks=60,
        stages=[{"name": "qualify", "conversion": 0.8, "hours": {"dist": "exponential", "mean": 1.0}}],
        response_curve={"points": points},
        prioritisation="newest_first",
    )
    model = FunnelModel(scenario, rng=3).run()
    book = model.book.arrays()
    worked = (book["first_attempt"] >= 0) & (book["state"] != LeadState.OPEN)
    cal = model.calendar
    waited = cal.calendar_hours_array(book["first_attempt"][worked]) - cal.calendar_hours_array(book["entered"][worked])
    qualified = book["state"][worked] == LeadState.WON
    expected_p = 0.8 * ResponseCurve(points).many(waited)
    for lo, hi in [(0, 1), (1, 2), (2, 8), (8, 24), (24, 1e9)]:
        sel = (waited >= lo) & (waited < hi)
        assert sel.sum() > 150, f"too few leads in bucket {lo}-{hi} h: {sel.sum()}"
        mean_p = expected_p[sel].mean()
        sd = math.sqrt(np.sum(expected_p[sel] * (1 - expected_p[sel])))
        assert abs(qualified[sel].sum() - expected_p[sel].sum()) < 4 * sd, (lo, hi, qualified[sel].mean(), mean_p)
    # and the fastest bucket really is several times likelier to qualify than the slowest
    fast = qualified[waited < 1].mean()
    slow = qualified[waited >= 24].mean()
    assert fast / slow > 8


def test_poisson_arrivals_per_week():
    model = FunnelModel(queue_scenario(3, 2.0, 0.1, weeks=100), rng=5).run()
    weekly = np.diff(np.r_[0, model.datacollector.get_model_vars_dataframe()["leads_created"].to_numpy()[4::5]])
    assert weekly.mean() == pytest.approx(80, rel=0.03)
    # Poisson: variance equals the mean (dispersion test)
    chi2 = (weekly.var(ddof=1) * (len(weekly) - 1)) / weekly.mean()
    assert stats.chi2.sf(chi2, len(weekly) - 1) > 0.001
