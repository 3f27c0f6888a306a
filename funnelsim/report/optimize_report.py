"""An optimisation in words and figures: the recommendation against the current plan, the search's
convergence, the Pareto front, each lever's importance and the binding constraint.

Every sentence is generated from the confirmation runs; the report renders an `Outcome` it is
given and runs nothing.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from funnelsim.optimize.confirm import PairedDifference
from funnelsim.optimize.outcome import Outcome, binding, trials_table
from funnelsim.optimize.problem import OptimizationProblem
from funnelsim.optimize.variables import Plan, base_plan
from funnelsim.report.compare_report import CSS, _md_table, html_figure, short, signed
from funnelsim.report.tables import MONEY
from funnelsim.results.registry import label_of


def period(problem: OptimizationProblem) -> str:
    weeks = problem.base_doc.get("horizon_weeks", 52)
    return "a year" if weeks == 52 else f"over {weeks:g} weeks"


def _value(x) -> str:
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}".rstrip("0").rstrip(".") if x else "0"
    if isinstance(x, list):
        return "[" + ", ".join(_value(v) for v in x) + "]"
    return str(x)


def changes(problem: OptimizationProblem, plan: Plan) -> list[str]:
    """'raise reps from 25 to 31', 'targeting from 0 to 0.42', 'routing round_robin instead of pool'."""
    current = base_plan(problem)
    out = []
    for var in problem.variables:
        new, old = plan[var.name], current[var.name]
        if new == old:
            continue
        if var.kind == "simplex":
            parts = [f"{_value(a)} -> {_value(b)}" for a, b in zip(old, new, strict=True)]
            out.append(f"split {var.name} as {', '.join(parts)}")
        elif var.kind == "categorical" or not isinstance(old, int | float) or isinstance(old, bool):
            out.append(f"{var.name} {_value(new)} instead of {_value(old)}")
        else:
            verb = "raise" if new > old else "cut"
            out.append(f"{verb} {var.name} from {_value(old)} to {_value(new)}")
    return out


def _diff_words(d: PairedDifference, what: str) -> str:
    stat = "" if d.statistic == "mean" else f"{d.statistic} of "
    return (
        f"{signed(d.kpi, d.diff)} {stat}{label_of(d.kpi).split(' (')[0].lower()} {what} "
        f"(95% CI {signed(d.kpi, d.low)} to {signed(d.kpi, d.high)})"
    )


def _level(problem: OptimizationProblem, outcome: Outcome, kpi: str) -> str:
    runs = outcome.confirmation.runs[outcome.confirmation.chosen]
    return f"{label_of(kpi).split(' (')[0].lower()} {short(kpi, runs.means()[kpi])}"


def verdict(outcome: Outcome) -> list[str]:
    """The recommendation in plain words, then what it is compared with."""
    p, c = outcome.problem, outcome.confirmation
    chosen = c.candidates[c.chosen]
    tried = f"{len(outcome.trials)} trials, then {len(c.candidates)} plans re-run {c.replications} times each"
    if not c.feasible:
        runs = c.runs[c.chosen]
        means = runs.means()
        broken = [
            f"{x.kpi} {short(x.kpi, means[x.kpi])} against {x.text}"
            for x in p.constraints
            if runs.ok and x.violation(means[x.kpi]) > 0
        ]
        what = "the current plan" if chosen.trial is None else f"{chosen.label} ({'; '.join(changes(p, chosen.plan))})"
        return [
            f"No plan satisfies every constraint in its confirmation runs ({tried}); nothing is recommended.",
            f"The least-violating plan is {what}: {', '.join(broken) or 'it could not run'}.",
        ]
    extra = [k for k in dict.fromkeys([c_.kpi for c_ in p.constraints] + ["rep_utilization"]) if k != p.primary.kpi]
    levels = ", ".join(_level(p, outcome, k) for k in extra[:2])
    if c.chosen == c.base:
        lines = [f"Keep the current plan: no plan the search found does better in confirmation ({tried}); {levels}."]
    else:
        what = "; ".join(changes(p, chosen.plan)) or "the levers as they are"
        first = what[0].upper() + what[1:]
        vs = c.vs_base[0] if c.vs_base else None
        gain = f": {_diff_words(vs, period(p))} against the current plan" if vs else ""
        if vs and not vs.distinguishable:
            gain += " (not distinguishable from it with these runs)"
        lines = [f"{first}{gain}, {levels} ({tried})."]
    if c.runner_up is not None and c.vs_runner_up:
        d = c.vs_runner_up[0]
        other = c.candidates[c.runner_up].label
        if d.distinguishable:
            lines.append(f"The best is distinguishable from the runner-up ({other}): {_diff_words(d, 'more')}.")
        else:
            lines.append(
                f"The best and the runner-up ({other}) are indistinguishable: {_diff_words(d, 'apart')}, "
                "within the noise of the runs; either plan will do."
            )
    b = binding(p, c)
    if b:
        if b["binds"]:
            lines.append(
                f"The binding constraint is {b['constraint']}: the plan reaches {short(b['kpi'], b['value'])}."
            )
        else:
            lines.append(f"No constraint binds; the nearest is {b['constraint']} at {short(b['kpi'], b['value'])}.")
    return lines


def note(outcome: Outcome) -> str:
    """The header of best.yaml."""
    p = outcome.problem
    head = f"Written by funnelsim optimize {p.file} (seed {outcome.seed})."
    status = "" if outcome.recommended else "\nNO PLAN SATISFIES THE CONSTRAINTS: this is the least-violating one."
    return head + status + "\n" + "\n".join(verdict(outcome))


# -- tables -------------------------------------------------------------------------------------
def confirmation_rows(outcome: Outcome) -> list[list[str]]:
    p, c = outcome.problem, outcome.confirmation
    kpis = list(dict.fromkeys([*p.kpis, "profit", "rep_utilization"]))
    rows = [["plan", *(v.name for v in p.variables), *(label_of(k) for k in kpis), "constraints"]]
    for i, (cand, runs) in enumerate(zip(c.candidates, c.runs, strict=True)):
        tag = " (recommended)" if i == c.chosen and c.feasible else " (least violating)" if i == c.chosen else ""
        cells = [cand.label + tag, *(_value(cand.plan[v.name]) for v in p.variables)]
        if runs.ok:
            means = runs.means()
            cells += [short(k, means[k]) for k in kpis]
            cells.append("hold" if runs.feasible else "violated")
        else:
            cells += ["-"] * len(kpis) + [runs.error or "failed"]
        rows.append(cells)
    return rows


def difference_rows(diffs: list[PairedDifference]) -> list[list[str]]:
    rows = [["KPI", "difference [95% CI]", "finding"]]
    for d in diffs:
        label = label_of(d.kpi) if d.statistic == "mean" else f"{d.statistic} of {label_of(d.kpi)}"
        finding = "distinguishable" if d.distinguishable else "within the noise"
        rows.append([label, f"{signed(d.kpi, d.diff)} [{signed(d.kpi, d.low)}, {signed(d.kpi, d.high)}]", finding])
    return rows


def importance_rows(outcome: Outcome) -> list[list[str]]:
    return [["lever", "importance"]] + [
        [k, f"{v:.0%}"] for k, v in sorted(outcome.importance.items(), key=lambda kv: -kv[1])
    ]


# -- figures ------------------------------------------------------------------------------------
def convergence_figure(outcome: Outcome):
    from funnelsim.report.figures import STYLE, plt

    p = outcome.problem
    table = trials_table(p, outcome.trials)
    col = f"objective:{p.primary.label}"
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 5))
        if col in table:
            ok = table["state"] == "complete"
            feasible = ok & table["feasible"]
            ax.scatter(
                table.loc[ok & ~feasible, "trial"],
                table.loc[ok & ~feasible, col],
                s=14,
                color="#bbbbbb",
                label="trial (violates a constraint)",
            )
            ax.scatter(table.loc[feasible, "trial"], table.loc[feasible, col], s=14, color="#1f5fa8", label="trial")
            ax.step(table["trial"], table["best_so_far"], where="post", color="#d0342c", label="best so far (feasible)")
        ax.set_xlabel("trial")
        ax.set_ylabel(label_of(p.primary.kpi) if p.primary.statistic == "mean" else p.primary.label)
        ax.set_title("Convergence of the search")
        if p.primary.kpi in MONEY:
            from funnelsim.report.compare_figures import FuncFormatter, money_axis

            ax.yaxis.set_major_formatter(FuncFormatter(money_axis))
        ax.legend(loc="best")
    return fig


def pareto_figure(outcome: Outcome):
    from funnelsim.optimize.confirm import pareto_front
    from funnelsim.report.figures import STYLE, plt

    p = outcome.problem
    done = [t for t in outcome.trials if t.values is not None and len(t.values) >= 2]
    feasible = [t for t in done if all(v <= 0 for v in t.user_attrs.get("constraints", []))]
    front = sorted(pareto_front(p, feasible), key=lambda t: t.values[0])
    a, b = p.objectives[0], p.objectives[1]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9, 6))
        xy = np.array([t.values[:2] for t in done]) if done else np.zeros((0, 2))
        ax.scatter(xy[:, 0], xy[:, 1], s=14, color="#bbbbbb", label="trial")
        if front:
            f = np.array([t.values[:2] for t in front])
            ax.plot(f[:, 0], f[:, 1], "o-", color="#d0342c", label="Pareto front (feasible)")
        ax.set_xlabel(f"{a.label} ({a.direction})")
        ax.set_ylabel(f"{b.label} ({b.direction})")
        ax.set_title("Trade-off between the objectives")
        ax.legend()
    return fig


def importance_figure(outcome: Outcome):
    from funnelsim.report.figures import STYLE, plt

    items = sorted(outcome.importance.items(), key=lambda kv: kv[1])
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * len(items)))
        ax.barh([k for k, _ in items], [v for _, v in items], color="#1f5fa8")
        ax.set_xlabel(f"share of the variance of {outcome.problem.primary.label} across trials")
        ax.set_title("Which levers matter")
    return fig


def save_figures(outcome: Outcome, out: Path) -> list[tuple[str, str]]:
    from funnelsim.report.compare_figures import save

    figures = [("convergence.png", "Best plan so far against trials", convergence_figure)]
    if len(outcome.problem.objectives) > 1:
        figures.append(("pareto.png", "The Pareto front of the first two objectives", pareto_figure))
    if outcome.importance:
        figures.append(("importance.png", "Each lever's importance (variance explained)", importance_figure))
    for file, _, make in figures:
        save(make(outcome), out / file)
    return [(file, caption) for file, caption, _ in figures]


# -- documents ----------------------------------------------------------------------------------
def method(outcome: Outcome) -> str:
    p, c = outcome.problem, outcome.confirmation
    sampler = "TPE" if len(p.objectives) == 1 else "NSGA-II"
    return (
        f"Search: Optuna {sampler}, {len(outcome.trials)} trials of {p.replications} replications each, "
        f"{outcome.runs_search} runs (a plan tried twice is run once), master seed {outcome.seed}; replication r of "
        f"every trial uses the same seed (common random numbers). Confirmation: the current plan and the top "
        f"{p.spec.confirm.top_k} distinct plans re-run with {c.replications} replications on fresh common seeds; "
        "the recommendation is the best plan whose confirmation means satisfy every constraint. Differences are "
        "paired by seed: 95% t-intervals for means, bootstrap intervals (fixed generator) for quantiles."
    )


def markdown_report(outcome: Outcome, figures: list[tuple[str, str]]) -> str:
    c = outcome.confirmation
    parts = [f"# Optimisation: {outcome.problem.name}", "", *(f"- {v}" for v in verdict(outcome)), ""]
    parts += ["## Confirmation runs", "", _md_table(confirmation_rows(outcome), set()), ""]
    if c.vs_base:
        parts += ["## Recommended against the current plan", "", _md_table(difference_rows(c.vs_base), {1}), ""]
    if c.vs_runner_up:
        label = c.candidates[c.runner_up].label
        parts += [
            f"## Recommended against the runner-up ({label})",
            "",
            _md_table(difference_rows(c.vs_runner_up), {1}),
            "",
        ]
    if outcome.importance:
        parts += ["## Importance of the levers", "", _md_table(importance_rows(outcome), {1}), ""]
    parts += [f"![{cap}]({file})\n" for file, cap in figures]
    parts += ["## Method", "", method(outcome), ""]
    return "\n".join(parts)


def _html_table(rows: list[list[str]]) -> str:
    from funnelsim.report.compare_report import html_table

    return html_table(rows)


def html_report(outcome: Outcome, figures: list[tuple[str, str]], folder: Path) -> str:
    esc, c = html.escape, outcome.confirmation
    title = f"Optimisation: {outcome.problem.name}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><h1>{esc(title)}</h1>",
        "<div class='verdict'>" + "".join(f"<p>{esc(v)}</p>" for v in verdict(outcome)) + "</div>",
        "<h2>Confirmation runs</h2>",
        _html_table(confirmation_rows(outcome)),
    ]
    if c.vs_base:
        parts += ["<h2>Recommended against the current plan</h2>", _html_table(difference_rows(c.vs_base))]
    if c.vs_runner_up:
        label = c.candidates[c.runner_up].label
        parts += [
            f"<h2>Recommended against the runner-up ({esc(label)})</h2>",
            _html_table(difference_rows(c.vs_runner_up)),
        ]
    if outcome.importance:
        parts += ["<h2>Importance of the levers</h2>", _html_table(importance_rows(outcome))]
    parts.append("<h2>Figures</h2>")
    parts += [html_figure(folder / file, caption) for file, caption in figures]
    parts += ["<h2>Method</h2>", f"<p>{esc(method(outcome))}</p>", "</body></html>\n"]
    return "\n".join(parts)


def write_report(outcome: Outcome, out: Path) -> list[str]:
    """report.md, report.html and the PNGs, written beside best.yaml."""
    from funnelsim.report.output import write_atomically

    written: list[str] = []

    def fill(tmp: Path) -> None:
        figures = save_figures(outcome, tmp)
        (tmp / "report.md").write_text(markdown_report(outcome, figures))
        (tmp / "report.html").write_text(html_report(outcome, figures, tmp))
        written.extend(sorted(p.name for p in tmp.iterdir()))

    write_atomically(out, fill)
    return written
