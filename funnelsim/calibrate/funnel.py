"""Stage conversions and the time spent in each stage, with open deals and leads right-censored.

Each transition is a competing-risks problem: from entering a state, a unit passes, is lost, or
is still waiting at the export (censored at `as_of`, not lost). The probability of ever passing
is the Aalen-Johansen cumulative incidence at the last time; the time to pass, among those who
pass, is that incidence normalised by its final value (with no loss, one minus Kaplan-Meier).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelsim.calibrate.estimates import Delay, Estimate
from funnelsim.calibrate.fits import fit_triangular
from funnelsim.calibrate.survival import (
    CENSORED,
    LOST,
    PASSED,
    Competing,
    bootstrap,
    percentile_interval,
    working_days,
)

QUANTILES = (0.25, 0.5, 0.75, 0.9)
MIN_UNITS = 20  # fewer units than this entering a state: its conversion is not estimated
MIN_TRIANGULAR = 20  # fewer completed delays than this: no triangular fit
TRIANGULAR_REPLICATES = 50  # each refit is an optimisation, so fewer replicates than elsewhere


class Transition:
    """Units entering a state at `entered`, passing at `passed` or lost at `lost` (NaT if not)."""

    def __init__(self, name, entered, passed, lost, as_of, tables, days):
        entered = pd.DatetimeIndex(entered)
        passed = pd.DatetimeIndex(passed)
        lost = pd.DatetimeIndex(lost)
        event = np.where(~passed.isna(), PASSED, np.where(~lost.isna(), LOST, CENSORED))
        end = passed.where(event == PASSED, lost.where(event == LOST, pd.DatetimeIndex([as_of] * len(entered))))
        self.name = name
        self.tables = tables
        self.entered = entered
        self.as_of = as_of
        self.days = days
        self.time = np.maximum(days(entered, end), 0.0)
        self.event = event
        self.data = Competing(self.time, event)

    def __len__(self) -> int:
        return len(self.time)

    def conversion(self, replicates: int, rng) -> Estimate:
        value = float(self.data.eventually()[0])
        draws = bootstrap(len(self), replicates, rng, self.data.eventually)
        lo, hi = percentile_interval(value, draws.ravel())
        open_ = int((self.event == CENSORED).sum())
        how = f"Aalen-Johansen, {open_} not yet passed or lost, censored at the export; bootstrap over units"
        return Estimate(value, lo, hi, len(self), self.tables, how)

    def delay(self, replicates: int, rng) -> Delay:
        probs = np.array(QUANTILES)
        point = self.data.quantiles(probs)[0]
        draws = bootstrap(len(self), replicates, rng, lambda w: self.data.quantiles(probs, w))
        n_passed = int((self.event == PASSED).sum())
        how = "working days, quantile of the cumulative incidence of passing over its final value"
        quantiles = {
            float(q): Estimate(float(point[j]), *percentile_interval(point[j], draws[:, j]), n_passed, self.tables, how)
            for j, q in enumerate(QUANTILES)
        }
        fit, note, spread = self.triangular(min(replicates, TRIANGULAR_REPLICATES), rng)
        return Delay(quantiles, fit, n_passed, note, spread)

    def triangular(self, replicates: int, rng):
        """Fit on units entered long enough before the export that their delay was not cut short;
        each parameter's 95% interval from refits on `replicates` bootstrap samples."""
        top = self.data.quantiles(np.array([0.99]))[0, 0]
        if not np.isfinite(top):
            return None, "no delay completed", {}
        old = np.asarray(self.days(self.entered, pd.DatetimeIndex([self.as_of] * len(self))) >= top)
        done = self.time[old & (self.event == PASSED)]
        if len(done) < MIN_TRIANGULAR:
            return None, f"{len(done)} completed delays entered over {top:.1f} working days before the export", {}
        fit = fit_triangular(done)
        refits = [fit_triangular(done[rng.integers(0, len(done), len(done))]) for _ in range(replicates)]
        refits = np.array([r for r in refits if r is not None]).reshape(-1, 3)
        spread = {name: percentile_interval(fit[j], refits[:, j]) for j, name in enumerate(("low", "mode", "high"))}
        note = (
            f"maximum likelihood on {len(done)} delays of units entered at least {top:.1f} working days "
            f"(the 99th percentile) before the export, so censoring does not cut the tail; intervals from "
            f"{len(refits)} bootstrap refits"
        )
        return fit, note, spread


def lead_transitions(crm, days) -> list[Transition]:
    """lead->mql (if the export has MQL times) and mql->sql (or lead->sql)."""
    leads = crm.leads
    none = pd.Series(pd.NaT, index=leads.index, dtype="datetime64[ns]")
    out = []
    mql = leads.get("mql_time", none)
    has_mql = bool(mql.notna().any())
    if has_mql:
        out.append(Transition("lead->mql", leads["created"], mql, none, crm.as_of, ("leads",), days))
    sql = leads.get("sql_time", none)
    opp_created = _opportunity_created(crm)
    if opp_created is not None:
        sql = sql.fillna(opp_created)
    if not sql.notna().any():
        return out
    tables = ("leads",) if opp_created is None else ("leads", "opportunities")
    if has_mql:
        at = mql.notna()
        out.append(Transition("mql->sql", mql[at], sql[at], none[at], crm.as_of, tables, days))
    else:
        out.append(Transition("lead->sql", leads["created"], sql, none, crm.as_of, tables, days))
    return out


def _opportunity_created(crm) -> pd.Series | None:
    """Per lead, when its opportunity was created (through leads.opp_id or opportunities.lead_id)."""
    opps = crm.opportunities
    leads = crm.leads
    if opps.empty:
        return None
    created = pd.Series(pd.NaT, index=leads.index, dtype="datetime64[ns]")
    if "opp_id" in leads and leads["opp_id"].notna().any():
        by_opp = opps.drop_duplicates("opp_id").set_index("opp_id")["created"]
        created = created.fillna(pd.Series(leads["opp_id"].map(by_opp).to_numpy(), index=leads.index))
    if "lead_id" in opps and opps["lead_id"].notna().any():
        by_lead = opps.dropna(subset=["lead_id"]).groupby("lead_id")["created"].min()
        created = created.fillna(pd.Series(leads["lead_id"].map(by_lead).to_numpy(), index=leads.index))
    return created if created.notna().any() else None


def stage_transitions(crm, days) -> tuple[list[Transition], list[str]]:
    """stage k -> a later stage (or won), for each opportunity stage, from the stage history."""
    hist = crm.stage_history
    stages = list(crm.stages[1:])
    if hist is None or hist.empty:
        return [], ["no stage history: conversion and time of each opportunity stage not estimated"]
    wide = hist.pivot_table(index="opp_id", columns="stage", values="entered", aggfunc="min")
    opps = crm.opportunities.drop_duplicates("opp_id").set_index("opp_id").reindex(wide.index)
    col = {s: wide[s] if s in wide else pd.Series(pd.NaT, index=wide.index) for s in [*stages, "won", "lost"]}
    won = col["won"].fillna(opps["close_time"].where(opps["outcome"] == "won"))
    lost = col["lost"].fillna(opps["close_time"].where(opps["outcome"] == "lost"))
    out = []
    for k, stage in enumerate(stages):
        later = pd.concat([col[s] for s in stages[k + 1 :]] + [won], axis=1).min(axis=1)
        at = col[stage].notna()
        nxt = stages[k + 1] if k + 1 < len(stages) else "won"
        # lost after passing on belongs to a later stage; lost before entering this one cannot happen
        lost_here = lost[at].where(later[at].isna())
        out.append(
            Transition(
                f"{stage}->{nxt}", col[stage][at], later[at], lost_here, crm.as_of,
                ("stage_history", "opportunities"), days,
            )
        )  # fmt: skip
    return out, []


def won_transition(crm, days) -> Transition | None:
    opps = crm.opportunities
    if opps.empty:
        return None
    closed = opps["close_time"].fillna(crm.as_of)
    won = closed.where(opps["outcome"] == "won")
    lost = closed.where(opps["outcome"] == "lost")
    return Transition("opportunity->won", opps["created"], won, lost, crm.as_of, ("opportunities",), days)


def day_counter(hours_per_day: float, days_per_week: int):
    return lambda a, b: working_days(a, b, hours_per_day, days_per_week)
