"""The room in a real (headless) Chromium: closed tabs stop computing, limits, idle sessions.

Run by `.ci/browser.sh` (`pytest -m browser`); skipped when Chromium or Playwright is missing.
Every check asks the server's status route (`/_funnelsim/status`) and reads the CPU time of the
server process and its workers from /proc, rather than sleeping and hoping.
"""

from __future__ import annotations

import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.dashboard.test_browser import CHROMIUM, FLAGS, SCENARIO

pytestmark = pytest.mark.browser

GRACE = 2.0


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/browser.sh installs it")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[browser]'")
    pytest.importorskip("solara", reason="the dashboard extra is not installed: pip install -e '.[dashboard]'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@contextmanager
def dashboard(tmp_path: Path, **limits):
    from funnelsim.dashboard import server

    port = server.free_port("127.0.0.1")
    log = (tmp_path / f"server-{port}.log").open("w")
    process = server.start(SCENARIO, "127.0.0.1", port, server.Limits(**limits), stdout=log, stderr=subprocess.STDOUT)
    url = server.url("127.0.0.1", port)
    try:
        assert server.wait_ready(url, process, timeout=120), Path(log.name).read_text()
        yield url, process
    finally:
        server.stop(process)
        log.close()


def status(url: str) -> dict:
    from funnelsim.dashboard import server

    return server.status(url)


def family(pid: int) -> list[int]:
    """The process and all its descendants (the server and its worker processes), from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants, from /proc (clock ticks)."""
    import os

    total = 0
    for member in family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, window: float = 1.0) -> float:
    """Share of one core the server (with its workers) used over the next `window` seconds."""
    before, start = cpu_seconds(pid), time.perf_counter()
    time.sleep(window)
    return (cpu_seconds(pid) - before) / (time.perf_counter() - start)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.25)


def open_tab(browser, url: str):
    tab = browser.new_page(viewport={"width": 1600, "height": 1000})
    tab.set_default_timeout(90_000)
    tab.goto(url)
    return tab


def test_closed_tabs_stop_playing_and_release_their_models(browser, tmp_path):
    grace = 8.0  # long enough to see the play loops stop before the models are released
    with dashboard(tmp_path, grace=grace) as (url, process):
        assert status(url)["sessions"] == 0
        tabs = [open_tab(browser, url) for _ in range(4)]
        for tab in tabs:
            tab.get_by_role("button", name="Play").click()
        for tab in tabs:
            tab.get_by_role("button", name="Pause").wait_for()
        now = wait_for(lambda: (s := status(url))["playing"] == 4 and s, 30, "four sessions playing")
        assert now["sessions"] == 4 and now["models"] == 4
        assert cpu_share(process.pid) > 0.3  # they really compute
        for tab in tabs:
            tab.close()  # no goodbye beacon: the server sees the connections drop
        closed = time.monotonic()
        wait_for(lambda: status(url)["playing"] == 0, grace - 2, "the play loops to stop")
        stopped = time.monotonic() - closed
        idle = wait_for(lambda: (c := cpu_share(process.pid)) < 0.1 and (c,), grace, "the server's CPU to fall")
        gone = wait_for(
            lambda: (s := status(url))["sessions"] == 0 and s["models"] == 0 and s, grace + 15, "sessions released"
        )
        assert gone["playing"] == 0
        released = time.monotonic() - closed
        print(
            f"browser: 4 tabs closed: playing stopped in {stopped:.1f} s (CPU then {idle[0]:.0%}), "
            f"sessions and models released in {released:.1f} s (grace {grace:g} s)"
        )


def test_a_tab_beyond_max_sessions_is_told_the_room_is_full(browser, tmp_path):
    with dashboard(tmp_path, max_sessions=2, grace=GRACE) as (url, _):
        first, second = open_tab(browser, url), open_tab(browser, url)
        for tab in (first, second):
            tab.get_by_role("button", name="Play").wait_for()
        start = time.perf_counter()
        third = open_tab(browser, url)
        third.get_by_text("The room is full").wait_for(timeout=30_000)
        shown = time.perf_counter() - start
        assert third.get_by_text("at most 2 sessions at once").is_visible()
        assert status(url)["sessions"] == 2
        first.close()
        wait_for(lambda: status(url)["sessions"] == 1, GRACE + 15, "the closed tab's seat")
        third.get_by_role("button", name="Try again").click()
        third.get_by_role("button", name="Play").wait_for()
        assert status(url)["sessions"] == 2
        print(f"browser: 'the room is full' shown in {shown:.1f} s")
        second.close()
        third.close()


def test_a_session_nobody_uses_ends_and_can_start_again(browser, tmp_path):
    with dashboard(tmp_path, idle_timeout=3.0, grace=GRACE) as (url, _):
        tab = open_tab(browser, url)
        tab.get_by_role("button", name="Step +1 week").click()
        tab.get_by_text("Week 1 of 52").wait_for()
        tab.get_by_text("This session has ended").wait_for(timeout=30_000)
        assert status(url)["sessions"] == 0
        wait_for(lambda: status(url)["models"] == 0, 10, "the idle session's models released")
        tab.get_by_role("button", name="Start again").click()
        tab.get_by_text("Week 0 of 52").wait_for()
        assert status(url)["sessions"] == 1
        tab.close()


def test_a_dead_worker_shows_its_tab_a_restart_and_spares_the_others(browser, tmp_path):
    import os
    import signal

    with dashboard(tmp_path, workers=2, grace=GRACE) as (url, _):
        tabs = [open_tab(browser, url) for _ in range(2)]
        for tab in tabs:
            tab.get_by_role("button", name="Play").click()
        workers = wait_for(
            lambda: (w := status(url)["workers"]) and all(x["sessions"] == 1 for x in w) and w, 30, "one tab a worker"
        )
        os.kill(workers[0]["pid"], signal.SIGKILL)
        lost = wait_for(lambda: [t for t in tabs if t.get_by_text("worker process stopped").count()], 30, "the message")
        assert len(lost) == 1
        (other,) = [t for t in tabs if t is not lost[0]]
        before = other.evaluate("() => parseFloat(document.querySelector('.fs-clock').innerText.split(' ')[1])")
        other.wait_for_function(
            f"() => parseFloat(document.querySelector('.fs-clock').innerText.split(' ')[1]) > {before}"
        )  # the other tab plays on
        lost[0].get_by_role("button", name="Restart this session").click()
        lost[0].get_by_text("worker process stopped").wait_for(state="detached")
        lost[0].get_by_role("button", name="Play").click()
        lost[0].get_by_role("button", name="Pause").wait_for()
        assert all(w["pid"] != workers[0]["pid"] for w in status(url)["workers"])  # replaced
        for tab in tabs:
            tab.close()
