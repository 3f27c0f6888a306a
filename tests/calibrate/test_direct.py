"""Direct estimates from CRM exports drawn from a known truth (tests/calibrate/known.py)."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from funnelsim.calibrate import funnel
from funnelsim.calibrate.arrivals import full_weeks
from funnelsim.calibrate.canonical import CrmData
from funnelsim.calibrate.direct import deal_values, estimate
from funnelsim.calibrate.overrides import set_arguments
from funnelsim.calibrate.survival import LOST, PASSED, Competing, working_days
from funnelsim.scenario.loader import load_scenario
from tests.calibrate.known import STAGES, Truth, at_working, draw

BASELINE = "scenarios/baseline.yaml"


def triangular_median(low, mode, high):
    return float(stats.triang.ppf(0.5, (mode - low) / (high - low), loc=low, scale=high - low))


def transitions(truth: Truth) -> dict[str, float]:
    names = list(truth.stages)
    out = {"lead->mql": truth.p_mql, "mql->sql": truth.p_sql, "opportunity->won": truth.win}
    for k, s in enumerate(names):
        out[f"{s}->{names[k + 1] if k + 1 < len(names) else 'won'}"] = truth.stages[s]
    return out


@pytest.fixture(scope="module")
def big():
    truth = Truth(rates={"paid_search": 300.0, "content": 150.0})
    return truth, estimate(draw(truth, 12), stages=STAGES, bootstrap=200, seed=0)


def test_working_days_count_only_working_hours():
    fri = pd.Timestamp("2025-01-10 16:00")  # a Friday, an hour before the day ends
    mon = pd.Timestamp("2025-01-13 10:00")  # the Monday after, an hour into the day
    assert working_days([fri], [mon], 8, 5)[0] == pytest.approx(2 / 8)
    t = np.array([0.0, 3.5, 12.25])
    assert working_days(at_working(np.zeros(3)), at_working(t), 8, 5) == pytest.approx(t)


def test_aalen_johansen_matches_a_hand_calculation():
    # times 1 (pass), 2 (censored), 3 (lost), 4 (pass): at risk 4, 3, 2, 1
    data = Competing(np.array([4.0, 1.0, 3.0, 2.0]), np.array([PASSED, PASSED, LOST, 0]))
    # F(1) = 1/4; S(1) = 3/4; at 3: lost, S = 3/4 * 1/2; at 4: all pass: F += 3/8
    assert data.incidence()[0] == pytest.approx([0.25, 0.25, 0.25, 0.625])
    # without censoring it is the plain share
    plain = Competing(np.arange(10.0), np.array([PASSED] * 3 + [LOST] * 7))
    assert plain.eventually()[0] == pytest.approx(0.3)


def test_estimates_recover_the_truth_within_their_intervals(big):
    truth, est = big
    for channel, rate in truth.rates.items():
        assert est.arrivals[channel].leads_per_week.covers(rate), channel
        assert not est.arrivals[channel].tests["trend"].detected
    for name, p in transitions(truth).items():
        assert est.conversions[name].covers(p), (name, est.conversions[name], p)
        assert est.conversions[name].high - est.conversions[name].low < 0.2
    for stage, (low, mode, high) in truth.delays.items():
        delay = est.delays[stage]
        assert delay.median.covers(triangular_median(low, mode, high)), stage
        assert delay.triangular is not None
        assert np.allclose(delay.triangular, (low, mode, high), atol=0.15 * (high - low)), (stage, delay.triangular)
        a, b = delay.triangular_interval["mode"]  # the ends' bootstrap intervals are not valid (see Delay)
        assert a <= mode <= b, (stage, a, b)
    values = est.deal_values
    assert values.params["lognormal"]["median"].covers(truth.median_value)
    assert values.params["lognormal"]["sigma"].covers(truth.sigma_value)
    assert est.team["reps_per_week"].value == truth.reps


def test_open_deals_are_censored_not_lost():
    """Young books: a third of the deals still open. Counting closed deals only biases the win
    rate down (losses come sooner than wins); the censoring-aware estimate does not."""
    truth = Truth(weeks=12, rates={"paid_search": 1500.0})
    naive, censored = [], []
    for seed in range(10):
        crm = draw(truth, seed, tables=())
        opps = crm.opportunities
        assert (opps["outcome"] == "open").mean() > 0.3
        closed = opps[opps["outcome"] != "open"]
        naive.append((closed["outcome"] == "won").mean())
        censored.append(estimate(crm, stages=STAGES, bootstrap=0).conversions["opportunity->won"].value)
    naive, censored = np.array(naive), np.array(censored)
    se = censored.std(ddof=1) / np.sqrt(len(censored))
    assert abs(censored.mean() - truth.win) < 3 * se
    assert truth.win - naive.mean() > 10 * se
    assert np.all(np.abs(censored - truth.win) < np.abs(naive - truth.win))


@pytest.mark.parametrize("family", ["lognormal", "gamma"])
def test_aic_picks_the_family_the_values_came_from(family):
    rng = np.random.default_rng(3)
    n = 3000
    x = 25_000 * np.exp(0.6 * rng.standard_normal(n)) if family == "lognormal" else rng.gamma(3.0, 8_000.0, n)
    opps = pd.DataFrame(
        {"opp_id": [f"O{i}" for i in range(n)], "amount": x, "outcome": pd.array(["won"] * n, dtype="string")}
    )
    crm = CrmData(leads=pd.DataFrame(), opportunities=opps, stages=STAGES, as_of=pd.Timestamp("2026-01-01"))
    values, too_few = deal_values(crm, 200, np.random.default_rng(0))
    assert not too_few
    assert values.chosen == family
    assert values.margin > 10
    assert values.weights()[family] > 0.99
    if family == "gamma":
        assert values.params["gamma"]["shape"].covers(3.0)
        assert values.params["gamma"]["scale"].covers(8_000.0)
    else:
        assert values.params["lognormal"]["median"].covers(25_000.0)
        assert values.params["lognormal"]["sigma"].covers(0.6)


def test_speed_to_lead_shares_and_response_curve():
    curve = (1.0, 0.5, 0.3, 0.1)
    truth = Truth(rates={"paid_search": 600.0}, p_mql=0.5, p_sql=0.6, curve=curve, response_mean_hours=6.0)
    res = estimate(draw(truth, 2), stages=STAGES, bootstrap=200, seed=0).responses
    cdf = stats.expon(scale=truth.response_mean_hours).cdf
    shares = {
        "within_1h": truth.tried * cdf(1),
        "1_24h": truth.tried * (cdf(24) - cdf(1)),
        "over_24h": truth.tried * (1 - cdf(24)),
        "never": 1 - truth.tried,
    }
    for name, share in shares.items():
        assert res.shares[name].covers(share), (name, res.shares[name], share)
    hours = [h for h, _ in res.curve]
    assert hours[0] == 0 and 1 < hours[1] < 2 < hours[2] < 24 < hours[3]
    for (_, e), rel in zip(res.curve[1:], curve[1:], strict=True):
        assert e.covers(rel), (e, rel)
    assert res.first_hour_rate.covers(truth.p_sql * curve[0])


def test_partial_weeks_are_left_out_of_the_rate():
    wed = pd.Timestamp("2025-01-08 09:00")
    start, weeks = full_weeks(wed, pd.Timestamp("2025-03-04 12:00"), 8, 5)  # a Wednesday to a Tuesday
    assert start == pd.Timestamp("2025-01-13") and weeks == 7
    truth = Truth(weeks=30, rates={"paid_search": 200.0})
    crm = draw(truth, 4, tables=())
    keep = crm.leads["created"] >= pd.Timestamp("2025-01-08 13:00")  # the export starts mid-week
    crm.leads = crm.leads[keep].reset_index(drop=True)
    crm.as_of = crm.as_of - pd.Timedelta(days=4, hours=20)  # and ends mid-week
    crm.leads = crm.leads[crm.leads["created"] <= crm.as_of]
    arrivals = estimate(crm, stages=STAGES, bootstrap=20).arrivals["paid_search"]
    assert arrivals.weeks == truth.weeks - 2
    assert arrivals.leads_per_week.covers(200.0)


def test_a_growing_channel_shows_a_trend():
    crm = draw(Truth(weeks=52, rates={"paid_search": 100.0}), 6, tables=())
    created = crm.leads["created"]
    # thin the early weeks: arrivals grow linearly from half the rate to the full rate
    age = ((created - created.min()) / (crm.as_of - created.min())).to_numpy()
    crm.leads = crm.leads[np.random.default_rng(0).random(len(age)) < 0.5 + 0.5 * age]
    growing = estimate(crm, stages=STAGES, bootstrap=20).arrivals["paid_search"].tests["trend"]
    assert growing.detected and growing.statistic > 0 and growing.p_value < 0.01


def test_too_few_says_what_is_missing():
    crm = draw(Truth(), 1, tables=())
    crm.leads["first_contact"] = pd.NaT
    est = estimate(crm, stages=STAGES, bootstrap=20)
    said = " | ".join(est.too_few)
    assert "no activities table: selling capacity per rep kept at the default" in said
    assert "no stage history" in said
    assert "response" in said and est.responses is None
    assert "lead owners" in said
    assert not any(s in est.conversions for s in ("discovery->proposal", "negotiation->won"))
    assert "opportunity->won" in est.conversions  # still known from the opportunities
    assert "activities_per_rep_week" not in est.team
    assert "yearly seasonality not tested" in said


def test_overrides_load_into_the_baseline(big):
    _, est = big
    scenario = load_scenario(BASELINE)
    overrides = est.overrides(scenario)
    assert "marketing.channels[0].leads_per_week" in overrides  # paid_search is the baseline's first channel
    assert "sales.stages[1].buyer_delay_days" in overrides
    assert all(comment and "\n" not in comment for _, comment in overrides.values())
    loaded = load_scenario(BASELINE, set_arguments(overrides))
    lo = est.deal_values.params["lognormal"]
    assert loaded.sales.deal_value.dist == "lognormal"
    assert loaded.sales.deal_value.median == pytest.approx(lo["median"].value, rel=1e-3)
    assert loaded.marketing.channels[0].leads_per_week == pytest.approx(
        est.arrivals["paid_search"].leads_per_week.value, rel=1e-3
    )
    tri = loaded.sales.stages[2].buyer_delay_days
    assert (tri.low, tri.mode, tri.high) == pytest.approx(est.delays["proposal"].triangular, rel=1e-2)
    assert loaded.sales.stages[0].conversion == pytest.approx(est.responses.first_hour_rate.value, rel=1e-3)
    assert loaded.marketing.channels[2].leads_per_week == scenario.marketing.channels[2].leads_per_week


def test_json_safe_and_reproducible_for_a_seed():
    crm = draw(Truth(), 8)
    a = json.dumps(estimate(crm, stages=STAGES, bootstrap=50, seed=1).to_dict(), allow_nan=False)
    b = json.dumps(estimate(crm, stages=STAGES, bootstrap=50, seed=1).to_dict(), allow_nan=False)
    c = json.dumps(estimate(crm, stages=STAGES, bootstrap=50, seed=2).to_dict(), allow_nan=False)
    assert a == b
    assert a != c


@pytest.mark.slow
def test_intervals_cover_the_truth_at_about_the_nominal_rate(monkeypatch):
    monkeypatch.setattr(funnel, "TRIANGULAR_REPLICATES", 0)  # delays are not checked here; their refits are slow
    truth = Truth(rates={"paid_search": 300.0, "content": 150.0})  # ~1,400 deals, ~60 at each stage's end
    truths = transitions(truth) | {"paid_search": truth.rates["paid_search"]}
    hits = {name: 0 for name in truths}
    seeds = 100
    for seed in range(seeds):
        est = estimate(draw(truth, 1000 + seed), stages=STAGES, bootstrap=200, seed=seed)
        found = est.conversions | {"paid_search": est.arrivals["paid_search"].leads_per_week}
        for name, value in truths.items():
            hits[name] += found[name].covers(value)
    coverage = {name: h / seeds for name, h in hits.items()}
    assert all(0.88 <= c <= 0.99 for c in coverage.values()), coverage


@pytest.mark.slow
def test_a_year_of_50000_leads_takes_well_under_a_minute():
    crm = draw(Truth(weeks=52, rates={"paid_search": 480.0, "content": 290.0, "events": 192.0}), 3)
    assert len(crm.leads) > 49_000
    start = time.perf_counter()
    estimate(crm, stages=STAGES, bootstrap=200, seed=0)
    assert time.perf_counter() - start < 30


def test_a_weekday_pattern_is_detected_and_a_flat_one_is_not():
    crm = draw(Truth(weeks=26, rates={"paid_search": 300.0}), 9, tables=())
    flat = estimate(crm, stages=STAGES, bootstrap=0).arrivals["paid_search"].tests["weekday"]
    monday = crm.leads["created"].dt.day_of_week == 0
    keep = monday | (np.random.default_rng(1).random(len(crm.leads)) < 0.7)  # Mondays busier by 1/0.7
    crm.leads = crm.leads[keep]
    busy = estimate(crm, stages=STAGES, bootstrap=0).arrivals["paid_search"].tests["weekday"]
    assert not flat.detected
    assert busy.detected and busy.p_value < 1e-3


def test_calls_stand_in_for_first_contact_and_activities_for_the_roster():
    truth = Truth(rates={"paid_search": 300.0})
    crm = draw(truth, 3, tables=("activities", "stage_history"))
    with_times = estimate(crm, stages=STAGES, bootstrap=0)
    crm.leads["first_contact"] = pd.NaT  # the export has no first-contact column: the first call is it
    from_calls = estimate(crm, stages=STAGES, bootstrap=0)
    for name, share in with_times.responses.shares.items():
        assert from_calls.responses.shares[name].value == pytest.approx(share.value)
        assert from_calls.responses.shares[name].tables == ("leads", "activities")
    reps = from_calls.team["reps_per_week"]
    assert reps.tables == ("activities",)
    assert reps.value <= truth.reps and reps.high == truth.reps


def test_leads_not_yet_tried_are_not_counted_never_worked():
    """A two-week export with slow first tries: many leads are untried only because they are young."""
    truth = Truth(weeks=2, rates={"paid_search": 4000.0}, response_mean_hours=48.0)
    crm = draw(truth, 7, tables=())
    mql = crm.leads[crm.leads["mql_time"].notna()]
    naive = mql["first_contact"].isna().mean()
    never = estimate(crm, stages=STAGES, bootstrap=200, seed=0).responses.shares["never"]
    assert naive > 1 - truth.tried + 0.05  # counting the untried as never worked overstates it
    assert never.covers(1 - truth.tried)
