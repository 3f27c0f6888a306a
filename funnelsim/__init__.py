"""funnelsim: an agent-based sales funnel simulator.

Marketers buy leads of varying persona fit; sales reps with limited selling hours, skill and
queues work them through a multi-stage cycle while their interest decays.

The public names are imported on first use, so `import funnelsim` (and `funnelsim --help`) stays
cheap: pandas, scipy and mesa load only when a simulation is asked for.
"""

# Before anything newer: this file parses on Python 3.6 and later (no `from __future__` import),
# so an older interpreter gets one line and exit status 2 instead of a SyntaxError deeper down.
import sys

if sys.version_info < (3, 12):  # noqa: UP036
    major, minor = sys.version_info[:2]
    sys.stderr.write(
        f"funnelsim: error: funnelsim needs Python 3.12 or newer (this is Python {major}.{minor}); "
        "see Troubleshooting in README.md\n"
    )
    raise SystemExit(2)

import importlib  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "Comparison": "funnelsim.experiment.compare",
    "compare": "funnelsim.experiment.compare",
    "SimulationResult": "funnelsim.experiment.runner",
    "simulate": "funnelsim.experiment.runner",
    "FunnelModel": "funnelsim.model.model",
    "load_scenario": "funnelsim.scenario.loader",
    "Scenario": "funnelsim.scenario.schema",
}

__all__ = [
    "Comparison",
    "FunnelModel",
    "Scenario",
    "SimulationResult",
    "compare",
    "load_scenario",
    "simulate",
    "__version__",
]

if TYPE_CHECKING:
    from funnelsim.experiment.compare import Comparison, compare
    from funnelsim.experiment.runner import SimulationResult, simulate
    from funnelsim.model.model import FunnelModel
    from funnelsim.scenario.loader import load_scenario
    from funnelsim.scenario.schema import Scenario


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
