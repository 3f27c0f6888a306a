"""What a notebook shows for results: compact HTML tables (`_repr_html_`) and figures (`.plot()`).

The tables and figures are the reports' own (`compare_report`, `figures`, `compare_figures`).
"""

from __future__ import annotations

import base64
import html
import io

from funnelsim.report.compare_report import HEADLINE_KPIS, html_table, html_tables, short, verdict
from funnelsim.report.figures import plt
from funnelsim.results.registry import KPI_LABELS

STYLE = (
    "<style>.funnelsim td, .funnelsim th { text-align: right; } .funnelsim td:first-child { text-align: left; }</style>"
)


class Figures(dict):
    """Figures by name (`"funnel"`, `"rep_utilization"`, ...): a notebook shows them all, and
    `figures["funnel"]` is the matplotlib Figure itself (to save, or to change)."""

    def _repr_html_(self) -> str:
        images = []
        for name, fig in self.items():
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
            data = base64.b64encode(buffer.getvalue()).decode("ascii")
            images.append(f"<img alt='{html.escape(name)}' src='data:image/png;base64,{data}' style='max-width:100%'>")
        return "<div>" + "".join(images) + "</div>"


def figures(by_file: dict) -> Figures:
    """Keyed without `.png`; closed in pyplot, so a notebook does not draw them twice."""
    for fig in by_file.values():
        plt.close(fig)
    return Figures({file.removesuffix(".png"): fig for file, fig in by_file.items()})


def result_html(result, kpis=HEADLINE_KPIS) -> str:
    """The headline KPIs of a `SimulationResult`: mean and, with replications, the 95% CI."""
    summary = result.summary()
    several = len(result.runs) > 1
    rows = [["KPI", "mean [95% CI]" if several else "value"]]
    for k in kpis:
        mean, low, high = (summary.at[k, c] for c in ("mean", "ci95_low", "ci95_high"))
        rows.append(
            [KPI_LABELS[k], f"{short(k, mean)} [{short(k, low)}, {short(k, high)}]" if several else short(k, mean)]
        )
    head = f"<p><b>{html.escape(result.scenario.name)}</b>: {len(result.runs)} replication(s); "
    head += "<code>.summary()</code> has every KPI, <code>.plot()</code> the figures.</p>"
    return f"<div class='funnelsim'>{STYLE}{head}{html_table(rows)}</div>"


def comparison_html(cmp, kpis=HEADLINE_KPIS) -> str:
    """The verdict, then the headline KPIs of a `Comparison`: means and differences with 95% CIs."""
    said = "".join(f"<p>{html.escape(line)}</p>" for line in [*verdict(cmp), *cmp.notes])
    head = f"<p><b>{html.escape(' vs '.join(cmp.names))}</b>: {cmp.replications} paired replications.</p>"
    return f"<div class='funnelsim'>{STYLE}{head}{said}{''.join(html_tables(cmp, kpis))}</div>"
