"""Golden results: every bundled scenario and variant at two seeds, and the frontier sweep.

A refactor must reproduce these numbers exactly. Regenerate only in a commit that changes
results on purpose, and say why in it:

    python -m tests.golden --write
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden.json"
SEEDS = (1, 2026)
SWEEP = ROOT / "scenarios" / "sweeps" / "volume_quality_frontier.yaml"
# the daily series and lead-book columns that existed when the golden file was made
DAILY_COLUMNS = (
    "day",
    "leads_created",
    "mqls",
    "sales_entries",
    "deals_won",
    "revenue",
    "cost",
    "profit",
    "rep_hours_used",
    "rep_hours_available",
    "backlog",
    "waiting_first_touch",
    "headcount",
    "hires",
    "leavers",
    "refunds",
    "trust",
    "fit_gain",
    "mean_skill",
)
BOOK_COLUMNS = (
    "created",
    "entered",
    "first_attempt",
    "ended",
    "value",
    "fit",
    "state",
    "stage",
    "channel",
    "rep",
    "via_nurture",
    "emails",
)


def scenario_files() -> list[Path]:
    return sorted((ROOT / "scenarios").glob("*.yaml"))


def cases() -> list[tuple[str, str, int]]:
    """(file, variant, seed) of every case, in a fixed order."""
    from funnelsim.scenario.loader import load_variants

    out = []
    for path in scenario_files():
        for variant in load_variants(path):
            for seed in SEEDS:
                out.append((path.name, variant, seed))
    return out


def _digest(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:32]


def run_case(file: str, variant: str, seed: int) -> dict:
    """Every KPI, a digest of the daily series and one of the lead book, for one run."""
    from funnelsim.model.model import FunnelModel
    from funnelsim.results.kpis import daily_series, run_kpis
    from funnelsim.scenario.loader import load_variants

    scenario = load_variants(ROOT / "scenarios" / file)[variant]
    model = FunnelModel(scenario, rng=seed).run()
    kpis = {k: float(v) for k, v in run_kpis(model).items()}
    daily = daily_series(model)
    book = model.book.arrays()
    return {
        "kpis": kpis,
        "daily": _digest(daily[c].to_numpy(dtype=float) for c in DAILY_COLUMNS),
        "book": _digest(np.asarray(book[c]) for c in BOOK_COLUMNS),
        "leads_in_book": len(book["state"]),
    }


def key(file: str, variant: str, seed: int) -> str:
    return f"{file}:{variant}:{seed}"


def sweep_results(workers: int = 2) -> list[dict]:
    """The frontier sweep's KPI rows, ordered by point and replication."""
    from funnelsim.experiment.sweep import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_sweep(SWEEP, Path(tmp) / "sweep", workers=workers)
        df = outcome.summary  # noqa: F841 - the results file is what is compared
        import pandas as pd

        results = pd.read_parquet(Path(tmp) / "sweep" / "results.parquet")
    kpis = [c for c in results.columns if c not in ("run_id", "status", "error", "seconds")]
    results = results.sort_values(["point_id", "replication"])[kpis]
    return [
        {k: (float(v) if isinstance(v, int | float | np.number) else v) for k, v in row.items()}
        for row in results.to_dict("records")
    ]


def compute(workers: int = 2) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    todo = cases()
    with ProcessPoolExecutor(workers) as pool:
        runs = list(pool.map(run_case, *zip(*todo, strict=True)))
    return {
        "runs": {key(*c): r for c, r in zip(todo, runs, strict=True)},
        "sweep": sweep_results(workers),
    }


def load() -> dict:
    return json.loads(GOLDEN.read_text())


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.golden --write")
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
