"""People dynamics: ramp-up, mentoring, training, attrition, hiring, trust, scruples, alignment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from funnelsim.model.agents import Lead
from funnelsim.model.model import FunnelModel
from funnelsim.results.kpis import cohort_weekly, rep_weekly, run_kpis
from funnelsim.results.records import LeadState
from tests.helpers import baseline, merge, queue_scenario


def ramp_scenario(ramp: dict, weeks: float = 65):
    """Unlimited capacity (tasks take no time), one stage, every rep hired on day 0."""
    s = queue_scenario(20, 12.0, 1.0, weeks=weeks, stages=[{"name": "close", "conversion": 0.5, "hours": 0.0}])
    doc = s.model_dump(by_alias=True)
    doc["sales"]["teams"][0].update(tenure_months_at_start=0.0, ramp=ramp)
    return type(s).model_validate(doc)


def test_quarterly_ramp_productivity_follows_the_table():
    table = [0.0, 0.25, 0.5, 1.0]
    model = FunnelModel(ramp_scenario({"quarterly": table}), rng=1).run()
    book = model.book.arrays()
    tenure_months = book["entered"] / model.calendar.hours_per_day / model.days_per_month
    quarter = np.minimum((tenure_months // 3).astype(int), 4)
    won = book["state"] == LeadState.WON
    for q, share in enumerate([*table, 1.0]):
        sel = quarter == q
        n, p = sel.sum(), 0.5 * share
        assert n > 1000
        assert abs(won[sel].sum() - n * p) <= 4 * math.sqrt(n * p * (1 - p)) + 1e-9, (q, won[sel].mean(), p)


def test_smooth_ramp_skill_follows_the_curve():
    model = FunnelModel(ramp_scenario({"time_constant_months": 2.0}, weeks=30), rng=2).run()
    weekly = rep_weekly(model)
    # skill is updated at each week's start, the row written at its end (5 days = 12/52 month later)
    start = 0.7 * (1 - np.exp(-(weekly["ramp_tenure_months"] - 12 / 52) / 2.0))
    assert np.allclose(weekly["skill"], start, atol=1e-9)
    assert weekly.groupby("week")["skill"].mean().is_monotonic_increasing


def growth(mentoring: bool, **people):
    doc = {
        "horizon_weeks": 30,
        "sales": {"teams": [{"name": "ae", "reps": 10}]},
        "people": merge(
            {
                "attrition": {"annual_rate": 0.0},
                "hiring": {"cohorts": [{"week": 4, "reps": 2}]},
                "mentoring": {"enabled": mentoring, "hours_per_week": 4, "duration_weeks": 12, "ramp_speedup": 1.0},
            },
            people,
        ),
    }
    return FunnelModel(baseline(**doc), rng=3).run()


def test_mentoring_speeds_the_ramp_and_costs_the_mentor_exactly_its_hours():
    alone, mentored = growth(False), growth(True)
    hires_alone = [r for r in alone.roster if r.cohort == 4]
    hires_mentored = [r for r in mentored.roster if r.cohort == 4]
    assert len(hires_mentored) == 2
    assert all(m.skill > a.skill for m, a in zip(hires_mentored, hires_alone, strict=True))
    # each mentor gave up exactly 4 hours a week for the 12 weeks of mentoring
    veterans = {r.unique_id: r for r in alone.roster if r.cohort == -1}
    mentors = [r for r in mentored.roster if r.cohort == -1 and r.mentoring_hours > 0]
    assert len(mentors) == 2
    for mentor in mentors:
        assert mentor.mentoring_hours == pytest.approx(4 * 12)
        before = veterans[mentor.unique_id].hours_available
        assert before - mentor.hours_available == pytest.approx(4 * 12)
    assert run_kpis(mentored)["mentoring_hours"] == pytest.approx(2 * 4 * 12)
    cohorts = cohort_weekly(rep_weekly(mentored))
    last = cohorts[cohorts["week"] == cohorts["week"].max()].set_index("cohort")
    assert last.loc[4, "reps"] == 2 and last.loc[-1, "reps"] == 10
    assert last.loc[-1, "mentoring_hours"] == pytest.approx(2 * 4 * 12)
    assert run_kpis(alone)["mentoring_hours"] == 0


def test_bootcamp_hires_do_not_sell_until_it_ends():
    doc = {
        "horizon_weeks": 12,
        "sales": {"teams": [{"name": "ae", "reps": 5, "bootcamp": {"weeks": 3, "cost_per_hire": 4000}}]},
        "people": {"attrition": {"annual_rate": 0.0}, "hiring": {"cohorts": [{"week": 2, "reps": 3}]}},
    }
    model = FunnelModel(baseline(**doc), rng=4).run()
    weekly = rep_weekly(model)
    hires = weekly[weekly["cohort"] == 2]
    assert (hires[hires["week"] <= 5]["hours_available"] == 0).all()
    assert (hires[hires["week"] == 6]["hours_available"] > 0).all()
    assert run_kpis(model)["training_cost"] == pytest.approx(3 * 4000)


def test_training_takes_selling_hours_and_raises_skill_with_diminishing_returns():
    def run(hours):
        team = {
            "name": "ae",
            "reps": 8,
            "training": {"hours_per_week": hours, "cost_per_hour": 50, "max_skill_gain": 0.2, "half_gain_hours": 20},
        }
        doc = {"horizon_weeks": 20, "sales": {"teams": [team]}, "people": {"attrition": {"annual_rate": 0.0}}}
        return FunnelModel(baseline(**doc), rng=5).run()

    none, some, lots = run(0), run(2), run(8)
    gain = [np.mean([r.skill - r.potential for r in m.roster]) for m in (none, some, lots)]
    assert gain[0] == pytest.approx(0, abs=1e-6)
    assert 0 < gain[1] < gain[2] <= 0.2
    assert gain[2] - gain[1] < gain[1]  # four times the hours, less than twice the gain
    for model, hours in ((some, 2), (lots, 8)):
        weeks = model.days_total / 5
        lost = sum(r.hours_available for r in none.roster) - sum(r.hours_available for r in model.roster)
        assert lost == pytest.approx(8 * hours * weeks)
        assert run_kpis(model)["training_cost"] == pytest.approx(8 * hours * weeks * 50)


def attrition_model(rate: float, weeks: float, open_leads: str = "reassign", seed: int = 6):
    doc = {
        "horizon_weeks": weeks,
        "sales": {"teams": [{"name": "ae", "reps": 30}]},
        "marketing": {"channels": [{"name": "web", "leads_per_week": 150, "fit": {"dist": "beta", "a": 3, "b": 2}}]},
        "people": {"attrition": {"annual_rate": rate, "first_year_multiplier": 1.5, "open_leads": open_leads}},
    }
    return FunnelModel(baseline(**doc), rng=seed).run()


def test_attrition_matches_the_hazard_within_binomial_error():
    model = attrition_model(0.3, 156)
    people = model.people
    # 30 reps for three years at 30%/year (more in a leaver's replacement's first year)
    assert people.expected_leavers == pytest.approx(30 * 3 * 0.3, rel=0.35)
    sd = math.sqrt(people.expected_leavers)
    assert abs(people.leavers - people.expected_leavers) < 4 * sd
    assert people.hires >= people.leavers - 3  # backfilled, a month later


@pytest.mark.parametrize("mode", ["reassign", "lose"])
def test_no_lead_is_lost_silently_when_its_rep_leaves(mode):
    model = attrition_model(0.9, 30, open_leads=mode, seed=8)
    book = model.book.arrays()
    assert model.people.leavers > 5
    assert len(book["state"]) == model.leads_created
    assert len(model.agents_by_type.get(Lead, [])) == 0
    left = np.count_nonzero(book["state"] == LeadState.REP_LEFT)
    assert (left > 0) == (mode == "lose")
    if mode == "reassign":
        assert model.handovers > 20
        handed = np.count_nonzero(np.isin(book["rep"], [r.unique_id for r in model.roster if r.cohort >= 0]))
        assert handed > 0  # replacements finished leads


def test_hiring_rule_hires_when_pipeline_per_rep_is_high_within_budget():
    doc = {
        "horizon_weeks": 26,
        "sales": {"teams": [{"name": "ae", "reps": 8}]},
        "people": {
            "attrition": {"annual_rate": 0.0},
            "hiring": {
                "rule": {
                    "open_leads_per_rep_above": 10,
                    "max_headcount": 14,
                    "check_every_weeks": 2,
                    "hires_per_check": 2,
                },
                "time_to_hire_weeks": 2,
            },
        },
    }
    model = FunnelModel(baseline(**doc), rng=9).run()
    assert model.people.hires == 6
    assert len(model.reps) == 14


def test_low_trust_opens_a_black_hole_that_an_sla_closes():
    people = {
        "attrition": {"annual_rate": 0.0},
        "trust": {"enabled": True, "initial": 0.5, "reference_qualify_rate": 0.9, "floor": 0.1},
    }
    doc = {"horizon_weeks": 20, "people": people}
    distrust = run_kpis(FunnelModel(baseline(**doc), rng=10).run())
    assert distrust["leads_ignored"] > 0.3 * distrust["sales_leads"]
    assert distrust["trust_end"] < 0.8
    sla = run_kpis(FunnelModel(baseline(**merge(doc, {"people": {"sla_hours": 4}})), rng=10).run())
    assert sla["leads_ignored"] == 0
    assert sla["leads_worked"] > distrust["leads_worked"]


def test_scruples_close_more_now_and_pay_back_later():
    def run(share):
        people = {
            "attrition": {"annual_rate": 0.0},
            "referrals": {"probability_per_deal": 0.3},
            "scruples": {
                "share_of_reps": share,
                "close_boost": 0.3,
                "refund_probability": 0.5,
                "refund_within_weeks": 8,
                "referral_loss": 1.0,
            },
        }
        return run_kpis(FunnelModel(baseline(horizon_weeks=40, people=people), rng=11).run())

    honest, bent = run(0.0), run(1.0)
    assert honest["refunds"] == 0 and bent["refunds"] > 0
    assert bent["revenue_net_of_refunds"] == pytest.approx(bent["revenue"] - bent["refunds"])
    assert honest["referral_leads"] > 0 and bent["referral_leads"] == 0
    assert bent["deals_won"] > honest["deals_won"] - honest["referral_leads"] * 0.1


def test_alignment_feedback_moves_targeting_and_no_meetings_learn_nothing():
    silent = FunnelModel(baseline(horizon_weeks=26, alignment={"level": 0.0}), rng=12).run()
    talking = FunnelModel(baseline(horizon_weeks=26, alignment={"level": 0.9}), rng=12).run()
    assert silent.alignment.fit_gain == 0
    assert 0 < talking.alignment.fit_gain <= 0.3
    book = talking.book.arrays()
    early = book["fit"][book["created"] < 4 * 40].mean()
    late = book["fit"][book["created"] > 20 * 40].mean()
    assert late > early + 0.05
    trained = FunnelModel(
        baseline(horizon_weeks=26, alignment={"level": 0.2, "joint_training": {"every_weeks": 4}}), rng=12
    ).run()
    assert trained.alignment.level > 0.2 and trained.alignment.score_noise_sd < 0.1
    assert run_kpis(trained)["training_cost"] > 0
