"""What a CRM export tells directly: arrivals, conversions, delays, deal values, team, speed to lead.

`estimate(crm, stages=...)` reads the canonical tables (`funnelsim.calibrate.canonical`) and gives
each figure with a 95% interval, the rows it used and how it was made, plus a plain list of what
the export could not tell. Open deals and untried leads are right-censored at the export, never
counted lost. Intervals are bootstrap percentiles over leads, opportunities or reps (case weights
drawn for many replicates at once) unless a closed form is exact; a seed makes them reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from funnelsim.calibrate import survival
from funnelsim.calibrate.arrivals import channel_arrivals, team
from funnelsim.calibrate.canonical import CrmData
from funnelsim.calibrate.estimates import DealValues, DirectEstimates, Estimate
from funnelsim.calibrate.fits import FITTERS, VALUE_FAMILIES, loglik
from funnelsim.calibrate.funnel import (
    MIN_UNITS,
    day_counter,
    lead_transitions,
    stage_transitions,
    won_transition,
)
from funnelsim.calibrate.responses import responses

MIN_WON = 10
# independent random streams per part, so adding one part never changes another's intervals
STREAMS = {"conversion": 1, "delay": 2, "value": 3, "team": 4, "response": 5}


def estimate(
    crm: CrmData,
    *,
    stages: Sequence[str] | None = None,
    hours_per_day: float = 8,
    days_per_week: int = 5,
    bootstrap: int = 200,
    seed: int = 0,
) -> DirectEstimates:
    """Everything the export tells directly, with intervals; `stages` defaults to `crm.stages`."""
    if stages is not None and tuple(stages) != tuple(crm.stages):
        crm = CrmData(**{**crm.__dict__, "stages": tuple(stages)})
    out = DirectEstimates(stages=tuple(crm.stages))

    def rng(part: str, k: int = 0) -> np.random.Generator:
        return np.random.default_rng([seed, STREAMS[part], k])

    out.arrivals, too_few = channel_arrivals(crm, hours_per_day, days_per_week)
    out.too_few += too_few
    days = day_counter(hours_per_day, days_per_week)
    transitions = lead_transitions(crm, days)
    if not any(t.name == "lead->mql" for t in transitions):
        out.too_few.append("no MQL times: lead->MQL conversion not estimated (the MQL threshold kept)")
    staged, too_few = stage_transitions(crm, days)
    out.too_few += too_few
    transitions += staged
    won = won_transition(crm, days)
    if won is not None:
        transitions.append(won)
    for k, tr in enumerate(transitions):
        if len(tr) < MIN_UNITS:
            out.too_few.append(f"{len(tr)} units entered {tr.name.split('->')[0]}: {tr.name} not estimated")
            continue
        out.conversions[tr.name] = tr.conversion(bootstrap, rng("conversion", k))
        if tr in staged or tr is won:
            name = "sales_cycle" if tr is won else tr.name.split("->")[0]
            out.delays[name] = tr.delay(bootstrap, rng("delay", k))
    out.deal_values, too_few = deal_values(crm, bootstrap, rng("value"))
    out.too_few += too_few
    out.team, out.team_by_week, too_few = team(crm, hours_per_day, days_per_week, bootstrap, rng("team"))
    out.too_few += too_few
    out.responses, too_few = responses(crm, bootstrap, rng("response"))
    out.too_few += too_few
    out.notes.append(
        "conversions are the export's averages over its leads and reps; the scenario's stage conversion is at "
        "reference fit and skill, so a calibration step should adjust them for the mix"
    )
    out.notes.append("delays include the rep's queue and the meeting itself, not the buyer's wait alone")
    return out


def deal_values(crm: CrmData, replicates: int, rng) -> tuple[DealValues | None, list[str]]:
    """Lognormal, gamma and Weibull fitted to won amounts by maximum likelihood, chosen by AIC."""
    opps = crm.opportunities
    amount = opps["amount"].to_numpy(dtype=float) if "amount" in opps else np.zeros(0)
    x = amount[(opps["outcome"] == "won").to_numpy() & np.isfinite(amount) & (amount > 0)]
    if len(x) < MIN_WON:
        return None, [f"{len(x)} won deals with an amount: deal value kept at the default"]
    one = np.ones((1, len(x)))
    params: dict[str, dict[str, Estimate]] = {}
    aic: dict[str, float] = {}
    for family in VALUE_FAMILIES:
        fitter = FITTERS[family]
        point = {k: float(v[0]) for k, v in fitter(x, one).items()}
        aic[family] = 2 * 2 - 2 * loglik(family, point, x)
        names = list(point)

        def stat(w: np.ndarray, f=fitter, n=names) -> np.ndarray:
            fit = f(x, w)
            return np.column_stack([fit[k] for k in n])

        draws = survival.bootstrap(len(x), replicates, rng, stat)
        how = f"{family} maximum likelihood on won amounts; bootstrap over won deals"
        params[family] = {
            k: Estimate(point[k], *survival.percentile_interval(point[k], draws[:, j]), len(x), ("opportunities",), how)
            for j, k in enumerate(names)
        }
    chosen = min(aic, key=aic.get)
    return DealValues(chosen, aic, params, len(x)), []
