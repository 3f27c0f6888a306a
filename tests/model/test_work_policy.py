"""How reps choose their work (`sales.prioritisation: pipeline_first`): open deals before new
leads, later stages first; new leads by expected value now; under load the weakest let go; and
the free disposal that follows: more leads of the same quality never cost much revenue."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from funnelsim.model import agents
from funnelsim.model.desk import let_go_beyond
from funnelsim.model.model import FunnelModel
from funnelsim.model.routing import Priority, freshness_rate
from funnelsim.results.kpis import run_kpis
from funnelsim.results.records import LeadState
from funnelsim.scenario.loader import load_scenario

CONTACT = agents.CONTACT


def _scenario(*overrides: str, weeks: int = 8):
    return load_scenario(
        "scenarios/baseline.yaml",
        ["sales.prioritisation=pipeline_first", f"horizon_weeks={weeks}", *overrides],
    )


def _lead(step=CONTACT, score=0.7, value=25_000.0, entered=0.0, ready=0.0, attempts=0):
    return SimpleNamespace(step=step, score=score, value=value, entered=entered, ready=ready, attempts=attempts)


def _priority(freshness=0.5):
    return Priority("pipeline_first", [0.3, 0.5, 0.4, 0.4], 0.6, 1.5, freshness=freshness)


def test_open_deals_rank_before_new_leads_and_later_stages_first():
    p = _priority()
    fresh_big = p.key(_lead(value=1e7, score=1.0, entered=10_000.0))
    assert p.key(_lead(value=1e7)) == p.key(_lead(value=1.0))  # a new lead's size is not known yet
    discovery = p.key(_lead(step=1, value=1.0, score=0.01))
    negotiation = p.key(_lead(step=3, value=1.0, score=0.01))
    assert negotiation < discovery < fresh_big
    # within a stage, the larger expected deal first
    assert p.key(_lead(step=2, value=50_000.0)) < p.key(_lead(step=2, value=10_000.0))


def test_new_leads_ranked_by_expected_value_now_whatever_the_hour():
    """The key is fixed when a lead is queued, yet orders leads by their worth at any later time:
    win chance at their score x exp(-freshness x hours waited), the same order at every `now`. A
    new lead's deal size is unknown before anyone talks to it, so it does not count."""
    p = _priority(freshness=0.4)
    rng = np.random.default_rng(3)
    leads = [
        _lead(score=s, value=v, entered=e)
        for s, v, e in zip(rng.uniform(0.3, 1, 40), rng.lognormal(10, 0.6, 40), rng.uniform(0, 40, 40), strict=True)
    ]
    by_key = sorted(range(40), key=lambda i: p.key(leads[i]))
    for now in (40.0, 100.0, 1000.0):
        worth = [p.remaining[0] * (lead.score / 0.6) ** 1.5 * math.exp(-0.4 * (now - lead.entered)) for lead in leads]
        assert by_key == sorted(range(40), key=lambda i: -worth[i])


def test_freshness_is_the_response_curves_fall_over_a_day():
    """HBR 2011: a lead tried after 24 h is worth 1/60 of one tried at once; over 8 working hours."""
    model = FunnelModel(_scenario(weeks=1), rng=1)
    assert freshness_rate(model.lead_worth, 8.0) == pytest.approx(math.log(60) / 8, rel=1e-4)
    flat = FunnelModel(_scenario("sales.response_curve={preset: none}", weeks=1), rng=1)
    assert freshness_rate(flat.lead_worth, 8.0) == 0.0


def test_let_go_keeps_open_deals_and_the_best_new_leads():
    p = _priority()
    leads = [_lead(score=x, entered=0.0) for x in (0.5, 0.9, 0.6, 0.8, 0.3)] + [_lead(step=2, score=0.1)]
    heap = sorted((p.key(lead), i, lead) for i, lead in enumerate(leads))
    dropped = let_go_beyond(heap, 2)
    assert {d.score for d in dropped} == {0.5, 0.6, 0.3}
    assert {e[2].score for e in heap} == {0.9, 0.8, 0.1}
    assert let_go_beyond(heap, 2) == []


def _watch_work(monkeypatch) -> list[tuple[int, list[int]]]:
    """Every task a rep takes, with the steps of the work left waiting in its queue."""
    taken: list[tuple[int, list[int]]] = []
    original = agents.Rep.next_task

    def next_task(self, now):
        lead = original(self, now)
        if lead is not None:
            taken.append((lead.step, [entry[2].step for entry in self.queue]))
        return lead

    monkeypatch.setattr(agents.Rep, "next_task", next_task)
    return taken


def test_overloaded_reps_work_open_deals_before_first_contacts(monkeypatch):
    """10 reps for the baseline's leads: queues are never empty, and the rep never takes a contact
    attempt while a deal waits, nor an earlier stage while a later one waits."""
    taken = _watch_work(monkeypatch)
    model = FunnelModel(_scenario("sales.teams[0].reps=10"), rng=2).run()
    contacts_over_deals = sum(1 for step, waiting in taken if step == CONTACT and any(s > 0 for s in waiting))
    earlier_over_later = sum(1 for step, waiting in taken if step > 0 and any(s > step for s in waiting))
    deals_taken = sum(1 for step, _ in taken if step > 0)
    busy = sum(1 for _, waiting in taken if waiting)
    assert deals_taken > 150 and busy > 0.5 * len(taken)  # the case is a real test: loaded, with deals
    assert contacts_over_deals == 0
    assert earlier_over_later == 0
    assert run_kpis(model)["rep_utilization"] > 0.95


def test_fifo_does_take_new_leads_while_deals_wait(monkeypatch):
    """The same team under fifo: the order above is the policy's doing, not the scenario's."""
    taken = _watch_work(monkeypatch)
    FunnelModel(_scenario("sales.teams[0].reps=10", "sales.prioritisation=fifo"), rng=2).run()
    assert sum(1 for step, waiting in taken if step == CONTACT and any(s > 0 for s in waiting)) > 100


def test_leads_let_go_under_load_are_counted_and_never_worked():
    model = FunnelModel(_scenario("sales.teams[0].reps=10"), rng=2).run()
    kpis = run_kpis(model)
    book = model.book.frame()
    let_go = book[book["state"] == "let_go"]
    assert kpis["leads_let_go"] == len(let_go) > 300
    # new leads, or leads tried and not yet reached: never an open deal
    assert (let_go["stage"] == -1).all()
    untouched = int((let_go["first_attempt"] < 0).sum())
    assert untouched > 0.5 * len(let_go)
    assert kpis["leads_never_worked"] >= untouched
    # each rep keeps at most what it can call in let_go_after_days: nobody's queue runs away
    assert max(len(r.queue) for r in model.reps) < 200


def test_leads_let_go_are_the_weaker_ones():
    """Sabnis et al. 2013: under load the weakest leads are the ones left. Among the leads that
    reached sales on the same days, the ones let go score lower than the ones worked."""
    model = FunnelModel(_scenario("sales.teams[0].reps=10"), rng=2).run()
    book = model.book.frame()
    in_sales = book[book["entered"] >= 0]
    let_go = in_sales["state"] == "let_go"
    worked = in_sales["first_attempt"] >= 0
    fit = in_sales["fit"]
    assert fit[let_go].mean() < fit[worked].mean()


def test_no_let_go_without_the_rule_or_without_load():
    keep_all = FunnelModel(_scenario("sales.teams[0].reps=10", "sales.let_go_after_days=null"), rng=2).run()
    assert run_kpis(keep_all)["leads_let_go"] == 0
    fifo = FunnelModel(_scenario("sales.teams[0].reps=10", "sales.prioritisation=fifo"), rng=2).run()
    assert run_kpis(fifo)["leads_let_go"] == 0
    enough = FunnelModel(_scenario("sales.teams[0].reps=80"), rng=2).run()
    assert run_kpis(enough)["leads_let_go"] == 0


def test_a_shared_pool_lets_go_too():
    model = FunnelModel(_scenario("sales.teams[0].reps=10", "sales.routing=pool"), rng=2).run()
    assert run_kpis(model)["leads_let_go"] > 300
    assert len(model.desk.pool) == 0  # closed at the horizon
    assert LeadState.LET_GO.name.lower() in set(model.book.frame()["state"].astype(str))


def _volume(policy: str, times: float, seed: int) -> dict:
    scenario = load_scenario(
        "scenarios/baseline.yaml", [f"sales.prioritisation={policy}", "marketing.budget_per_month=null"]
    )
    doc = scenario.model_dump()
    for channel in doc["marketing"]["channels"]:
        channel["leads_per_week"] *= times
    return run_kpis(FunnelModel(type(scenario).model_validate(doc), rng=seed).run())


@pytest.mark.slow
def test_free_disposal_more_leads_never_cost_revenue():
    """A team that can choose what to work cannot sell much less for being offered more of the same
    leads: under pipeline_first, 1.5x, 2x and 3x the baseline's leads (budget uncapped) give at
    least 97% of 1x's revenue, averaged over replications with common random numbers. fifo, which
    spends its hours on leads gone cold, collapses on the same runs."""
    seeds = range(4)
    revenue = {
        (policy, times): np.mean([_volume(policy, times, s)["revenue"] for s in seeds])
        for policy in ("pipeline_first", "fifo")
        for times in (1.0, 1.5, 2.0, 3.0)
    }
    for times in (1.5, 2.0, 3.0):
        assert revenue["pipeline_first", times] >= 0.97 * revenue["pipeline_first", 1.0], times
    assert revenue["fifo", 2.0] < 0.8 * revenue["fifo", 1.0]
