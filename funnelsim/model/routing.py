"""Who gets a new lead (routing) and which task a rep takes next (prioritisation).

Routers are O(1) or O(log n) per lead so a team of thousands costs no more per lead than a
team of ten.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence

from funnelsim.model.curves import effect


class LeastLoaded:
    """The rep owning the fewest open leads; ties go to whoever reached that load first.

    Buckets of reps by load, with lazy deletion: moving a rep appends it to its new bucket and
    leaves a stale entry behind, skipped when it reaches the front.
    """

    def __init__(self, reps: Sequence):
        self.buckets: list[deque] = [deque()]
        self.low = 0
        self.size = max(1, len(reps))
        for rep in reps:
            self.moved(rep, rep.open_leads)

    def add(self, rep) -> None:
        self.size += 1
        self.moved(rep, rep.open_leads)

    def refresh(self) -> None:
        pass

    def pick(self, lead=None):
        buckets = self.buckets
        while self.low < len(buckets):
            bucket = buckets[self.low]
            while bucket:
                rep = bucket[0]
                if rep.open_leads == self.low and rep.active:
                    return rep
                bucket.popleft()
            self.low += 1
        return None

    def moved(self, rep, load: int) -> None:
        buckets = self.buckets
        while len(buckets) <= load:
            buckets.append(deque())
        bucket = buckets[load]
        bucket.append(rep)
        if len(bucket) > 8 * self.size:
            buckets[load] = deque(dict.fromkeys(r for r in bucket if r.open_leads == load and r.active))
        if load < self.low:
            self.low = load


class RoundRobin:
    def __init__(self, reps: Sequence):
        self.reps = list(reps)
        self.next = 0

    def pick(self, lead=None):
        for _ in range(len(self.reps)):
            rep = self.reps[self.next]
            self.next = (self.next + 1) % len(self.reps)
            if rep.active:
                return rep
        return None

    def moved(self, rep, load: int) -> None:
        pass

    def add(self, rep) -> None:
        self.reps.append(rep)

    def refresh(self) -> None:
        pass


class BestMatch:
    """Best-scored leads to the most skilled reps: reps in skill tiers, least-loaded within a tier.

    A lead's tier is where its score sits between the MQL threshold and 1, so the top quarter of
    scores goes to the top quarter of skill.
    """

    def __init__(self, reps: Sequence, threshold: float, tiers: int = 4):
        self.reps = list(reps)
        self.max_tiers = tiers
        self.threshold = threshold
        self.refresh()

    def add(self, rep) -> None:
        self.reps.append(rep)
        self.stale = True

    def refresh(self) -> None:
        """Re-rank the active reps by current skill (weekly, and after hires)."""
        self.reps = [r for r in self.reps if r.active]
        ranked = sorted(self.reps, key=lambda r: (r.skill, r.unique_id))
        n = len(ranked)
        self.tiers = max(1, min(self.max_tiers, n))
        members = [ranked[i * n // self.tiers : (i + 1) * n // self.tiers] for i in range(self.tiers)]
        self.groups = [LeastLoaded(m) for m in members]
        self.tier_of = {rep: i for i, m in enumerate(members) for rep in m}
        self.stale = False

    def pick(self, lead):
        if self.stale:
            self.refresh()
        span = max(1e-9, 1.0 - self.threshold)
        want = min(self.tiers - 1, max(0, int(self.tiers * (lead.score - self.threshold) / span)))
        for offset in range(self.tiers):
            for tier in (want - offset, want + offset):
                if 0 <= tier < self.tiers:
                    rep = self.groups[tier].pick()
                    if rep is not None:
                        return rep
        return None

    def moved(self, rep, load: int) -> None:
        tier = self.tier_of.get(rep)
        if tier is not None:
            self.groups[tier].moved(rep, load)


def make_router(name: str, reps: Sequence, threshold: float):
    if name == "round_robin":
        return RoundRobin(reps)
    if name == "best_match":
        return BestMatch(reps, threshold)
    return LeastLoaded(reps)


class Priority:
    """Sort key of a ready task; smaller is sooner. Ties keep arrival order (sequence number).

    `pipeline_first` ranks every open deal before every contact attempt (later stages first, then
    the larger expected deal: win chance x deal value, known since the first conversation) and
    contact attempts by what they are worth now: win chance at the lead's score x exp(-freshness x
    hours waited); a new lead's deal size is not known before anyone talks to it. The discount is
    exponential, so the order of two waiting leads never changes while they wait and the key can
    be fixed when a lead is queued: -(ln chance + freshness x time it reached sales).
    """

    PIPELINE_TIER = 1e7  # pipeline keys lie below every contact key for any horizon

    def __init__(
        self,
        rule: str,
        conversions: Sequence[float],
        fit_reference: float,
        fit_elasticity: float,
        sla: bool = False,
        freshness: float = 0.0,
    ):
        self.rule = rule
        self.sla = sla
        # probability of winning from each stage on, at the reference fit and skill
        self.remaining = [1.0] * (len(conversions) + 1)
        for k in range(len(conversions) - 1, -1, -1):
            self.remaining[k] = self.remaining[k + 1] * conversions[k]
        self.fit_reference = fit_reference
        self.fit_elasticity = fit_elasticity
        self.freshness = freshness

    def key(self, lead) -> float:
        if self.sla and lead.step < 0 and lead.attempts == 0:
            return -1e12 + lead.ready  # under a response SLA, untouched leads come first
        return self._key(lead)

    def _key(self, lead) -> float:
        rule = self.rule
        if rule == "fifo":
            return lead.ready
        if rule == "newest_first":
            return -lead.ready
        stage = max(lead.step, 0)
        chance = self.remaining[stage] * effect(lead.score, self.fit_reference, self.fit_elasticity)
        if rule == "highest_value":
            return -chance
        if lead.step > 0:  # an open deal: its size is known since the first conversation
            return -self.PIPELINE_TIER * lead.step - math.log(max(chance * lead.value, 1e-300))
        return -(math.log(max(chance, 1e-300)) + self.freshness * lead.entered)


def freshness_rate(curve: Callable[[float], float], hours_per_day: float) -> float:
    """The response curve's fall over one calendar day, as a rate per working hour: a lead that
    waits a working day loses what the curve says it loses in 24 hours."""
    return math.log(curve(0.0) / curve(24.0)) / hours_per_day
