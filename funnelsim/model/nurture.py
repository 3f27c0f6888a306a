"""Nurture: leads below the MQL threshold get marketing emails at a cadence.

Each email may make the lead reply with questions for a rep (it goes to sales) or, rarely, buy
outright; otherwise the series ends unanswered. Which of these happens, and after how many
emails, is decided when the nurture starts, from the lead's two nurture uniforms: one event is
scheduled per lead, not one per email.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from funnelsim.model.curves import effect_many
from funnelsim.results.records import LeadState

if TYPE_CHECKING:
    from funnelsim.model.agents import Lead
    from funnelsim.model.model import FunnelModel


class Nurture:
    """The email programme of one model; the model's books carry its cost.

    Most nurtured leads never reach sales: their emails run out, or they buy by email. Their fate
    is sealed when they are bought (`plan`), so they are not agents: they wait as rows in the
    ledger (`seal`) and are booked on the day their last email goes out (`settle`). A lead that
    will reply becomes an agent whose nurture ends in sales (`follow`).
    """

    def __init__(self, model: FunnelModel):
        cfg = model.marketing.nurture
        self.model = model
        self.enabled = cfg.enabled
        self.max_emails = cfg.max_emails
        self.cost_per_email = cfg.cost_per_email
        self.close_probability = cfg.email_close_probability
        self.engage_probability = cfg.engage_probability
        self.interval = cfg.email_interval_days * model.calendar.hours_per_day
        self._due: dict[int, list[tuple[np.ndarray, ...]]] = {}  # last-email day: sealed rows

    # -- many leads at once ------------------------------------------------------------------------
    def plan(self, fit: np.ndarray, luck: np.ndarray, created: np.ndarray):
        """For leads starting nurture at `created`: the emails each gets, when the last goes out,
        whether it buys by email, and whether it replies (and goes to sales). With no reply and
        no purchase, `max_emails` go out unanswered."""
        n = len(fit)
        if not self.enabled:
            return np.zeros(n, dtype=np.int64), created.copy(), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        outcomes = self.model.outcomes
        fe = effect_many(fit, outcomes.fit_reference, outcomes.fit_elasticity)
        p_close = np.minimum(1.0, self.close_probability * fe)
        p_engage = np.minimum(1.0, self.engage_probability * fe)
        emails = emails_until_event_array(luck[:, 0], np.minimum(1.0, p_close + p_engage), self.max_emails)
        exhausted = emails > self.max_emails
        emails = np.where(exhausted, self.max_emails, emails)
        won = ~exhausted & (luck[:, 1] * (p_close + p_engage) < p_close)
        ends = created + np.where(exhausted, emails, emails - 1) * self.interval
        return emails, ends, won, ~exhausted & ~won

    def seal(self, created, fit, value, channel, emails, ends, won) -> None:
        """Leads whose nurture will run out or end in a purchase: rows that wait for the day of
        their last email. Without nurture they are disqualified at once."""
        if not len(created):
            return
        if not self.enabled:
            self.model.book.add_rows(
                created, fit, np.zeros(len(created)), channel, created, LeadState.DISQUALIFIED, emails
            )
            return
        days = (ends // self.model.calendar.hours_per_day).astype(np.int64)
        order = np.argsort(days, kind="stable")
        days = days[order]
        columns = [a[order] for a in (created, fit, value, channel, emails, ends, won)]
        cuts = np.flatnonzero(np.diff(days)) + 1
        for start, stop in zip([0, *cuts.tolist()], [*cuts.tolist(), len(days)], strict=True):
            self._due.setdefault(int(days[start]), []).append(tuple(c[start:stop] for c in columns))

    def settle(self, day: int) -> None:
        """Book the sealed nurtures whose last email went out today."""
        due = self._due.pop(day, None)
        if not due:
            return
        model = self.model
        created, fit, value, channel, emails, ends, won = (
            (np.concatenate(c) if len(due) > 1 else c[0]) for c in zip(*due, strict=True)
        )
        model.email_cost += float(emails.sum()) * self.cost_per_email
        if won.any():
            model.deals_won_by_email += int(won.sum())
            model.revenue += float(value[won].sum())
        state = np.where(won, int(LeadState.WON_BY_EMAIL), int(LeadState.NURTURE_EXHAUSTED))
        model.book.add_rows(created, fit, np.where(won, value, 0.0), channel, ends, state, emails)

    def close(self, end: float) -> None:
        """At the horizon: sealed nurtures still running are booked as nurturing, with the emails
        sent so far."""
        model = self.model
        for day in sorted(self._due):
            for created, fit, _value, channel, emails, _ends, _won in self._due[day]:
                sent = np.minimum(emails, ((end - created) // self.interval).astype(np.int64) + 1)
                model.email_cost += float(sent.sum()) * self.cost_per_email
                model.book.add_rows(
                    created, fit, np.zeros(len(created)), channel, np.full(len(created), end), LeadState.NURTURING, sent
                )
        self._due.clear()

    # -- one lead, an agent -------------------------------------------------------------------------
    def follow(self, lead: Lead, now: float, emails: int, when: float, result: LeadState | None = None) -> None:
        """An agent's planned nurture: its emails go out until `when`; then it goes to sales
        (`result` None: it replies), buys, or gives up."""
        lead.ready = now
        lead.emails = emails  # planned; billed when the nurture ends
        lead.nurture_result = result
        self.model.clock.schedule_at(when, lead.end_nurture)

    def start(self, lead: Lead, now: float) -> None:
        """Plan one agent's nurture (a referral below the threshold), as `plan` does for many."""
        emails, ends, won, replies = self.plan(np.array([lead.fit]), np.array([lead.nurture_luck]), np.array([now]))
        lead.nurture_luck = None  # used up
        result = None if replies[0] else LeadState.WON_BY_EMAIL if won[0] else LeadState.NURTURE_EXHAUSTED
        self.follow(lead, now, int(emails[0]), float(ends[0]), result)

    def end(self, lead: Lead) -> None:
        """An agent's last planned email: the lead buys, gives up, or goes to sales."""
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


def emails_until_event_array(u: np.ndarray, p_event: np.ndarray, max_emails: int) -> np.ndarray:
    """Emails sent before each lead replies or buys (geometric by inverse transform), or max+1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.ceil(np.log1p(-u) / np.log1p(-p_event))
    k = np.where(p_event <= 0.0, max_emails + 1, np.where(p_event >= 1.0, 1, np.maximum(1, k)))
    return k.astype(np.int64)
