"""What a finished run measured: KPIs, the funnel by stage, the per-rep table, daily series."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from funnelsim.results.records import LeadState

if TYPE_CHECKING:
    from funnelsim.model.model import FunnelModel

KPI_NAMES = (
    "revenue",
    "cost",
    "profit",
    "deals_won",
    "leads_created",
    "leads_worked",
    "leads_never_worked",
    "win_rate",
    "response_time_hours_median",
    "cycle_days_median",
    "rep_hours_available",
    "rep_hours_used",
    "rep_utilization",
    "revenue_per_rep_hour",
    "backlog_end",
    # more than the minimum
    "mqls",
    "sales_leads",
    "deals_won_by_email",
    "response_within_1h_share",
    "response_time_hours_mean",
    "lead_cost",
    "email_cost",
    "salary_cost",
    "rep_utilization_max",
    "reps_overloaded_share",
    "leads_abandoned",
    "leads_open_end",
    "mean_deal_value",
    # people dynamics
    "training_cost",
    "mentoring_hours",
    "hires",
    "leavers",
    "revenue_net_of_refunds",
    "refunds",
    "profit_net_of_refunds",
    "mean_skill_end",
    "headcount_end",
    "leads_ignored",
    "trust_end",
    "referral_leads",
)

KPI_LABELS = {
    "revenue": "Revenue ($)",
    "cost": "Cost ($)",
    "profit": "Profit ($)",
    "deals_won": "Deals won",
    "leads_created": "Leads created",
    "leads_worked": "Leads worked by a rep",
    "leads_never_worked": "Leads never worked",
    "win_rate": "Win rate (won / created)",
    "response_time_hours_median": "Response time, median (h)",
    "cycle_days_median": "Sales cycle, median (days)",
    "rep_hours_available": "Rep selling hours available",
    "rep_hours_used": "Rep selling hours used",
    "rep_utilization": "Rep utilisation",
    "revenue_per_rep_hour": "Revenue per rep selling hour ($)",
    "backlog_end": "Backlog at end (tasks)",
    "mqls": "MQLs",
    "sales_leads": "Leads sent to sales",
    "deals_won_by_email": "Deals won by email alone",
    "response_within_1h_share": "Responded within 1 h (share)",
    "response_time_hours_mean": "Response time, mean (h)",
    "lead_cost": "Lead cost ($)",
    "email_cost": "Email cost ($)",
    "salary_cost": "Salary cost ($)",
    "rep_utilization_max": "Busiest rep's utilisation",
    "reps_overloaded_share": "Reps over 95% utilised (share)",
    "leads_abandoned": "Leads dropped unworked",
    "leads_open_end": "Leads still open at end",
    "mean_deal_value": "Mean deal value ($)",
    "training_cost": "Training cost ($)",
    "mentoring_hours": "Hours spent mentoring",
    "hires": "Hires",
    "leavers": "Leavers",
    "revenue_net_of_refunds": "Revenue net of refunds ($)",
    "refunds": "Refunds ($)",
    "profit_net_of_refunds": "Profit net of refunds ($)",
    "mean_skill_end": "Mean rep skill at end",
    "headcount_end": "Reps at end",
    "leads_ignored": "Leads ignored by reps (low trust)",
    "trust_end": "Reps' trust in marketing leads at end",
    "referral_leads": "Referral leads",
}


def response_hours(model: FunnelModel) -> np.ndarray:
    """Calendar hours from reaching sales to a rep's first attempt, for every worked lead."""
    book = model.book.arrays()
    worked = book["first_attempt"] >= 0
    cal = model.calendar
    return cal.calendar_hours_array(book["first_attempt"][worked]) - cal.calendar_hours_array(book["entered"][worked])


def cycle_days(model: FunnelModel) -> np.ndarray:
    """Calendar days from lead creation to close, for every deal won by a rep."""
    book = model.book.arrays()
    won = book["state"] == LeadState.WON
    cal = model.calendar
    return (cal.calendar_hours_array(book["ended"][won]) - cal.calendar_hours_array(book["created"][won])) / 24.0


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else float("nan")


def run_kpis(model: FunnelModel) -> dict[str, float]:
    book = model.book.arrays()
    state = book["state"]
    worked = int(np.count_nonzero(book["first_attempt"] >= 0))
    created = model.leads_created
    won = model.deals_won + model.deals_won_by_email
    roster = model.roster
    used = float(sum(r.hours_used for r in roster))
    available = float(sum(r.hours_available for r in roster))
    per_rep = [r.hours_used / r.hours_available for r in roster if r.hours_available > 0]
    resp = response_hours(model)
    revenue, cost = model.revenue, model.cost
    return {
        "revenue": revenue,
        "cost": cost,
        "profit": revenue - cost,
        "deals_won": won,
        "leads_created": created,
        "leads_worked": worked,
        "leads_never_worked": created - worked,
        "win_rate": won / created if created else float("nan"),
        "response_time_hours_median": _median(resp),
        "cycle_days_median": _median(cycle_days(model)),
        "rep_hours_available": available,
        "rep_hours_used": used,
        "rep_utilization": used / available if available else float("nan"),
        "revenue_per_rep_hour": revenue / used if used else float("nan"),
        "backlog_end": model.backlog_end,
        "mqls": model.mqls,
        "sales_leads": model.sales_entries,
        "deals_won_by_email": model.deals_won_by_email,
        "response_within_1h_share": float(np.mean(resp <= 1.0)) if len(resp) else float("nan"),
        "response_time_hours_mean": float(np.mean(resp)) if len(resp) else float("nan"),
        "lead_cost": model.lead_cost,
        "email_cost": model.email_cost,
        "salary_cost": model.salary_cost,
        "rep_utilization_max": max(per_rep, default=float("nan")),
        "reps_overloaded_share": float(np.mean(np.array(per_rep) > 0.95)) if per_rep else float("nan"),
        "leads_abandoned": int(np.count_nonzero(state == LeadState.ABANDONED)),
        "leads_open_end": int(np.count_nonzero(state == LeadState.OPEN)),
        "mean_deal_value": revenue / won if won else float("nan"),
        "training_cost": model.training_cost,
        "mentoring_hours": float(sum(r.mentoring_hours for r in roster)),
        "hires": model.people.hires,
        "leavers": model.people.leavers,
        "revenue_net_of_refunds": revenue - model.refunds,
        "refunds": model.refunds,
        "profit_net_of_refunds": revenue - model.refunds - cost,
        "mean_skill_end": float(np.mean([r.skill for r in model.reps])) if len(model.reps) else float("nan"),
        "headcount_end": len(model.reps),
        "leads_ignored": int(np.count_nonzero(state == LeadState.IGNORED)),
        "trust_end": model.alignment.trust,
        "referral_leads": model.referral_leads,
    }


def funnel(model: FunnelModel) -> pd.Series:
    """How many leads reached each step: created, sent to sales, worked, reached, then each stage."""
    book = model.book.arrays()
    state, stage = book["state"], book["stage"]
    names = [s.name for s in model.sales.stages]
    # a lead got past stage k if it was won, or ended (lost, cold, open) at a later stage
    in_sales = (book["entered"] >= 0) & (state != LeadState.WON_BY_EMAIL)
    past = {}
    for k, name in enumerate(names):
        later = in_sales & ((state == LeadState.WON) | ((stage > k) & (state != LeadState.UNREACHED)))
        past["won" if k == len(names) - 1 else f"passed {name}"] = int(np.count_nonzero(later))
    counts = {
        "created": model.leads_created,
        "sent to sales": model.sales_entries,
        "worked": int(np.count_nonzero(book["first_attempt"] >= 0)),
        **past,
    }
    return pd.Series(counts, name="leads")


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
