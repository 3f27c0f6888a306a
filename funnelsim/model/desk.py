"""The sales desk: which rep works a lead new to sales, and what happens to a leaver's leads.

Routing (`routing.make_router`) picks a rep for each new lead, or every rep serves one shared
pool (routing `pool`: the M/M/c case). Each queue is ordered by the team's prioritisation.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from functools import partial
from heapq import heappush
from typing import TYPE_CHECKING

from funnelsim.model.routing import Priority, freshness_rate, make_router
from funnelsim.results.records import LeadState

if TYPE_CHECKING:
    from funnelsim.model.agents import Lead, Rep
    from funnelsim.model.model import FunnelModel


class SalesDesk:
    """Routes leads to reps, keeps the shared pool, hands leavers' leads over.

    Attributes:
        router: picks the rep for a new lead (least loaded, round robin, best match).
        priority: sort key of a ready task in any queue.
        pool: the shared queue when routing is `pool` (empty otherwise).
        handovers: leads handed from a leaver to another rep.
    """

    def __init__(self, model: FunnelModel):
        sales = model.sales
        self.model = model
        self.router = make_router(sales.routing, [], model.marketing.mql_threshold)
        self.pooled = sales.routing == "pool"
        hours_per_day = model.calendar.hours_per_day
        self.priority = Priority(
            sales.prioritisation,
            [s.conversion for s in sales.stages],
            model.outcomes.fit_reference,
            model.outcomes.fit_elasticity,
            sla=model.config.people.sla_hours is not None,
            freshness=freshness_rate(model.lead_worth, hours_per_day),
        )
        # pipeline_first: how many waiting new leads a rep keeps, per selling hour of its day
        self.lets_go = sales.prioritisation == "pipeline_first" and sales.let_go_after_days is not None
        contact = sales.contact
        hours_per_lead = contact.hours_per_attempt.mean() + contact.reach_probability * sales.stages[0].hours.mean()
        self.kept_per_hour = (sales.let_go_after_days or 0.0) / max(hours_per_lead, 1e-9)
        self.pool: list = []
        self.handovers = 0
        self._idle: deque = deque()
        self._tickets = itertools.count()

    def ticket(self) -> int:
        """Order of arrival in the queues: ties of priority go to whoever came first."""
        return next(self._tickets)

    def route(self, lead: Lead, now: float) -> None:
        """A lead new to sales goes to the shared pool or to the rep the router picks."""
        model = self.model
        if self.pooled:
            if len(model.reps) == 0:
                model.finish(lead, LeadState.UNASSIGNED, -1, now)
                return
            heappush(self.pool, (self.priority.key(lead), self.ticket(), lead))
            self._wake_idle(now)
            return
        rep = self.router.pick(lead)
        if rep is None:
            model.finish(lead, LeadState.UNASSIGNED, -1, now)
            return
        self.assign(lead, rep)
        rep.take(lead, now)

    def assign(self, lead: Lead, rep: Rep) -> None:
        lead.rep = rep
        rep.open_leads += 1
        rep.leads_assigned += 1
        self.router.moved(rep, rep.open_leads)

    def release(self, lead: Lead) -> None:
        rep = lead.rep
        if rep is not None:
            rep.open_leads -= 1
            self.router.moved(rep, rep.open_leads)

    def reassign(self, lead: Lead) -> None:
        """A lead whose rep has left: handed to another rep after a delay, or lost."""
        model = self.model
        self.release(lead)
        lead.rep = None
        attrition = model.config.people.attrition
        now = model.clock.now
        if attrition.open_leads == "lose":
            model.finish(lead, LeadState.REP_LEFT, max(lead.step, 0), now)
            return
        delay = attrition.handoff_delay_days * model.calendar.hours_per_day
        model.clock.schedule_at(now + delay, partial(self.hand_over, lead))

    def hand_over(self, lead: Lead) -> None:
        model = self.model
        self.handovers += 1
        rep = self.router.pick(lead)
        if rep is None:
            model.finish(lead, LeadState.UNASSIGNED, max(lead.step, 0), model.clock.now)
            return
        self.assign(lead, rep)
        rep.take(lead, model.clock.now)

    def new_leads_kept(self, daily_hours: float) -> int:
        """Waiting new leads a rep with these selling hours keeps under pipeline_first: as many as
        it can call within `let_go_after_days`."""
        return max(1, math.ceil(self.kept_per_hour * daily_hours))

    def let_go_surplus(self, now: float) -> None:
        """The morning look at the shared pool: what the team's hours cannot call in time goes."""
        if self.pooled and self.pool:
            self.let_go(self.pool, sum(rep.new_leads_kept for rep in self.model.reps), now)

    def let_go(self, queue: list, kept: int, now: float) -> None:
        """The contact tasks of a queue beyond its `kept` best end as let go."""
        for lead in let_go_beyond(queue, kept):
            self.model.finish(lead, LeadState.LET_GO, -1, now)

    def rep_idle(self, rep: Rep) -> None:
        """A rep with hours left and nothing to do waits for the next pooled lead."""
        if self.pooled:
            self._idle.append(rep)

    def _wake_idle(self, now: float) -> None:
        idle = self._idle
        while idle and self.pool:
            rep = idle.popleft()
            if not rep.busy and rep.active and rep.budget > 1e-12:
                rep.work_on(now)

    def backlog(self, reps) -> int:
        """Tasks waiting in the pool and in the reps' queues."""
        return len(self.pool) + sum(len(r.queue) for r in reps)


def let_go_beyond(queue: list, kept: int) -> list:
    """Keep every open deal and the `kept` best-ranked contact tasks of a task heap; return the
    leads of the rest, worst last. The heap is re-sorted in place (a sorted list is a heap)."""
    if len(queue) <= kept:
        return []
    entries = sorted(queue)
    keep, drop, new = [], [], 0
    for entry in entries:
        if entry[2].step < 0:  # a contact attempt
            new += 1
            if new > kept:
                drop.append(entry[2])
                continue
        keep.append(entry)
    if drop:
        queue[:] = keep
    return drop
