"""The workshop dashboard page, on Mesa's Solara stack: `funnelsim dashboard FILE.yaml`, or
`FUNNELSIM_DASHBOARD_SCENARIO=FILE.yaml solara run funnelsim/dashboard/app.py`.

Each browser tab gets its own session and a seat in the room (`room`): when the tab is closed (or
its connection stays lost past the reconnect grace) the seat is given back, the play loop stops and
the models are released. A play loop in a thread drives the models (catching up after a lever
moved, then playing), which live with their figures in a worker process (`workers`) when the server
has a pool; the page redraws after every slice of work.
"""

from __future__ import annotations

import html
import itertools
import os
import time
import traceback
from pathlib import Path

import solara
import solara.lab

from funnelsim.dashboard.components import CSS, Clock, ErrorPanel, FigureCard, KpiStrip, LeverPanel, RunControls, speeds
from funnelsim.dashboard.figures import FIGURES
from funnelsim.dashboard.levers import read_levers
from funnelsim.dashboard.room import ROOM, Room, Seat
from funnelsim.dashboard.server import SCENARIO_ENV
from funnelsim.dashboard.session import (
    B_ONLY,
    BOTH,
    REPLAY_FIRST_SLICE_SECONDS,
    REPLAY_SLICE_SECONDS,
    LeverError,
    Session,
    Setup,
)
from funnelsim.scenario.defaults import default_scenario
from funnelsim.scenario.errors import ScenarioError
from funnelsim.scenario.loader import load_variants

FRAME_SECONDS = 0.3  # while playing, at most one frame this often


def open_session(path: str | None) -> tuple[Session | None, str | None]:
    """A session for the file's strategies, or the error the command line would print."""
    if not path:
        scenario = default_scenario()
        return Session({scenario.name: scenario}), None
    try:
        return Session(load_variants(path)), None
    except ScenarioError as err:
        return None, str(err)
    except Exception as err:  # a file that validates but cannot run: still a message, not a traceback page
        return None, f"{path}: {type(err).__name__}: {err}"


def scenario_files(path: str | None) -> list[str]:
    """Scenario files beside the one given, so the trainer can switch without a restart."""
    if not path:
        return []
    folder = Path(path).parent
    found = sorted({*folder.glob("*.yaml"), *folder.glob("*.yml"), Path(path)})
    return [str(p) for p in found]


@solara.component
def FilePicker(path: str | None, on_path, on_reload):
    files = scenario_files(path)
    if files:
        names = [Path(f).name for f in files]
        solara.Select(
            label="Scenario file",
            values=names,
            value=Path(path).name,
            on_value=lambda name: on_path(files[names.index(name)]),
        )
    else:
        solara.HTML(tag="div", unsafe_innerHTML="No scenario file given: the built-in baseline.", classes=["fs-help"])
    solara.Button("Reload the file", on_click=on_reload, outlined=True, color="primary", disabled=not path)


@solara.component
def Admission(room: Room, path: str | None = None):
    """A seat in the room for this tab, or a page saying why there is none."""
    attempt, set_attempt = solara.use_state(0)
    ended, set_ended = solara.use_state(None)
    seat = solara.use_memo(lambda: room.take_seat(_kernel_context()), [attempt])

    def bind():
        if seat is None:
            return None
        seat.on_end = lambda: set_ended(seat.ended)
        unregister = seat.context.on_close(seat.leave) if seat.context is not None else None

        def leave():
            seat.leave()
            if unregister is not None:
                unregister()

        return leave

    solara.use_effect(bind, [seat])

    def again():
        set_ended(None)
        set_attempt(lambda n: n + 1)

    solara.Style(CSS)
    solara.Title("funnelsim workshop")
    if seat is None:
        Notice(
            "The room is full",
            f"This dashboard serves at most {room.max_sessions} sessions at once, and all of them are open. "
            "Close a tab you no longer use, or ask the trainer, then try again.",
            "Try again",
            again,
        )
    elif ended:
        minutes = (room.idle_timeout or 0) / 60
        Notice(
            "This session has ended",
            f"Nobody used it for {minutes:g} minutes, so the server let its models go.",
            "Start again",
            again,
        )
    else:
        Dashboard(path, seat=seat)


@solara.component
def Notice(title: str, text: str, action: str, on_action):
    with solara.Column(classes=["funnelsim", "fs-notice"], style={"padding": "40px", "max-width": "760px"}):
        solara.HTML(tag="h1", unsafe_innerHTML=html.escape(title))
        solara.HTML(tag="p", unsafe_innerHTML=html.escape(text))
        solara.Button(action, on_click=on_action, color="primary")


def _kernel_context():
    """This tab's Solara kernel context (None outside a server, e.g. in `solara.render` tests)."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:
        return None


def _watched(context) -> bool:
    """Whether a browser page is connected to this tab's kernel (True outside a server)."""
    pages = getattr(context, "page_status", None)
    if not pages:
        return True
    from solara.server.kernel_context import PageStatus

    try:
        return PageStatus.CONNECTED in list(pages.values())
    except RuntimeError:  # a page connected or went at this very moment: look again next frame
        return True


@solara.component
def Dashboard(path: str | None = None, seat: Seat | None = None):
    """The whole page: pick a file, load it (or show its problems), then the workbench."""
    chosen, set_chosen = solara.use_state(path)
    reloads, set_reloads = solara.use_state(0)
    session, error = solara.use_memo(lambda: open_session(chosen), [chosen, reloads])
    solara.use_effect(lambda: seat.attach(session) if seat is not None else None, [session])
    # a page with the file's problems is a first page too (the workbench says so once drawn)
    solara.use_effect(lambda: seat.arrived() if seat is not None and error is not None else None, [error])
    solara.Style(CSS)
    solara.Title("funnelsim workshop")

    def reload():
        set_reloads(lambda n: n + 1)

    if error is not None:
        with solara.Row(classes=["funnelsim"], gap="0px"):
            with solara.Column(classes=["fs-controls"]):
                solara.HTML(tag="h1", unsafe_innerHTML="funnelsim")
                FilePicker(chosen, set_chosen, reload)
            with solara.Column(classes=["fs-main"]):
                ErrorPanel(f"{Path(chosen).name} cannot be loaded", error)
                solara.HTML(tag="p", unsafe_innerHTML="Fix the file, then press <b>Reload the file</b>.")
        return
    Workbench(session, chosen, set_chosen, reload, seat=seat).key(f"{chosen}:{reloads}")


@solara.component
def Workbench(session: Session, path: str | None = None, on_path=None, on_reload=None, seat: Seat | None = None):
    """Controls on the left, the room's figures on the right; owns the play loop."""
    counter = solara.use_memo(lambda: itertools.count(1), [])
    version = solara.use_reactive(0)
    generation, set_generation = solara.use_state(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("1 week")
    problem = solara.use_reactive(None)
    task_ref = solara.use_ref(None)
    context = solara.use_memo(_kernel_context, [])
    workshop = session.workshop
    steps = speeds(workshop.days_per_week)

    def redraw():
        version.set(next(counter))

    def run():
        """Catch up with the day reached (after a change), then play until paused or done."""
        first = True
        try:
            while True:
                task = task_ref.current
                if session.closed or (task is not None and not task.is_current()):
                    return
                if session.catching_up:
                    session.catch_up(REPLAY_FIRST_SLICE_SECONDS if first else REPLAY_SLICE_SECONDS)
                    first = False
                    redraw()
                    continue
                if not playing.value:
                    return
                if not _watched(context):  # the tab has gone (for good, or for the reconnect grace)
                    playing.set(False)
                    return
                if not session.workshop.running:
                    playing.set(False)
                    return
                start = time.perf_counter()
                session.playing = True
                session.step(steps[speed.value])
                if session.closed:
                    return
                if session.lost:
                    playing.set(False)
                    redraw()
                    return
                if seat is None or not seat.making_room():  # else this frame is skipped: see room.ARRIVAL_SECONDS
                    redraw()
                time.sleep(max(0.0, FRAME_SECONDS - (time.perf_counter() - start)))
        except Exception as err:  # the room sees a message; the log keeps the traceback
            if session.closed:
                return
            traceback.print_exc()
            problem.set(f"The simulation stopped: {err}")
            playing.set(False)
        finally:
            session.playing = False

    task_ref.current = solara.lab.use_task(run, dependencies=[playing.value, generation], raise_error=False)

    def rebuilt():
        problem.set(None)
        set_generation(lambda g: g + 1)
        if not session.catching_up:  # else the figures stay until the replay's first slice is drawn
            redraw()

    def change(**setup):
        try:
            session.configure(**setup)
        except LeverError as err:
            problem.set(str(err))
            return
        rebuilt()

    def move_lever(key, value):
        try:
            session.set_lever(key, value)
        except LeverError as err:
            problem.set(str(err))
            return
        rebuilt()

    def side_by_side(on: bool):
        if not on:
            change(strategy_b=None)
            return
        b = session.default_b()
        change(strategy_b=b, apply_to=B_ONLY if b == session.setup.strategy_a else BOTH)

    def step():
        session.touch()
        session.step(steps[speed.value])
        redraw()

    def play_or_pause():
        session.touch()
        playing.set(not playing.value)

    def reset():
        playing.set(False)
        session.reset()
        rebuilt()

    def restart():
        playing.set(False)
        session.restart()
        rebuilt()

    # what was last drawn: while a replay runs, figures, numbers and clock all keep showing it
    snaps, images = solara.use_memo(session.frame, [version.value])
    solara.use_effect(lambda: seat.arrived() if seat is not None else None, [])
    if session.closed:  # the tab is going away: nothing left to draw
        return
    if not snaps:  # the worker was lost before anything was drawn
        Lost(session.lost or "The simulation is not available.", restart)
        return
    setup = session.setup
    with solara.Row(classes=["funnelsim"], gap="0px"):
        with solara.Column(classes=["fs-controls"], gap="6px"):
            solara.HTML(tag="h1", unsafe_innerHTML="funnelsim")
            if on_path is not None:
                FilePicker(path, on_path, on_reload)
            StrategyPanel(setup, session.names, change, side_by_side)
            RunControls(
                playing.value,
                workshop.running,
                session.catching_up,
                speed.value,
                list(steps),
                play_or_pause,
                step,
                reset,
                speed.set,
            )
            LeverPanel(
                session.lever_values(),
                read_levers(session.lever_scenario()),
                session.lever_scenario(),
                move_lever,
                lambda: change(levers={}),
                _apply_note(session),
            )
        with solara.Column(classes=["fs-main"], gap="4px"):
            Header(Path(path).name if path else "built-in baseline", _descriptions(session), session.changes_text())
            Clock(snaps[0].day, snaps[0].days_total, snaps[0].days_per_week, _status(session, playing.value))
            if session.lost:
                Lost(session.lost, restart)
            elif problem.value:
                Problem(problem.value)
            KpiStrip(snaps)
            with solara.Div(classes=["fs-grid"]):
                for spec in FIGURES:
                    FigureCard(spec, images.get(spec.key, b""))


@solara.component
def Problem(message: str):
    """A message in the page's error colours (solara.Error's Alert fails on this ipyvuetify)."""
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(message), classes=["fs-problem"])


@solara.component
def Lost(message: str, on_restart):
    """A session whose worker process died: say so, and offer to build it again."""
    with solara.Column(classes=["fs-lost"]):
        Problem(f"{message} Other tabs are not affected.")
        solara.Button("Restart this session", on_click=on_restart, color="primary")


@solara.component
def StrategyPanel(setup: Setup, names: list[str], change, side_by_side):
    solara.Select(
        label="Strategy A (blue)" if setup.side_by_side else "Strategy",
        values=names,
        value=setup.strategy_a,
        on_value=lambda name: change(strategy_a=name),
    )
    solara.Switch(
        label="Side by side: compare two strategies", value=setup.side_by_side, on_value=side_by_side, color="primary"
    )
    if setup.side_by_side:
        solara.Select(
            label="Strategy B (orange)",
            values=names,
            value=setup.strategy_b,
            on_value=lambda name: change(strategy_b=name),
        )
        solara.HTML(tag="div", unsafe_innerHTML="Levers apply to:", classes=["fs-lever-label"])
        solara.ToggleButtonsSingle(
            value=setup.apply_to,
            values=[BOTH, B_ONLY],
            on_value=lambda where: change(apply_to=where),
        )


@solara.component
def Header(title: str, descriptions: list[str], changes: str):
    lines = "".join(f"<div>{html.escape(d)}</div>" for d in descriptions if d)
    if changes:
        lines += f'<div class="fs-moved">Your changes: {html.escape(changes)}</div>'
    solara.HTML(tag="h1", unsafe_innerHTML=html.escape(title))
    solara.HTML(tag="div", unsafe_innerHTML=lines)


def _descriptions(session: Session) -> list[str]:
    setup = session.setup
    names = [setup.strategy_a]
    if setup.side_by_side and setup.strategy_b != setup.strategy_a:
        names.append(setup.strategy_b)
    return [session.variants[name].description for name in names]


def _apply_note(session: Session) -> str:
    setup = session.setup
    if not setup.side_by_side:
        return ""
    if setup.apply_to == B_ONLY:
        return "Levers change strategy B (orange) only; A stays as the file has it."
    return "Levers change both strategies; untouched levers keep each strategy's own value."


def _status(session: Session, playing: bool) -> str:
    workshop = session.workshop
    if session.catching_up:
        return f"Replaying to week {session.target_day / workshop.days_per_week:.0f} with the new settings..."
    if not workshop.running:
        return "Horizon reached. Reset to start again, or move a lever to replay the whole run with it."
    return "Playing" if playing else "Paused"


@solara.component
def Page():
    Admission(ROOM, os.environ.get(SCENARIO_ENV) or None)


page = Page()
