"""The Solara page, rendered headless with `solara.render`: controls, stepping, levers, errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

solara = pytest.importorskip("solara", reason="the dashboard extra is not installed: pip install -e '.[dashboard]'")
pytest.importorskip("mesa.visualization")

import ipyvuetify as v  # noqa: E402
import ipywidgets as widgets  # noqa: E402
from solara.widgets import HTML  # noqa: E402

from funnelsim.dashboard.app import Dashboard, Page, Workbench  # noqa: E402
from funnelsim.dashboard.levers import LEVERS  # noqa: E402
from funnelsim.dashboard.session import Session  # noqa: E402
from funnelsim.scenario.loader import load_variants  # noqa: E402

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture
def session():
    return Session(load_variants(SCENARIOS / "lead_strategy.yaml", ["horizon_weeks=12"]))


def show(element):
    _, rc = solara.render(element, handle_error=False)
    return rc


def button(rc, text: str):
    return rc.find(v.Btn, children=[text]).widget


def texts(rc) -> str:
    return "\n".join(w.widget.unsafe_innerHTML or "" for w in rc.find(HTML))


def images(rc) -> list[bytes]:
    return [bytes(w.widget.value) for w in rc.find(widgets.Image)]


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_the_page_has_the_workshop_controls_and_figures(session):
    rc = show(Workbench(session))
    for text in ("Play", "Step +1 week", "Reset", "Undo my changes"):
        button(rc, text)
    for lever in LEVERS:
        if lever.kind in ("int", "float"):
            rc.find(v.Slider, class_=f"fs-lever-{lever.key}").assert_single()
    labels = [w.widget.label for w in rc.find(v.Switch)]
    assert "Side by side: compare two strategies" in labels and "Mentoring for new hires" in labels
    selects = [w.widget.label for w in rc.find(v.Select)]
    assert "Strategy" in selects and "Speed: time per step" in selects
    assert len(images(rc)) == 6
    page = texts(rc)
    for title in ("Funnel by stage", "Revenue and cost over time", "Speed to lead", "ramp-up"):
        assert title in page
    assert "Week 0 of 12" in page


def test_step_advances_the_model_and_redraws(session):
    rc = show(Workbench(session))
    before = images(rc)
    button(rc, "Step +1 week").click()
    assert session.workshop.day == 5
    assert "Week 1 of 12" in texts(rc)
    after = images(rc)
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_speed_sets_the_days_per_step(session):
    rc = show(Workbench(session))
    rc.find(v.Select, label="Speed: time per step").widget.v_model = "1 day"
    button(rc, "Step +1 day").click()
    assert session.workshop.day == 1


def test_a_lever_changes_the_models_parameters_and_replays(session):
    rc = show(Workbench(session))
    button(rc, "Step +1 week").click()
    slider = rc.find(v.Slider, class_="fs-lever-reps").widget
    slider.v_model = 40
    slider.fire_event("change", 40)
    config = session.workshop.runs[0].model.config
    assert sum(t.reps for t in config.sales.teams) == 40
    wait_until(lambda: session.workshop.day == 5 and not session.catching_up)
    wait_until(lambda: "Sales reps 40 (file: 25)" in texts(rc))
    button(rc, "Undo my changes").click()
    assert sum(t.reps for t in session.workshop.runs[0].model.config.sales.teams) == 25


def test_switches_and_choices_are_levers_too(session):
    rc = show(Workbench(session))
    mentoring = rc.find(v.Switch, label="Mentoring for new hires").widget
    mentoring.v_model = True
    assert session.workshop.runs[0].model.config.people.mentoring.enabled
    routing = rc.find(v.Select, v_model="Least loaded rep").widget
    routing.v_model = "Shared pool: next free rep"
    assert session.workshop.runs[0].model.config.sales.routing == "pool"


def test_side_by_side_runs_two_strategies_on_the_same_seed(session):
    rc = show(Workbench(session))
    rc.find(v.Switch, label="Side by side: compare two strategies").widget.v_model = True
    runs = session.workshop.runs
    assert [r.name for r in runs] == ["more_leads", "qualified_leads"]
    assert runs[0].model.seed == runs[1].model.seed
    button(rc, "Step +1 week").click()
    assert all(r.model.day == 5 for r in runs)
    assert "difference" in texts(rc)


def test_play_runs_until_paused(session):
    rc = show(Workbench(session))
    button(rc, "Play").click()
    wait_until(lambda: session.workshop.day >= 10)
    button(rc, "Pause").click()
    day = session.workshop.day
    time.sleep(0.8)
    assert session.workshop.day == day
    button(rc, "Reset").click()
    assert session.workshop.day == 0


def test_play_stops_at_the_horizon():
    session = Session(load_variants(SCENARIOS / "baseline.yaml", ["horizon_weeks=2"]))
    rc = show(Workbench(session))
    button(rc, "Play").click()
    wait_until(lambda: not session.workshop.running)
    wait_until(lambda: "Horizon reached" in texts(rc))
    wait_until(lambda: len(rc.find(v.Btn, children=["Play"]).widgets) == 1)
    assert rc.find(v.Btn, children=["Play"]).widget.disabled


def test_a_bad_file_shows_the_command_line_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: baseline.yaml\nsales:\n  teams:\n    - {name: account_executives, reps: -3}\n")
    (tmp_path / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    rc = show(Dashboard(str(bad)))
    page = texts(rc)
    assert "bad.yaml cannot be loaded" in page
    assert f"{bad}:4: sales.teams[0].reps" in page
    assert "Traceback" not in page
    assert not images(rc)


def test_an_error_of_the_base_file_is_not_said_to_be_in_a_variant(tmp_path):
    (tmp_path / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: baseline.yaml\nsales:\n  teams:\n    - {name: account_executives, reps: -3}\n"
        "variants:\n  a: {}\n  b:\n    sales:\n      teams: [{name: account_executives, reps: 4}]\n"
    )
    page = texts(show(Dashboard(str(bad))))
    assert f"{bad}:4: sales.teams[0].reps: must be at least 0 (got -3)" in page
    assert "(in variant" not in page


def test_files_with_variants_offer_each_strategy():
    rc = show(Dashboard(str(SCENARIOS / "growth_spurt.yaml")))
    strategy = rc.find(v.Select, label="Strategy").widget
    assert strategy.items == ["no_mentoring", "mentoring", "bootcamp"]
    files = rc.find(v.Select, label="Scenario file").widget
    assert "lead_strategy.yaml" in files.items


def test_the_module_page_reads_the_scenario_from_the_environment(monkeypatch):
    monkeypatch.setenv("FUNNELSIM_DASHBOARD_SCENARIO", str(SCENARIOS / "emails.yaml"))
    rc = show(Page())
    assert "emails.yaml" in texts(rc)


def test_a_closed_page_gives_its_seat_back_and_stops():
    from funnelsim.dashboard.app import Admission
    from funnelsim.dashboard.room import Room

    room = Room()
    rc = show(Admission(room, str(SCENARIOS / "lead_strategy.yaml")))
    (seat,) = room.seats.values()
    kept = seat.session
    assert kept is not None and not kept.closed
    button(rc, "Play").click()
    wait_until(lambda: kept.workshop.day > 0)
    rc.close()
    assert kept.closed and not room.seats


def test_a_full_room_says_so():
    from funnelsim.dashboard.app import Admission
    from funnelsim.dashboard.room import Room

    room = Room(max_sessions=1)
    first = show(Admission(room, None))
    rc = show(Admission(room, None))
    assert "The room is full" in texts(rc) and "at most 1 sessions" in texts(rc)
    first.close()
    button(rc, "Try again").click()
    assert "The room is full" not in texts(rc)
    button(rc, "Play")
    rc.close()


def test_an_idle_session_ends_with_a_way_to_start_again():
    from funnelsim.dashboard.app import Admission
    from funnelsim.dashboard.room import Room

    room = Room(idle_timeout=60)
    rc = show(Admission(room, None))
    room.end_idle(now=time.monotonic() + 61)
    assert "This session has ended" in texts(rc) and not room.seats
    button(rc, "Start again").click()
    button(rc, "Play")
    assert len(room.seats) == 1
    rc.close()
