"""FunnelModel under Mesa's own batch_run, for researchers who already use it."""

from __future__ import annotations

import multiprocessing

import mesa
import pandas as pd
import pytest

from funnelsim.model.model import FunnelModel


@pytest.fixture
def restore_start_method():
    # batch_run forces the global start method to "spawn"; leave the process as we found it.
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_funnel_model_runs_under_mesa_batch_run(restore_start_method):
    levers = {"reps": [2, 3], "leads_per_week": 30, "horizon_weeks": 6, "routing": "pool"}
    results = mesa.batch_run(
        FunnelModel,
        parameters=levers,
        rng=[1, 2],
        number_processes=1,
        data_collection_period=-1,
        max_steps=1_000,
        display_progress=False,
    )
    df = pd.DataFrame(results)
    assert len(df) == 4
    assert {"reps", "leads_per_week", "rng", "Step", "revenue", "cost", "leads_created"} <= set(df.columns)
    assert (df["Step"] == 30).all()  # six weeks of five working days: the model stops itself
    for row in df.itertuples():
        model = FunnelModel(reps=row.reps, leads_per_week=30, horizon_weeks=6, routing="pool", rng=row.rng).run()
        last = model.datacollector.get_model_vars_dataframe().iloc[-1]  # what batch_run reports
        assert (row.revenue, row.cost, row.leads_created) == (last["revenue"], last["cost"], last["leads_created"])
        assert (row.revenue, row.leads_created) == (model.revenue, model.leads_created)
    assert (df["sales_entries"] > 0).all()
