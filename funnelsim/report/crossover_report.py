"""The crossover in words, a table and a figure: which strategy wins at which team size."""

from __future__ import annotations

from pathlib import Path

from funnelsim.experiment.crossover import Crossover
from funnelsim.report.compare_report import p_text, short, signed
from funnelsim.results.registry import label_of


def summary_sentence(result: Crossover, name: str | None = None) -> str:
    """'qualified_leads earns more profit than more_leads up to 70 reps; from 80 reps more_leads does
    (crossover near 74 reps).' Generated from the sweep, with the significance of each end."""
    base = result.names[0]
    name = name or result.names[1]
    label = label_of(result.kpi).split(" (")[0].lower()
    rows = result.series()
    rows = rows[rows["strategy"] == name].sort_values("reps")
    ahead = rows[rows["diff"] > 0]
    behind = rows[rows["diff"] < 0]
    crossings = result.crossings.get(name, [])
    sig_ahead = ahead[ahead["significant"]]["reps"].tolist()
    sig_behind = behind[behind["significant"]]["reps"].tolist()
    parts = []
    if len(sig_ahead):
        parts.append(f"{name} earns significantly more {label} than {base} at {_sizes(sig_ahead, result.sizes)} reps")
    if len(sig_behind):
        parts.append(f"{base} earns significantly more at {_sizes(sig_behind, result.sizes)} reps")
    if not parts:
        parts.append(f"no team size tried shows a detectable {label} difference between {name} and {base}")
    text = "; ".join(parts)
    if crossings:
        where = " and ".join(f"{x:.0f}" for x in crossings)
        text += f". The ordering flips near {where} reps"
    else:
        text += f". The ordering does not flip between {result.sizes[0]} and {result.sizes[-1]} reps"
    return text + "."


def _sizes(chosen: list[int], sweep: list[int]) -> str:
    """Team sizes as runs of the sweep: [10, 60, 70, 80] of 10..80 -> '10 and 60-80'."""
    runs: list[list[int]] = []
    for size in sweep:
        if size not in chosen:
            continue
        if runs and sweep.index(size) == sweep.index(runs[-1][-1]) + 1:
            runs[-1].append(size)
        else:
            runs.append([size])
    parts = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def crossover_rows(result: Crossover, kpi: str | None = None) -> list[list[str]]:
    kpi = kpi or result.kpi
    rows = result.series(kpi)
    others = result.names[1:]
    head = ["Reps", *(f"{n}" for n in result.names), *(f"{n} - {result.names[0]} [95% CI]" for n in others)]
    out = [head]
    for reps, part in rows.groupby("reps", sort=True):
        by = {r.strategy: r for r in part.itertuples()}
        cells = [str(reps), *(short(kpi, by[n].mean) for n in result.names)]
        for n in others:
            r = by[n]
            star = " *" if r.significant else ""
            cells.append(f"{signed(kpi, r.diff)} [{signed(kpi, r.diff_low)}, {signed(kpi, r.diff_high)}]{star}")
        out.append(cells)
    return out


def crossover_text(result: Crossover) -> str:
    from funnelsim.report.compare_report import _align

    lines = [
        f"{label_of(result.kpi)} by team size; {result.replications} paired replications per "
        f"strategy and size, master seed {result.seed}.",
        "",
        *(summary_sentence(result, n) for n in result.names[1:]),
        "",
        _align(crossover_rows(result), set(range(1, len(result.names) * 2))),
        "",
        "* significant: p < 0.05 and the 95% CI excludes zero.",
    ]
    return "\n".join(lines)


def crossover_markdown(result: Crossover) -> str:
    from funnelsim.report.compare_report import _md_table

    parts = [f"# {label_of(result.kpi)} against team size", ""]
    parts += [f"- {summary_sentence(result, n)}" for n in result.names[1:]]
    parts += ["", "![crossover](crossover.png)", ""]
    for kpi in dict.fromkeys((result.kpi, "revenue", "revenue_per_rep_hour", "rep_utilization")):
        if kpi in set(result.table["kpi"]):
            rows = crossover_rows(result, kpi)
            parts += [f"## {label_of(kpi)}", "", _md_table(rows, set(range(1, len(rows[0])))), ""]
    parts.append(
        f"{result.replications} paired replications per strategy and team size, master seed {result.seed}; "
        f"p-values: sign-flip permutation test ({p_text(0.05)} threshold, with the bootstrap CI excluding zero)."
    )
    return "\n".join(parts) + "\n"


def write_crossover(result: Crossover, out: Path) -> None:
    from funnelsim.report.compare_figures import crossover_figure, save
    from funnelsim.report.output import write_atomically
    from funnelsim.report.tables import dumps

    def fill(tmp: Path) -> None:
        fig = crossover_figure(result.series(), result.kpi, result.names, result.crossings)
        save(fig, tmp / "crossover.png")
        (tmp / "crossover.json").write_text(dumps(result.document()))
        (tmp / "crossover.md").write_text(crossover_markdown(result))

    write_atomically(out, fill)
