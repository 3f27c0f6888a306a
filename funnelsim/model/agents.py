"""The people and leads of the funnel: the rules of the world live here.

A `Marketer` buys leads from its channels and scores them against the buyer persona. A `Lead` is
alive (a Mesa agent) only while something can still happen to it: it arrives, goes to sales or to
nurture, waits (and cools) between tasks, and ends in the model's compact lead book. A `Rep`
works one task at a time from its queue within the day's selling hours: contact attempts, then
one stage after another, closing the deal or losing it.
"""

from __future__ import annotations

import math
from enum import IntEnum
from functools import partial
from heapq import heappop, heappush
from typing import TYPE_CHECKING, NamedTuple

import mesa
import numpy as np

from funnelsim.model.curves import conversion, effect
from funnelsim.results.records import LeadState

if TYPE_CHECKING:
    from array import array

    from funnelsim.model.model import FunnelModel
    from funnelsim.scenario.schema import Channel, Team

CONTACT = -1  # a lead's step before anyone has reached it


class TaskOutcome(IntEnum):
    """What the task a rep is working will come to; decided when it starts, applied when it ends."""

    NOT_REACHED = 0  # a contact attempt that did not reach the lead
    PASSED = 1  # the lead passed the stage (for a contact attempt: reached and qualified)
    FAILED = 2  # the lead was lost at the stage


NOT_REACHED, PASSED, FAILED = TaskOutcome.NOT_REACHED, TaskOutcome.PASSED, TaskOutcome.FAILED


class Lead(mesa.Agent):
    """A prospect: persona fit (hidden), marketing's score of it, and its luck drawn up front.

    Attributes:
        fit: how well the prospect matches the buyer persona, in [0, 1]; drives every conversion.
        score: marketing's noisy estimate of fit; decides MQL and value-based priority.
        value: deal value if won.
        created: business time of arrival; entered: when it reached sales (-1: not yet);
            ready: when its next task can be worked.
        step: CONTACT, or the index of the next stage.
        attempts: contact attempts made so far; emails: nurture emails planned or sent.
        interest: share of its interest left when first tried (the response curve).
        luck: pre-drawn uniforms, hours and delays (`luck.LuckLayout` says which is which).
        task_outcome: what the task being worked on will come to.
        nurture_result: how its nurture will end (None: it replies and goes to sales).
    """

    def __init__(self, model: FunnelModel, channel: int, created: float, fit: float, score: float, value: float):
        super().__init__(model)
        self.channel = channel
        self.created = created
        self.ready = created
        self.fit = fit
        self.score = score
        self.value = value
        # every attribute set here, in one order: instances then share one compact layout
        self.entered = -1.0
        self.rep: Rep | None = None
        self.step = CONTACT
        self.attempts = 0
        self.first_attempt = -1.0
        self.interest = 1.0
        self.via_nurture = False
        self.emails = 0
        self.fit_effect = 1.0
        self.luck: array | None = None
        self.nurture_luck: list[float] | None = None
        self.task_outcome = NOT_REACHED
        self.nurture_result: LeadState | None = None

    # -- arriving --------------------------------------------------------------------------------
    def arrive(self) -> None:
        """The lead arrives: an MQL (its score at or above the threshold) goes to sales, any other
        lead to nurture emails, or nowhere when there is no nurture."""
        model = self.model
        now = model.clock.now
        if self.score >= model.marketing.mql_threshold:
            model.mqls += 1
            self.nurture_luck = None
            self.enter_sales(now)
        else:
            self.miss_threshold(now)

    def miss_threshold(self, now: float) -> None:
        """Below the MQL threshold: nurture emails from `now`, or disqualified."""
        model = self.model
        if model.nurture.enabled:
            model.nurture.start(self, now)
        else:
            model.finish(self, LeadState.DISQUALIFIED, -1, now)

    def enter_sales(self, now: float) -> None:
        """Hand the lead to sales: it waits for a first attempt from the rep it is routed to."""
        model = self.model
        model.sales_entries += 1
        self.fit_effect = effect(self.fit, model.outcomes.fit_reference, model.outcomes.fit_elasticity)
        self.ready = self.entered = now
        self.step = CONTACT
        model.waiting_first_touch += 1
        model.desk.route(self, now)

    def end_nurture(self) -> None:
        """The last planned nurture email has gone out (`nurture.Nurture.end` says what follows)."""
        self.model.nurture.end(self)

    # -- waiting ---------------------------------------------------------------------------------
    def ready_for_work(self) -> None:
        """A follow-up is due (next attempt, or the buyer is ready for the next stage)."""
        self.rep.take(self, self.model.clock.now)

    def still_wanted(self, now: float) -> bool:
        """Stale work is dropped when a rep gets to it: a new lead left too long, a lead reps do
        not trust, a buyer gone cold while waiting for the next stage."""
        model = self.model
        if self.step == CONTACT:
            if self.attempts == 0:
                if model.abandon_hours is not None and now - self.ready > model.abandon_hours:
                    model.finish(self, LeadState.ABANDONED, -1, now)
                    return False
                if self.luck[model.layout.trust] > model.alignment.work_probability:
                    model.finish(self, LeadState.IGNORED, -1, now)
                    return False
            return True
        if model.patience_hours is not None:
            stay = math.exp(-(now - self.ready) / model.patience_hours)
            if self.luck[model.layout.patience + self.step] > stay:
                model.finish(self, LeadState.WENT_COLD, self.step, now)
                return False
        return True

    def first_touch(self, now: float) -> None:
        """The first attempt: what is left of the lead's interest depends on how long it waited."""
        model = self.model
        self.first_attempt = now
        model.waiting_first_touch -= 1
        self.interest = model.curve(model.calendar.elapsed_calendar_hours(self.ready, now))

    # -- after a task ----------------------------------------------------------------------------
    def advance(self, rep: Rep, now: float) -> None:
        """Apply the outcome of the task just finished: lost, tried again, next stage, or won."""
        model = self.model
        stage = self.step if self.step > 0 else 0
        outcome = self.task_outcome
        if model.trace is not None and outcome == PASSED:
            model.trace.passed(self, stage, now)
        if outcome == FAILED:
            model.finish(self, LeadState.LOST, stage, now)
        elif outcome == NOT_REACHED:
            if self.attempts >= model.max_attempts:
                model.finish(self, LeadState.UNREACHED, -1, now)
            else:
                self.ready = now + model.attempt_spacing
                model.clock.schedule_at(self.ready, self.ready_for_work)
        elif stage + 1 >= model.n_stages:
            rep.close_deal(self, now)
            model.finish(self, LeadState.WON, stage, now)
        else:
            self.step = stage + 1
            self.ready = now + self.luck[model.layout.delay + stage + 1]
            model.clock.schedule_at(self.ready, self.ready_for_work)


class Rep(mesa.Agent):
    """A sales rep: limited selling hours a day, a skill, and a queue of work waiting for them.

    A rep sells at full speed while selling hours are left: the day's hours arrive at its start
    (`selling_pattern: morning`) or hour by hour through it (`spread`, or weights per hour); the
    rest of the day goes to admin. Hours not used carry over within the day, not to the next. A
    task that runs over borrows from later hours (from tomorrow at the day's end).

    Attributes:
        daily_hours: selling hours per working day (hours_per_week x selling_share / days).
        budget: selling hours left today (negative when a task ran over).
        queue: heap of (priority, seq, lead) tasks ready to work.
        open_leads: leads this rep owns that are not finished (its load for routing).
        honest: False for a rep who bends the truth to close (scruples).
    """

    def __init__(self, model: FunnelModel, team: Team, team_index: int, skill: float):
        super().__init__(model)
        self.team = team.name
        self.team_index = team_index
        self.potential = skill
        self.skill = skill
        self.skill_effect = effect(skill, model.outcomes.skill_reference, model.outcomes.skill_elasticity)
        self.daily_hours = team.hours_per_week * team.selling_share / model.calendar.days_per_week
        self.selling_shares = model.selling_shares[team_index]
        self.new_leads_kept = model.desk.new_leads_kept(self.daily_hours)
        self.hours_today = 0.0
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

    # -- the day -------------------------------------------------------------------------------
    def start_day(self, now: float, day: int) -> None:
        """Today's selling hours arrive, less training and mentoring; unused hours do not carry
        over, overruns do."""
        if self.model.desk.lets_go:
            self.let_go_surplus(now)
        if day < self.selling_from:  # in bootcamp
            self.training_hours += self.daily_hours
            self.hours_today = 0.0
            return
        off = self.training_per_day + self.mentoring_per_day + self.hours_off_today
        if off:
            self.programme_hours += self.training_per_day
            self.training_hours += self.training_per_day + self.hours_off_today
            self.mentoring_hours += self.mentoring_per_day
            self.hours_off_today = 0.0
        hours = max(0.0, self.daily_hours - off)
        self.hours_today = hours
        self.budget = min(self.budget, 0.0) + hours * self.selling_shares[0]
        self.hours_available += hours
        if not self.busy:
            self.work_on(now)

    def let_go_surplus(self, now: float) -> None:
        """Under load a rep lets leads go (pipeline_first): each morning it keeps the new leads its
        hours can call within `let_go_after_days`, best first, and lets the rest go unworked; their
        worth per hour is below what the rest of its queue offers. The lead black hole follows."""
        self.model.desk.let_go(self.queue, self.new_leads_kept, now)

    def selling_hour(self, now: float, hour: int) -> None:
        """The share of today's selling hours that falls in this working hour (`selling_pattern`)."""
        shares = self.selling_shares
        if hour < len(shares) and self.hours_today:
            self.budget += self.hours_today * shares[hour]
            if not self.busy:
                self.work_on(now)

    # -- choosing and doing the work -----------------------------------------------------------
    def take(self, lead: Lead, now: float) -> None:
        """A task for this rep: queued by the team's priority, started at once if the rep is free."""
        desk = self.model.desk
        if not self.active:
            desk.reassign(lead)
            return
        heappush(self.queue, (desk.priority.key(lead), desk.ticket(), lead))
        if not self.busy:
            self.work_on(now)

    def next_task(self, now: float) -> Lead | None:
        """Best task by the team's priority among this rep's queue and the shared pool; stale work
        found on the way is dropped."""
        desk = self.model.desk
        pool = desk.pool
        queue = self.queue
        while True:
            own = queue[0] if queue else None
            shared = pool[0] if pool else None
            if own is None and shared is None:
                return None
            if shared is not None and (own is None or shared < own):
                lead = heappop(pool)[2]
                desk.assign(lead, self)
            else:
                lead = heappop(queue)[2]
            if lead.still_wanted(now):
                return lead

    def work_on(self, now: float) -> None:
        """Take the next task and schedule its end; rest if today's hours are spent."""
        if self.budget <= 1e-12 or not self.active:
            self.busy = False
            return
        lead = self.next_task(now)
        if lead is None:
            self.busy = False
            self.model.desk.rep_idle(self)
            return
        hours = self.attempt_contact(lead, now) if lead.step == CONTACT else self.work_stage(lead)
        if self.model.trace is not None:
            self.model.trace.task(self, lead, now)
        self.busy = True
        self.task = lead
        self.hours_used += hours
        self.budget -= hours
        self.busy_until = now + hours
        self.model.clock.schedule_at(self.busy_until, self.finish_task)

    def attempt_contact(self, lead: Lead, now: float) -> float:
        """Call the lead; if it answers, the first stage's conversation follows at once. Returns
        the rep hours it takes; the outcome waits on the lead until the task ends."""
        model = self.model
        luck = lead.luck
        layout = model.layout
        a = lead.attempts
        if a == 0:
            lead.first_touch(now)
        lead.attempts = a + 1
        hours = luck[layout.attempt_hours + a]
        reach = model.reach_probability
        if model.reach_curve is not None:  # speed to lead: harder to reach the longer it waited
            reach *= model.reach_curve(model.calendar.elapsed_calendar_hours(lead.entered, now))
        if luck[layout.reach + a] < reach:
            hours += luck[layout.stage_hours]
            p = conversion(model.conversions[0], lead.fit_effect, self.skill_effect, lead.interest)
            if not self.honest and model.n_stages == 1:
                p = min(0.99, p * model.close_boost)
            lead.task_outcome = PASSED if luck[layout.outcome] < p else FAILED
            model.first_stage_reached += 1
            model.first_stage_passed += lead.task_outcome == PASSED
        else:
            lead.task_outcome = NOT_REACHED
        return hours

    def work_stage(self, lead: Lead) -> float:
        """A later stage (a demo, a proposal...): pass or lose; a rep who bends the truth closes more."""
        model = self.model
        k = lead.step
        p = conversion(model.conversions[k], lead.fit_effect, self.skill_effect)
        if not self.honest and k == model.n_stages - 1:
            p = min(0.99, p * model.close_boost)
        lead.task_outcome = PASSED if lead.luck[model.layout.outcome + k] < p else FAILED
        return lead.luck[model.layout.stage_hours + k]

    def finish_task(self) -> None:
        lead = self.task
        self.task = None
        self.tasks_done += 1
        lead.advance(self, self.busy_until)
        self.work_on(self.busy_until)

    def close_deal(self, lead: Lead, now: float) -> None:
        """A won deal is booked; a bent truth may come back as a refund; a happy customer may
        send a referral (fewer when the truth was bent)."""
        model = self.model
        model.book_sale(lead, self)
        luck, layout = lead.luck, model.layout
        hours_per_week = model.calendar.hours_per_week
        scruples = model.config.people.scruples
        if not self.honest and luck[layout.refund] < scruples.refund_probability:
            when = now + luck[layout.refund_time] * scruples.refund_within_weeks * hours_per_week
            model.clock.schedule_at(when, partial(model.book_refund, lead.value))
        referrals = model.config.people.referrals
        p = referrals.probability_per_deal * (1.0 if self.honest else 1.0 - scruples.referral_loss)
        if luck[layout.referral] < p:
            model.refer(now + referrals.delay_weeks * hours_per_week)

    # -- leaving -------------------------------------------------------------------------------
    def leave(self, day: int) -> None:
        """The rep leaves: queued work is handed over (or lost); the task in hand ends first."""
        model = self.model
        self.active = False
        self.left_day = day
        model.rep_salaries -= self.salary_per_year
        queued = [entry[2] for entry in sorted(self.queue)]
        self.queue.clear()
        self.remove()
        for lead in queued:
            model.desk.reassign(lead)


class Marketer(mesa.Agent):
    """Runs channels that buy leads within a monthly budget, and scores them against the persona."""

    def __init__(self, model: FunnelModel, channels: list[tuple[int, Channel]], salary_per_year: float):
        super().__init__(model)
        self.channels = channels
        self.salary_per_year = salary_per_year
        self.leads_bought = 0
        self.spend = 0.0

    def buy_leads(self, day: int) -> list[Purchase]:
        """Today's leads from each channel: Poisson volume, capped by what the budget still allows,
        each scored against the persona (fit plus noise); they arrive at their times today."""
        model = self.model
        cal = model.calendar
        streams = model.streams
        bought: list[Purchase] = []
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
            self.leads_bought += n
            self.spend += n * cost
            bought.append(Purchase(index, times, fit, score, value))
        return bought


class Purchase(NamedTuple):
    """A batch of leads bought from one channel: arrival times, fit, score and deal value."""

    channel: int
    times: np.ndarray
    fit: np.ndarray
    score: np.ndarray
    value: np.ndarray
