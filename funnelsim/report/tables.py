"""Plain-text and JSON renderings of KPI summaries."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from funnelsim.results.registry import Unit, kpi_names, label_of, unit_of

MONEY = kpi_names(Unit.MONEY)
SHARES = kpi_names(Unit.SHARE)


def fmt(kpi: str, x: float) -> str:
    """A KPI's value as its unit is written: $1,234, 81.9%, 0.712, 1,234, 18.3."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    unit = unit_of(kpi)
    if unit is Unit.MONEY:
        return f"${x:,.0f}" if abs(x) >= 100 or x == 0 else f"${x:,.2f}"
    if unit is Unit.SHARE:
        return f"{x:.1%}"
    if unit is Unit.SCORE:
        return f"{x:.3f}"
    if float(x).is_integer() or unit is Unit.HOURS and abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def kpi_table(summary: pd.DataFrame, replications: int) -> str:
    """Aligned text table: KPI, mean and (with several replications) the 95% CI."""
    rows = []
    for kpi, r in summary.iterrows():
        label = label_of(kpi)
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
