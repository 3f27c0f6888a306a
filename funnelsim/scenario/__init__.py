"""Scenario files: the schema, the loader and its errors, and the generated field reference."""

from __future__ import annotations

from typing import Any

from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.loader import load_scenario, load_variants
from funnelsim.scenario.schema import Scenario

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "field_reference_markdown",
    "load_scenario",
    "load_variants",
    "scenario_json_schema",
]


def __getattr__(name: str) -> Any:
    # Imported lazily so `python -m funnelsim.scenario.docs` does not find docs already imported.
    if name in ("field_reference_markdown", "scenario_json_schema"):
        from funnelsim.scenario import docs

        return getattr(docs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
