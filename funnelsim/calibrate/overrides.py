"""Direct estimates as scenario overrides: field path -> (value, one-line comment).

Paths are written as `--set` takes them (`funnelsim.scenario.overrides`): list items by index,
e.g. `marketing.channels[0].leads_per_week`, `sales.stages[1].buyer_delay_days`. A channel's
index is its place in the scenario given (channels it lacks are skipped and said so); a stage's is
its place in the export's stages, which are the scenario's by the map that read the export.
"""

from __future__ import annotations

import json
from typing import Any

from funnelsim.calibrate.estimates import DirectEstimates, Estimate

SUPPORTED_VALUES = ("lognormal", "gamma")  # the scenario's distributions have no Weibull


def _round(v: float, digits: int = 4) -> float:
    return float(f"{v:.{digits}g}")


def scenario_overrides(est: DirectEstimates, scenario=None) -> dict[str, tuple[Any, str]]:
    """What the estimates set in a scenario; `scenario` (a Scenario) fixes the channels' indices."""
    out: dict[str, tuple[Any, str]] = {}
    if scenario is not None:
        channels = [c.name for c in scenario.marketing.channels]
        stage_names = [s.name for s in scenario.sales.stages]
        teams = len(scenario.sales.teams)
    else:
        channels, stage_names, teams = sorted(est.arrivals), list(est.stages), 1
    for name, arr in est.arrivals.items():
        if name not in channels:
            continue
        e = arr.leads_per_week
        trend = arr.tests.get("trend")
        extra = f"; trend {'detected' if trend.detected else 'not detected'} (p={trend.p_value:.2g})" if trend else ""
        out[f"marketing.channels[{channels.index(name)}].leads_per_week"] = (
            _round(e.value),
            f"leads a week from {name}: {e.describe()}{extra}",
        )
    _stages(est, stage_names, out)
    _values(est, out)
    if est.responses is not None and len(est.responses.curve) >= 2:
        pts = [[_round(h, 3), min(max(_round(e.value, 3), 1e-3), 1.0)] for h, e in est.responses.curve]
        desc = ", ".join(f"{h:.3g} h {e.describe()}" for h, e in est.responses.curve[1:])
        out["sales.response_curve"] = (
            {"points": pts},
            f"qualified share by first-try delay, relative to within 1 h (capped at 1): {desc}",
        )
    reps = est.team.get("reps_per_week")
    if reps is not None and teams == 1:
        out["sales.teams[0].reps"] = (
            max(int(round(reps.value)), 0),
            (
                f"reps active a week: mean {reps.value:.3g}, weeks from {reps.low:.3g} to {reps.high:.3g} "
                f"(2.5-97.5%; {reps.n} rep-weeks of {'+'.join(reps.tables)})"
            ),
        )
    return out


def _stages(est: DirectEstimates, stage_names: list[str], out: dict) -> None:
    conv = est.conversions
    if est.stages and est.stages[0] in stage_names:
        at = f"sales.stages[{stage_names.index(est.stages[0])}].conversion"
        first_hour = est.responses.first_hour_rate if est.responses is not None else None
        which = "mql->sql" if "mql->sql" in conv else "lead->sql"
        if first_hour is not None:
            overall = f"; {which} over all leads {conv[which].describe()}" if which in conv else ""
            out[at] = (
                _round(first_hour.value),
                f"qualified share of leads tried within 1 h (averaged over fit and skill): "
                f"{first_hour.describe()}{overall}",
            )
        elif which in conv:
            out[at] = (
                _round(conv[which].value),
                f"{which} ever, leads never reached included, so a floor (averaged over fit and skill): "
                f"{conv[which].describe()}",
            )
    for k, stage in enumerate(est.stages[1:], start=1):
        if stage not in stage_names:
            continue
        i = stage_names.index(stage)
        nxt = est.stages[k + 1] if k + 1 < len(est.stages) else "won"
        e: Estimate | None = conv.get(f"{stage}->{nxt}")
        if e is not None:
            out[f"sales.stages[{i}].conversion"] = (
                _round(e.value),
                f"{stage}->{nxt} ever (averaged over fit and skill): {e.describe()}",
            )
        delay = est.delays.get(stage)
        if delay is not None and delay.triangular is not None:
            lo, mode, hi = (_round(v, 3) for v in delay.triangular)
            out[f"sales.stages[{i}].buyer_delay_days"] = (
                {"dist": "triangular", "low": lo, "mode": mode, "high": hi},
                f"working days in {stage}, triangular MLE ({_spread(delay)}); median {delay.median.describe()}",
            )


def _values(est: DirectEstimates, out: dict) -> None:
    dv = est.deal_values
    if dv is None:
        return
    family = dv.chosen if dv.chosen in SUPPORTED_VALUES else min(SUPPORTED_VALUES, key=dv.aic.get)
    p = dv.params[family]
    why = f"{family} by AIC, {dv.margin:.1f} ahead"
    if family != dv.chosen:
        why = f"{family}: Weibull fitted {dv.aic[family] - dv.aic[dv.chosen]:.1f} AIC better, scenarios have no Weibull"
    if family == "lognormal":
        value = {"dist": "lognormal", "median": _round(p["median"].value), "sigma": _round(p["sigma"].value, 3)}
        desc = f"median {p['median'].describe()}, sigma {p['sigma'].describe()}"
    else:
        value = {"dist": "gamma", "shape": _round(p["shape"].value, 3), "scale": _round(p["scale"].value)}
        desc = f"shape {p['shape'].describe()}, scale {p['scale'].describe()}"
    out["sales.deal_value"] = (value, f"won amounts, {why}: {desc}")


def set_arguments(overrides: dict[str, tuple[Any, str]]) -> list[str]:
    """The overrides as `--set PATH=VALUE` texts (values as JSON, which YAML 1.2 reads)."""
    return [f"{path}={json.dumps(value)}" for path, (value, _) in overrides.items()]


def _spread(delay) -> str:
    ci = delay.triangular_interval
    return ", ".join(f"{k} 95% {ci[k][0]:.3g}-{ci[k][1]:.3g}" for k in ("low", "mode", "high") if k in ci)
