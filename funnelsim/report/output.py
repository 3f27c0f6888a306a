"""Writing a run's results: JSON summary, Parquet tables, PNG figures.

Everything is written into a fresh temporary folder beside the target and moved into place
only when complete, so an error or Ctrl-C never leaves a half-written result.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from funnelsim.results.kpis import cohort_weekly
from funnelsim.results.registry import KPI_NAMES


def run_document(result) -> dict:
    """The `run --json` document: KPI means and CIs, and every run's KPIs."""
    summary = result.summary()
    return {
        "scenario": result.scenario.name,
        "replications": len(result.runs),
        "kpis": {
            k: {"mean": summary.at[k, "mean"], "ci95": [summary.at[k, "ci95_low"], summary.at[k, "ci95_high"]]}
            for k in KPI_NAMES
        },
        "runs": [{"seed": r.seed, **r.kpis} for r in result.runs],
    }


def write_atomically(out: Path, fill: Callable[[Path], None]) -> None:
    """Let `fill` write into a temporary folder, then move its files into `out`."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fill(tmp)
        out.mkdir(exist_ok=True)
        for item in sorted(tmp.iterdir()):
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_run_outputs(result, doc: dict, out: Path) -> None:
    from funnelsim.report.figures import save_run_figures
    from funnelsim.report.tables import dumps

    def fill(tmp: Path) -> None:
        (tmp / "summary.json").write_text(dumps(doc))
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.reps.to_parquet(tmp / "reps.parquet", index=False)
        weekly = result.rep_weekly
        weekly.to_parquet(tmp / "reps_weekly.parquet", index=False)
        cohort_weekly(weekly).to_parquet(tmp / "cohorts_weekly.parquet", index=False)
        result.kpis.to_parquet(tmp / "runs.parquet", index=False)
        save_run_figures(result, tmp, result.scenario.name)

    write_atomically(out, fill)
