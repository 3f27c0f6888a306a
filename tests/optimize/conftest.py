"""Small optimisation problems on a short, scaled-down baseline, written into a test's folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "scenarios" / "baseline.yaml"

SMALL = f"""\
name: small
base: {BASE}
set:
  horizon_weeks: 12
  marketing.channels[*].leads_per_week: 30
variables:
  - name: reps
    path: sales.teams[0].reps
    range: [2, 12]
    step: 2
  - name: targeting
    path: marketing.channels[*].targeting
    range: [0, 0.8]
    step: 0.2
objectives:
  - kpi: profit
constraints:
  - rep_utilization <= 0.9
replications: 2
trials: 8
batch: 4
seed: 3
confirm: {{top_k: 2, replications: 4}}
"""


def write(folder: Path, body: str, name: str = "opt.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write(tmp_path, SMALL)
