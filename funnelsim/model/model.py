"""FunnelModel: marketers buy leads, sales reps work them with limited hours, leads decay.

One Mesa step is one working day. Within a day the model runs its own event queue (a plain heap,
several times cheaper than Mesa's event objects for the ~10^5 events of a year).
"""

from __future__ import annotations

import gc
import itertools
import math
from array import array
from collections import deque
from heapq import heapify, heappop, heappush

import mesa
import numpy as np
from mesa.agentset import AgentSet

from funnelsim.model.agents import CONTACT, Lead, Marketer, Rep, emails_until_event
from funnelsim.model.alignment import Alignment
from funnelsim.model.calendar import WorkCalendar
from funnelsim.model.curves import ResponseCurve, conversion, effect
from funnelsim.model.levers import apply_levers
from funnelsim.model.people import PeopleDynamics
from funnelsim.model.routing import Priority, make_router
from funnelsim.model.streams import RandomStreams
from funnelsim.results.daily import DAILY_SERIES
from funnelsim.results.records import LeadBook, LeadState
from funnelsim.scenario.defaults import default_scenario
from funnelsim.scenario.schema import Scenario

REACHED, PASSED, FAILED, NOT_REACHED = 1, 1, 2, 0


class FunnelModel(mesa.Model):
    """The sales funnel of one company over a horizon of working days.

    Attributes:
        config: the validated `Scenario` (Mesa's own `scenario` attribute is its parameter holder).
        calendar: the working calendar; `now` is the current business hour.
        reps, marketers: AgentSets of `Rep` and `Marketer`; live leads are `agents_by_type[Lead]`.
        book: compact records of finished leads.
        datacollector: daily model-level series (Mesa DataCollector).
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        rng: int | np.random.SeedSequence | None = None,
        leads_per_week: float | None = None,
        targeting: float | None = None,
        mql_threshold: float | None = None,
        reps: int | None = None,
        selling_share: float | None = None,
        routing: str | None = None,
        prioritisation: str | None = None,
        horizon_weeks: float | None = None,
    ):
        config = apply_levers(
            scenario if scenario is not None else default_scenario(),
            leads_per_week=leads_per_week,
            targeting=targeting,
            mql_threshold=mql_threshold,
            reps=reps,
            selling_share=selling_share,
            routing=routing,
            prioritisation=prioritisation,
            horizon_weeks=horizon_weeks,
        )
        seed = config.seed if rng is None else rng
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**63))
        super().__init__(rng=seed if not isinstance(seed, np.random.SeedSequence) else None)
        self.config = config
        self.seed = seed
        self.streams = RandomStreams(seed)
        self.calendar = WorkCalendar(config.calendar.hours_per_day, config.calendar.days_per_week)
        self.days_total = max(1, round(config.horizon_weeks * config.calendar.days_per_week))
        self.horizon = self.days_total * self.calendar.hours_per_day
        self.days_per_month = config.calendar.days_per_week * 52 / 12
        self.marketing = config.marketing
        self.sales = config.sales
        self.outcomes = config.sales.outcomes
        self.deal_value = config.sales.deal_value
        self.curve = ResponseCurve(config.sales.response_curve.points)
        self._setup_funnel_constants()

        self.events: list = []
        self.later: dict[int, list] = {}
        self._seq = itertools.count()
        self.now = 0.0
        self.day = 0
        self.pool: list = []
        self._idle: deque = deque()
        self.book = LeadBook()
        self._zero_counters()
        self.roster: list[Rep] = []
        self.rep_salaries = 0.0
        self.people = PeopleDynamics(self)
        self.alignment = Alignment(self)
        self.router = make_router(self.sales.routing, [], self.marketing.mql_threshold)
        self._hire_initial_team()
        self.marketers = self._hire_marketers()
        self.pooled = self.sales.routing == "pool"
        self.priority = Priority(
            self.sales.prioritisation,
            [s.conversion for s in self.sales.stages],
            self.outcomes.fit_reference,
            self.outcomes.fit_elasticity,
            sla=config.people.sla_hours is not None,
        )
        self.marketer_salaries = sum(m.salary_per_year for m in self.marketers)
        self.sla = config.people.sla_hours is not None
        scruples = config.people.scruples
        self.close_boost = 1.0 + scruples.close_boost
        self.refund_probability = scruples.refund_probability
        self.referrals = config.people.referrals
        self.referral_loss = scruples.referral_loss
        self.datacollector = mesa.DataCollector(model_reporters=DAILY_SERIES)

    # -- set-up ----------------------------------------------------------------------------------
    def _setup_funnel_constants(self) -> None:
        sales = self.sales
        self.max_attempts = sales.contact.max_attempts
        self.n_stages = len(sales.stages)
        self.conversions = [s.conversion for s in sales.stages]
        self.spacing = sales.contact.attempt_spacing_hours
        self.reach = sales.contact.reach_probability
        h = self.calendar.hours_per_day
        self.abandon_hours = None if sales.abandon_after_days is None else sales.abandon_after_days * h
        self.patience_hours = None if sales.follow_up_patience_days is None else sales.follow_up_patience_days * h
        # offsets into a lead's pre-drawn luck
        a, s = self.max_attempts, self.n_stages
        self.o_attempt_hours = a
        self.o_outcome = 2 * a
        self.o_stage_hours = 2 * a + s
        self.o_delay = 2 * a + 2 * s
        self.o_patience = 2 * a + 3 * s
        self.o_trust = 2 * a + 4 * s  # then refund, refund time, referral
        self.luck_width = 2 * a + 4 * s + 4

    def _zero_counters(self) -> None:
        self.leads_created = 0
        self.mqls = 0
        self.sales_entries = 0
        self.deals_won = 0
        self.deals_won_by_email = 0
        self.revenue = 0.0
        self.lead_cost = 0.0
        self.email_cost = 0.0
        self.salary_cost = 0.0
        self.month = -1
        self.month_spend = 0.0
        self.waiting_first_touch = 0
        self.backlog_end = 0
        self.refunds = 0.0
        self.referral_leads = 0
        self.handovers = 0
        self.first_stage_reached = 0
        self.first_stage_passed = 0

    @property
    def training_cost(self) -> float:
        teams = self.sales.teams
        programme = sum(r.programme_hours * teams[r.team_index].training.cost_per_hour for r in self.roster)
        return programme + self.people.training_cost + self.alignment.training_cost

    @property
    def cost(self) -> float:
        return self.lead_cost + self.email_cost + self.salary_cost + self.training_cost

    @property
    def profit(self) -> float:
        return self.revenue - self.cost

    @property
    def reps(self) -> AgentSet:
        """Reps on the team now (leavers are in `roster` only)."""
        reps = self._agents_by_type.get(Rep)
        return reps if reps is not None else AgentSet([], random=self.random)

    def _hire_initial_team(self) -> None:
        for index, team in enumerate(self.sales.teams):
            skills = team.skill.ppf(self.streams.people.random(team.reps))
            for skill in skills.tolist():
                rep = self.hire(team, index, skill)
                self.people.setup_rep(rep, 0, initial=True)

    def hire(self, team, team_index: int, skill: float) -> Rep:
        rep = Rep(self, team, team_index, skill)
        self.roster.append(rep)
        self.rep_salaries += rep.salary_per_year
        self.router.add(rep)
        return rep

    def rep_leaves(self, rep: Rep) -> None:
        """A rep leaves: queued work is handed over (or lost); in-flight work ends first."""
        rep.active = False
        rep.left_day = self.day
        self.rep_salaries -= rep.salary_per_year
        queued = [entry[2] for entry in sorted(rep.queue)]
        rep.queue.clear()
        rep.remove()
        for lead in queued:
            self.orphan(lead)

    def orphan(self, lead: Lead) -> None:
        """A lead whose rep has left: handed to another rep after a delay, or lost."""
        self.release(lead)
        lead.rep = None
        attrition = self.config.people.attrition
        if attrition.open_leads == "lose":
            self.finish(lead, LeadState.REP_LEFT, max(lead.step, 0), self.now)
            return
        self.at(self.now + attrition.handoff_delay_days * self.calendar.hours_per_day, self.hand_over, lead)

    def hand_over(self, lead: Lead) -> None:
        self.handovers += 1
        rep = self.router.pick(lead)
        if rep is None:
            self.finish(lead, LeadState.UNASSIGNED, max(lead.step, 0), self.now)
            return
        self.assign(lead, rep)
        self.queue_task(lead, self.now)

    def _hire_marketers(self) -> AgentSet:
        channels = list(enumerate(self.marketing.channels))
        count = max(1, self.marketing.marketers)
        salary = self.marketing.salary_per_year if self.marketing.marketers > 0 else 0.0
        for i in range(count):
            Marketer(self, channels[i::count], salary)
        return self.agents_by_type[Marketer]

    # -- the clock -------------------------------------------------------------------------------
    def at(self, time: float, callback, arg) -> None:
        """Schedule `callback(arg)`. Only today's events sit in the heap; later ones wait in a
        list for their day, so the heap stays small however long leads live."""
        day = int(time // self.calendar.hours_per_day)
        if day <= self.day:
            heappush(self.events, (time, next(self._seq), callback, arg))
        else:
            self.later.setdefault(day, []).append((time, next(self._seq), callback, arg))

    def step(self) -> None:
        """One working day: leads arrive, reps spend their selling hours, the day is recorded."""
        # Leads die by reference counting; the cycle collector would only rescan the live
        # funnel again and again (a fifth of the run time at 10x), so it waits for the day's end.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._run_day()
        finally:
            if collecting:
                gc.enable()

    def _run_day(self) -> None:
        cal = self.calendar
        start = self.day * cal.hours_per_day
        end = start + cal.hours_per_day
        self.now = start
        due = self.later.pop(self.day, None)
        if due:
            self.events.extend(due)
            heapify(self.events)
        day = self.day
        if day % cal.days_per_week == 0:
            self.people.start_week(day)
            self.alignment.start_week(day // cal.days_per_week)
        self.people.start_day(day)
        for marketer in self.marketers:
            marketer.buy_leads(day)
        for rep in self.reps:
            rep.start_day(start, day)
        events = self.events
        while events and events[0][0] < end:
            time, _, callback, arg = heappop(events)
            self.now = time
            callback(arg)
        self.now = end
        self.salary_cost += (self.rep_salaries + self.marketer_salaries) / (52 * cal.days_per_week)
        self.day += 1
        if self.day % cal.days_per_week == 0:
            self.people.end_week(self.day // cal.days_per_week, self.day)
        if self.day >= self.days_total:
            self.running = False
            self._close_books()  # before the last record, so it carries the horizon's email bill
        self.datacollector.collect(self)

    def run(self) -> FunnelModel:
        while self.running:
            self.step()
        return self

    # -- marketing -------------------------------------------------------------------------------
    def afford(self, n: int, cost_per_lead: float) -> int:
        """How many of `n` leads this month's remaining budget buys; books their cost."""
        month = int(self.day // self.days_per_month)
        if month != self.month:
            self.month = month
            self.month_spend = 0.0
        budget = self.marketing.budget_per_month
        if budget is not None and cost_per_lead > 0:
            n = max(0, min(n, int((budget - self.month_spend) / cost_per_lead + 1e-9)))
        self.month_spend += n * cost_per_lead
        self.lead_cost += n * cost_per_lead
        self.leads_created += n
        return n

    def lead_arrived(self, lead: Lead) -> None:
        if lead.score >= self.marketing.mql_threshold:
            self.mqls += 1
            self.enter_sales(lead, self.now)
            return
        lead.draws = None  # nurture leads draw afresh if they ever reach sales
        if self.marketing.nurture.enabled:
            self.start_nurture(lead, self.now)
        else:
            self.finish(lead, LeadState.DISQUALIFIED, -1, self.now)

    def start_nurture(self, lead: Lead, now: float) -> None:
        """Emails at a cadence until the lead replies (engages), buys by email, or the series ends."""
        nurture = self.marketing.nurture
        fe = effect(lead.fit, self.outcomes.fit_reference, self.outcomes.fit_elasticity)
        p_close = min(1.0, nurture.email_close_probability * fe)
        p_engage = min(1.0, nurture.engage_probability * fe)
        u_when, u_what = lead.nurture_luck
        emails = emails_until_event(u_when, min(1.0, p_close + p_engage), nurture.max_emails)
        interval = nurture.email_interval_days * self.calendar.hours_per_day
        lead.ready = now
        if emails > nurture.max_emails:
            lead.outcome = int(LeadState.NURTURE_EXHAUSTED)
            emails = nurture.max_emails
            when = now + emails * interval
        else:
            won = u_what * (p_close + p_engage) < p_close
            lead.outcome = int(LeadState.WON_BY_EMAIL) if won else -1
            when = now + (emails - 1) * interval
        lead.attempts = emails  # emails planned; settled when the nurture ends
        self.at(when, self.nurture_done, lead)

    def nurture_done(self, lead: Lead) -> None:
        emails = lead.attempts
        lead.attempts = 0
        self.email_cost += emails * self.marketing.nurture.cost_per_email
        if lead.outcome == LeadState.WON_BY_EMAIL:
            self.deals_won_by_email += 1
            self.book_revenue(lead, None)
            self.finish(lead, LeadState.WON_BY_EMAIL, -1, self.now, emails)
        elif lead.outcome == LeadState.NURTURE_EXHAUSTED:
            self.finish(lead, LeadState.NURTURE_EXHAUSTED, -1, self.now, emails)
        else:
            lead.via_nurture = True
            lead.emails = emails
            self.enter_sales(lead, self.now)

    # -- sales -----------------------------------------------------------------------------------
    def draw_luck(self, n: int) -> list[array]:
        """Everything random about `n` leads' time in sales: reach and stage uniforms, task hours,
        buyer delays. Drawn for every lead as it is bought, MQL or not, so the streams stay in
        step when only the MQL threshold changes."""
        a, s = self.max_attempts, self.n_stages
        st = self.streams
        u = st.outcomes.random((n, a + 2 * s + 4))
        dur = st.durations.random((n, a + 2 * s))
        stages = self.sales.stages
        h = self.calendar.hours_per_day
        cols = [u[:, :a], self.sales.contact.hours_per_attempt.ppf(dur[:, :a]), u[:, a : a + s]]
        cols += [stages[k].hours.ppf(dur[:, a + k])[:, None] for k in range(s)]
        cols += [stages[k].buyer_delay_days.ppf(dur[:, a + s + k])[:, None] * h for k in range(s)]
        cols.append(u[:, a + s :])
        # one typed array per lead: 8 bytes a number instead of a 32-byte float object
        flat = array("d", np.hstack(cols).tobytes())
        width = self.luck_width
        return [flat[i * width : (i + 1) * width] for i in range(n)]

    def enter_sales(self, lead: Lead, now: float) -> None:
        self.sales_entries += 1
        if lead.draws is None:
            lead.draws = self.draw_luck(1)[0]
        lead.fit_effect = effect(lead.fit, self.outcomes.fit_reference, self.outcomes.fit_elasticity)
        lead.ready = lead.entered = now
        lead.step = CONTACT
        self.waiting_first_touch += 1
        if self.pooled:
            if len(self.reps) == 0:
                self.finish(lead, LeadState.UNASSIGNED, -1, now)
                return
            heappush(self.pool, (self.priority.key(lead), next(self._seq), lead))
            self._wake_idle(now)
            return
        rep = self.router.pick(lead)
        if rep is None:
            self.finish(lead, LeadState.UNASSIGNED, -1, now)
            return
        self.assign(lead, rep)
        self.queue_task(lead, now)

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

    def queue_task(self, lead: Lead, now: float) -> None:
        rep = lead.rep
        if not rep.active:
            self.orphan(lead)
            return
        heappush(rep.queue, (self.priority.key(lead), next(self._seq), lead))
        if not rep.busy:
            rep.work_on(now)

    def follow_up_ready(self, lead: Lead) -> None:
        self.queue_task(lead, self.now)

    def rep_idle(self, rep: Rep) -> None:
        if self.pooled:
            self._idle.append(rep)

    def _wake_idle(self, now: float) -> None:
        idle = self._idle
        while idle and self.pool:
            rep = idle.popleft()
            if not rep.busy and rep.active and rep.budget > 1e-12:
                rep.work_on(now)

    def still_wanted(self, lead: Lead, now: float) -> bool:
        """Stale work is dropped when a rep gets to it: a new lead left too long, a buyer gone cold."""
        if lead.step == CONTACT:
            if lead.attempts == 0:
                if self.abandon_hours is not None and now - lead.ready > self.abandon_hours:
                    self.finish(lead, LeadState.ABANDONED, -1, now)
                    return False
                if lead.draws[self.o_trust] > self.alignment.work_probability:
                    self.finish(lead, LeadState.IGNORED, -1, now)
                    return False
            return True
        if self.patience_hours is not None:
            stay = math.exp(-(now - lead.ready) / self.patience_hours)
            if lead.draws[self.o_patience + lead.step] > stay:
                self.finish(lead, LeadState.WENT_COLD, lead.step, now)
                return False
        return True

    def begin_task(self, rep: Rep, lead: Lead, now: float) -> float:
        """Decide the task's outcome from the lead's luck; return the rep hours it takes."""
        d = lead.draws
        if lead.step == CONTACT:
            a = lead.attempts
            if a == 0:
                lead.first_attempt = now
                self.waiting_first_touch -= 1
                waited = self.calendar.elapsed_calendar_hours(lead.ready, now)
                lead.interest = self.curve(waited)
            lead.attempts = a + 1
            hours = d[self.o_attempt_hours + a]
            if d[a] < self.reach:
                hours += d[self.o_stage_hours]
                p = conversion(self.conversions[0], lead.fit_effect, rep.skill_effect, lead.interest)
                if not rep.honest and self.n_stages == 1:
                    p = min(0.99, p * self.close_boost)
                lead.outcome = PASSED if d[self.o_outcome] < p else FAILED
                self.first_stage_reached += 1
                self.first_stage_passed += lead.outcome == PASSED
            else:
                lead.outcome = NOT_REACHED
            return hours
        k = lead.step
        p = conversion(self.conversions[k], lead.fit_effect, rep.skill_effect)
        if not rep.honest and k == self.n_stages - 1:
            p = min(0.99, p * self.close_boost)
        lead.outcome = PASSED if d[self.o_outcome + k] < p else FAILED
        return d[self.o_stage_hours + k]

    def end_task(self, rep: Rep, lead: Lead, now: float) -> None:
        stage = max(lead.step, 0)
        if lead.outcome == FAILED:
            self.finish(lead, LeadState.LOST, stage, now)
        elif lead.outcome == NOT_REACHED:
            if lead.attempts >= self.max_attempts:
                self.finish(lead, LeadState.UNREACHED, -1, now)
            else:
                lead.ready = now + self.spacing
                self.at(lead.ready, self.follow_up_ready, lead)
        elif stage + 1 >= self.n_stages:
            self.book_revenue(lead, rep)
            self._after_sale(lead, rep, now)
            self.finish(lead, LeadState.WON, stage, now)
        else:
            lead.step = stage + 1
            lead.ready = now + lead.draws[self.o_delay + stage + 1]
            self.at(lead.ready, self.follow_up_ready, lead)

    def _after_sale(self, lead: Lead, rep: Rep, now: float) -> None:
        """Bent truths come back as refunds; happy customers send referrals."""
        d = lead.draws
        o = self.o_trust
        hours_per_week = self.calendar.hours_per_week
        if not rep.honest and d[o + 1] < self.refund_probability:
            weeks = self.config.people.scruples.refund_within_weeks
            self.at(now + d[o + 2] * weeks * hours_per_week, self.refund, lead.value)
        p = self.referrals.probability_per_deal * (1.0 if rep.honest else 1.0 - self.referral_loss)
        if d[o + 3] < p:
            when = now + self.referrals.delay_weeks * hours_per_week
            value = float(self.deal_value.ppf(self.streams.values.random(1))[0])
            fit = self.referrals.fit
            referral = Lead(self, len(self.marketing.channels), when, fit, fit, value)
            self.leads_created += 1
            self.referral_leads += 1
            self.at(when, self.lead_arrived, referral)

    def refund(self, value: float) -> None:
        self.refunds += value

    def book_revenue(self, lead: Lead, rep: Rep | None) -> None:
        self.revenue += lead.value
        if rep is not None:
            self.deals_won += 1
            rep.deals_won += 1
            rep.revenue += lead.value

    def finish(self, lead: Lead, state: LeadState, stage: int, now: float, emails: int = 0) -> None:
        self.book.add(lead, int(state), stage, now, emails or lead.emails)
        if lead.entered >= 0 and lead.first_attempt < 0:
            self.waiting_first_touch -= 1  # it leaves the queue without ever being tried
        if lead.rep is not None:
            self.release(lead)
        lead.remove()

    # -- the end ---------------------------------------------------------------------------------
    def _close_books(self) -> None:
        """At the horizon: bill emails already sent, record live leads as open, trim overruns."""
        end = self.horizon
        self.backlog_end = len(self.pool) + sum(len(r.queue) for r in self.reps)
        interval = self.marketing.nurture.email_interval_days * self.calendar.hours_per_day
        for rep in self.roster:
            if rep.budget < 0:  # hours borrowed from after the horizon (or after leaving)
                rep.hours_used += rep.budget
        for lead in list(self.agents_by_type.get(Lead, [])):
            if lead.step == CONTACT and lead.draws is None:
                sent = min(lead.attempts, int((end - lead.ready) // interval) + 1)
                self.email_cost += sent * self.marketing.nurture.cost_per_email
                self.book.add(lead, int(LeadState.NURTURING), -1, end, sent)
            else:
                self.book.add(lead, int(LeadState.OPEN), max(lead.step, 0), end)
            lead.remove()
        self.events.clear()
        self.later.clear()
        self.pool.clear()
