"""The robustness section of a comparison's report: a verdict under each assumption set.

A table per strategy (set, what it changes, the difference with its CI, holds), a one-line
summary ("holds under 11 of 12 assumption sets"), and a forest plot of the headline difference
per set. Rendered from a `Robustness` it is given; nothing here runs a simulation.
"""

from __future__ import annotations

import html

from funnelsim.experiment.compare import Comparison
from funnelsim.experiment.robustness import Check, Robustness
from funnelsim.report.compare_report import diff_cell, html_table, mark, signed
from funnelsim.report.figures import STYLE, plt
from funnelsim.results.registry import KPI_LABELS, Unit, unit_of

PLAIN = "as compared"
HOLDS, FAILS = "#1b7837", "#c51b7d"
SHOWN_FAILURES = 3


def _what(rob: Robustness, style: str = "text") -> dict[str, str]:
    """What each set changes: its fields (text), or its description and fields (`md`, `html`)."""
    if style == "text":
        return {s.name: s.what() for s in rob.sets}
    code = "`{}`" if style == "md" else "{}"
    return {s.name: f"{s.description} ({code.format(s.what())})".lstrip() for s in rob.sets}


def robustness_sentence(rob: Robustness, name: str, kpi: str | None = None) -> str:
    """'The verdict on profit holds under 11 of 12 assumption sets; not under curve_none (+$0.21M, 95% CI
    -$0.1M to +$0.5M).' Generated from the checks."""
    kpi = kpi or rob.kpis[0]
    held, total = rob.tally(name, kpi)
    text = f"The verdict on {kpi} holds under {held} of {total} assumption sets"
    failed = [c for c in rob.of(name, kpi) if not c.holds]
    if not failed:
        return text + (" (all of them)." if total else ".")
    shown = "; ".join(f"{c.assumption} ({_diff_words(c)})" for c in failed[:SHOWN_FAILURES])
    more = f"; and {len(failed) - SHOWN_FAILURES} more" if len(failed) > SHOWN_FAILURES else ""
    return f"{text}; not under {shown}{more}."


def _diff_words(c: Check) -> str:
    d = c.difference
    lo, hi = d.ci95
    return f"{signed(d.kpi, d.mean_diff)}, 95% CI {signed(d.kpi, lo)} to {signed(d.kpi, hi)}"


def summary_lines(rob: Robustness, cmp: Comparison) -> list[str]:
    lines = []
    for name in cmp.names[1:]:
        for kpi in rob.kpis:
            held, total = rob.tally(name, kpi)
            lines.append(
                f"{name} against {cmp.baseline}, {kpi}: the verdict holds under {held} of {total} assumption sets."
            )
    return lines


def _notes(rob: Robustness) -> list[str]:
    notes = [f"{rob.replications} paired replications per strategy and set, with the comparison's seeds."]
    if rob.unchanged:
        notes.append(f"Same as the comparison itself (the set changes nothing here): {', '.join(rob.unchanged)}.")
    notes += [f"Not run: {name}: {why}." for name, why in rob.skipped.items()]
    return notes


def rows(rob: Robustness, cmp: Comparison, name: str, style: str = "text") -> list[list[str]]:
    """Header, the comparison as run, then one row per set run: set, changes, per KPI difference and holds
    (in text, the headline KPI only: a terminal is narrow)."""
    what = _what(rob, style)
    kpis = rob.kpis[:1] if style == "text" else rob.kpis
    head = ["assumption set", "what it changes"]
    for kpi in kpis:
        head += [f"{KPI_LABELS[kpi]}: {name} - {cmp.baseline} [95% CI]", "holds"]
    out = [head]
    plain = [PLAIN, "nothing"]
    for kpi in kpis:
        d = cmp.difference(name, kpi)
        plain += [diff_cell(d) + f" {mark(d)}".rstrip(), ""]
    out.append(plain)
    sets = [s.name for s in rob.sets if s.name not in rob.skipped]
    for s in sets:
        row = [s, what[s]]
        for kpi in kpis:
            c = next(c for c in rob.of(name, kpi) if c.assumption == s)
            row += [diff_cell(c.difference) + f" {mark(c.difference)}".rstrip(), "yes" if c.holds else "no"]
        out.append(row)
    return out


def text_section(rob: Robustness, cmp: Comparison) -> str:
    from funnelsim.report.compare_report import _align

    parts = ["Robustness: the comparison under alternative assumptions", "", *summary_lines(rob, cmp), ""]
    for name in cmp.names[1:]:
        table = rows(rob, cmp, name)
        parts += [_align(table, {i for i in range(2, len(table[0]))}), ""]
    parts += _notes(rob)
    return "\n".join(parts)


def markdown_section(rob: Robustness, cmp: Comparison) -> list[str]:
    from funnelsim.report.compare_report import _md_table

    lines = ["## Robustness", "", *(f"- {s}" for s in summary_lines(rob, cmp)), ""]
    for name in cmp.names[1:]:
        table = rows(rob, cmp, name, "md")
        lines += [_md_table(table, set(range(2, len(table[0])))), ""]
    lines += [*(f"- {n}" for n in _notes(rob)), ""]
    return lines


def html_section(rob: Robustness, cmp: Comparison) -> list[str]:
    parts = ["<h2>Robustness</h2>", *(f"<p>{html.escape(s)}</p>" for s in summary_lines(rob, cmp))]
    for name in cmp.names[1:]:
        table = rows(rob, cmp, name, "html")
        bold = [r[-1] == "no" for r in table[1:]]
        parts.append(html_table(table, bold))
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in _notes(rob)]
    return parts


# -- the figure ---------------------------------------------------------------------------------
def _scale(kpi: str) -> tuple[float, str]:
    if unit_of(kpi) is Unit.MONEY:
        return 1e6, "$M"
    return 1.0, ""


def robustness_figure(cmp: Comparison, rob: Robustness):
    """Forest plot: the headline difference of each strategy under every set, with its 95% CI;
    green where the verdict holds, magenta where it does not; the dashed line is the comparison."""
    kpi = rob.kpis[0]
    others = cmp.names[1:]
    sets = [s.name for s in rob.sets if s.name not in rob.skipped]
    labels = [PLAIN, *sets]
    div, unit = _scale(kpi)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1, len(others), figsize=(7.5 * len(others) + 3, 1.5 + 0.5 * len(labels)), sharey=True, squeeze=False
        )
        for ax, name in zip(axes[0], others, strict=True):
            plain = cmp.difference(name, kpi)
            found = {c.assumption: c for c in rob.of(name, kpi)}
            for i, label in enumerate(labels):
                y = len(labels) - 1 - i
                d = plain if label == PLAIN else found[label].difference
                color = "#333" if label == PLAIN else HOLDS if found[label].holds else FAILS
                lo, hi = d.ci95
                ax.plot([lo / div, hi / div], [y, y], color=color, lw=3, solid_capstyle="butt")
                face = color if d.significant else "white"
                ax.plot([d.mean_diff / div], [y], "o", ms=10, mec=color, mfc=face, mew=2)
            ax.axvline(0, color="#333", lw=1.2)
            ax.axvline(plain.mean_diff / div, color="#333", lw=1, ls="--")
            held, total = rob.tally(name, kpi)
            ax.set_title(f"{name} - {cmp.baseline}: holds under {held} of {total}", loc="left", fontsize=15)
            ax.set_xlabel(f"{KPI_LABELS[kpi].split(' (')[0]} difference{f' ({unit})' if unit else ''}, 95% CI")
            ax.grid(axis="x", alpha=0.3)
        axes[0][0].set_yticks(range(len(labels))[::-1], labels)
        axes[0][0].set_ylim(-0.6, len(labels) - 0.4)
        fig.text(
            0.01,
            -0.02,
            "green: the verdict holds; magenta: it does not; filled: significant; dashed: the comparison as run",
            fontsize=12,
            color="#555",
        )
        fig.tight_layout()
        return fig


CAPTION = "The headline difference under each assumption set, with its 95% CI (green: the verdict holds)."
