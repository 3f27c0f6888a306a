"""FunnelModel: marketers buy leads, sales reps work them with limited hours, leads decay.

One Mesa step is one working day: leads are bought, reps get their selling hours, and the day's
events (arrivals, contact attempts, stages, follow-ups) run in time order on the model's own
event queue (`clock.EventQueue`). The rules of the world are in `agents.py` (and `nurture.py`,
`people.py`, `alignment.py`); this file wires the world, owns the clock and keeps the books.
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Callable
from contextlib import contextmanager
from functools import partial

import mesa
import numpy as np
from mesa.agentset import AgentSet

from funnelsim.model.agents import Lead, Marketer, Purchase, Rep
from funnelsim.model.alignment import Alignment
from funnelsim.model.calendar import WorkCalendar
from funnelsim.model.clock import EventQueue
from funnelsim.model.curves import ResponseCurve, selling_shares
from funnelsim.model.desk import SalesDesk
from funnelsim.model.levers import apply_levers
from funnelsim.model.luck import LuckDrawer, LuckLayout
from funnelsim.model.nurture import Nurture
from funnelsim.model.people import PeopleDynamics
from funnelsim.model.streams import RandomStreams
from funnelsim.results.daily import DAILY_SERIES
from funnelsim.results.records import LeadBook, LeadState
from funnelsim.scenario.defaults import default_scenario
from funnelsim.scenario.schema import Scenario


@contextmanager
def _cycle_collector_paused():
    """Leads die by reference counting; the cycle collector would only rescan the live funnel
    again and again (a fifth of the run time at 10x), so it waits for the day's end."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class FunnelModel(mesa.Model):
    """The sales funnel of one company over a horizon of working days.

    Attributes:
        config: the validated `Scenario` (Mesa's own `scenario` attribute is its parameter holder).
        calendar: the working calendar; clock: the event queue, `clock.now` the business hour.
        reps, marketers: AgentSets of `Rep` and `Marketer`; live leads are `agents_by_type[Lead]`.
        roster: every rep who was ever on the team; desk: routing, queues and hand-overs.
        book: compact records of finished leads; the counters below are the books of the run.
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
        self.clock = EventQueue(self.calendar.hours_per_day)
        self.days_total = max(1, round(config.horizon_weeks * config.calendar.days_per_week))
        self.horizon = self.days_total * self.calendar.hours_per_day
        self.days_per_month = config.calendar.days_per_week * 52 / 12
        self.marketing = config.marketing
        self.sales = config.sales
        self.outcomes = config.sales.outcomes
        self.deal_value = config.sales.deal_value
        reach, qualify = config.sales.response_curve.curves()
        self.curve = ResponseCurve(qualify)
        self.reach_curve = None if reach == [(0.0, 1.0)] else ResponseCurve(reach)
        self._setup_selling_rules()
        self.nurture = Nurture(self)

        self.day = 0
        self.book = LeadBook()
        self.trace = None  # a recorder of every stage entered and task worked (calibrate.synthetic)
        self._zero_counters()
        self.roster: list[Rep] = []
        self.rep_salaries = 0.0
        self.people = PeopleDynamics(self)
        self.alignment = Alignment(self)
        self.desk = SalesDesk(self)
        self._hire_initial_team()
        self.marketers = self._hire_marketers()
        self.marketer_salaries = sum(m.salary_per_year for m in self.marketers)
        self.close_boost = 1.0 + config.people.scruples.close_boost
        self.datacollector = mesa.DataCollector(model_reporters=DAILY_SERIES)

    # -- set-up ----------------------------------------------------------------------------------
    def _setup_selling_rules(self) -> None:
        """The sales process as plain numbers, read by reps and leads in the hot path."""
        sales = self.sales
        self.max_attempts = sales.contact.max_attempts
        self.n_stages = len(sales.stages)
        self.conversions = [s.conversion for s in sales.stages]
        self.attempt_spacing = sales.contact.attempt_spacing_hours
        self.reach_probability = sales.contact.reach_probability
        h = self.calendar.hours_per_day
        self.abandon_hours = None if sales.abandon_after_days is None else sales.abandon_after_days * h
        self.patience_hours = None if sales.follow_up_patience_days is None else sales.follow_up_patience_days * h
        self.layout = LuckLayout(self.max_attempts, self.n_stages)
        self.selling_shares = [selling_shares(team.selling_pattern, h) for team in sales.teams]
        self._spread_selling = any(len(s) > 1 for s in self.selling_shares)
        if self._spread_selling:  # one length for all teams: the hour events serve every rep
            width = max(len(s) for s in self.selling_shares)
            self.selling_shares = [s + [0.0] * (width - len(s)) for s in self.selling_shares]
        self.luck = LuckDrawer(self.layout, self.streams.outcomes, self.streams.durations, sales, h)
        referrals = self.streams.referrals
        self.referral_luck = LuckDrawer(self.layout, referrals, referrals, sales, h)

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
        self.first_stage_reached = 0
        self.first_stage_passed = 0

    def lead_worth(self, hours: float) -> float:
        """Share of a new lead's worth left after waiting `hours` (calendar): the chance to reach
        it times the chance to qualify it (the two response curves)."""
        reach = 1.0 if self.reach_curve is None else self.reach_curve(hours)
        return reach * self.curve(hours)

    @property
    def pool(self) -> list:
        """The shared queue of routing `pool`."""
        return self.desk.pool

    @property
    def handovers(self) -> int:
        return self.desk.handovers

    @property
    def now(self) -> float:
        """The current business time (hours since the first working morning)."""
        return self.clock.now

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
        self.desk.router.add(rep)
        return rep

    def _hire_marketers(self) -> AgentSet:
        channels = list(enumerate(self.marketing.channels))
        count = max(1, self.marketing.marketers)
        salary = self.marketing.salary_per_year if self.marketing.marketers > 0 else 0.0
        for i in range(count):
            Marketer(self, channels[i::count], salary)
        return self.agents_by_type[Marketer]

    # -- the day ---------------------------------------------------------------------------------
    def step(self) -> None:
        """One working day: the week's people and alignment rounds, hires join, marketers buy
        leads, reps get their selling hours, the day's events run, the day is booked and recorded."""
        day, week_days = self.day, self.calendar.days_per_week
        with _cycle_collector_paused():
            self.clock.open_day(day)
            if day % week_days == 0:
                self.people.start_week(day)
                self.alignment.start_week(day // week_days)
            self.people.start_day(day)
            self.buy_leads(day)
            if self.desk.lets_go:
                self.desk.let_go_surplus(self.clock.now)
            self.reps.do("start_day", self.clock.now, day)
            self._schedule_selling_hours(day)
            self.clock.run_until((day + 1) * self.calendar.hours_per_day)
            self.end_day()
        self.datacollector.collect(self)

    def _schedule_selling_hours(self, day: int) -> None:
        """Teams whose selling hours are spread over the day get each hour's share at its start."""
        hours = len(self.selling_shares[0]) if self._spread_selling else 1
        start = day * self.calendar.hours_per_day
        for hour in range(1, hours):
            self.clock.schedule_at(start + hour, partial(self._selling_hour, hour))

    def _selling_hour(self, hour: int) -> None:
        now = self.clock.now
        for rep in self.reps:
            rep.selling_hour(now, hour)

    def buy_leads(self, day: int) -> None:
        """The marketers buy today's leads, and marketing's score sorts them. An MQL becomes a
        lead agent that arrives in sales at its time. A lead below the threshold starts nurture
        at its arrival: one that will reply becomes an agent too; one whose emails will run out,
        or end in a purchase, has its fate sealed now and waits as a row in the nurture's ledger
        (two leads in three in the baseline are never agents)."""
        batches = [batch for marketer in self.marketers for batch in marketer.buy_leads(day)]
        if not batches:
            return
        channel = np.concatenate([np.full(len(b.times), b.channel, dtype=np.int64) for b in batches])
        created, fit, score, value = (np.concatenate([getattr(b, k) for b in batches]) for k in Purchase._fields[1:])
        luck, nurture_luck = self.draw_luck(len(created))
        width = self.layout.width
        agent = score >= self.marketing.mql_threshold
        below = np.flatnonzero(~agent)
        replying: dict[int, tuple[int, float]] = {}  # lead index: (emails, when it replies)
        if len(below):
            emails, ends, won, replies = self.nurture.plan(fit[below], nurture_luck[below], created[below])
            s_ = ~replies
            sealed = below[s_]
            self.nurture.seal(
                created[sealed], fit[sealed], value[sealed], channel[sealed], emails[s_], ends[s_], won[s_]
            )
            agent[below[replies]] = True
            plans = zip(emails[replies].tolist(), ends[replies].tolist(), strict=True)
            replying = dict(zip(below[replies].tolist(), plans, strict=True))
        idx = np.flatnonzero(agent)
        columns = (idx, channel[idx], created[idx], fit[idx], score[idx], value[idx])
        schedule_at = self.clock.schedule_at
        for i, c, t, f, s, v in zip(*(a.tolist() for a in columns), strict=True):
            lead = Lead(self, c, t, f, s, v)
            lead.luck = luck[i * width : (i + 1) * width]  # only agents need theirs
            plan = replying.get(i)
            if plan is None:
                schedule_at(t, lead.arrive)
            else:
                self.nurture.follow(lead, t, *plan)

    def draw_luck(self, n: int) -> tuple[array, np.ndarray]:
        """The luck of `n` leads bought today, in one batch (lead after lead, `layout.width`
        numbers each) and their nurture uniforms: every lead, MQL or not, agent or not, so the
        streams stay in step when only the MQL threshold or the team changes. A lead that reaches
        sales through nurture keeps the luck it was bought with."""
        return self.luck.draw_block(n), self.streams.nurture.random((n, 2))

    def end_day(self) -> None:
        """Sealed nurtures that ended today and salaries are booked; the weekly record; at the
        horizon, the books are closed."""
        self.nurture.settle(self.day)
        self.salary_cost += (self.rep_salaries + self.marketer_salaries) / (52 * self.calendar.days_per_week)
        self.day += 1
        if self.day % self.calendar.days_per_week == 0:
            self.people.end_week(self.day // self.calendar.days_per_week, self.day)
        if self.day >= self.days_total:
            self.running = False
            self._close_books()  # before the day's record, so it carries the horizon's email bill

    def refer(self, when: float) -> None:
        """A happy customer's referral, arriving at `when`. Referrals exist in some strategies and
        not others, so everything about them comes from their own stream and never shifts the
        luck of the leads marketing buys."""
        referrals = self.config.people.referrals
        rng = self.streams.referrals
        value = float(self.deal_value.ppf(rng.random(1))[0])
        referral = Lead(self, len(self.marketing.channels), when, referrals.fit, referrals.fit, value)
        referral.luck = self.referral_luck.draw(1)[0]
        referral.nurture_luck = rng.random(2).tolist()
        self.leads_created += 1
        self.referral_leads += 1
        self.clock.schedule_at(when, referral.arrive)

    def run(self, on_day: Callable[[int], None] | None = None) -> FunnelModel:
        """Step to the horizon (a whole run makes no cyclic garbage: the collector stays paused);
        `on_day(1)` after each day, for a progress bar."""
        with _cycle_collector_paused():
            while self.running:
                self.step()
                if on_day is not None:
                    on_day(1)
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

    # -- the books -------------------------------------------------------------------------------
    def book_sale(self, lead: Lead, rep: Rep | None) -> None:
        """Revenue of a won deal (rep None: won by email alone)."""
        self.revenue += lead.value
        if rep is not None:
            self.deals_won += 1
            rep.deals_won += 1
            rep.revenue += lead.value

    def book_refund(self, value: float) -> None:
        self.refunds += value

    def finish(self, lead: Lead, state: LeadState, stage: int, now: float) -> None:
        """A lead ends: recorded in the book, released by its rep, removed as an agent."""
        self.book.add(lead, int(state), stage, now, lead.emails)
        if lead.entered >= 0 and lead.first_attempt < 0:
            self.waiting_first_touch -= 1  # it leaves the queue without ever being tried
        if lead.rep is not None:
            self.desk.release(lead)
        lead.remove()

    def _close_books(self) -> None:
        """At the horizon: bill emails already sent, record live leads as open, trim overruns."""
        end = self.horizon
        self.backlog_end = self.desk.backlog(self.reps)
        for rep in self.roster:
            if rep.budget < 0:  # hours borrowed from after the horizon (or after leaving)
                rep.hours_used += rep.budget
                rep.budget = 0.0
        for lead in list(self.agents_by_type.get(Lead, [])):
            if lead.entered < 0:  # still in nurture (or a referral yet to arrive)
                sent = self.nurture.sent_by(lead, end)
                self.email_cost += sent * self.nurture.cost_per_email
                self.book.add(lead, int(LeadState.NURTURING), -1, end, sent)
            else:
                self.book.add(lead, int(LeadState.OPEN), max(lead.step, 0), end, lead.emails)
            lead.remove()
        self.nurture.close(end)
        self.clock.clear()
        self.desk.pool.clear()
