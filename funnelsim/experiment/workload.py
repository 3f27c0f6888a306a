"""How big a run is before it starts: leads over the horizon and the memory they need.

A run's memory grows with its leads: each one is a row of the lead book, and a lead waiting in a
rep's queue is an agent with its luck. Measured on the baseline (`python -m
funnelsim.experiment.workload` measures again): about 200 bytes a lead when most leads go to
nurture, 1.2 kB when every lead reaches sales and waits, unworked, to the horizon. The estimate
takes the larger, so it errs towards refusing; `--force` runs anyway.
"""

from __future__ import annotations

import math
import sys

from funnelsim.errors import UsageError
from funnelsim.scenario.schema import Scenario

BYTES_PER_LEAD = 1200
BASE_BYTES = 250 * 2**20  # the interpreter, numpy, pandas, mesa and the model code


def expected_leads(scenario: Scenario) -> float:
    """Leads the channels buy over the horizon: volume after targeting, capped by the monthly budget."""
    m, cal = scenario.marketing, scenario.calendar
    leads = spend = 0.0
    for c in m.channels:
        keep = 1.0 - c.targeting
        n = c.leads_per_week * keep * scenario.horizon_weeks
        leads += n
        spend += n * c.cost_per_lead / keep**c.targeting_cost_exponent
    if m.budget_per_month is not None and spend > 0:
        days = scenario.horizon_weeks * cal.days_per_week
        months = math.ceil(days / (cal.days_per_week * 52 / 12))
        free = sum(
            c.leads_per_week * (1 - c.targeting) * scenario.horizon_weeks for c in m.channels if c.cost_per_lead == 0
        )
        leads = free + (leads - free) * min(1.0, m.budget_per_month * months / spend)
    return leads


def available_memory() -> int | None:
    """Bytes the machine can still give (MemAvailable), or None when it cannot say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    if "psutil" in sys.modules or _installed("psutil"):
        import psutil

        return int(psutil.virtual_memory().available)
    return None


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _size(n: float) -> str:
    for unit, div in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    return f"{n / 2**10:,.0f} kB"


def check_fits(scenario: Scenario, at_once: int = 1, available: int | None = None) -> None:
    """Refuse (UsageError) a run whose `at_once` concurrent replications need more memory than is
    available, with the estimate; do nothing when the machine cannot say what it has."""
    available = available_memory() if available is None else available
    if available is None:
        return
    leads = expected_leads(scenario)
    need = BASE_BYTES * at_once + leads * BYTES_PER_LEAD * at_once
    if need > available:
        runs = f" x {at_once} runs at once" if at_once > 1 else ""
        raise UsageError(
            f"{scenario.name} would buy about {leads:,.0f} leads in {scenario.horizon_weeks:g} weeks and need about "
            f"{_size(need)} of memory ({BYTES_PER_LEAD:,} bytes a lead{runs}), more than the {_size(available)} "
            "available; check the lead volumes and budget (--set), or add --force to run anyway"
        )


def measure(multiples: tuple[float, ...] = (1.0, 8.0)) -> float:
    """Bytes a lead: the peak memory of two default-company runs, every lead sent to sales and left
    waiting, at two lead volumes (each in a fresh process)."""
    import subprocess

    code = (
        "import copy, resource, sys\n"
        "from funnelsim.model.model import FunnelModel\n"
        "from funnelsim.scenario.defaults import BASELINE\n"
        "from funnelsim.scenario.schema import Scenario\n"
        "doc = copy.deepcopy(BASELINE)\n"
        "doc['marketing'].update(mql_threshold=0.0, budget_per_month=None)\n"
        "doc['sales']['abandon_after_days'] = None\n"
        "for c in doc['marketing']['channels']:\n"
        "    c['leads_per_week'] *= float(sys.argv[1])\n"
        "m = FunnelModel(Scenario.model_validate(doc), rng=1).run()\n"
        "print(m.leads_created, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    points = []
    for k in multiples:
        out = subprocess.run([sys.executable, "-c", code, str(k)], capture_output=True, text=True, check=True).stdout
        leads, kb = map(int, out.split())
        points.append((leads, kb * 1024))
    (l0, b0), (l1, b1) = points
    return (b1 - b0) / (l1 - l0)


if __name__ == "__main__":
    print(f"{measure():,.0f} bytes a lead")
