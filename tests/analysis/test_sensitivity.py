"""Sensitivity analysis of sweeps: Sobol' indices against theory and scipy, and the analyze command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from funnelsim.analysis.sobol import sobol_indices
from funnelsim.cli import main
from funnelsim.experiment.samplers import unit_saltelli
from funnelsim.experiment.sweep import run_sweep
from tests.experiment.test_sweep import GRID, _write


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def _ishigami_outputs(n: int) -> np.ndarray:
    u = unit_saltelli(3, n, seed=3)
    return ishigami(-np.pi + 2 * np.pi * u)


def test_sobol_indices_of_the_ishigami_function_match_theory():
    # Analytic values for a = 7, b = 0.1 (Ishigami & Homma 1990; Saltelli et al. 2010).
    result = sobol_indices(_ishigami_outputs(2**12), 2**12, ["x1", "x2", "x3"], "y", resamples=200)
    t = result.table.set_index("parameter")
    assert t["S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.04)
    assert t["ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.04)
    assert (t["ST_ci95_low"] <= t["ST"]).all() and (t["ST"] <= t["ST_ci95_high"]).all()
    assert result.used == 2**12 and result.dropped == 0


def test_sobol_indices_equal_scipy_on_a_complete_design():
    n, d = 256, 3
    y = _ishigami_outputs(n).reshape(d + 2, n)
    ours = sobol_indices(y.ravel(), n, ["a", "b", "c"], "y", resamples=50).table
    ref = stats.sobol_indices(func={"f_A": y[0][None], "f_B": y[1][None], "f_AB": y[2:][:, None, :]}, n=n)
    assert ours["S1"].to_numpy() == pytest.approx(ref.first_order, rel=1e-9)
    assert ours["ST"].to_numpy() == pytest.approx(ref.total_order, rel=1e-9)


def test_rows_with_a_missing_output_are_left_out_of_every_block():
    n = 64
    y = _ishigami_outputs(n)
    y[2 * n + 5] = np.nan  # AB_1, row 5
    result = sobol_indices(y, n, ["a", "b", "c"], "y", resamples=50)
    assert (result.used, result.dropped) == (n - 1, 1)
    assert np.isfinite(result.table[["S1", "ST"]].to_numpy()).all()


SOBOL = """\
name: tiny_sobol
base: small.yaml
sampler: sobol
samples: 8
parameters:
  - name: reps
    path: sales.teams[0].reps
    range: [1, 8]
  - name: leads
    path: marketing.channels[0].leads_per_week
    range: [10, 80]
  - name: routing
    path: sales.routing
    values: [pool, least_loaded]
kpis: [revenue, rep_utilization]
"""


def test_analyze_a_sobol_sweep(tmp_path: Path, capsys):
    out = tmp_path / "out"
    outcome = run_sweep(_write(tmp_path, SOBOL), out)
    df = outcome.results
    assert len(df) == 8 * (3 + 2) and list(df["point_id"]) == list(range(40))
    # AB_i rows whose discrete value equals A's are the same run: done once, recorded for both points
    shared = df[df["run_id"].duplicated(keep=False)]
    assert len(shared) >= 2 and (shared.groupby("run_id")["revenue"].nunique() == 1).all()
    assert (shared.groupby("run_id")["seconds"].min() == 0).all()
    assert main(["analyze", str(out), "--resamples", "100"]) == 0
    analysis = out / "analysis"
    indices = pd.read_csv(analysis / "sobol_indices.csv")
    assert len(indices) == 6 and set(indices["parameter"]) == {"reps", "leads", "routing"}
    assert {"S1", "S1_ci95_low", "S1_ci95_high", "ST", "ST_ci95_low", "ST_ci95_high"} <= set(indices.columns)
    for name in ("report.md", "report.html", "sobol_revenue.png", "sobol_rep_utilization.png"):
        assert (analysis / name).stat().st_size > 0
    report = (analysis / "report.md").read_text()
    assert "## Revenue ($)" in report and "total ST [95% CI]" in report and "(sobol_revenue.png)" in report
    assert "left out" not in report
    # utilisation is driven by team size far more than by routing
    util = indices[indices["kpi"] == "rep_utilization"].set_index("parameter")
    assert util.loc["reps", "ST"] > util.loc["routing", "ST"]


def test_analyze_a_grid_sweep_and_its_errors(tmp_path: Path, capsys):
    out = tmp_path / "out"
    run_sweep(_write(tmp_path, GRID), out)
    assert main(["analyze", str(out), "--kpi", "revenue", "--pair", "targeting", "reps"]) == 0
    analysis = out / "analysis"
    for name in ("main_effects_revenue.png", "heatmap_revenue.png", "main_effects.csv", "report.html"):
        assert (analysis / name).exists()
    effects = pd.read_csv(analysis / "main_effects.csv")
    assert set(effects["parameter"]) == {"reps", "targeting"} and (effects["runs"] == 9).all()
    capsys.readouterr()
    assert main(["analyze", str(out), "--kpi", "profit"]) == 2
    assert "not kept by this sweep" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "status": "interrupted"}))
    assert main(["analyze", str(out)]) == 2
    assert "has not finished" in capsys.readouterr().err
