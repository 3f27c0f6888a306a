"""What `funnelsim calibrate` writes: the calibrated scenario, the posterior, the numbers, the report.

calibrated.yaml   a valid scenario; every calibrated value carries a comment with its estimate,
                  interval and where it came from
posterior.parquet the accepted parameter sets and their weights (`compare --posterior` draws them)
calibration.json  every estimate, the ABC generations, the check and the backtest
calibration.md / .html, and the PNGs they show: observed against simulated, side by side
"""

from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from funnelsim.calibrate.run import Calibrated, parameter_table
from funnelsim.calibrate.summary import DESCRIPTIONS, stage_pass_names
from funnelsim.calibrate.window import span_weeks
from funnelsim.scenario.yamlsource import FieldPath, format_path

FILES = ("calibrated.yaml", "posterior.parquet", "calibration.json", "calibration.md", "calibration.html")


def calibrated_yaml(cal: Calibrated) -> str:
    """The calibrated scenario with a comment beside every value the calibration set."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def commented(node):
        if isinstance(node, dict):
            m = CommentedMap()
            for k, v in node.items():
                m[k] = commented(v)
            return m
        if isinstance(node, list):
            s = CommentedSeq(commented(v) for v in node)
            if all(not isinstance(v, (dict, list)) for v in node) or all(
                isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v) for v in node
            ):
                s.fa.set_flow_style()
            return s
        return node

    root = commented(cal.doc)
    for path, note in sorted(cal.comments.items(), key=lambda kv: format_path(kv[0])):
        parent, key = _parent(root, path)
        if parent is None:
            continue
        if isinstance(parent[key], (dict, list)) and not getattr(parent[key], "fa", None):
            pass
        parent.yaml_add_eol_comment(_one_line(note), key)
    yaml = YAML()
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(root, buf)
    header = [
        f"# {cal.doc['name']}: calibrated by `funnelsim calibrate` from {cal.crm.sources.get('leads', 'the export')}",
        f"# and the tables beside it: {len(cal.fit_crm.leads):,} leads and {len(cal.fit_crm.opportunities):,} "
        f"opportunities from {cal.fit_crm.leads['created'].min():%Y-%m-%d} to {cal.fit_crm.as_of:%Y-%m-%d}.",
        "# A comment beside a value says how it was found: 'direct' (estimated from the export, 95% interval)",
        "# or 'simulation-based' (ABC posterior median, 95% credible interval). Values without one are the base's.",
    ]
    if cal.too_few:
        header.append("# Kept at the base scenario's value:")
        header += [f"#   - {line}" for line in cal.too_few]
    return "\n".join(header) + "\n" + buf.getvalue()


def _parent(root, path: FieldPath):
    node = root
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None, None
    try:
        node[path[-1]]
    except (KeyError, IndexError, TypeError):
        return None, None
    return node, path[-1]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def posterior_frame(cal: Calibrated) -> pd.DataFrame:
    post = cal.posterior
    values, weights = post.sample()
    df = pd.DataFrame(values, columns=[p.name for p in post.parameters])
    df["weight"] = weights
    return df


def document(cal: Calibrated) -> dict:
    post = cal.posterior
    sims = pd.DataFrame([c["summary"] for c in cal.check])
    check = {
        key: {
            "observed": _num(obs),
            "simulated_mean": _num(sims[key].mean()) if key in sims else None,
            "simulated_low": _num(sims[key].quantile(0.05)) if key in sims else None,
            "simulated_high": _num(sims[key].quantile(0.95)) if key in sims else None,
        }
        for key, obs in cal.observed.items()
    }
    return {
        "data": {
            "sources": cal.crm.sources,
            "rows": {name: (None if t is None else len(t)) for name, t in _tables(cal.crm).items()},
            "first_lead": str(cal.crm.leads["created"].min()),
            "as_of": str(cal.crm.as_of),
            "fit_until": str(cal.fit_crm.as_of),
            "weeks": span_weeks(cal.fit_crm),
        },
        "direct": cal.direct,
        "kept_at_base": cal.too_few,
        "notes": cal.notes,
        "simulation_based": {
            "method": "ABC population Monte Carlo (Beaumont et al. 2009), fixed simulations per generation, "
            "tolerance = the quantile keeping half (Del Moral et al. 2012)",
            "simulations": post.simulations,
            "resumed_from_journal": post.resumed,
            "generations": post.generations,
            "parameters": {
                p.name: {
                    "prior": [p.low, p.high],
                    "base": p.default,
                    "median": e[0],
                    "low": e[1],
                    "high": e[2],
                    "why": p.why,
                }
                for p, e in zip(post.parameters, post.estimate().values(), strict=True)
            },
        },
        "check": check,
        "backtest": cal.backtest,
        "timing_s": cal.timing,
    }


def _tables(crm):
    return {n: crm.table(n) for n in ("leads", "opportunities", "stage_history", "activities", "reps")}


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


# -- figures --------------------------------------------------------------------------------------
def save_figures(cal: Calibrated, out: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from funnelsim.calibrate.run import export_profile
    from funnelsim.report.compare_figures import save
    from funnelsim.report.figures import STYLE

    obs = export_profile(cal.fit_crm)
    sims = cal.check
    observed_color, sim_color = "#222222", "#1f5fa8"
    figures = []
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9, 4.2))
        keys = ["mql_share", "sql_share", *stage_pass_names(cal.fit_crm.stages)]
        keys = [k for k in keys if k in obs["summary"]]
        x = np.arange(len(keys))
        ax.bar(x - 0.2, [obs["summary"][k] for k in keys], 0.4, color=observed_color, label="observed")
        sim = np.array([[s["summary"].get(k, np.nan) for k in keys] for s in sims])
        lo, hi = np.nanquantile(sim, 0.05, axis=0), np.nanquantile(sim, 0.95, axis=0)
        mid = np.nanmean(sim, axis=0)
        label = f"simulated: {len(sims)} posterior draws, mean and 5-95% range"
        ax.bar(x + 0.2, mid, 0.4, color=sim_color, label=label)
        ax.errorbar(x + 0.2, mid, yerr=[mid - lo, hi - mid], fmt="none", ecolor="#111", capsize=3)
        ax.set_xticks(x, [_short(k) for k in keys])
        ax.set_ylabel("share passing")
        ax.set_title("The funnel, stage by stage")
        top = np.nanmax([*hi, *(obs["summary"][k] for k in keys)])
        ax.set_ylim(0, min(1.0, top) * 1.3)  # room above the bars for the legend
        ax.legend(frameon=False, ncol=2, loc="upper left")
        save(fig, out / "funnel.png")
        figures.append(
            ("funnel.png", "Share of each stage that reaches the next: the export against the calibrated scenario")
        )

        fig, ax = plt.subplots(figsize=(9, 4.2))
        for s in sims:
            ax.plot(s["weekly_leads"], color=sim_color, alpha=0.25, lw=1)
        ax.plot(obs["weekly_leads"], color=observed_color, lw=2, label="observed")
        ax.plot([], [], color=sim_color, alpha=0.5, label="simulated runs")
        ax.set_xlabel("week")
        ax.set_ylabel("leads created")
        ax.set_title("Leads per week")
        ax.legend(frameon=False)
        save(fig, out / "weekly_leads.png")
        figures.append(("weekly_leads.png", "Leads created per week: the export and each simulated run"))

        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
        for ax, key, label in (
            (axes[0], "cycle_days", "days from opportunity to won"),
            (axes[1], "won_values", "won deal value"),
        ):
            sim_all = np.concatenate([np.asarray(s[key]) for s in sims]) if sims else np.zeros(0)
            data = [np.asarray(obs[key]), sim_all]
            if all(len(d) for d in data):
                qs = np.linspace(0.02, 0.98, 49)
                ax.plot(np.quantile(data[0], qs), qs, color=observed_color, lw=2, label="observed")
                ax.plot(np.quantile(data[1], qs), qs, color=sim_color, lw=2, ls="--", label="simulated")
            ax.set_xlabel(label)
            ax.set_ylabel("cumulative share")
            ax.legend(frameon=False)
        axes[0].set_title("Sales cycle")
        axes[1].set_title("Deal values")
        save(fig, out / "distributions.png")
        figures.append(
            (
                "distributions.png",
                "Sales cycle and won deal values: cumulative distributions, export against simulation",
            )
        )

        fig, ax = plt.subplots(figsize=(7, 4.2))
        keys = ["within_1h", "within_24h"]
        x = np.arange(len(keys))
        ax.bar(x - 0.2, [obs["summary"][k] for k in keys], 0.4, color=observed_color, label="observed")
        sim = np.array([[s["summary"].get(k, np.nan) for k in keys] for s in sims])
        ax.bar(x + 0.2, np.nanmean(sim, axis=0), 0.4, color=sim_color, label="simulated")
        ax.set_xticks(x, ["first call within 1 h", "within 24 h"])
        ax.set_ylabel("share of MQLs")
        ax.set_ylim(0, 1)
        ax.set_title("Response times (calendar hours)")
        ax.legend(frameon=False)
        save(fig, out / "response.png")
        figures.append(("response.png", "How fast MQLs got a first call: export against simulation"))
    return figures


def _short(key: str) -> str:
    return {"mql_share": "lead->MQL", "sql_share": "MQL->SQL"}.get(key, key.replace("reached_", "->"))


# -- documents ------------------------------------------------------------------------------------
def verdict(cal: Calibrated) -> list[str]:
    doc = document(cal)
    lines = [
        f"Calibrated on {len(cal.fit_crm.leads):,} leads and {len(cal.fit_crm.opportunities):,} opportunities "
        f"over {doc['data']['weeks']:.1f} weeks, with {cal.posterior.simulations} simulations."
    ]
    far = [
        k
        for k, c in doc["check"].items()
        if c["observed"] is not None
        and c["simulated_low"] is not None
        and not (c["simulated_low"] <= c["observed"] <= c["simulated_high"])
    ]
    total = sum(1 for c in doc["check"].values() if c["observed"] is not None)
    lines.append(
        f"{total - len(far)} of {total} summary statistics of the export lie within the calibrated scenario's "
        f"5-95% range" + (f"; outside: {', '.join(far)}." if far else ".")
    )
    if cal.backtest:
        m = cal.backtest["measures"]
        inside = sum(v["in_80"] for v in m.values())
        lines.append(
            f"Backtest over the last {cal.backtest['weeks']:.0f} weeks: {inside} of {len(m)} forecasts within their "
            "80% interval ("
            + "; ".join(
                f"{k.replace('_', ' ')} {_fmt(v['actual'])} actual, {_fmt(v['forecast'])} forecast"
                for k, v in m.items()
            )
            + ")."
        )
    return lines + cal.notes


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    x = float(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def check_rows(cal: Calibrated) -> list[list[str]]:
    rows = [["statistic", "observed", "simulated mean", "simulated 5-95%", "within"]]
    for key, c in document(cal)["check"].items():
        inside = (
            "yes"
            if c["observed"] is not None
            and c["simulated_low"] is not None
            and c["simulated_low"] <= c["observed"] <= c["simulated_high"]
            else "no"
        )
        rows.append(
            [
                DESCRIPTIONS.get(key, key.replace("reached_", "share of the previous stage reaching ")),
                _fmt(c["observed"]),
                _fmt(c["simulated_mean"]),
                f"{_fmt(c['simulated_low'])} - {_fmt(c['simulated_high'])}",
                inside,
            ]
        )
    return rows


def parameter_rows(cal: Calibrated) -> list[list[str]]:
    rows = [["parameter", "method", "value", "95% interval", "rows used"]]
    for r in parameter_table(cal).itertuples():
        used = "-" if r.rows is None or r.rows != r.rows else f"{int(r.rows):,}"
        rows.append([r.parameter, r.method, _fmt(r.value), f"{_fmt(r.low)} - {_fmt(r.high)}", used])
    return rows


def backtest_rows(cal: Calibrated) -> list[list[str]]:
    rows = [["held-out measure", "actual", "forecast", "80% interval", "95% interval", "error"]]
    for k, v in cal.backtest["measures"].items():
        rows.append(
            [
                k.replace("_", " "),
                _fmt(v["actual"]),
                _fmt(v["forecast"]),
                f"{_fmt(v['interval_80'][0])} - {_fmt(v['interval_80'][1])}",
                f"{_fmt(v['interval_95'][0])} - {_fmt(v['interval_95'][1])}",
                "-" if v["relative_error"] is None else f"{v['relative_error']:+.0%}",
            ]
        )
    return rows


def generation_rows(cal: Calibrated) -> list[list[str]]:
    rows = [["generation", "simulations", "tolerance", "best distance", "effective sample size"]]
    for g in cal.posterior.generations:
        rows.append(
            [
                str(g["generation"]),
                str(g["simulations"]),
                f"{g['tolerance']:.3f}",
                f"{g['best']:.3f}",
                f"{g['effective_sample_size']:.1f}",
            ]
        )
    return rows


def sections(cal: Calibrated) -> list[tuple[str, list[list[str]] | list[str]]]:
    out: list[tuple[str, list[list[str]] | list[str]]] = [
        ("The export against the calibrated scenario", check_rows(cal)),
        ("Calibrated parameters", parameter_rows(cal)),
    ]
    if cal.backtest:
        out.append(("Backtest", backtest_rows(cal)))
    out.append(("Simulation-based calibration, generation by generation", generation_rows(cal)))
    return out


METHOD = (
    "Direct estimates come from the export alone, with bootstrap intervals; open deals and uncontacted leads "
    "count as right-censored, not lost. What an export cannot show is inferred by ABC population Monte Carlo: "
    "funnelsim is run on parameter sets drawn from uniform priors, then from a kernel around the best sets so "
    "far; each run's simulated export is reduced to the same summary statistics as the company's, and the sets "
    "whose statistics are nearest (standardised distance) are kept. The check runs one simulated export for "
    "each of 16 posterior draws, at fresh seeds (a posterior predictive check). The backtest fits on the "
    "export cut at an earlier date, then forecasts the held-out weeks from posterior draws (one run each); "
    "its intervals carry both calibration and simulation uncertainty."
)


def markdown_report(cal: Calibrated, figures: list[tuple[str, str]]) -> str:
    from funnelsim.report.compare_report import _md_table

    parts = [f"# Calibration: {cal.doc['name']}", "", *(f"- {v}" for v in verdict(cal)), ""]
    for title, rows in sections(cal):
        parts += [f"## {title}", "", _md_table(rows, set(range(1, len(rows[0])))), ""]
    if cal.too_few:
        parts += ["## Kept at the base scenario's value", "", *(f"- {t}" for t in cal.too_few), ""]
    parts += [f"![{cap}]({file})\n" for file, cap in figures]
    parts += ["## Method", "", METHOD, ""]
    return "\n".join(parts)


def html_report(cal: Calibrated, figures: list[tuple[str, str]], folder: Path) -> str:
    from funnelsim.report.compare_report import CSS, html_figure, html_table

    esc = html.escape
    title = f"Calibration: {cal.doc['name']}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><h1>{esc(title)}</h1>",
        "<div class='verdict'>" + "".join(f"<p>{esc(v)}</p>" for v in verdict(cal)) + "</div>",
    ]
    for heading, rows in sections(cal):
        parts += [f"<h2>{esc(heading)}</h2>", html_table(rows)]
    if cal.too_few:
        parts += [
            "<h2>Kept at the base scenario's value</h2><ul>",
            *(f"<li>{esc(t)}</li>" for t in cal.too_few),
            "</ul>",
        ]
    parts.append("<h2>Figures</h2>")
    parts += [html_figure(folder / file, caption) for file, caption in figures]
    parts += ["<h2>Method</h2>", f"<p>{esc(METHOD)}</p>", "</body></html>\n"]
    return "\n".join(parts)


def write_outputs(cal: Calibrated, out: Path) -> list[str]:
    from funnelsim.report.output import write_atomically
    from funnelsim.report.tables import dumps

    written: list[str] = []

    def fill(tmp: Path) -> None:
        (tmp / "calibrated.yaml").write_text(calibrated_yaml(cal))
        posterior_frame(cal).to_parquet(tmp / "posterior.parquet", index=False)
        (tmp / "calibration.json").write_text(dumps(document(cal)))
        figures = save_figures(cal, tmp)
        (tmp / "calibration.md").write_text(markdown_report(cal, figures))
        (tmp / "calibration.html").write_text(html_report(cal, figures, tmp))
        written.extend(sorted(p.name for p in tmp.iterdir()))

    write_atomically(out, fill)
    return written


__all__ = ["FILES", "calibrated_yaml", "document", "json", "write_outputs"]
