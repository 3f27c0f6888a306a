"""Routing (who gets a new lead) and prioritisation (which ready task comes first).

The routers are driven the way the model drives them: the caller changes `rep.open_leads` and
then tells the router with `moved(rep, rep.open_leads)`; a leaver is marked `active = False`.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelsim.model.routing import BestMatch, LeastLoaded, Priority, RoundRobin, make_router

_ids = itertools.count(1)


class FakeRep:
    """Only what the routers read."""

    def __init__(self, skill: float = 0.7, open_leads: int = 0, active: bool = True):
        self.unique_id = next(_ids)
        self.skill = skill
        self.open_leads = open_leads
        self.active = active

    def __repr__(self) -> str:
        return f"Rep({self.unique_id}, load={self.open_leads}, skill={self.skill}, active={self.active})"


class FakeLead:
    def __init__(self, score: float = 0.7, step: int = -1, attempts: int = 0, ready: float = 0.0):
        self.score = score
        self.step = step
        self.attempts = attempts
        self.ready = ready


def assign(router, rep: FakeRep, n: int = 1) -> None:
    rep.open_leads += n
    router.moved(rep, rep.open_leads)


def release(router, rep: FakeRep, n: int = 1) -> None:
    rep.open_leads -= n
    router.moved(rep, rep.open_leads)


def reps(n: int, **kw) -> list[FakeRep]:
    return [FakeRep(**kw) for _ in range(n)]


# -- least loaded -----------------------------------------------------------------------------------
def test_least_loaded_picks_the_rep_with_fewest_open_leads():
    team = reps(4)
    router = LeastLoaded(team)
    for rep, load in zip(team, (3, 1, 2, 5), strict=True):
        assign(router, rep, load)
    assert router.pick() is team[1]
    assign(router, team[1], 2)  # now 3
    assert router.pick() is team[2]
    release(router, team[3], 5)  # now 0
    assert router.pick() is team[3]


def test_least_loaded_reads_initial_loads():
    team = [FakeRep(open_leads=n) for n in (4, 2, 7)]
    assert LeastLoaded(team).pick() is team[1]


def test_least_loaded_ties_go_in_the_order_reps_reached_the_load():
    team = reps(3)
    router = LeastLoaded(team)
    assert router.pick() is team[0]  # all at 0: the order they joined
    assign(router, team[0])
    assert router.pick() is team[1]
    assign(router, team[1])
    assert router.pick() is team[2]
    assign(router, team[2])
    assert router.pick() is team[0]  # all at 1, reached in the order 0, 1, 2
    assign(router, team[1])  # 1 -> 2
    assign(router, team[0])  # 0 -> 2
    assign(router, team[2])  # 2 -> 2
    assert router.pick() is team[1]
    release(router, team[2])  # back to 1, alone there
    assert router.pick() is team[2]


def test_least_loaded_round_robins_when_every_lead_goes_to_the_pick():
    team = reps(5)
    router = LeastLoaded(team)
    picked = []
    for _ in range(15):
        rep = router.pick()
        picked.append(rep)
        assign(router, rep)
    assert picked == team * 3


def test_least_loaded_never_picks_an_inactive_rep():
    team = reps(3)
    router = LeastLoaded(team)
    team[0].active = False
    for _ in range(10):
        rep = router.pick()
        assert rep is not team[0]
        assign(router, rep)
    assign(router, team[0], 0)  # a move of a leaver does not bring it back
    release(router, team[1], team[1].open_leads)
    assert router.pick() is team[1]
    team[1].active = team[2].active = False
    assert router.pick() is None


def test_least_loaded_takes_reps_added_later():
    team = reps(2)
    router = LeastLoaded(team)
    assign(router, team[0], 2)
    assign(router, team[1], 1)
    hire = FakeRep()
    team.append(hire)
    router.add(hire)
    assert router.pick() is hire
    router.refresh()
    assert router.pick() is hire


def test_least_loaded_empty_team_picks_nobody():
    router = LeastLoaded([])
    assert router.pick() is None
    hire = FakeRep()
    router.add(hire)
    assert router.pick() is hire


def test_least_loaded_stays_correct_through_many_stale_entries():
    """Two reps bouncing between loads 0 and 1 leave far more stale entries than buckets hold."""
    team = reps(2)
    router = LeastLoaded(team)
    for i in range(500):
        rep = team[i % 2]
        assign(router, rep)
        assert router.pick() is team[(i + 1) % 2]
        release(router, rep)
        assert router.pick().open_leads == 0
        assert max(len(b) for b in router.buckets) <= 8 * router.size


# Operations on a team of a few reps: (kind, which rep, amount).
operations = st.lists(
    st.tuples(st.sampled_from(["pick", "assign", "release", "leave", "hire"]), st.integers(0, 99), st.integers(1, 3)),
    max_size=300,
)


@settings(max_examples=200, deadline=None)
@given(start=st.lists(st.integers(0, 4), min_size=0, max_size=6), ops=operations)
def test_least_loaded_matches_a_brute_force_minimum(start, ops):
    team = [FakeRep(open_leads=n) for n in start]
    router = LeastLoaded(team)
    for kind, which, amount in ops:
        if kind == "hire":
            team.append(FakeRep(open_leads=which % 3))
            router.add(team[-1])
            continue
        if kind == "pick":  # the model's own pattern: the pick gets the lead
            rep = router.pick()
            if rep is not None:
                assign(router, rep)
        elif team:
            rep = team[which % len(team)]
            if kind == "assign":
                assign(router, rep, amount)
            elif kind == "release":
                release(router, rep, min(amount, rep.open_leads))
            else:
                rep.active = False
        active = [r for r in team if r.active]
        picked = router.pick()
        if not active:
            assert picked is None
        else:
            assert picked is not None and picked.active
            assert picked.open_leads == min(r.open_leads for r in active)


# -- round robin -------------------------------------------------------------------------------------
def test_round_robin_cycles_in_order():
    team = reps(3)
    router = RoundRobin(team)
    assert [router.pick() for _ in range(7)] == team * 2 + team[:1]


def test_round_robin_ignores_load():
    team = reps(2)
    router = RoundRobin(team)
    assign(router, team[0], 10)
    assert router.pick() is team[0]


def test_round_robin_skips_inactive_reps():
    team = reps(4)
    router = RoundRobin(team)
    assert router.pick() is team[0]
    team[1].active = False
    team[3].active = False
    assert [router.pick() for _ in range(4)] == [team[2], team[0], team[2], team[0]]
    team[0].active = team[2].active = False
    assert router.pick() is None


def test_round_robin_includes_hires():
    team = reps(2)
    router = RoundRobin(team)
    hire = FakeRep()
    router.add(hire)
    assert [router.pick() for _ in range(6)] == [team[0], team[1], hire] * 2


@settings(max_examples=100, deadline=None)
@given(actives=st.lists(st.booleans(), min_size=1, max_size=8), picks=st.integers(1, 40))
def test_round_robin_shares_leads_evenly_among_active_reps(actives, picks):
    team = [FakeRep(active=a) for a in actives]
    router = RoundRobin(team)
    got = [router.pick() for _ in range(picks)]
    live = [r for r in team if r.active]
    if not live:
        assert got == [None] * picks
        return
    assert got == [live[i % len(live)] for i in range(picks)]


# -- best match --------------------------------------------------------------------------------------
THRESHOLD = 0.6


def skill_team(n: int = 8) -> list[FakeRep]:
    """Skills 0.1 .. 0.8, created in a shuffled order so construction order is not skill order."""
    skills = [0.5, 0.1, 0.8, 0.3, 0.7, 0.2, 0.6, 0.4][:n]
    return [FakeRep(skill=s) for s in skills]


def tier(rep: FakeRep, team: list[FakeRep], tiers: int = 4) -> int:
    ranked = sorted(team, key=lambda r: (r.skill, r.unique_id))
    return ranked.index(rep) * tiers // len(ranked)


def test_best_match_sends_top_scored_leads_to_the_top_skill_tier():
    team = skill_team()
    router = BestMatch(team, THRESHOLD)
    top = router.pick(FakeLead(score=0.99))
    assert top.skill in (0.7, 0.8)
    bottom = router.pick(FakeLead(score=THRESHOLD))
    assert bottom.skill in (0.1, 0.2)


@pytest.mark.parametrize(
    ("score", "skills"),
    [(0.6, {0.1, 0.2}), (0.65, {0.1, 0.2}), (0.72, {0.3, 0.4}), (0.82, {0.5, 0.6}), (0.95, {0.7, 0.8})],
)
def test_best_match_tier_follows_where_the_score_sits_above_the_threshold(score, skills):
    router = BestMatch(skill_team(), THRESHOLD)
    assert router.pick(FakeLead(score=score)).skill in skills


def test_best_match_clamps_scores_outside_the_range():
    router = BestMatch(skill_team(), THRESHOLD)
    assert router.pick(FakeLead(score=0.1)).skill in (0.1, 0.2)
    assert router.pick(FakeLead(score=1.5)).skill in (0.7, 0.8)


def test_best_match_is_least_loaded_within_a_tier():
    team = skill_team()
    router = BestMatch(team, THRESHOLD)
    lead = FakeLead(score=0.99)
    first = router.pick(lead)
    assign(router, first)
    second = router.pick(lead)
    assert second is not first and {first.skill, second.skill} == {0.7, 0.8}
    assign(router, second)
    assign(router, second)
    assert router.pick(lead) is first


def test_best_match_falls_back_to_the_neighbouring_tier():
    team = skill_team()
    router = BestMatch(team, THRESHOLD)
    for rep in team:
        if rep.skill >= 0.7:
            rep.active = False
    assert router.pick(FakeLead(score=0.99)).skill in (0.5, 0.6)
    for rep in team:
        if rep.skill >= 0.5:
            rep.active = False
    assert router.pick(FakeLead(score=0.99)).skill in (0.3, 0.4)


def test_best_match_middle_tier_falls_back_to_an_adjacent_tier():
    team = skill_team()
    router = BestMatch(team, THRESHOLD)
    for rep in team:
        if rep.skill in (0.3, 0.4):
            rep.active = False
    picked = router.pick(FakeLead(score=0.72))  # wants tier 1
    assert tier(picked, team) in (0, 2)


@settings(max_examples=150, deadline=None)
@given(
    actives=st.lists(st.booleans(), min_size=8, max_size=8),
    score=st.floats(0.0, 1.0),
)
def test_best_match_picks_from_the_nearest_tier_with_an_active_rep(actives, score):
    team = skill_team()
    router = BestMatch(team, THRESHOLD)
    want = tier(router.pick(FakeLead(score=score)), team)  # all active: the wanted tier
    for rep, active in zip(team, actives, strict=True):
        rep.active = active
    picked = router.pick(FakeLead(score=score))
    live_tiers = {tier(r, team) for r in team if r.active}
    if not live_tiers:
        assert picked is None
        return
    assert picked.active
    assert abs(tier(picked, team) - want) == min(abs(t - want) for t in live_tiers)


def test_best_match_reranks_after_hires():
    team = skill_team(3)  # with the hire, four reps: one a tier
    router = BestMatch(team, THRESHOLD)
    assert router.pick(FakeLead(score=0.99)).skill == 0.8
    star = FakeRep(skill=0.95)
    router.add(star)
    assert router.pick(FakeLead(score=0.99)) is star


def test_best_match_refresh_follows_skill_changes_and_drops_leavers():
    team = skill_team(4)  # 0.5, 0.1, 0.8, 0.3
    router = BestMatch(team, THRESHOLD)
    team[1].skill = 0.9
    team[2].active = False
    router.refresh()
    assert router.pick(FakeLead(score=0.99)) is team[1]
    assert team[2] not in router.reps


def test_best_match_with_fewer_reps_than_tiers():
    team = [FakeRep(skill=0.4), FakeRep(skill=0.9)]
    router = BestMatch(team, THRESHOLD)
    assert router.pick(FakeLead(score=0.99)) is team[1]
    assert router.pick(FakeLead(score=0.6)) is team[0]


# -- make_router -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "cls"), [("least_loaded", LeastLoaded), ("round_robin", RoundRobin), ("best_match", BestMatch)]
)
def test_make_router_builds_the_named_router(name, cls):
    assert isinstance(make_router(name, reps(3), THRESHOLD), cls)


def test_make_router_best_match_uses_the_threshold():
    team = skill_team()
    router = make_router("best_match", team, 0.9)
    assert router.pick(FakeLead(score=0.8)).skill in (0.1, 0.2)  # below 0.9: bottom tier


def test_make_router_can_start_empty_and_grow():
    for name in ("least_loaded", "round_robin", "best_match"):
        router = make_router(name, [], THRESHOLD)
        hire = FakeRep()
        router.add(hire)
        assert router.pick(FakeLead()) is hire


# -- prioritisation ----------------------------------------------------------------------------------
CONVERSIONS = [0.55, 0.45, 0.35, 0.4]


def order(priority: Priority, leads: list[FakeLead]) -> list[FakeLead]:
    """Smaller key is sooner; ties keep arrival order (sorted is stable)."""
    return sorted(leads, key=priority.key)


def test_fifo_takes_the_oldest_ready_task_first():
    p = Priority("fifo", CONVERSIONS, 0.5, 1.0)
    leads = [FakeLead(ready=t, step=s) for t, s in ((5.0, 1), (1.0, -1), (3.0, 2))]
    assert order(p, leads) == [leads[1], leads[2], leads[0]]


def test_newest_first_takes_the_latest_ready_task_first():
    p = Priority("newest_first", CONVERSIONS, 0.5, 1.0)
    leads = [FakeLead(ready=t) for t in (5.0, 1.0, 3.0)]
    assert order(p, leads) == [leads[0], leads[2], leads[1]]


def test_highest_value_prefers_better_fit_at_the_same_stage():
    p = Priority("highest_value", CONVERSIONS, 0.5, 1.0)
    leads = [FakeLead(score=s, step=0, ready=i) for i, s in enumerate((0.4, 0.9, 0.6))]
    assert order(p, leads) == [leads[1], leads[2], leads[0]]


def test_highest_value_prefers_leads_nearer_the_close_at_the_same_fit():
    p = Priority("highest_value", CONVERSIONS, 0.5, 1.0)
    leads = [FakeLead(score=0.7, step=s, ready=i) for i, s in enumerate((-1, 3, 1, 0, 2))]
    steps = [lead.step for lead in order(p, leads)]
    assert steps == [3, 2, 1, -1, 0] or steps == [3, 2, 1, 0, -1]  # contact and stage 0 are worth the same
    assert p.key(leads[0]) == p.key(FakeLead(score=0.7, step=0))


def test_highest_value_is_the_expected_win_probability():
    p = Priority("highest_value", CONVERSIONS, 0.5, 2.0)
    lead = FakeLead(score=0.6, step=2)
    expected = CONVERSIONS[2] * CONVERSIONS[3] * (0.6 / 0.5) ** 2.0
    assert p.key(lead) == pytest.approx(-expected)
    flat = Priority("highest_value", CONVERSIONS, 0.5, 0.0)
    assert flat.key(FakeLead(score=0.9, step=1)) == flat.key(FakeLead(score=0.2, step=1))


def test_ties_are_left_to_the_caller():
    """Equal keys are equal: the model breaks ties by arrival sequence number."""
    for rule in ("fifo", "newest_first", "highest_value"):
        p = Priority(rule, CONVERSIONS, 0.5, 1.0)
        assert p.key(FakeLead(ready=2.0, score=0.7, step=1)) == p.key(FakeLead(ready=2.0, score=0.7, step=1))


@pytest.mark.parametrize("rule", ["fifo", "newest_first", "highest_value"])
def test_sla_puts_untouched_leads_first(rule):
    p = Priority(rule, CONVERSIONS, 0.5, 1.0, sla=True)
    touched = [
        FakeLead(step=-1, attempts=2, ready=0.0, score=0.99),  # tried, not reached yet
        FakeLead(step=3, attempts=1, ready=0.5, score=0.99),
        FakeLead(step=0, attempts=1, ready=9.0, score=0.99),
    ]
    untouched = [FakeLead(step=-1, attempts=0, ready=t, score=0.3) for t in (8.0, 2.0, 5.0)]
    got = order(p, touched + untouched)
    assert got[:3] == [untouched[1], untouched[2], untouched[0]]  # among themselves, oldest first
    assert set(map(id, got[3:])) == set(map(id, touched))
    assert got[3:] == order(Priority(rule, CONVERSIONS, 0.5, 1.0), touched)


def test_without_sla_untouched_leads_get_no_precedence():
    p = Priority("fifo", CONVERSIONS, 0.5, 1.0)
    fresh, old = FakeLead(step=-1, attempts=0, ready=5.0), FakeLead(step=2, attempts=1, ready=1.0)
    assert order(p, [fresh, old]) == [old, fresh]
