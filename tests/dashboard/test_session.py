"""The dashboard's plain-Python half: levers, the stepped workshop, snapshots and figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from funnelsim.dashboard.figures import FIGURES, render, response_shares
from funnelsim.dashboard.levers import LEVERS, apply_levers, lever_max, read_levers
from funnelsim.dashboard.session import B_ONLY, BOTH, LeverError, Session, Workshop
from funnelsim.model.agents import Lead
from funnelsim.results.kpis import funnel, response_hours
from funnelsim.scenario.loader import load_variants
from tests.helpers import baseline

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def short(weeks: float = 6, **over):
    return baseline(horizon_weeks=weeks, **over)


@pytest.fixture(scope="module")
def strategies():
    return load_variants(SCENARIOS / "lead_strategy.yaml", ["horizon_weeks=6"])


# -- levers -------------------------------------------------------------------------------------
def test_read_levers_of_the_baseline_file():
    scenario = load_variants(SCENARIOS / "baseline.yaml")["baseline"]
    levers = read_levers(scenario)
    assert levers["leads_per_week"] == 500
    assert levers["reps"] == 40
    assert levers["selling_share"] == pytest.approx(0.32)
    assert levers["mql_threshold"] == pytest.approx(0.6)
    assert levers["mentoring"] is False
    assert levers["cohort_reps"] == 0
    assert levers["routing"] == "least_loaded"
    assert set(levers) == {lever.key for lever in LEVERS}


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("leads_per_week", 800.0, lambda s: sum(c.leads_per_week for c in s.marketing.channels)),
        ("targeting", 0.5, lambda s: {c.targeting for c in s.marketing.channels}),
        ("mql_threshold", 0.4, lambda s: s.marketing.mql_threshold),
        ("reps", 33, lambda s: sum(t.reps for t in s.sales.teams)),
        ("selling_share", 0.5, lambda s: s.sales.teams[0].selling_share),
        ("training_hours", 2.0, lambda s: s.sales.teams[0].training.hours_per_week),
        ("mentoring", True, lambda s: s.people.mentoring.enabled),
        ("cohort_reps", 10, lambda s: [(c.week, c.reps) for c in s.people.hiring.cohorts]),
        ("routing", "pool", lambda s: s.sales.routing),
        ("prioritisation", "newest_first", lambda s: s.sales.prioritisation),
        ("alignment", 0.6, lambda s: s.alignment.level),
    ],
)
def test_each_lever_sets_its_field(key, value, field):
    scenario = short(52)
    moved = apply_levers(scenario, {key: value})
    expected = {"targeting": {0.5}, "cohort_reps": [(12.0, 10)]}.get(key, value)
    assert field(moved) == (pytest.approx(expected) if isinstance(expected, float) else expected)
    assert field(scenario) != field(moved)
    assert read_levers(moved)[key] == (pytest.approx(value) if isinstance(value, float) else value)


def test_growth_spurt_lever_edits_the_first_cohort_and_zero_removes_it():
    scenario = load_variants(SCENARIOS / "growth_spurt.yaml")["mentoring"]
    assert read_levers(scenario)["cohort_reps"] == 10
    later = apply_levers(scenario, {"cohort_week": 20, "cohort_reps": 4})
    assert [(c.week, c.reps) for c in later.people.hiring.cohorts] == [(20.0, 4)]
    assert apply_levers(scenario, {"cohort_reps": 0}).people.hiring.cohorts == []


def test_unknown_lever_is_an_error_and_none_leaves_alone():
    scenario = short()
    with pytest.raises(KeyError, match="no_such"):
        apply_levers(scenario, {"no_such": 1})
    assert apply_levers(scenario, {"reps": None}) is scenario


def test_slider_tops_leave_room_to_double():
    scenario = short(26, sales={"teams": [{"name": "ae", "reps": 90}]})
    by_key = {lever.key: lever for lever in LEVERS}
    assert lever_max(by_key["reps"], scenario) == 180
    assert lever_max(by_key["cohort_week"], scenario) == 25
    assert lever_max(by_key["selling_share"], scenario) == by_key["selling_share"].max


# -- the workshop -------------------------------------------------------------------------------
def test_same_strategy_twice_gives_identical_runs():
    """Common random numbers: side by side, only the strategy differs, never the luck."""
    scenario = short()
    workshop = Workshop([("a", scenario), ("b", scenario)])
    workshop.step(12)
    a, b = workshop.snapshots()
    assert a.day == b.day == 12
    assert a.kpis == b.kpis
    np.testing.assert_array_equal(a.series["revenue"], b.series["revenue"])


def test_steps_stop_at_the_horizon():
    workshop = Workshop([("a", short(2))])
    assert workshop.step(4) == 4
    assert workshop.step(100) == 6
    assert not workshop.running
    assert workshop.day == workshop.days_total == 10
    assert workshop.step(1) == 0


def test_two_strategies_share_the_seed_and_differ(strategies):
    session = Session(strategies)
    session.configure(strategy_b="qualified_leads")
    runs = session.workshop.runs
    assert [r.name for r in runs] == ["more_leads", "qualified_leads"]
    assert runs[0].model.seed == runs[1].model.seed
    session.step(15)
    a, b = session.snapshots()
    assert a.kpis["leads_created"] > 2 * b.kpis["leads_created"]  # 70% of the audience excluded


def test_a_lever_change_replays_to_the_day_reached(strategies):
    session = Session(strategies)
    session.step(10)
    session.set_lever("reps", 40)
    assert session.workshop.day == 0 and session.target_day == 10
    assert session.catching_up
    while not session.catch_up(seconds=0.05):
        pass
    assert session.workshop.day == 10
    assert sum(t.reps for t in session.workshop.runs[0].model.config.sales.teams) == 40
    assert session.lever_values()["reps"] == 40
    assert "Sales reps 40 (file: 25)" in session.changes_text()
    session.set_lever("reps", 25)  # back to the file's value: forgotten
    assert session.setup.levers == {}


def test_levers_apply_to_both_or_to_b_only(strategies):
    session = Session(strategies)
    session.configure(strategy_b="qualified_leads", apply_to=BOTH)
    session.set_lever("reps", 30)
    assert [sum(t.reps for t in r.scenario.sales.teams) for r in session.workshop.runs] == [30, 30]
    session.configure(apply_to=B_ONLY)
    assert [sum(t.reps for t in r.scenario.sales.teams) for r in session.workshop.runs] == [25, 30]
    assert session.workshop.runs[1].name == "qualified_leads + changes"


def test_invalid_levers_leave_the_session_as_it_was():
    session = Session({"s": short()})
    before = session.workshop
    with pytest.raises(LeverError, match="selling_share"):
        session.set_lever("selling_share", 0.0)
    assert session.workshop is before and session.setup.levers == {}


def test_reset_goes_back_to_day_zero():
    session = Session({"s": short()})
    session.step(7)
    session.reset()
    assert session.workshop.day == 0 and not session.catching_up


# -- snapshots agree with the reports at the horizon ----------------------------------------------
def test_live_measures_match_the_reports_once_finished():
    workshop = Workshop([("a", short(8))])
    workshop.step(1000)
    snap = workshop.snapshots()[0]
    model = workshop.runs[0].model
    assert [v for _, v in snap.funnel] == funnel(model).tolist()
    np.testing.assert_allclose(np.sort(snap.response_hours), np.sort(response_hours(model)))
    assert snap.kpis["revenue"] == model.revenue


def test_live_funnel_counts_leads_still_in_progress():
    workshop = Workshop([("a", short(8))])
    workshop.step(15)
    model = workshop.runs[0].model
    snap = workshop.snapshots()[0]
    steps = dict(snap.funnel)
    finished_only = funnel(model)
    assert steps["Worked by a rep"] > finished_only["worked"]
    values = [v for _, v in snap.funnel]
    assert values == sorted(values, reverse=True)  # a funnel narrows


def test_leads_dropped_unworked_are_never_called_not_waiting():
    """The model's counter keeps leads that ended without a first call; the dashboard does not."""
    scenario = load_variants(SCENARIOS / "lead_black_hole.yaml", ["horizon_weeks=20"])["low_trust"]
    workshop = Workshop([("a", scenario)])
    workshop.step(60)
    model = workshop.runs[0].model
    live = sum(1 for lead in model.agents_by_type[Lead] if lead.entered >= 0 and lead.first_attempt < 0)
    snap = workshop.snapshots()[0]
    assert snap.waiting_first_touch == live == snap.series["waiting_first_touch"][-1]
    assert snap.never_worked > 100
    assert len(snap.series["waiting_first_touch"]) == len(snap.series["day"]) == 60


def test_response_shares_add_up_to_all_leads_sent_to_sales():
    workshop = Workshop([("a", short(4))])
    workshop.step(10)
    _, shares = response_shares(workshop.snapshots()[0])
    assert shares.sum() == pytest.approx(100)


def test_utilisation_is_recent_and_per_active_rep():
    workshop = Workshop([("a", short(10))])
    workshop.step(30)
    snap = workshop.snapshots()[0]
    assert len(snap.utilisation) == snap.kpis["headcount_end"]
    assert (np.diff(snap.utilisation) <= 0).all()
    assert 0 < snap.kpis["rep_utilization"] <= 1.2


def test_ramp_curves_by_cohort_for_a_growth_spurt():
    scenario = load_variants(SCENARIOS / "growth_spurt.yaml")["no_mentoring"]
    workshop = Workshop([("a", scenario)])
    workshop.step(5 * 40)
    ramp = workshop.snapshots()[0].ramp
    assert any(label.startswith("Hired week 12 (10 reps)") for label in ramp.curves)
    assert ramp.veterans > 0


# -- figures ------------------------------------------------------------------------------------
@pytest.mark.parametrize("days", [0, 25])
@pytest.mark.parametrize("pair", [False, True])
def test_every_figure_renders(days, pair):
    scenario = short(10, people={"hiring": {"cohorts": [{"week": 1, "reps": 6}]}})
    workshop = Workshop([("a", scenario), ("b", apply_levers(scenario, {"reps": 30}))] if pair else [("a", scenario)])
    workshop.step(days)
    snaps = workshop.snapshots()
    for spec in FIGURES:
        svg = render(spec, snaps)
        assert svg.startswith(b"<?xml") and b"<svg" in svg
    assert render(FIGURES[0], snaps, "png").startswith(b"\x89PNG")


def test_ramp_figure_says_why_it_is_empty_after_a_few_backfill_hires():
    """A year of the baseline brings a few backfill hires: too few rep-weeks a month for a curve,
    and the figure must not claim there are no new hires."""
    from funnelsim.dashboard.figures import ramp_placeholder
    from funnelsim.dashboard.snapshot import ramp_by_cohort
    from funnelsim.model.model import FunnelModel
    from funnelsim.scenario.loader import load_scenario

    model = FunnelModel(load_scenario(SCENARIOS / "baseline.yaml"), rng=3).run()
    ramp = ramp_by_cohort(model)
    assert model.people.hires >= 1 and ramp.hires == model.people.hires
    snap = type("S", (), {"ramp": ramp})()
    text = ramp_placeholder([snap]) if not ramp.curves else ""
    if not ramp.curves:
        assert f"{ramp.hires} new hire" in text and "No new hires" not in text
