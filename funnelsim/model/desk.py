"""The sales desk: which rep works a lead new to sales, and what happens to a leaver's leads.

Routing (`routing.make_router`) picks a rep for each new lead, or every rep serves one shared
pool (routing `pool`: the M/M/c case). Each queue is ordered by the team's prioritisation.
"""

from __future__ import annotations

import itertools
from collections import deque
from functools import partial
from heapq import heappush
from typing import TYPE_CHECKING

from funnelsim.model.routing import Priority, make_router
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
        self.priority = Priority(
            sales.prioritisation,
            [s.conversion for s in sales.stages],
            model.outcomes.fit_reference,
            model.outcomes.fit_elasticity,
            sla=model.config.people.sla_hours is not None,
        )
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
