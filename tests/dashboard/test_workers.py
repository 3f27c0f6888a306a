"""The sessions' models in worker processes: the same results as in the server, and a worker's
death costs its own sessions only."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from funnelsim.dashboard import workers
from funnelsim.dashboard.figures import FIGURES
from funnelsim.dashboard.session import Session, Workshop
from funnelsim.dashboard.workers import Pool, RemoteWorkshop, WorkerLost
from funnelsim.scenario.loader import load_variants

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def pool():
    p = Pool(2)
    workers.warm_up(p)
    yield p
    p.stop()


def strategies():
    variants = load_variants(SCENARIOS / "lead_strategy.yaml", ["horizon_weeks=6"])
    return list(variants.items())


def test_a_remote_workshop_steps_as_the_local_one(pool):
    local, remote = Workshop(strategies()), RemoteWorkshop(pool, strategies())
    assert remote.days_per_week == local.days_per_week and remote.days_total == local.days_total
    assert remote.step(7) == local.step(7) == 7
    assert remote.advance_to(12) and local.advance_to(12)
    assert remote.day == local.day == 12
    for mine, theirs in zip(local.snapshots(), remote.snapshots(), strict=True):
        assert (mine.name, mine.day, mine.kpis) == (theirs.name, theirs.day, theirs.kpis)
        assert all(np.array_equal(mine.series[k], theirs.series[k]) for k in mine.series)
    snaps, images = remote.frame()
    assert [s.day for s in snaps] == [12, 12] and all(svg.startswith(b"<?xml") for svg in images.values())
    assert remote.frame()[1] is images  # drawn once a day
    remote.close()
    assert sum(w["models"] for w in pool.status()) == 0


def test_sessions_spread_over_the_workers(pool):
    a, b = RemoteWorkshop(pool, strategies()[:1]), RemoteWorkshop(pool, strategies()[:1])
    assert a.worker is not b.worker
    assert sorted(w["models"] for w in pool.status()) == [1, 1]
    a.close()
    b.close()


def test_a_dead_worker_loses_its_sessions_only_and_a_restart_builds_them_again(pool, monkeypatch):
    monkeypatch.setattr(workers, "_POOL", pool)
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    doomed = Session(load_variants(SCENARIOS / "lead_strategy.yaml", ["horizon_weeks=6"]))
    other = Session(load_variants(SCENARIOS / "lead_strategy.yaml", ["horizon_weeks=6"]))
    assert doomed.workshop.worker is not other.workshop.worker
    doomed.step(5)
    drawn = doomed.frame()
    assert set(drawn[1]) == {"funnel", "money", "utilisation", "backlog", "response", "ramp"}
    os.kill(doomed.workshop.worker.process.pid, signal.SIGKILL)
    doomed.workshop.worker.process.join(10)
    assert doomed.step(5) == 0
    assert doomed.lost and "worker process stopped" in doomed.lost
    assert doomed.frame() is drawn  # the page keeps what it last drew
    assert other.step(5) == 5  # the other worker carries on
    doomed.restart()
    assert doomed.lost is None and doomed.catching_up
    while not doomed.catch_up(1.0):
        pass
    assert doomed.workshop.day == 5 and doomed.workshop.worker.alive
    assert all(w.alive for w in pool.workers)  # the dead one was replaced
    doomed.close()
    other.close()
    assert doomed.workshop.step(1) == 0 and sum(w["models"] for w in pool.status()) == 0
    with pytest.raises(WorkerLost):
        doomed.workshop._call("snapshots")


def test_the_page_of_a_lost_worker_offers_a_restart(pool, monkeypatch):
    solara = pytest.importorskip("solara")
    import ipyvuetify as v
    from solara.widgets import HTML

    from funnelsim.dashboard.app import Workbench

    monkeypatch.setattr(workers, "_POOL", pool)
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    session = Session(load_variants(SCENARIOS / "lead_strategy.yaml", ["horizon_weeks=6"]))
    _, rc = solara.render(Workbench(session), handle_error=False)
    rc.find(v.Btn, children=["Step +1 week"]).widget.click()
    os.kill(session.workshop.worker.process.pid, signal.SIGKILL)
    session.workshop.worker.process.join(10)
    rc.find(v.Btn, children=["Step +1 week"]).widget.click()
    shown = "\n".join(w.widget.unsafe_innerHTML or "" for w in rc.find(HTML))
    assert "worker process stopped" in shown and "Other tabs are not affected" in shown
    rc.find(v.Btn, children=["Restart this session"]).widget.click()
    deadline = time.monotonic() + 30
    while session.catching_up or session.workshop.day < 5:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert session.lost is None and session.workshop.worker.alive
    rc.close()
    session.close()


def test_the_build_brings_its_first_frame_so_the_page_needs_no_second_call(pool, monkeypatch):
    remote = RemoteWorkshop(pool, strategies()[:1])
    calls = []
    monkeypatch.setattr(remote.worker, "call", lambda op, *a: calls.append(op))
    snaps, images = remote.frame()
    assert calls == [] and [s.day for s in snaps] == [0] and set(images) == {f.key for f in FIGURES}
    monkeypatch.undo()
    remote.close()


def test_a_tab_arriving_or_leaving_goes_ahead_of_the_tabs_at_play():
    """While a call is under way, a play call waits, then a build arrives: the build goes first."""
    import threading

    gate, order = workers.Gate(), []
    holding, release = threading.Event(), threading.Event()

    def call(name: str, urgent: bool, hold: bool = False):
        with gate.hold(urgent):
            order.append(name)
            if hold:
                holding.set()
                release.wait(5)

    first = threading.Thread(target=call, args=("step under way", False, True))
    first.start()
    holding.wait(5)
    play = threading.Thread(target=call, args=("next step", False))
    play.start()
    time.sleep(0.1)  # the play call is waiting
    build = threading.Thread(target=call, args=("build", True))
    build.start()
    time.sleep(0.1)
    release.set()
    for t in (first, play, build):
        t.join(5)
    assert order == ["step under way", "build", "next step"]
