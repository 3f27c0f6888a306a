"""Refactors keep results: the same scenario and seed give exactly the golden numbers.

The golden file (tests/data/golden.json) holds every KPI of every bundled scenario and variant at
two seeds, digests of their daily series and lead books, and the frontier sweep's results. A
change that must alter results regenerates it in its own commit (`python -m tests.golden --write`).
"""

from __future__ import annotations

import math

import pytest

from tests import golden

GOLD = golden.load()
FAST = [c for c in golden.cases() if c[0] in ("baseline.yaml", "lead_strategy.yaml")]
SLOW = [c for c in golden.cases() if c not in FAST]


def _same(case, got: dict) -> None:
    want = GOLD["runs"][golden.key(*case)]
    assert set(got["kpis"]) >= set(want["kpis"])
    diff = {
        k: (v, got["kpis"][k])
        for k, v in want["kpis"].items()
        if not (v == got["kpis"][k] or (math.isnan(v) and math.isnan(got["kpis"][k])))
    }
    assert not diff, f"{golden.key(*case)}: KPIs changed: {diff}"
    assert got["leads_in_book"] == want["leads_in_book"]
    assert got["daily"] == want["daily"], "daily series changed"
    assert got["book"] == want["book"], "lead book changed"


def test_golden_file_covers_every_bundled_variant():
    assert set(GOLD["runs"]) == {golden.key(*c) for c in golden.cases()}


@pytest.mark.parametrize("case", FAST, ids=lambda c: golden.key(*c))
def test_golden_fast(case):
    _same(case, golden.run_case(*case))


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW, ids=lambda c: golden.key(*c))
def test_golden_every_variant(case):
    _same(case, golden.run_case(*case))


@pytest.mark.slow
def test_golden_sweep():
    """Every golden column is unchanged; KPIs added since may appear beside them."""
    got, want = golden.sweep_results(workers=2), GOLD["sweep"]
    assert len(got) == len(want)
    assert [{k: row.get(k) for k in w} for row, w in zip(got, want, strict=True)] == want
