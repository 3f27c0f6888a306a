"""The bundled scenario pack, run for the README: every file with `variants:`, and the crossover.

Each file's first variant is its baseline. All runs of the pack share one executor, so a pool or a
cluster is opened once; `funnelsim.report.pack_table` renders what `run_pack` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from funnelsim.experiment.compare import Comparison, compare
from funnelsim.experiment.crossover import Crossover, sweep_team_sizes
from funnelsim.experiment.executors import Executor
from funnelsim.scenario.loader import load_scenario, load_variants
from funnelsim.scenario.yamlsource import read_yaml_file

CROSSOVER_FILE = "lead_strategy.yaml"
CROSSOVER_SIZES = (10, 15, 20, 30, 40, 50, 60, 70, 80, 100, 120)


@dataclass
class PackComparison:
    """One file of the pack: the question its header asks and its strategies compared."""

    path: Path
    question: str
    comparison: Comparison


@dataclass
class PackResults:
    replications: int
    comparisons: list[PackComparison] = field(default_factory=list)
    crossover: Crossover | None = None


def pack_files(folder: Path) -> list[Path]:
    """Scenario files with a `variants:` block, in name order."""
    out = []
    for path in sorted(Path(folder).glob("*.yaml")):
        data = read_yaml_file(path, str(path)).data
        if isinstance(data, dict) and "variants" in data:
            out.append(path)
    return out


def run_pack(
    folder: Path,
    executor: Executor,
    replications: int = 20,
    crossover_replications: int = 6,
    bar: Callable | None = None,
) -> PackResults:
    """Compare every pack file's variants and run the lead-strategy crossover on `executor`.

    `bar(total, label)` may return a context manager yielding a progress callback per step.
    """
    results = PackResults(replications)
    for path in pack_files(folder):
        variants = load_variants(path)
        if len(variants) < 2:
            continue
        with _bar(bar, replications * len(variants), path.stem) as tick:
            cmp = compare(variants, replications, progress=tick, executor=executor)
        results.comparisons.append(PackComparison(path, load_scenario(path).description or "-", cmp))
    lead = Path(folder) / CROSSOVER_FILE
    if lead.exists():
        variants = load_variants(lead)
        total = len(CROSSOVER_SIZES) * len(variants) * crossover_replications
        with _bar(bar, total, "crossover") as tick:
            results.crossover = sweep_team_sizes(
                variants, CROSSOVER_SIZES, crossover_replications, progress=tick, executor=executor
            )
    return results


def _bar(bar, total: int, label: str):
    return nullcontext(None) if bar is None else bar(total, label)
