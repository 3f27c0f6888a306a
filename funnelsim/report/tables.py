"""Plain-text and JSON renderings of KPI summaries."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from funnelsim.results.kpis import KPI_LABELS

MONEY = {
    "revenue",
    "cost",
    "profit",
    "lead_cost",
    "email_cost",
    "salary_cost",
    "revenue_per_rep_hour",
    "mean_deal_value",
    "training_cost",
    "revenue_net_of_refunds",
    "refunds",
    "profit_net_of_refunds",
}
SHARES = {
    "win_rate",
    "rep_utilization",
    "response_within_1h_share",
    "rep_utilization_max",
    "reps_overloaded_share",
    "trust_end",
}


def fmt(kpi: str, x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if kpi in MONEY:
        return f"${x:,.0f}" if abs(x) >= 100 or x == 0 else f"${x:,.2f}"
    if kpi in SHARES:
        return f"{x:.1%}"
    if "skill" in kpi:
        return f"{x:.3f}"
    if float(x).is_integer() or "hours" in kpi and abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def kpi_table(summary: pd.DataFrame, replications: int) -> str:
    """Aligned text table: KPI, mean and (with several replications) the 95% CI."""
    rows = []
    for kpi, r in summary.iterrows():
        label = KPI_LABELS.get(kpi, kpi)
        ci = "" if replications < 2 else f"[{fmt(kpi, r['ci95_low'])} .. {fmt(kpi, r['ci95_high'])}]"
        rows.append((label, fmt(kpi, r["mean"]), ci))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    head = f"{'KPI':<{w0}}  {'mean':>{w1}}" + ("  95% CI" if replications > 1 else "")
    lines = [head, "-" * len(head.rstrip()) if replications < 2 else "-" * (len(head) + 20)]
    lines += [f"{a:<{w0}}  {b:>{w1}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def clean(x: Any) -> Any:
    """JSON-safe: NaN becomes null, numpy scalars become Python numbers."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [clean(v) for v in x]
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    return x


def dumps(doc: dict) -> str:
    return json.dumps(clean(doc), indent=2, allow_nan=False) + "\n"
