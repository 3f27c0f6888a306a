"""Summary statistics of a funnel: the numbers a simulation must reproduce to be called calibrated.

The same function reads the company's export and each simulated export (`synthetic`), over the
same window, so whatever an export cannot show (deals still open at its end, leads too young to
have been called) hides the same way in both, and the comparison needs no correction for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelsim.calibrate.canonical import CrmData

DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)

# name -> what it is, for the report
DESCRIPTIONS = {
    "leads_per_week": "leads created per week",
    "mql_share": "share of leads that became MQLs",
    "mql_later_share": "share of MQLs that became one more than a day after creation (nurture replies)",
    "sql_share": "share of MQLs that became SQLs (an opportunity)",
    "won_per_week": "deals won per week",
    "revenue_per_week": "revenue won per week",
    "cycle_days_q25": "days from opportunity to won, 25th percentile",
    "cycle_days_q50": "days from opportunity to won, median",
    "cycle_days_q75": "days from opportunity to won, 75th percentile",
    "value_q25": "won deal value, 25th percentile",
    "value_q50": "won deal value, median",
    "value_q75": "won deal value, 75th percentile",
    "within_1h": "share of MQLs first contacted within 1 calendar hour",
    "within_24h": "share of MQLs first contacted within 24 calendar hours",
}


def stage_pass_names(stages: tuple[str, ...]) -> list[str]:
    """`reached_<stage>` for each opportunity stage after the first, and `reached_won`."""
    return [f"reached_{s}" for s in (*stages[2:], "won")]


def summarise(crm: CrmData, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> dict[str, float]:
    """The summary statistics of `crm` for leads created in [start, end) (default: all of it)."""
    leads = crm.leads
    start = leads["created"].min() if start is None else start
    end = crm.as_of if end is None else end
    weeks = max((end - start) / pd.Timedelta(weeks=1), 1e-9)
    leads = leads[(leads["created"] >= start) & (leads["created"] < end)]
    n = len(leads)
    out: dict[str, float] = {"leads_per_week": n / weeks}

    mql = leads["mql_time"].notna().to_numpy()
    later = (leads["mql_time"] - leads["created"]) > DAY
    out["mql_share"] = _share(mql.sum(), n)
    out["mql_later_share"] = _share(later.sum(), mql.sum())
    has_opp = leads["opp_id"].notna() | leads["sql_time"].notna()
    out["sql_share"] = _share((has_opp & leads["mql_time"].notna()).sum(), mql.sum())

    opps = crm.opportunities
    opps = opps[opps["lead_id"].isin(leads["lead_id"]) & opps["lead_id"].notna()]
    if crm.stage_history is not None and len(crm.stages) > 2:
        h = crm.stage_history[crm.stage_history["opp_id"].isin(opps["opp_id"])]
        reached = h.groupby("stage", observed=True)["opp_id"].nunique()
        chain = [crm.stages[1], *crm.stages[2:], "won"]
        for before, after in zip(chain, chain[1:], strict=False):
            out[f"reached_{after}"] = _share(reached.get(after, 0), reached.get(before, 0))
    won = opps[opps["outcome"] == "won"]
    out["won_per_week"] = len(won) / weeks
    out["revenue_per_week"] = float(won["amount"].sum()) / weeks
    cycle = ((won["close_time"] - won["created"]) / DAY).to_numpy(dtype=float)
    value = won["amount"].to_numpy(dtype=float)
    for q in (25, 50, 75):
        out[f"cycle_days_q{q}"] = _quantile(cycle, q)
        out[f"value_q{q}"] = _quantile(value, q)

    entered = leads["mql_time"].where(leads["mql_time"].notna(), leads["created"])
    wait = ((leads["first_contact"] - entered) / HOUR).to_numpy(dtype=float)
    wait = wait[mql]
    old_enough = (end - entered[mql]) > pd.Timedelta(hours=24)
    wait = wait[old_enough.to_numpy()]
    out["within_1h"] = _share(np.sum(wait <= 1), len(wait))
    out["within_24h"] = _share(np.sum(wait <= 24), len(wait))
    return out


def _share(k, n) -> float:
    return float(k) / float(n) if n else float("nan")


def _quantile(x: np.ndarray, q: float) -> float:
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if len(x) else float("nan")
