"""A funnelsim run written as a company's CRM would hold it: the canonical tables of a known truth.

Calibration is tested by exporting a run of a scenario whose every parameter is known, reading
the export back and checking what comes out. `simulate_export(scenario, seed)` runs the model
with a `Trace` attached, which records what a CRM records and the lead book does not: when each
stage was entered and every task a rep worked. The trace draws no random numbers, so a traced run
has exactly the results of an untraced one.

How the model's funnel becomes CRM records:
    - a lead is created when marketing buys it; it becomes an MQL when it reaches sales (its score
      at the threshold, or a nurture reply), and an SQL when the call that reaches it qualifies it;
    - qualifying converts the lead into an opportunity (Salesforce's lead conversion), created in
      the second stage (discovery); each stage passed enters the next, the last one passed is won;
      a deal lost at a stage, gone cold or left behind by a rep who left is closed lost; a deal
      still in sales at the horizon is open;
    - a contact attempt is a call; a later stage's work is a meeting (a demo at proposal);
    - a deal won from a nurture email alone is an opportunity created and won the same moment;
    - business hours are laid on a calendar from a first working morning (a Monday, 09:00).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelsim.calibrate.canonical import CrmData
from funnelsim.results.records import LeadBook, LeadState

ORIGIN = pd.Timestamp("2025-01-06 09:00")  # a Monday morning
CLOSED_LOST = (LeadState.LOST, LeadState.WENT_COLD, LeadState.REP_LEFT)


class TracingBook(LeadBook):
    """The lead book, also keeping each finished lead's agent id and deal value (the plain book
    keeps the value of won deals only); -1 for leads booked in batches, which were never agents."""

    __slots__ = ("ids", "values")

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[int] = []
        self.values: list[float] = []

    def add(self, lead, state: int, stage: int, ended: float, emails: int = 0) -> None:
        self.ids.append(lead.unique_id)
        self.values.append(lead.value)
        super().add(lead, state, stage, ended, emails)

    def add_rows(self, created, fit, value, channel, ended, state, emails) -> None:
        self.ids.extend([-1] * len(created))
        self.values.extend(np.asarray(value, dtype=float).tolist())
        super().add_rows(created, fit, value, channel, ended, state, emails)


class Trace:
    """Stage entries and tasks of one run, in business hours; `attach` before the run starts."""

    def __init__(self) -> None:
        self.passed_at: dict[tuple[int, int], float] = {}  # (lead id, stage passed) -> time
        self.tasks: list[tuple[int, int, int, float]] = []  # rep id, lead id, step, start

    @classmethod
    def attach(cls, model) -> Trace:
        if model.day or len(model.book):
            raise ValueError("a trace is attached before the run starts")
        trace = cls()
        model.trace = trace
        model.book = TracingBook()
        return trace

    def passed(self, lead, stage: int, now: float) -> None:
        self.passed_at[(lead.unique_id, stage)] = now

    def task(self, rep, lead, now: float) -> None:
        self.tasks.append((rep.unique_id, lead.unique_id, lead.step, now))


def simulate_export(scenario, seed: int, origin: pd.Timestamp = ORIGIN) -> CrmData:
    """Run `scenario` at `seed` with a trace and return what its CRM would export at the horizon."""
    from funnelsim.model.model import FunnelModel

    model = FunnelModel(scenario, rng=seed)
    trace = Trace.attach(model)
    model.run()
    return crm_tables(model, trace, origin)


def crm_tables(model, trace: Trace, origin: pd.Timestamp = ORIGIN) -> CrmData:
    """The canonical tables of a finished traced run."""
    book: TracingBook = model.book
    cols = book.arrays()
    n = len(cols["state"])
    calendar = model.calendar
    stages = tuple(s.name for s in model.config.sales.stages)
    channels = [c.name for c in model.config.marketing.channels] + ["referral"]

    def when(t) -> pd.DatetimeIndex:
        t = np.asarray(t, dtype=float)
        hours = calendar.calendar_hours_array(np.where(t >= 0, t, 0.0))
        out = origin + pd.to_timedelta(np.round(hours * 3600.0), unit="s")
        return out.where(t >= 0)

    ids = np.asarray(book.ids, dtype=np.int64)
    batch = ids < 0
    ids[batch] = -(np.arange(int(batch.sum())) + 1)  # batch leads get their own negative ids
    lead_key = np.where(ids >= 0, np.char.add("L", ids.astype(str)), np.char.add("N", (-ids).astype(str)))
    state = cols["state"].astype(int)
    rep = cols["rep"]
    owner = pd.array(np.where(rep >= 0, np.char.add("R", rep.astype(str)), ""), dtype="string")
    owner[rep < 0] = pd.NA

    qualified = np.array([trace.passed_at.get((i, 0), -1.0) for i in ids]) if n else np.zeros(0)
    opens_deal = (qualified >= 0) & (len(stages) > 1)
    by_email = state == LeadState.WON_BY_EMAIL
    has_opp = opens_deal | by_email
    opp_key = pd.array(np.char.add("O", lead_key), dtype="string")
    opp_key[~has_opp] = pd.NA

    leads = pd.DataFrame(
        {
            "lead_id": pd.array(lead_key, dtype="string"),
            "created": when(cols["created"]),
            "channel": pd.array(np.asarray(channels)[cols["channel"]], dtype="string"),
            "owner": owner,
            "first_contact": when(cols["first_attempt"]),
            "mql_time": when(cols["entered"]),
            "sql_time": when(qualified),
            "opp_id": opp_key,
        }
    )

    o = np.flatnonzero(has_opp)
    o_state = state[o]
    outcome = np.where(
        np.isin(o_state, [LeadState.WON, LeadState.WON_BY_EMAIL]),
        "won",
        np.where(o_state == LeadState.OPEN, "open", "lost"),
    )
    created = np.where(by_email[o], cols["ended"][o], qualified[o])
    closed = outcome != "open"
    stage_of = cols["stage"][o]
    stage_name = pd.array(np.asarray(stages, dtype=object)[np.clip(stage_of, 0, len(stages) - 1)], dtype="string")
    stage_name[(stage_of < 1) | by_email[o]] = pd.NA
    opportunities = pd.DataFrame(
        {
            "opp_id": opp_key[o],
            "lead_id": pd.array(lead_key[o], dtype="string"),
            "created": when(created),
            "amount": np.asarray(book.values, dtype=float)[o],
            "close_time": when(np.where(closed, cols["ended"][o], -1.0)),
            "outcome": pd.array(outcome, dtype="string"),
            "stage": stage_name,
            "owner": owner[o],
        }
    )

    # stage history: the deal opens in the second stage; each stage passed enters the next
    h_opp, h_stage, h_time = [], [], []
    for row in o:
        key, uid = opp_key[row], ids[row]
        if by_email[row]:
            h_opp.append(key), h_stage.append("won"), h_time.append(cols["ended"][row])
            continue
        h_opp.append(key), h_stage.append(stages[1]), h_time.append(qualified[row])
        for k in range(1, len(stages)):
            t = trace.passed_at.get((uid, k))
            if t is None:
                break
            h_opp.append(key), h_stage.append(stages[k + 1] if k + 1 < len(stages) else "won"), h_time.append(t)
        if state[row] in CLOSED_LOST:
            h_opp.append(key), h_stage.append("lost"), h_time.append(cols["ended"][row])
    stage_history = pd.DataFrame(
        {
            "opp_id": pd.array(h_opp, dtype="string"),
            "stage": pd.array(h_stage, dtype="string"),
            "entered": when(np.asarray(h_time, dtype=float)),
        }
    )

    tasks = np.asarray(trace.tasks, dtype=float).reshape(-1, 4)
    t_rep, t_lead, t_step = tasks[:, 0].astype(np.int64), tasks[:, 1].astype(np.int64), tasks[:, 2].astype(int)
    kind = np.where(t_step < 0, "call", "meeting")
    if len(stages) > 2:
        kind[t_step == 2] = "demo"
    t_opp = pd.array(np.char.add("OL", t_lead.astype(str)), dtype="string")
    t_opp[t_step < 1] = pd.NA
    activities = pd.DataFrame(
        {
            "rep_id": pd.array(np.char.add("R", t_rep.astype(str)), dtype="string"),
            "lead_id": pd.array(np.char.add("L", t_lead.astype(str)), dtype="string"),
            "opp_id": t_opp,
            "time": when(tasks[:, 3]),
            "type": pd.array(kind, dtype="string"),
        }
    )

    hpd = calendar.hours_per_day
    reps = pd.DataFrame(
        {
            "rep_id": pd.array([f"R{r.unique_id}" for r in model.roster], dtype="string"),
            "start": when([r.hire_day * hpd if r.cohort >= 0 else -1.0 for r in model.roster]),
            "end": when([r.left_day * hpd if r.left_day is not None else -1.0 for r in model.roster]),
        }
    )
    as_of = when([model.horizon])[0]
    return CrmData(
        leads=leads,
        opportunities=opportunities,
        stages=stages,
        as_of=as_of,
        stage_history=stage_history,
        activities=activities,
        reps=reps,
        sources={name: f"simulated ({model.config.name}, seed {model.seed})" for name in TABLES_ALL},
    )


TABLES_ALL = ("leads", "opportunities", "stage_history", "activities", "reps")
