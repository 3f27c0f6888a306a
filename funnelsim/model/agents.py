"""The people and leads of the funnel: the rules of the world live here.

A `Lead` is alive (a Mesa agent) only while something can still happen to it; when it ends it
is written to the model's compact lead book and removed. A `Rep` works one task at a time from
its queue within the day's selling hours. A `Marketer` runs channels that buy leads.
"""

from __future__ import annotations

import math
from heapq import heappop
from typing import TYPE_CHECKING

import mesa
import numpy as np

from funnelsim.model.curves import effect

if TYPE_CHECKING:
    from funnelsim.model.model import FunnelModel
    from funnelsim.scenario.schema import Channel, Team

CONTACT = -1  # a lead's step before anyone has reached it


class Lead(mesa.Agent):
    """A prospect: persona fit (hidden), marketing's score of it, and its luck drawn up front.

    Attributes:
        fit: how well the prospect matches the buyer persona, in [0, 1]; drives every conversion.
        score: marketing's noisy estimate of fit; decides MQL and value-based priority.
        value: deal value if won.
        created: business time of arrival; entered: when it reached sales; ready: when its next
            task can be worked.
        step: CONTACT, or the index of the next stage.
        draws: pre-drawn uniforms, hours and delays (common random numbers across strategies).
    """

    def __init__(self, model: FunnelModel, channel: int, created: float, fit: float, score: float, value: float):
        super().__init__(model)
        self.channel = channel
        self.created = created
        self.ready = created
        self.entered = -1.0
        self.fit = fit
        self.score = score
        self.value = value
        self.rep: Rep | None = None
        self.step = CONTACT
        self.attempts = 0
        self.first_attempt = -1.0
        self.interest = 1.0
        self.via_nurture = False
        self.emails = 0
        self.fit_effect = 1.0
        self.draws: list[float] | None = None
        self.nurture_luck: list[float] | None = None
        self.outcome = 0  # set when a task starts, applied when it ends


class Rep(mesa.Agent):
    """A sales rep: limited selling hours a day, a skill, and a queue of work waiting for them.

    A rep sells at full speed until the day's selling hours are spent; the rest of the day goes
    to admin and new work waits for tomorrow. A task that runs over borrows from tomorrow.

    Attributes:
        daily_hours: selling hours per working day (hours_per_week x selling_share / days).
        budget: selling hours left today (negative when a task ran over).
        queue: heap of (priority, seq, lead) tasks ready to work.
        open_leads: leads this rep owns that are not finished (its load for routing).
    """

    def __init__(self, model: FunnelModel, team: Team, team_index: int, skill: float):
        super().__init__(model)
        self.team = team.name
        self.team_index = team_index
        self.potential = skill
        self.skill = skill
        self.skill_effect = effect(skill, model.outcomes.skill_reference, model.outcomes.skill_elasticity)
        self.daily_hours = team.hours_per_week * team.selling_share / model.calendar.days_per_week
        self.salary_per_year = team.salary_per_year
        self.active = True
        self.honest = True
        self.queue: list = []
        self.budget = 0.0
        self.busy = False
        self.busy_until = 0.0
        self.task: Lead | None = None
        self.hours_used = 0.0
        self.hours_available = 0.0
        self.open_leads = 0
        self.leads_assigned = 0
        self.deals_won = 0
        self.revenue = 0.0
        self.tasks_done = 0
        # people dynamics
        self.hire_day = 0.0
        self.cohort = -1  # week hired; -1 for the team present at the start
        self.left_day: int | None = None
        self.selling_from = -1
        self.tenure_bonus_days = 0.0
        self.training_per_day = 0.0
        self.training_hours = 0.0
        self.programme_hours = 0.0
        self.mentoring_per_day = 0.0
        self.mentoring_hours = 0.0
        self.hours_off_today = 0.0
        self.mentor: Rep | None = None
        self.mentee: Rep | None = None

    def start_day(self, now: float, day: int) -> None:
        """Today's selling hours arrive, less training and mentoring; unused hours do not carry
        over, overruns do."""
        if day < self.selling_from:  # in bootcamp
            self.training_hours += self.daily_hours
            return
        off = self.training_per_day + self.mentoring_per_day + self.hours_off_today
        if off:
            self.programme_hours += self.training_per_day
            self.training_hours += self.training_per_day + self.hours_off_today
            self.mentoring_hours += self.mentoring_per_day
            self.hours_off_today = 0.0
        hours = max(0.0, self.daily_hours - off)
        self.budget = min(self.budget, 0.0) + hours
        self.hours_available += hours
        if not self.busy:
            self.work_on(now)

    def next_task(self, now: float) -> Lead | None:
        """Best task by the team's priority among this rep's queue and the shared pool."""
        model = self.model
        pool = model.pool
        queue = self.queue
        while True:
            own = queue[0] if queue else None
            shared = pool[0] if pool else None
            if own is None and shared is None:
                return None
            if shared is not None and (own is None or shared < own):
                lead = heappop(pool)[2]
                model.assign(lead, self)
            else:
                lead = heappop(queue)[2]
            if model.still_wanted(lead, now):
                return lead

    def work_on(self, now: float) -> None:
        """Take the next task and schedule its end; rest if today's hours are spent."""
        if self.budget <= 1e-12 or not self.active:
            self.busy = False
            return
        lead = self.next_task(now)
        if lead is None:
            self.busy = False
            self.model.rep_idle(self)
            return
        hours = self.model.begin_task(self, lead, now)
        self.busy = True
        self.task = lead
        self.hours_used += hours
        self.budget -= hours
        self.busy_until = now + hours
        self.model.at(self.busy_until, self.finish_task, None)

    def finish_task(self, _=None) -> None:
        lead = self.task
        self.task = None
        self.tasks_done += 1
        self.model.end_task(self, lead, self.busy_until)
        self.work_on(self.busy_until)


class Marketer(mesa.Agent):
    """Runs channels that buy leads within a monthly budget, and scores them against the persona."""

    def __init__(self, model: FunnelModel, channels: list[tuple[int, Channel]], salary_per_year: float):
        super().__init__(model)
        self.channels = channels
        self.salary_per_year = salary_per_year
        self.leads_bought = 0
        self.spend = 0.0

    def buy_leads(self, day: int) -> None:
        """Today's leads from each channel: Poisson volume, capped by what the budget still allows."""
        model = self.model
        cal = model.calendar
        streams = model.streams
        for index, channel in self.channels:
            keep = 1.0 - channel.targeting
            rate = channel.leads_per_week * keep / cal.days_per_week
            n = int(streams.arrivals.poisson(rate))
            cost = channel.cost_per_lead / keep**channel.targeting_cost_exponent
            n = model.afford(n, cost)
            if n == 0:
                continue
            times = day * cal.hours_per_day + np.sort(streams.arrivals.random(n)) * cal.hours_per_day
            fit = channel.fit.ppf(channel.targeting + keep * streams.fit.random(n))
            gain = model.alignment.fit_gain
            if gain:
                fit = fit + gain * (1.0 - fit)
            noise = streams.fit.standard_normal(n) * model.alignment.score_noise_sd
            score = np.clip(fit + noise, 0.0, 1.0)
            value = model.deal_value.ppf(streams.values.random(n))
            luck = model.draw_luck(n)
            nurture_luck = streams.nurture.random((n, 2)).tolist()
            self.leads_bought += n
            self.spend += n * cost
            rows = zip(times.tolist(), fit.tolist(), score.tolist(), value.tolist(), luck, nurture_luck, strict=True)
            for t, f, s, v, draws, nl in rows:
                lead = Lead(model, index, t, f, s, v)
                lead.draws = draws
                lead.nurture_luck = nl
                model.at(t, model.lead_arrived, lead)


def emails_until_event(u: float, p_event: float, max_emails: int) -> int:
    """Emails sent before the lead replies or buys (geometric by inverse transform), or max+1."""
    if p_event <= 0.0:
        return max_emails + 1
    if p_event >= 1.0:
        return 1
    return max(1, math.ceil(math.log1p(-u) / math.log1p(-p_event)))
