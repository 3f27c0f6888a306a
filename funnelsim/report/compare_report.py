"""A comparison in words and tables: the verdict, text for the terminal, Markdown and HTML reports.

Every sentence of the verdict is generated from the numbers; a difference is only claimed when
the test and the interval agree, and otherwise the report says there is no detectable difference.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

from funnelsim.experiment.compare import ALPHA, Comparison, Difference
from funnelsim.report.mechanism import mechanism_sentence
from funnelsim.report.tables import MONEY, SHARES, fmt
from funnelsim.results.registry import KPI_LABELS, KPI_NAMES

HEADLINE_KPIS = (
    "revenue",
    "profit",
    "cost",
    "deals_won",
    "win_rate",
    "revenue_per_rep_hour",
    "rep_utilization",
    "reps_overloaded_share",
    "response_time_hours_median",
    "leads_never_worked",
    "cycle_days_median",
    "leads_open_end",
    "deals_won_by_email",
)
METHOD = (
    "Strategies are compared pair by pair: replication i of every strategy runs with the same seed, so its random "
    "streams (arrivals, fits, deal values, stage luck) start alike (common random numbers). For each KPI: mean and "
    "95% t-interval per strategy; the mean paired difference against the baseline with a bootstrap 95% CI (BCa, "
    "9,999 resamples, fixed generator) and a two-sided sign-flip permutation p-value. A difference is marked "
    f"significant (*) when p < {ALPHA:g} and the CI excludes zero; '~' marks a borderline case where they disagree."
)


# -- numbers in words ---------------------------------------------------------------------------
def short(kpi: str, x: float) -> str:
    """Compact value for tables and sentences: $29.27M, $64k, $1,402, 81.9%, 1,234."""
    if x is None or math.isnan(x):
        return "-"
    if kpi in MONEY:
        sign, a = ("-" if x < 0 else ""), abs(x)
        for above, div, unit, places in ((1e9, 1e9, "B", 2), (1e6, 1e6, "M", 2), (1e4, 1e3, "k", 0)):
            if a >= above:
                return f"{sign}${a / div:,.{places}f}{unit}"
        return f"{sign}${a:,.0f}"
    if kpi not in SHARES and abs(x) >= 100:
        return f"{x:,.0f}"
    return fmt(kpi, x)


def signed(kpi: str, x: float) -> str:
    """A difference with its sign; shares differ in percentage points."""
    if x is None or math.isnan(x):
        return "-"
    sign = "+" if x > 0 else "-" if x < 0 else "±"
    if kpi in SHARES:
        return f"{sign}{abs(x) * 100:.1f} pp"
    return sign + short(kpi, abs(x))


def p_text(p: float) -> str:
    if p is None or math.isnan(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def mark(d: Difference) -> str:
    return "*" if d.significant else "~" if d.borderline else ""


def finding(d: Difference) -> str:
    if d.significant:
        return "significant"
    if d.borderline:
        return "borderline"
    return "no detectable difference"


def diff_cell(d: Difference) -> str:
    lo, hi = d.ci95
    return f"{signed(d.kpi, d.mean_diff)} [{signed(d.kpi, lo)}, {signed(d.kpi, hi)}]"


def mean_cell(cmp: Comparison, name: str, kpi: str) -> str:
    s = cmp.summary(name)
    lo, hi = s.at[kpi, "ci95_low"], s.at[kpi, "ci95_high"]
    return f"{short(kpi, s.at[kpi, 'mean'])} [{short(kpi, lo)}, {short(kpi, hi)}]"


def period(cmp: Comparison) -> str:
    weeks = cmp.results[cmp.baseline].scenario.horizon_weeks
    return "per year" if weeks == 52 else f"over {weeks:g} weeks"


# -- the verdict --------------------------------------------------------------------------------
def _money_change(d: Difference, noun: str, when: str, base: str) -> str:
    lo, hi = d.ci95
    more = d.mean_diff > 0
    a, b = (lo, hi) if more else (-hi, -lo)
    return (
        f"{short(d.kpi, abs(d.mean_diff))} {'more' if more else 'less'} {noun} {when} than {base} "
        f"(95% CI {short(d.kpi, a)} to {short(d.kpi, b)})"
    )


def _no_difference(d: Difference, noun: str, base: str) -> str:
    lo, hi = d.ci95
    return (
        f"no detectable difference in {noun} from {base} ({signed(d.kpi, d.mean_diff)}, "
        f"95% CI {signed(d.kpi, lo)} to {signed(d.kpi, hi)}, p = {p_text(d.p_value)})"
    )


def _workload(cmp: Comparison, name: str) -> str:
    u = cmp.difference(name, "rep_utilization")
    o = cmp.difference(name, "reps_overloaded_share")
    mine = cmp.summary(name).at["rep_utilization", "mean"]
    theirs = cmp.summary(cmp.baseline).at["rep_utilization", "mean"]
    if not u.significant:
        text = f"about the same rep utilisation ({mine:.0%} vs {theirs:.0%})"
    else:
        points = round(abs(u.mean_diff) * 100)
        unit = "percentage point" if points == 1 else "percentage points"
        text = (
            f"{points} {unit} {'more' if u.mean_diff > 0 else 'less'} of its reps' "
            f"selling hours in use ({mine:.0%} vs {theirs:.0%})"
        )
    if o.significant:
        mine_o = cmp.summary(name).at["reps_overloaded_share", "mean"]
        theirs_o = cmp.summary(cmp.baseline).at["reps_overloaded_share", "mean"]
        text += f", and {mine_o:.0%} of reps over 95% utilised instead of {theirs_o:.0%}"
    return text


def verdict(cmp: Comparison) -> list[str]:
    """One plain-language paragraph per strategy against the baseline, generated from the numbers."""
    out = []
    base = cmp.baseline
    when = period(cmp)
    for name in cmp.names[1:]:
        rev, prof = cmp.difference(name, "revenue"), cmp.difference(name, "profit")
        first = (
            f"{name} earns {_money_change(rev, 'revenue', when, base)}"
            if rev.significant
            else f"{name} shows {_no_difference(rev, 'revenue', base)}"
        )
        first += f", with {_workload(cmp, name)}."
        why = mechanism_sentence(cmp, name)
        if why:
            first += f" {why}"
        second = (
            f"Its profit is {_money_change(prof, 'profit', when, base).replace(' profit', '', 1)}."
            if prof.significant
            else f"Profit: {_no_difference(prof, 'profit', base)}."
        )
        rph = cmp.difference(name, "revenue_per_rep_hour")
        third = ""
        if rph.significant:
            mine = cmp.summary(name).at["revenue_per_rep_hour", "mean"]
            theirs = cmp.summary(base).at["revenue_per_rep_hour", "mean"]
            third = f" Each rep selling hour brings {short('revenue', mine)} against {short('revenue', theirs)}."
        out.append(f"{first} {second}{third}{_side_effects(cmp, name)}{robust_sentence(cmp, name)}")
    return out


def robust_sentence(cmp: Comparison, name: str) -> str:
    """' The verdict on revenue holds under 9 of 10 assumption sets; not under curve_none.' or ''."""
    if cmp.robustness is None:
        return ""
    from funnelsim.report.robustness_report import robustness_sentence

    return " " + robustness_sentence(cmp.robustness, name)


SIDE_EFFECTS = (
    ("cycle_days_median", "Its median sales cycle is {mine} days against {theirs}"),
    ("leads_open_end", "{mine} leads are still in the pipeline at the horizon against {theirs}"),
    ("leads_never_worked", "{mine} leads are never worked by a rep against {theirs}"),
    ("deals_won_by_email", "{mine} deals close by email alone against {theirs}"),
)


def _side_effects(cmp: Comparison, name: str, threshold: float = 0.2) -> str:
    """Mechanisms worth a sentence: significant and at least 20% away from the baseline."""
    said = []
    for kpi, template in SIDE_EFFECTS:
        d = cmp.difference(name, kpi)
        if d.significant and abs(d.relative) >= threshold:
            mine = short(kpi, cmp.summary(name).at[kpi, "mean"])
            theirs = short(kpi, cmp.summary(cmp.baseline).at[kpi, "mean"])
            said.append(template.format(mine=mine, theirs=theirs))
    if not said:
        return ""
    return " " + "; ".join(said) + "."


# -- tables -------------------------------------------------------------------------------------
def _align(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def text_report(cmp: Comparison, kpis=HEADLINE_KPIS) -> str:
    """What `funnelsim compare` prints: the verdict, the means and each strategy's differences."""
    head = (
        f"Baseline: {cmp.baseline}. {cmp.replications} paired replications per strategy "
        f"(master seed {cmp.seed}, {'common' if cmp.common_random_numbers else 'independent'} random numbers)."
    )
    parts = [head, "", *verdict(cmp), *cmp.notes, ""]
    rows = [["KPI, mean [95% CI]", *cmp.names]]
    rows += [[KPI_LABELS[k], *(mean_cell(cmp, n, k) for n in cmp.names)] for k in kpis]
    parts += [_align(rows, set(range(1, len(cmp.names) + 1))), ""]
    for name in cmp.names[1:]:
        rows = [[f"{name} - {cmp.baseline}", "difference [95% CI]", "p", ""]]
        for k in kpis:
            d = cmp.difference(name, k)
            rows.append([KPI_LABELS[k], diff_cell(d) + f" {mark(d)}".rstrip(), p_text(d.p_value), finding(d)])
        parts += [_align(rows, {1, 2}), ""]
    parts.append("* significant: p < 0.05 and the 95% CI excludes zero; ~ borderline (they disagree).")
    if cmp.robustness is not None:
        from funnelsim.report.robustness_report import text_section

        parts += ["", text_section(cmp.robustness, cmp)]
    return "\n".join(parts)


def _md_table(rows: list[list[str]], right: set[int]) -> str:
    head = "| " + " | ".join(rows[0]) + " |"
    rule = "|" + "|".join("---:" if i in right else "---" for i in range(len(rows[0]))) + "|"
    body = ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows[1:]]
    return "\n".join([head, rule, *body])


def markdown_tables(cmp: Comparison, kpis=KPI_NAMES) -> str:
    means = [["KPI", *(f"{n} mean [95% CI]" for n in cmp.names)]]
    means += [[KPI_LABELS[k], *(mean_cell(cmp, n, k) for n in cmp.names)] for k in kpis]
    parts = [_md_table(means, set(range(1, len(cmp.names) + 1)))]
    for name in cmp.names[1:]:
        rows = [["KPI", f"{name} - {cmp.baseline} [95% CI]", "p", "finding"]]
        for k in kpis:
            d = cmp.difference(name, k)
            found = f"**{finding(d)}**" if d.significant else finding(d)
            rows.append([KPI_LABELS[k], diff_cell(d) + f" {mark(d)}".rstrip(), p_text(d.p_value), found])
        parts += [f"#### {name} against {cmp.baseline}", _md_table(rows, {1, 2})]
    return "\n\n".join(parts)


def markdown_report(cmp: Comparison, figures: list[tuple[str, str]]) -> str:
    """`report.md`: verdict, headline and full tables, the figures (PNG files beside it), the method."""
    title = f"# {' vs '.join(cmp.names)}"
    lines = [title, "", "## Verdict", "", *(f"- {v}" for v in verdict(cmp)), ""]
    lines += [f"- {n}" for n in cmp.notes]
    lines += ["", "## Headline KPIs", "", markdown_tables(cmp, HEADLINE_KPIS), ""]
    lines += ["## Figures", ""] if figures else []
    for file, caption in figures:
        lines += [f"![{caption}]({file})", "", f"*{caption}*", ""]
    if cmp.robustness is not None:
        from funnelsim.report.robustness_report import markdown_section

        lines += markdown_section(cmp.robustness, cmp)
    lines += ["## All KPIs", "", markdown_tables(cmp, KPI_NAMES), "", "## Method", "", METHOD, ""]
    lines += [_provenance(cmp), ""]
    return "\n".join(lines)


def _provenance(cmp: Comparison) -> str:
    horizon = cmp.results[cmp.baseline].scenario.horizon_weeks
    return (
        f"{cmp.replications} replications per strategy, master seed {cmp.seed}, horizon {horizon:g} weeks. "
        "Regenerate with the same command and seed to get identical numbers."
    )


# -- HTML ---------------------------------------------------------------------------------------
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.verdict { background: #f3f6fa; border-left: 5px solid #1f5fa8; padding: .6em 1em; font-size: 1.1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
th, td { padding: .25em .7em; border-bottom: 1px solid #e5e5e5; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.sig { font-weight: 600; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; } figcaption { color: #555; }
.note { color: #555; font-size: .9em; }
"""


def html_table(rows: list[list[str]], bold: list[bool] | None = None) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = []
    for i, r in enumerate(rows[1:]):
        cls = ' class="sig"' if bold and bold[i] else ""
        body.append("<tr>" + "".join(f"<td{cls}>{html.escape(c)}</td>" for c in r) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_figure(path: Path, caption: str) -> str:
    """A PNG inlined in a self-contained HTML report, with its caption."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    esc = html.escape
    return (
        f"<figure><img alt='{esc(caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def html_tables(cmp: Comparison, kpis) -> list[str]:
    """The means of every strategy, then each strategy's differences from the baseline (significant in bold)."""
    means = [["KPI", *(f"{n} mean [95% CI]" for n in cmp.names)]]
    means += [[KPI_LABELS[k], *(mean_cell(cmp, n, k) for n in cmp.names)] for k in kpis]
    tables = [html_table(means)]
    for name in cmp.names[1:]:
        rows = [["KPI", f"{name} - {cmp.baseline} [95% CI]", "p", "finding"]]
        diffs = [cmp.difference(name, k) for k in kpis]
        rows += [
            [KPI_LABELS[d.kpi], diff_cell(d) + f" {mark(d)}".rstrip(), p_text(d.p_value), finding(d)] for d in diffs
        ]
        tables.append(html_table(rows, [d.significant for d in diffs]))
    return tables


def html_report(cmp: Comparison, figures: list[tuple[str, str]], folder: Path) -> str:
    """`report.html`: one file with every PNG embedded, so it opens offline and travels by email."""
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(' vs '.join(cmp.names))}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(' vs '.join(cmp.names))}</h1>",
        "<div class='verdict'>" + "".join(f"<p>{esc(v)}</p>" for v in verdict(cmp)) + "</div>",
        *(f"<p class='note'>{esc(n)}</p>" for n in cmp.notes),
    ]
    for title, kpis in (("Headline KPIs", HEADLINE_KPIS), ("All KPIs", KPI_NAMES)):
        parts.append(f"<h2>{title}</h2>")
        parts += html_tables(cmp, kpis)
        if title == "Headline KPIs":
            parts.append("<h2>Figures</h2>")
            parts += [html_figure(folder / file, caption) for file, caption in figures]
            if cmp.robustness is not None:
                from funnelsim.report.robustness_report import html_section

                parts += html_section(cmp.robustness, cmp)
    parts += ["<h2>Method</h2>", f"<p>{esc(METHOD)}</p>", f"<p class='note'>{esc(_provenance(cmp))}</p>"]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_comparison(cmp: Comparison, out: Path) -> list[str]:
    """Write report.html, report.md, comparison.json and the PNG figures into `out`, all or nothing."""
    from funnelsim.report.compare_figures import save_comparison_figures
    from funnelsim.report.output import write_atomically
    from funnelsim.report.tables import dumps

    written: list[str] = []

    def fill(tmp: Path) -> None:
        figures = save_comparison_figures(cmp, tmp)
        (tmp / "comparison.json").write_text(dumps(cmp.document()))
        (tmp / "report.md").write_text(markdown_report(cmp, figures))
        (tmp / "report.html").write_text(html_report(cmp, figures, tmp))
        written.extend(sorted(p.name for p in tmp.iterdir()))

    write_atomically(out, fill)
    return written
