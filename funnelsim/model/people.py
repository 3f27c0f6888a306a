"""People dynamics: reps are hired, ramp up, train, mentor, learn, and leave.

Runs once a week (skills, attrition, hiring rule, mentoring, the teams' feedback loop) and once
a day for due hires; everything per lead stays in the model's hot path untouched.
"""

from __future__ import annotations

import heapq
from array import array
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from funnelsim.model.agents import Rep
from funnelsim.model.curves import effect, ramp_share, saturating

if TYPE_CHECKING:
    from funnelsim.model.model import FunnelModel


class PeopleDynamics:
    """Hiring plan, attrition and backfill, ramp, training, mentoring; the per-rep weekly record."""

    def __init__(self, model: FunnelModel):
        self.model = model
        people = model.config.people
        self.cfg = people
        self.rng = model.streams.people
        self.days_per_week = model.calendar.days_per_week
        self.days_per_month = model.days_per_month
        self.weekly_hazard = 1.0 - (1.0 - people.attrition.annual_rate) ** (1 / 52)
        self.team_index = {t.name: i for i, t in enumerate(model.sales.teams)}
        self.pending: list[tuple[int, int, int]] = []  # (day, seq, team index)
        self._seq = 0
        for cohort in people.hiring.cohorts:
            for _ in range(cohort.reps):
                self._plan(round(cohort.week * self.days_per_week), self._team(cohort.team))
        self.hires = 0
        self.leavers = 0
        self.expected_leavers = 0.0
        self.training_cost = 0.0
        self.weekly = WeeklyRecord([t.name for t in model.sales.teams])

    def _team(self, name: str | None) -> int:
        return 0 if name is None else self.team_index.get(name, 0)

    def _plan(self, day: int, team: int) -> None:
        heapq.heappush(self.pending, (day, self._seq, team))
        self._seq += 1

    # -- reps joining ------------------------------------------------------------------------------
    def setup_rep(self, rep: Rep, day: int, initial: bool) -> None:
        """Hire date, honesty, bootcamp and mentor of a rep who joins at `day`."""
        team = self.model.sales.teams[rep.team_index]
        rep.cohort = -1 if initial else day // self.days_per_week
        if initial:
            rep.hire_day = day - team.tenure_months_at_start * self.days_per_month
        else:
            rep.hire_day = float(day)
            if team.bootcamp.weeks > 0 or team.bootcamp.cost_per_hire > 0:
                rep.selling_from = day + round(team.bootcamp.weeks * self.days_per_week)
                rep.tenure_bonus_days += team.bootcamp.tenure_credit_months * self.days_per_month
                self.training_cost += team.bootcamp.cost_per_hire
        rep.honest = self.rng.random() >= self.cfg.scruples.share_of_reps
        rep.training_per_day = team.training.hours_per_week / self.days_per_week
        if not initial and self.cfg.mentoring.enabled:
            self._find_mentor(rep, day)
        self.update_skill(rep, day)

    def _find_mentor(self, hire: Rep, day: int) -> None:
        need = self.cfg.mentoring.min_mentor_tenure_months * self.days_per_month
        free = [r for r in self.model.reps if r is not hire and r.mentee is None and day - r.hire_day >= need]
        if not free:
            return
        mentor = min(free, key=lambda r: (r.open_leads, r.unique_id))
        mentor.mentee, hire.mentor = hire, mentor
        mentor.mentoring_per_day = self.cfg.mentoring.hours_per_week / self.days_per_week

    def _end_mentoring(self, hire: Rep) -> None:
        mentor = hire.mentor
        if mentor is not None:
            mentor.mentee = None
            mentor.mentoring_per_day = 0.0
        hire.mentor = None

    def start_day(self, day: int) -> None:
        """Hires whose day has come join the team."""
        model = self.model
        while self.pending and self.pending[0][0] <= day:
            _, _, team_index = heapq.heappop(self.pending)
            team = model.sales.teams[team_index]
            skill = float(team.skill.ppf(self.rng.random(1))[0])
            rep = model.hire(team, team_index, skill)
            self.setup_rep(rep, day, initial=False)
            self.hires += 1

    # -- the weekly round --------------------------------------------------------------------------
    def start_week(self, day: int) -> None:
        model = self.model
        week = day // self.days_per_week
        if self.cfg.attrition.annual_rate > 0:
            self._attrition(day)
        rule = self.cfg.hiring.rule
        if rule is not None and week % max(1, round(rule.check_every_weeks)) == 0 and week > 0:
            self._hiring_rule(day, rule)
        mentoring = self.cfg.mentoring
        for rep in model.reps:
            if rep.mentor is not None:
                rep.tenure_bonus_days += mentoring.ramp_speedup * self.days_per_week
                if day - rep.hire_day >= mentoring.duration_weeks * self.days_per_week or not rep.mentor.active:
                    self._end_mentoring(rep)
            self.update_skill(rep, day)
        model.desk.router.refresh()

    def tenure_months(self, rep: Rep, day: float) -> float:
        return (day - rep.hire_day + rep.tenure_bonus_days) / self.days_per_month

    def update_skill(self, rep: Rep, day: float) -> None:
        """Skill = full skill x ramp share + what training and practice added (capped at 1)."""
        team = self.model.sales.teams[rep.team_index]
        skill = rep.potential * ramp_share(team.ramp, self.tenure_months(rep, day))
        if rep.training_hours > 0:
            skill += saturating(rep.training_hours, team.training.half_gain_hours, team.training.max_skill_gain)
        if team.learning.max_skill_gain > 0:
            skill += saturating(rep.tasks_done, team.learning.half_gain_tasks, team.learning.max_skill_gain)
        rep.skill = min(1.0, skill)
        outcomes = self.model.outcomes
        rep.skill_effect = effect(rep.skill, outcomes.skill_reference, outcomes.skill_elasticity)

    def _attrition(self, day: int) -> None:
        model = self.model
        reps = list(model.reps)
        if not reps:
            return
        first_year = 12 * self.days_per_month
        mult = self.cfg.attrition.first_year_multiplier
        hazard = np.array([self.weekly_hazard * (mult if day - r.hire_day < first_year else 1.0) for r in reps])
        hazard = np.minimum(hazard, 1.0)
        self.expected_leavers += float(hazard.sum())
        leaving = self.rng.random(len(reps)) < hazard
        for rep, leaves in zip(reps, leaving.tolist(), strict=True):
            if leaves:
                self.leavers += 1
                if rep.mentee is not None:
                    self._end_mentoring(rep.mentee)
                if rep.mentor is not None:
                    self._end_mentoring(rep)
                rep.leave(day)
                if self.cfg.attrition.backfill:
                    self._plan(day + round(self.cfg.hiring.time_to_hire_weeks * self.days_per_week), rep.team_index)

    def _hiring_rule(self, day: int, rule) -> None:
        model = self.model
        active = len(model.reps)
        open_leads = sum(r.open_leads for r in model.reps) + len(model.pool)
        headcount = active + len(self.pending)
        if active and open_leads / active > rule.open_leads_per_rep_above and headcount < rule.max_headcount:
            for _ in range(min(rule.hires_per_check, rule.max_headcount - headcount)):
                self._plan(day + round(self.cfg.hiring.time_to_hire_weeks * self.days_per_week), self._team(rule.team))

    def end_week(self, week: int, day: int) -> None:
        """One row per rep on the team this week: the per-rep and per-cohort time series."""
        record = self.weekly
        for rep in self.model.roster:
            if rep.left_day is not None and rep.left_day < day - self.days_per_week:
                continue
            record.add(
                week,
                rep.unique_id,
                rep.team_index,
                rep.cohort,
                self.tenure_months(rep, day) if rep.hire_day <= day else 0.0,
                (day - rep.hire_day) / self.days_per_month,
                rep.skill,
                rep.hours_available,
                rep.hours_used,
                rep.training_hours,
                rep.mentoring_hours,
                rep.deals_won,
                rep.revenue,
                rep.active,
                rep.mentor is not None,
            )


WEEKLY_COLUMNS = [
    "week",
    "rep_id",
    "team",
    "cohort",
    "ramp_tenure_months",
    "tenure_months",
    "skill",
    "hours_available",
    "hours_used",
    "training_hours",
    "mentoring_hours",
    "deals_won",
    "revenue",
    "active",
    "mentored",
]


class WeeklyRecord:
    """The per-rep weekly rows in typed columns (4,000 reps for a year are 208,000 rows)."""

    TYPECODES = ("l", "l", "h", "l", "d", "d", "d", "d", "d", "d", "d", "l", "d", "b", "b")

    def __init__(self, team_names: list[str]):
        self.team_names = team_names
        self.columns = [array(code) for code in self.TYPECODES]
        self.last_week = -1

    def add(self, *row) -> None:
        for column, value in zip(self.columns, row, strict=True):
            column.append(value)
        self.last_week = row[0]

    def __len__(self) -> int:
        return len(self.columns[0])

    def frame(self) -> pd.DataFrame:
        data = {name: np.array(col, dtype=col.typecode) for name, col in zip(WEEKLY_COLUMNS, self.columns, strict=True)}
        data["team"] = np.array(self.team_names, dtype=object)[data["team"]] if len(self) else np.array([], object)
        for name in ("week", "rep_id", "cohort", "deals_won"):
            data[name] = data[name].astype(np.int64)
        for name in ("active", "mentored"):
            data[name] = data[name].astype(bool)
        return pd.DataFrame(data, columns=WEEKLY_COLUMNS)
