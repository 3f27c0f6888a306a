"""What a finished sweep shows: Sobol' indices, main effects and two-parameter heatmaps.

`analyze_sweep(folder)` reads a sweep's `manifest.json` and `results.parquet` and writes PNG
figures, CSV tables and a Markdown + HTML summary into `folder/analysis/`. Sobol' sweeps get
first-order and total indices with bootstrap confidence intervals; the other samplers get the
mean of each KPI at each level of each parameter and a heatmap over two parameters.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import LogLocator, NullFormatter

from funnelsim.analysis.effects import heatmap_table, main_effects
from funnelsim.analysis.sobol import SobolResult, sobol_indices
from funnelsim.errors import UsageError
from funnelsim.report.figures import PALETTE, STYLE, plt
from funnelsim.report.tables import MONEY, SHARES, fmt
from funnelsim.results.registry import label_of

DEFAULT_KPIS = ("revenue", "profit", "deals_won", "win_rate", "rep_utilization", "response_time_hours_median")


# -- figures --------------------------------------------------------------------------------------
def sobol_figure(result: SobolResult, title: str):
    t = result.table.sort_values("ST")
    y = np.arange(len(t))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 1.6 + 0.75 * len(t)))
        for offset, col, color, label in (
            (0.19, "S1", PALETTE[0], "First-order S1"),
            (-0.19, "ST", PALETTE[1], "Total ST"),
        ):
            values = t[col].to_numpy()
            err = np.vstack([values - t[f"{col}_ci95_low"], t[f"{col}_ci95_high"] - values])
            err = np.where(np.isfinite(err), np.clip(err, 0, None), 0)
            ax.barh(y + offset, values, height=0.36, color=color, label=label, xerr=err, capsize=4)
        ax.set_yticks(y, t["parameter"])
        ax.axvline(0, color="#333", lw=1)
        ax.set_xlim(min(-0.05, float(np.nanmin(t[["S1_ci95_low", "S1"]].to_numpy())) - 0.05), 1.05)
        ax.set_xlabel("Share of the KPI's variance (bars: 95% bootstrap CI)")
        ax.set_title(f"{title}\nSobol' indices of {label_of(result.kpi)}")
        ax.legend(frameon=False, loc="lower right")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        return fig


# -- main effects and heatmaps ---------------------------------------------------------------------
def money3(x: float, _pos=None) -> str:
    """Money to three significant figures, so close ticks stay distinct ($1.13M, $1.15M, -$2.5M)."""
    sign, x = ("-" if x < 0 else ""), abs(x)
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{sign}${x / div:.3g}{unit}"
    return f"{sign}${x:.3g}"


def _axis_format(ax, kpi: str, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    if kpi in MONEY:
        target.set_major_formatter(money3)
    elif kpi in SHARES:
        target.set_major_formatter(lambda x, _p: f"{x:.0%}")


def _numeric(values: pd.Series) -> bool:
    return not any(isinstance(v, bool | str) for v in values)


def main_effects_figure(effects: pd.DataFrame, kpi: str, title: str, log: frozenset[str] = frozenset()):
    params = list(dict.fromkeys(effects["parameter"]))
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.2 * nrows), sharey=True, squeeze=False)
        for ax, p in zip(axes.flat, params, strict=False):
            e = effects[effects["parameter"] == p]
            numeric = _numeric(e["level"])
            x = e["level"].to_numpy(dtype=float) if numeric else np.arange(len(e))
            if numeric:
                ax.plot(x, e["mean"], color=PALETTE[0], lw=2.5, marker="o")
                ax.fill_between(x, e["ci95_low"], e["ci95_high"], color=PALETTE[0], alpha=0.18, lw=0)
                if p in log:
                    ax.set_xscale("log")
                    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:g}")
                    ax.xaxis.set_minor_formatter(NullFormatter())
            else:  # categories: points with 95% error bars, no line between them
                err = np.vstack([e["mean"] - e["ci95_low"], e["ci95_high"] - e["mean"]])
                ax.errorbar(x, e["mean"], yerr=np.nan_to_num(err), fmt="o", ms=8, color=PALETTE[0], capsize=6, lw=2)
                ax.set_xticks(x, [str(v) for v in e["level"]], rotation=20)
                ax.set_xlim(-0.5, len(x) - 0.5)
            ax.set_xlabel(p + (" (log scale)" if numeric and p in log else ""))
            ax.grid(alpha=0.3)
            _axis_format(ax, kpi)
        for ax in axes.flat[len(params) :]:
            ax.set_visible(False)
        for row in axes:
            row[0].set_ylabel(label_of(kpi))
        note = "mean over all other parameters; band or bars: 95% CI"
        fig.suptitle(f"{title}: main effects on {label_of(kpi)}\n({note})")
        fig.tight_layout()
        return fig


def heatmap_figure(table: pd.DataFrame, x: str, y: str, kpi: str, title: str):
    with plt.rc_context(STYLE):
        width = min(16, 4.5 + 1.3 * table.shape[1])
        fig, ax = plt.subplots(figsize=(width, min(12, 3.2 + 0.8 * table.shape[0])))
        values = table.to_numpy(dtype=float)
        image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [_tick(v) for v in table.columns])
        ax.set_yticks(range(table.shape[0]), [_tick(v) for v in table.index])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        bar = fig.colorbar(image, ax=ax)
        bar.set_label(label_of(kpi))
        _axis_format(bar.ax, kpi)
        finite = values[np.isfinite(values)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        if values.size <= 120:
            for (i, j), v in np.ndenumerate(values):
                if np.isfinite(v):
                    color = "white" if v < mid else "black"
                    ax.text(j, i, _short(kpi, v), ha="center", va="center", fontsize=11, color=color)
        ax.set_title(f"{title}: {label_of(kpi)}\nmean by {y} and {x}")
        fig.tight_layout()
        return fig


def _tick(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _short(kpi: str, v: float) -> str:
    if kpi in MONEY:
        return money3(v)
    if kpi in SHARES:
        return f"{v:.0%}"
    return f"{v:.3g}"


# -- the report ------------------------------------------------------------------------------------
@dataclass
class Report:
    """A list of blocks rendered both as Markdown and as HTML."""

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def add(self, kind: str, content: Any) -> None:
        self.blocks.append((kind, content))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for kind, c in self.blocks:
            if kind == "h2":
                out += [f"## {c}", ""]
            elif kind == "p":
                out += [c, ""]
            elif kind == "table":
                out += [_md_table(c), ""]
            elif kind == "img":
                out += [f"![{c}]({c})", ""]
        return "\n".join(out)

    def html(self) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for kind, c in self.blocks:
            if kind == "h2":
                body.append(f"<h2>{html.escape(c)}</h2>")
            elif kind == "p":
                body.append(f"<p>{html.escape(c)}</p>")
            elif kind == "table":
                body.append(c.to_html(index=False, border=0, classes="t", na_rep="-"))
            elif kind == "img":
                body.append(f'<img src="{html.escape(c)}" alt="{html.escape(c)}">')
        css = (
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
            "img{max-width:100%}table.t{border-collapse:collapse}"
            ".t td,.t th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}"
        )
        head = f"<meta charset='utf-8'><title>{html.escape(self.title)}</title><style>{css}</style>"
        return f"<!doctype html><html><head>{head}</head><body>\n" + "\n".join(body) + "\n</body></html>\n"


def _md_table(df: pd.DataFrame) -> str:
    cells = [[str(c) for c in df.columns]] + [
        ["-" if pd.isna(v) else str(v) for v in row] for row in df.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def _ci(v: float, low: float, high: float) -> str:
    if not np.isfinite(low):
        return f"{v:.2f}"
    return f"{v:.2f} [{low:.2f}, {high:.2f}]"


# -- entry point -----------------------------------------------------------------------------------
def _load(folder: Path) -> tuple[dict, pd.DataFrame]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        raise UsageError(f"{folder} is not a sweep's output folder (no manifest.json)") from None
    results_path = folder / "results.parquet"
    if manifest.get("status") != "complete" or not results_path.exists():
        raise UsageError(f"the sweep in {folder} has not finished; run `funnelsim sweep` again to complete it")
    return manifest, pd.read_parquet(results_path)


def _choose_kpis(manifest: dict, asked: list[str] | None) -> list[str]:
    kept = manifest["kpis"]
    if asked:
        unknown = [k for k in asked if k not in kept]
        if unknown:
            raise UsageError(f"KPI(s) not kept by this sweep: {', '.join(unknown)}; it kept: {', '.join(kept)}")
        return list(asked)
    return kept if len(kept) <= len(DEFAULT_KPIS) else [k for k in DEFAULT_KPIS if k in kept] or kept[:6]


def analyze_sweep(
    folder: str | Path,
    out: str | Path | None = None,
    kpis: list[str] | None = None,
    pair: list[str] | None = None,
    resamples: int = 999,
) -> list[Path]:
    """Write the analysis of a finished sweep; returns the files written (report first)."""
    folder = Path(folder)
    manifest, results = _load(folder)
    out = Path(out) if out else folder / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    params = [p["name"] for p in manifest["parameters"]]
    chosen = _choose_kpis(manifest, kpis)
    name = manifest.get("name", "sweep")
    ok = results[results["status"] == "ok"]
    report = Report(f"Sensitivity analysis: {name}")
    failed = len(results) - len(ok)
    report.add(
        "p",
        f"Sweep file {manifest['sweep_file']} on {manifest['base_file']}: {manifest['sampler']} sampler, "
        f"{manifest['points']} points x {manifest['replications']} replication(s) = {len(results)} runs"
        + (f", of which {failed} failed and are left out." if failed else "."),
    )
    report.add("table", pd.DataFrame([_describe(p) for p in manifest["parameters"]]))
    written: list[Path] = []

    def save(fig, filename: str) -> None:
        fig.savefig(out / filename, dpi=STYLE["savefig.dpi"], bbox_inches="tight")
        plt.close(fig)
        written.append(out / filename)
        report.add("img", filename)

    if manifest["sampler"] == "sobol":
        _sobol_section(manifest, ok, params, chosen, name, resamples, report, save, out, written)
    else:
        log = frozenset(p["name"] for p in manifest["parameters"] if p.get("scale") == "log")
        _effects_section(ok, params, chosen, name, pair, log, report, save, out, written)
    (out / "report.md").write_text(report.markdown())
    (out / "report.html").write_text(report.html())
    return [out / "report.md", out / "report.html", *written]


def _describe(p: dict) -> dict:
    values = p.get("values")
    if values is not None:
        domain = ", ".join(str(v) for v in values)
    else:
        domain = f"{p['low']:g} to {p['high']:g}"
        if p.get("steps"):
            domain += f" in {p['steps']} steps"
        if p.get("scale") == "log":
            domain += " (log scale)"
    return {"parameter": p["name"], "field(s)": ", ".join(p["paths"]), "values": domain}


def _sobol_section(manifest, ok, params, chosen, name, resamples, report, save, out, written) -> None:
    n = manifest["base_samples"]
    means = ok.groupby("point_id")[chosen].mean().reindex(range(manifest["points"]))
    report.add(
        "p",
        "S1 is the share of a KPI's variance due to one parameter alone; ST adds its interactions with the others. "
        "ST much larger than S1 means the parameter matters through interactions. Intervals are 95% BCa bootstrap "
        f"intervals; each point is the mean of its replications (base sample N = {n}).",
    )
    tables = []
    for kpi in chosen:
        result = sobol_indices(means[kpi].to_numpy(), n, params, kpi, resamples)
        tables.append(result.table.assign(kpi=kpi))
        report.add("h2", label_of(kpi))
        if result.dropped:
            report.add(
                "p", f"{result.dropped} of {n} sample rows left out: the KPI is undefined at some of their points."
            )
        shown = result.table.sort_values("ST", ascending=False)
        report.add(
            "table",
            pd.DataFrame(
                {
                    "parameter": shown["parameter"],
                    "first-order S1 [95% CI]": [
                        _ci(*r) for r in shown[["S1", "S1_ci95_low", "S1_ci95_high"]].to_numpy()
                    ],
                    "total ST [95% CI]": [_ci(*r) for r in shown[["ST", "ST_ci95_low", "ST_ci95_high"]].to_numpy()],
                }
            ),
        )
        save(sobol_figure(result, name), f"sobol_{kpi}.png")
    table = pd.concat(tables, ignore_index=True)
    table = table[["kpi", *[c for c in table.columns if c != "kpi"]]]
    table.to_csv(out / "sobol_indices.csv", index=False)
    written.append(out / "sobol_indices.csv")


def _effects_section(ok, params, chosen, name, pair, log, report, save, out, written) -> None:
    if pair:
        unknown = [p for p in pair if p not in params]
        if unknown:
            raise UsageError(f"--pair: no parameter named {', '.join(unknown)}; parameters: {', '.join(params)}")
    x, y = (pair[1], pair[0]) if pair else (params[1], params[0]) if len(params) > 1 else (None, None)
    report.add(
        "p",
        "Main effects: the mean of each KPI at each level of one parameter, over all levels of the others and "
        "all replications (numeric parameters with many values are binned). Heatmaps: the mean over two parameters.",
    )
    tables = []
    for kpi in chosen:
        effects = main_effects(ok, params, kpi)
        tables.append(effects)
        report.add("h2", label_of(kpi))
        best = ok.groupby(params)[kpi].mean()
        if best.notna().any():
            at = best.idxmax() if isinstance(best.idxmax(), tuple) else (best.idxmax(),)
            where = ", ".join(f"{p} = {_tick(v)}" for p, v in zip(params, at, strict=True))
            report.add("p", f"Highest mean {label_of(kpi).lower()}: {fmt(kpi, float(best.max()))} at {where}.")
        save(main_effects_figure(effects, kpi, name, log), f"main_effects_{kpi}.png")
        if x is not None:
            save(heatmap_figure(heatmap_table(ok, x, y, kpi), x, y, kpi, name), f"heatmap_{kpi}.png")
    pd.concat(tables, ignore_index=True).to_csv(out / "main_effects.csv", index=False)
    written.append(out / "main_effects.csv")
