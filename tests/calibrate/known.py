"""CRM exports drawn with numpy from a known truth, to check what `direct.estimate` recovers.

Time is laid as the model counts it: working days of 8 hours from 09:00, Monday to Friday, from
a Monday morning; so a delay of d working days in the truth is d working days in the export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnelsim.calibrate.canonical import CrmData

ORIGIN = pd.Timestamp("2025-01-06 09:00")  # a Monday morning
STAGES = ("qualify", "discovery", "proposal", "negotiation")


@dataclass
class Truth:
    weeks: int = 26
    rates: dict[str, float] = field(default_factory=lambda: {"paid_search": 60.0, "content": 30.0})
    p_mql: float = 0.4
    p_sql: float = 0.3
    stages: dict[str, float] = field(default_factory=lambda: {"discovery": 0.5, "proposal": 0.45, "negotiation": 0.6})
    delays: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: {"discovery": (3, 7, 14), "proposal": (5, 12, 25), "negotiation": (5, 14, 30)}
    )
    median_value: float = 25_000.0
    sigma_value: float = 0.6
    values: str = "lognormal"  # or "gamma" (shape 3, mean at median_value)
    tried: float = 0.8  # share of MQLs ever tried
    response_mean_hours: float = 10.0  # exponential, calendar hours
    curve: tuple[float, ...] | None = None  # qualification multiplier by bucket 0-1, 1-2, 2-24, 24+ h
    reps: int = 6

    @property
    def win(self) -> float:
        return float(np.prod(list(self.stages.values())))


def at_working(t: np.ndarray) -> pd.DatetimeIndex:
    """Working days since the origin -> timestamps (NaN -> NaT)."""
    t = np.asarray(t, dtype=float)
    ok = np.isfinite(t)
    day = np.floor(np.where(ok, t, 0.0))
    week, weekday = np.divmod(day, 5)
    hours = (week * 7 + weekday) * 24 + (np.where(ok, t, 0.0) - day) * 8
    out = ORIGIN + pd.to_timedelta(np.round(hours * 3600), unit="s")
    return out.where(ok)


def draw(truth: Truth, seed: int, *, tables=("stage_history", "activities", "reps")) -> CrmData:
    rng = np.random.default_rng(seed)
    horizon = 5.0 * truth.weeks
    created, channel = [], []
    for name, rate in truth.rates.items():
        n = rng.poisson(rate * truth.weeks)
        created.append(rng.uniform(0, horizon, n))
        channel += [name] * n
    created = np.concatenate(created)
    channel = np.array(channel)
    n = len(created)
    mql = np.where(rng.random(n) < truth.p_mql, created + rng.exponential(1.0, n), np.nan)
    mql[mql > horizon] = np.nan
    # response in calendar hours from the MQL; lay it on the calendar directly
    is_mql = np.isfinite(mql)
    mql_ts = at_working(mql)
    resp = rng.exponential(truth.response_mean_hours, n)
    tried = is_mql & (rng.random(n) < truth.tried)
    contact_ts = mql_ts + pd.to_timedelta(np.where(tried, resp, 0.0) * 3600, unit="s")
    as_of = at_working(np.array([horizon]))[0]
    tried &= np.asarray(contact_ts <= as_of)
    contact_ts = contact_ts.where(tried)
    p = np.full(n, truth.p_sql)
    if truth.curve is not None:
        p = np.where(tried, truth.p_sql * np.asarray(truth.curve)[np.digitize(resp, [1, 2, 24])], 0.0)
    sql = np.where(is_mql & (rng.random(n) < p), mql + rng.exponential(3.0, n), np.nan)
    if truth.curve is not None:  # qualified in the call that reached them
        sql = np.where(np.isfinite(sql), np.nan, np.nan)
        q = is_mql & tried & (rng.random(n) < p)
        sql_ts = contact_ts.where(q)
        sql_ts = sql_ts.where(np.asarray(sql_ts <= as_of))
    else:
        sql[sql > horizon] = np.nan
        sql_ts = at_working(sql)
    has_opp = np.asarray(sql_ts.notna())
    lead_ids = np.char.add("L", np.arange(n).astype(str))
    owners = np.char.add("R", rng.integers(0, truth.reps, n).astype(str))

    o = np.flatnonzero(has_opp)
    opp_ids = np.char.add("O", o.astype(str))
    opp_created = working_of(sql_ts[o])
    h_opp, h_stage, h_time = [], [], []
    now = opp_created.copy()
    alive = np.ones(len(o), dtype=bool)
    outcome = np.full(len(o), "open", dtype=object)
    stage_now = np.full(len(o), "discovery", dtype=object)
    close = np.full(len(o), np.nan)
    h_opp += list(opp_ids)
    h_stage += ["discovery"] * len(o)
    h_time += list(now)
    names = list(truth.stages)
    for k, stage in enumerate(names):
        low, mode, high = truth.delays[stage]
        t = now + rng.triangular(low, mode, high, len(o))
        seen = alive & (t <= horizon)
        passed = seen & (rng.random(len(o)) < truth.stages[stage])
        lost = seen & ~passed
        nxt = names[k + 1] if k + 1 < len(names) else "won"
        h_opp += list(opp_ids[passed]) + list(opp_ids[lost])
        h_stage += [nxt] * int(passed.sum()) + ["lost"] * int(lost.sum())
        h_time += list(t[passed]) + list(t[lost])
        outcome[lost] = "lost"
        close[lost] = t[lost]
        stage_now[passed] = nxt
        if nxt == "won":
            outcome[passed] = "won"
            close[passed] = t[passed]
        alive &= passed
        now = t
    alive &= outcome == "open"
    if truth.values == "lognormal":
        amount = truth.median_value * np.exp(truth.sigma_value * rng.standard_normal(len(o)))
    else:
        amount = rng.gamma(3.0, truth.median_value / 3.0, len(o))
    stage_col = pd.array(np.where(stage_now == "won", names[-1], stage_now), dtype="string")

    leads = pd.DataFrame(
        {
            "lead_id": pd.array(lead_ids, dtype="string"),
            "created": at_working(created),
            "channel": pd.array(channel, dtype="string"),
            "owner": pd.array(owners, dtype="string"),
            "first_contact": contact_ts,
            "mql_time": mql_ts,
            "sql_time": sql_ts,
            "opp_id": pd.array(np.where(has_opp, np.char.add("O", np.arange(n).astype(str)), None), dtype="string"),
        }
    )
    opportunities = pd.DataFrame(
        {
            "opp_id": pd.array(opp_ids, dtype="string"),
            "lead_id": pd.array(lead_ids[o], dtype="string"),
            "created": at_working(opp_created),
            "amount": amount,
            "close_time": at_working(close),
            "outcome": pd.array(outcome.astype(str), dtype="string"),
            "stage": stage_col,
            "owner": pd.array(owners[o], dtype="string"),
        }
    )
    crm = CrmData(leads=leads, opportunities=opportunities, stages=STAGES, as_of=as_of)
    if "stage_history" in tables:
        crm.stage_history = pd.DataFrame(
            {
                "opp_id": pd.array(h_opp, dtype="string"),
                "stage": pd.array(h_stage, dtype="string"),
                "entered": at_working(np.array(h_time, dtype=float)),
            }
        )
    if "activities" in tables:
        t = np.flatnonzero(tried)
        crm.activities = pd.DataFrame(
            {
                "rep_id": pd.array(owners[t], dtype="string"),
                "lead_id": pd.array(lead_ids[t], dtype="string"),
                "opp_id": pd.array([None] * len(t), dtype="string"),
                "time": contact_ts[t],
                "type": pd.array(["call"] * len(t), dtype="string"),
            }
        )
    if "reps" in tables:
        crm.reps = pd.DataFrame(
            {
                "rep_id": pd.array([f"R{i}" for i in range(truth.reps)], dtype="string"),
                "start": pd.Series([pd.NaT] * truth.reps, dtype="datetime64[ns]"),
                "end": pd.Series([pd.NaT] * truth.reps, dtype="datetime64[ns]"),
            }
        )
    return crm


def working_of(ts: pd.DatetimeIndex) -> np.ndarray:
    """Timestamps laid by `at_working` -> working days since the origin."""
    delta = (pd.DatetimeIndex(ts) - ORIGIN).total_seconds().to_numpy() / 3600.0
    weeks, rest = np.divmod(delta, 7 * 24)
    days, hours = np.divmod(rest, 24)
    return weeks * 5 + days + hours / 8
