"""Nurture: leads below the MQL threshold get marketing emails at a cadence.

Each email may make the lead reply with questions for a rep (it goes to sales) or, rarely, buy
outright; otherwise the series ends unanswered. Which of these happens, and after how many
emails, is decided when the nurture starts, from the lead's two nurture uniforms: one event is
scheduled per lead, not one per email.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from funnelsim.model.curves import effect
from funnelsim.results.records import LeadState

if TYPE_CHECKING:
    from funnelsim.model.agents import Lead
    from funnelsim.model.model import FunnelModel


class Nurture:
    """The email programme of one model; the model's books carry its cost."""

    def __init__(self, model: FunnelModel):
        cfg = model.marketing.nurture
        self.model = model
        self.enabled = cfg.enabled
        self.max_emails = cfg.max_emails
        self.cost_per_email = cfg.cost_per_email
        self.close_probability = cfg.email_close_probability
        self.engage_probability = cfg.engage_probability
        self.interval = cfg.email_interval_days * model.calendar.hours_per_day

    def start(self, lead: Lead, now: float) -> None:
        """Plan the lead's emails until it replies, buys, or the series runs out."""
        outcomes = self.model.outcomes
        fe = effect(lead.fit, outcomes.fit_reference, outcomes.fit_elasticity)
        p_close = min(1.0, self.close_probability * fe)
        p_engage = min(1.0, self.engage_probability * fe)
        u_when, u_what = lead.nurture_luck
        lead.nurture_luck = None  # used up: a year of nurtured leads need not hold it
        emails = emails_until_event(u_when, min(1.0, p_close + p_engage), self.max_emails)
        lead.ready = now
        if emails > self.max_emails:
            lead.nurture_result = LeadState.NURTURE_EXHAUSTED
            emails = self.max_emails
            when = now + emails * self.interval
        else:
            won = u_what * (p_close + p_engage) < p_close
            lead.nurture_result = LeadState.WON_BY_EMAIL if won else None
            when = now + (emails - 1) * self.interval
        if lead.nurture_result is not None:
            lead.luck = None  # it will never reach sales: a year of such leads need not hold their luck
        lead.emails = emails  # planned; billed when the nurture ends
        self.model.clock.schedule_at(when, lead.end_nurture)

    def end(self, lead: Lead) -> None:
        """The last planned email: the lead buys, gives up, or goes to sales."""
        model = self.model
        now = model.clock.now
        model.email_cost += lead.emails * self.cost_per_email
        result = lead.nurture_result
        if result == LeadState.WON_BY_EMAIL:
            model.deals_won_by_email += 1
            model.book_sale(lead, None)
            model.finish(lead, LeadState.WON_BY_EMAIL, -1, now)
        elif result == LeadState.NURTURE_EXHAUSTED:
            model.finish(lead, LeadState.NURTURE_EXHAUSTED, -1, now)
        else:
            lead.via_nurture = True
            lead.enter_sales(now)

    def sent_by(self, lead: Lead, end: float) -> int:
        """Emails a lead still in nurture has been sent by business time `end`."""
        return min(lead.emails, int((end - lead.ready) // self.interval) + 1)


def emails_until_event(u: float, p_event: float, max_emails: int) -> int:
    """Emails sent before the lead replies or buys (geometric by inverse transform), or max+1."""
    if p_event <= 0.0:
        return max_emails + 1
    if p_event >= 1.0:
        return 1
    return max(1, math.ceil(math.log1p(-u) / math.log1p(-p_event)))
