"""What a finished run measured: KPIs, the funnel by stage, the per-rep table, daily series."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from funnelsim.results.records import LeadState
from funnelsim.results.registry import KPI_LABELS, KPI_NAMES, compute_kpis, cycle_days, response_hours

__all__ = ["KPI_LABELS", "KPI_NAMES", "cycle_days", "response_hours", "run_kpis"]

if TYPE_CHECKING:
    from funnelsim.model.model import FunnelModel


def run_kpis(model: FunnelModel) -> dict[str, float]:
    """Every KPI of the registry, in its order."""
    return compute_kpis(model)


def passed_stage(book: dict[str, np.ndarray], k: int) -> np.ndarray:
    """Which finished leads got past stage k: won by a rep, or ended (lost, cold, open) at a later stage."""
    state = book["state"]
    in_sales = (book["entered"] >= 0) & (state != LeadState.WON_BY_EMAIL)
    return in_sales & ((state == LeadState.WON) | ((book["stage"] > k) & (state != LeadState.UNREACHED)))


def stage_passes(book: dict[str, np.ndarray], n_stages: int) -> list[int]:
    """How many finished leads got past each stage (the last: won by a rep)."""
    return [int(np.count_nonzero(passed_stage(book, k))) for k in range(n_stages)]


# The funnel's last step counts deals a rep closed; deals closed by email alone never reach a rep,
# so the KPI `deals_won` is this step plus `deals_won_by_email`. Figures say so on the bar.
WON_BY_A_REP = "won by a rep"
FUNNEL_LABELS = {"created": "Leads created", "worked": "Worked by a rep"}


def funnel_steps(stage_names: list[str]) -> list[str]:
    """The funnel's steps: created, sent to sales, worked, past each stage but the last, won by a rep."""
    return ["created", "sent to sales", "worked", *(f"passed {n}" for n in stage_names[:-1]), WON_BY_A_REP]


def funnel_label(step: str) -> str:
    return FUNNEL_LABELS.get(step, step.capitalize())


def funnel(model: FunnelModel) -> pd.Series:
    """How many finished leads reached each step of `funnel_steps`."""
    book = model.book.arrays()
    names = [s.name for s in model.sales.stages]
    worked = int(np.count_nonzero(book["first_attempt"] >= 0))
    counts = [model.leads_created, model.sales_entries, worked, *stage_passes(book, len(names))]
    return pd.Series(dict(zip(funnel_steps(names), counts, strict=True)), name="leads")


def rep_table(model: FunnelModel) -> pd.DataFrame:
    rows = [
        {
            "rep_id": r.unique_id,
            "team": r.team,
            "cohort_week": r.cohort,
            "active_end": r.active,
            "honest": r.honest,
            "skill": r.skill,
            "hours_available": r.hours_available,
            "hours_used": r.hours_used,
            "utilization": r.hours_used / r.hours_available if r.hours_available else float("nan"),
            "leads_assigned": r.leads_assigned,
            "deals_won": r.deals_won,
            "revenue": r.revenue,
            "open_leads_end": r.open_leads,
            "training_hours": r.training_hours,
            "mentoring_hours": r.mentoring_hours,
        }
        for r in model.roster
    ]
    return pd.DataFrame(rows)


def rep_weekly(model: FunnelModel) -> pd.DataFrame:
    """One row per rep and week: skill, tenure, cumulative hours, deals and revenue."""
    return model.people.weekly.frame()


def daily_series(model: FunnelModel) -> pd.DataFrame:
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df["week"] = (df["day"] - 1) // model.calendar.days_per_week + 1
    df["rep_utilization"] = (df["rep_hours_used"].diff().fillna(df["rep_hours_used"])) / (
        df["rep_hours_available"].diff().fillna(df["rep_hours_available"])
    ).replace(0, np.nan)
    return df


def cohort_weekly(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per-cohort weekly series (cohort = hire week, -1 = the team at the start): reps, mean
    skill and tenure, and the cohort's cumulative hours, deals and revenue."""
    keys = [k for k in ("run", "seed") if k in weekly] + ["week", "cohort"]
    return (
        weekly[weekly["active"]]
        .groupby(keys)
        .agg(
            reps=("rep_id", "size"),
            skill=("skill", "mean"),
            tenure_months=("tenure_months", "mean"),
            hours_available=("hours_available", "sum"),
            hours_used=("hours_used", "sum"),
            training_hours=("training_hours", "sum"),
            mentoring_hours=("mentoring_hours", "sum"),
            deals_won=("deals_won", "sum"),
            revenue=("revenue", "sum"),
        )
        .reset_index()
    )
