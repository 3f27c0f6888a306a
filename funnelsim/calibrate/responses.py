"""Speed to lead in calendar hours, and how the qualification rate falls with it.

A lead not yet tried at the export is censored at its age (Kaplan-Meier): one exported an hour
after it arrived is not a lead never worked. Qualification by response bucket is observational
(firms that answer fast may also pick their leads), a shape to calibrate against, not a law.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelsim.calibrate.estimates import Estimate, Responses
from funnelsim.calibrate.survival import CENSORED, PASSED, Competing, bootstrap, percentile_interval

SHARES = ("within_1h", "1_24h", "over_24h", "never")
CURVE_EDGES = (0.0, 1.0, 2.0, 24.0, np.inf)  # buckets of the response curve, calendar hours
MIN_BUCKET = 20
FLOOR = 1e-3  # a response curve's multipliers must be positive


def _at(inc: np.ndarray, times: np.ndarray, t: float) -> np.ndarray:
    j = np.searchsorted(times, t, side="right") - 1
    return inc[:, j] if j >= 0 else np.zeros(inc.shape[0])


def first_contacts(crm) -> tuple[pd.Series | None, tuple[str, ...]]:
    leads = crm.leads
    if "first_contact" in leads and leads["first_contact"].notna().any():
        return leads["first_contact"], ("leads",)
    acts = crm.activities
    if acts is None or acts.empty or "lead_id" not in acts:
        return None, ()
    calls = acts[(acts["type"] == "call") & acts["lead_id"].notna()]
    if calls.empty:
        return None, ()
    first = calls.groupby("lead_id")["time"].min()
    return pd.Series(leads["lead_id"].map(first).to_numpy(), index=leads.index), ("leads", "activities")


def responses(crm, replicates: int, rng) -> tuple[Responses | None, list[str]]:
    contact, tables = first_contacts(crm)
    if contact is None:
        return None, ["no first-contact times or calls: response times and the response curve not estimated"]
    leads = crm.leads
    if "mql_time" in leads and leads["mql_time"].notna().any():
        at = leads["mql_time"].notna()
        entry, what = leads["mql_time"][at], "from reaching sales (MQL)"
    else:
        at = pd.Series(True, index=leads.index)
        entry, what = leads["created"], "from creation"
    contact = contact[at]
    tried = contact.notna().to_numpy()
    end = contact.where(contact.notna(), crm.as_of)
    hours = np.maximum((end - entry).dt.total_seconds().to_numpy() / 3600.0, 0.0)
    data = Competing(hours, np.where(tried, PASSED, CENSORED))

    def shares(w: np.ndarray) -> np.ndarray:
        inc = data.incidence(w)
        f1, f24, fend = _at(inc, data.times, 1.0), _at(inc, data.times, 24.0), inc[:, -1]
        return np.column_stack([f1, f24 - f1, fend - f24, 1 - fend])

    point = shares(np.ones((1, len(hours))))[0]
    draws = bootstrap(len(hours), replicates, rng, shares)
    how = f"Kaplan-Meier of calendar hours {what} to the first try, untried leads censored at the export"
    out = {
        name: Estimate(float(point[j]), *percentile_interval(point[j], draws[:, j]), len(hours), tables, how)
        for j, name in enumerate(SHARES)
    }
    med = data.quantiles(np.array([0.5]))[0, 0]
    med_draws = bootstrap(len(hours), replicates, rng, lambda w: data.quantiles(np.array([0.5]), w))
    median = Estimate(
        float(med), *percentile_interval(med, med_draws.ravel()), int(tried.sum()), tables,
        "median calendar hours to the first try among leads tried (Kaplan-Meier)",
    )  # fmt: skip
    curve, first_hour, too_few = response_curve(crm, hours[tried], at, tried, tables, replicates, rng)
    return Responses(out, median, curve, first_hour), too_few


def response_curve(crm, hours, at, tried, tables, replicates, rng):
    """Qualification rate by response bucket relative to the first, placed at each bucket's median hours."""
    leads = crm.leads[at][tried]
    qualified = np.zeros(len(leads), dtype=bool)
    if "sql_time" in leads:
        qualified |= leads["sql_time"].notna().to_numpy()
    if "opp_id" in leads:
        qualified |= leads["opp_id"].notna().to_numpy()
    if "lead_id" in crm.opportunities:
        qualified |= leads["lead_id"].isin(crm.opportunities["lead_id"].dropna()).to_numpy()
    bucket = np.digitize(hours, CURVE_EDGES[1:-1])
    counts = np.bincount(bucket, minlength=len(CURVE_EDGES) - 1)
    keep = [b for b in range(len(counts)) if counts[b] >= MIN_BUCKET]
    too_few = [
        f"{counts[b]} leads first tried {CURVE_EDGES[b]:g}-{CURVE_EDGES[b + 1]:g} h: bucket left out of the curve"
        for b in range(len(counts))
        if b not in keep
    ]
    if 0 not in keep or len(keep) < 2 or not qualified[bucket == 0].any():
        return [], None, [*too_few, "too few leads answered within the hour (or none qualified): no response curve"]
    onehot = (bucket[:, None] == np.array(keep)[None, :]).astype(float)
    q = qualified.astype(float)

    def relative(w: np.ndarray) -> np.ndarray:
        """The first bucket's rate, then each bucket's relative to it."""
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = ((w * q) @ onehot) / (w @ onehot)
            return np.column_stack([rate[:, 0], rate[:, 1:] / rate[:, :1]])

    point = relative(np.ones((1, len(q))))[0]
    draws = bootstrap(len(q), replicates, rng, relative)
    first_hour = Estimate(
        float(point[0]), *percentile_interval(point[0], draws[:, 0]), int(counts[0]), tables,
        "qualified share of leads first tried within 1 h (where the response curve is 1); bootstrap over leads",
    )  # fmt: skip
    point[0], draws[:, 0] = 1.0, 1.0
    curve = []
    for j, b in enumerate(keep):
        where = 0.0 if b == 0 else float(np.median(hours[bucket == b]))
        rows = int(counts[b])
        how = (
            f"qualified share of leads first tried {CURVE_EDGES[b]:g}-{CURVE_EDGES[b + 1]:g} h over that within 1 h; "
            "observational; bootstrap over leads"
        )
        curve.append((where, Estimate(float(point[j]), *percentile_interval(point[j], draws[:, j]), rows, tables, how)))
    return curve, first_hour, too_few
