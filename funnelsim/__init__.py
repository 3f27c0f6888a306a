"""funnelsim: an agent-based sales funnel simulator.

Marketers buy leads of varying persona fit; sales reps with limited selling hours, skill and
queues work them through a multi-stage cycle while their interest decays.
"""

from funnelsim.experiment.compare import Comparison, compare
from funnelsim.experiment.runner import SimulationResult, simulate
from funnelsim.model.model import FunnelModel
from funnelsim.scenario.loader import load_scenario
from funnelsim.scenario.schema import Scenario

__version__ = "0.1.0"
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
