"""Dashboard latency: from a click (step, lever) to updated figures, for the baseline scenario.

    python benchmarks/bench_dashboard.py [--scenario scenarios/baseline.yaml] [--repeats 3] [--browser]
    python benchmarks/bench_dashboard.py --room [--tabs 8] [--churn 50]

In-process, the page's own sequence is timed: the models step (or are rebuilt and replayed to the
day reached), the snapshots are taken and all six figures drawn as SVG. `--page` times the same
through Solara's widgets (`solara.render`); `--browser` starts the server and times clicks in
headless Chromium until every figure on screen has changed. Target: under 1 s.

`--room` drives real tabs against one server (the workshop room under load) and prints the figures
of its targets: weeks per second of 8 tabs playing at once against one tab alone (>= 1.6x), a new
tab's controls while 8 play (<= 3 s), the server's CPU 15 s after the last tab closed (<= 10% of a
core), and its memory after 50 tabs opened, played and closed (within 25% of the idle server's).
CPU and memory (of the server and its worker processes) are read from /proc; on a machine shared
with other work the figures are noisy. `--workers 0` measures the models inside the web server.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from funnelsim.dashboard.figures import FIGURES, render
from funnelsim.dashboard.session import REPLAY_FIRST_SLICE_SECONDS, Session
from funnelsim.scenario.loader import load_variants

ROOT = Path(__file__).resolve().parent.parent
WEEKS = (1, 13, 26, 39, 51)


def draw(session: Session) -> None:
    snaps = session.snapshots()
    for spec in FIGURES:
        render(spec, snaps)


def fresh(path: Path, pair: bool) -> Session:
    variants = load_variants(path)
    session = Session(variants)
    if pair:
        session.configure(strategy_b=session.default_b())
        session.reset()
    return session


def time_steps(path: Path, pair: bool, days: int, repeats: int) -> dict[int, float]:
    """Median seconds for a step of `days` plus drawing, at several weeks into the year."""
    out = {}
    for _ in range(repeats):
        session = fresh(path, pair)
        dpw = session.workshop.days_per_week
        for week in WEEKS:
            session.workshop.advance_to(week * dpw - days)
            start = time.perf_counter()
            session.step(days)
            draw(session)
            out.setdefault(week, []).append(time.perf_counter() - start)
    return {week: statistics.median(ts) for week, ts in out.items()}


def time_lever(path: Path, pair: bool, repeats: int) -> dict[int, tuple[float, float]]:
    """Median seconds from a lever move to the first redraw, and to the replay drawn in full."""
    out: dict[int, list] = {}
    for _ in range(repeats):
        for week in WEEKS:
            session = fresh(path, pair)
            session.workshop.advance_to(week * session.workshop.days_per_week)
            reps = session.lever_values()["reps"]
            start = time.perf_counter()
            session.set_lever("reps", reps + 5)
            done = session.catch_up(REPLAY_FIRST_SLICE_SECONDS)
            draw(session)
            first = time.perf_counter() - start
            while not done:
                done = session.catch_up(0.3)
                draw(session)
            out.setdefault(week, []).append((first, time.perf_counter() - start))
    return {w: (statistics.median(a for a, _ in ts), statistics.median(b for _, b in ts)) for w, ts in out.items()}


def time_page(path: Path, repeats: int) -> tuple[float, float]:
    """Through Solara's widgets: a click on Step, and a lever released, to re-rendered figures."""
    import ipyvuetify as v
    import ipywidgets as widgets
    import solara

    from funnelsim.dashboard.app import Workbench

    steps, levers = [], []
    for _ in range(repeats):
        session = Session(load_variants(path))
        _, rc = solara.render(Workbench(session), handle_error=False)
        session.workshop.advance_to(26 * session.workshop.days_per_week)
        step = rc.find(v.Btn, children=["Step +1 week"]).widget
        start = time.perf_counter()
        step.click()
        steps.append(time.perf_counter() - start)
        images = [bytes(w.widget.value) for w in rc.find(widgets.Image)]
        slider = rc.find(v.Slider, class_="fs-lever-reps").widget
        start = time.perf_counter()
        slider.fire_event("end", session.lever_values()["reps"] + 5)
        while [bytes(w.widget.value) for w in rc.find(widgets.Image)] == images or session.catching_up:
            time.sleep(0.005)
        levers.append(time.perf_counter() - start)
    return statistics.median(steps), statistics.median(levers)


def time_browser(path: Path, repeats: int) -> tuple[float, float]:
    """In headless Chromium: click Step (a week), then move the reps lever, until all figures changed."""
    import shutil
    import subprocess

    from playwright.sync_api import sync_playwright

    from funnelsim.dashboard import server

    sources = "Array.from(document.querySelectorAll('img.fs-figure')).map(i => i.complete ? i.src : '')"
    changed = f"b => {{ const s = {sources}; return s.every((x, i) => x && x !== b[i]); }}"
    port = server.free_port("127.0.0.1")
    address = server.url("127.0.0.1", port)
    process = server.start(path, "127.0.0.1", port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    steps, levers = [], []
    try:
        if not server.wait_ready(address, process, 120):
            raise SystemExit("the dashboard server did not start")
        with sync_playwright() as p:
            chromium = shutil.which("chromium") or "/usr/bin/chromium"
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"], headless=True)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(address)
            page.wait_for_function(f"() => {{ const s = {sources}; return s.length === 6 && s.every(x => x); }}")
            for _ in range(repeats):
                before = page.evaluate(sources)
                start = time.perf_counter()
                page.get_by_role("button", name="Step +1 week").click()
                page.wait_for_function(changed, arg=before)
                steps.append(time.perf_counter() - start)
            page.get_by_role("button", name="Play").click()
            page.wait_for_function(
                "() => parseFloat(document.querySelector('.fs-clock').innerText.split(' ')[1]) >= 26"
            )
            page.get_by_role("button", name="Pause").click()
            page.get_by_text("Paused").wait_for()
            for i in range(repeats):
                before = page.evaluate(sources)
                start = time.perf_counter()
                page.locator(".fs-lever-reps").click(position={"x": 150 + 20 * i, "y": 16})
                page.wait_for_function(changed, arg=before)
                levers.append(time.perf_counter() - start)
                page.get_by_text("Paused").wait_for()
            browser.close()
    finally:
        server.stop(process)
    return statistics.median(steps), statistics.median(levers)


CLOCK = "() => Array.from(document.querySelectorAll('.fs-clock')).map(c => parseFloat(c.innerText.split(' ')[1]))"


def _family(pid: int) -> list[int]:
    """The server process and its descendants (its worker processes), from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:  # ended meanwhile
        return ""


def _proc_cpu(pid: int) -> float:
    """CPU seconds of the server and its workers."""
    import os

    stats = [_read(f"/proc/{p}/stat") for p in _family(pid)]
    ticks = sum(int(f[11]) + int(f[12]) for f in (s.rsplit(")", 1)[1].split() for s in stats if s))
    return ticks / os.sysconf("SC_CLK_TCK")


def _proc_rss_mb(pid: int) -> float:
    """Resident memory of the server and its workers."""
    import os

    pages = sum(int(s.split()[1]) for s in (_read(f"/proc/{p}/statm") for p in _family(pid)) if s)
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_share(pid: int, window: float) -> float:
    before, start = _proc_cpu(pid), time.perf_counter()
    time.sleep(window)
    return (_proc_cpu(pid) - before) / (time.perf_counter() - start)


def _week(tab) -> float:
    return tab.evaluate(CLOCK)[0]


def _open(browser, address: str, wait: bool = True):
    tab = browser.new_page(viewport={"width": 1600, "height": 1000})
    tab.set_default_timeout(120_000)
    start = time.perf_counter()
    tab.goto(address)
    if wait:
        tab.get_by_role("button", name="Play").wait_for()
    return tab, time.perf_counter() - start


def _weeks_per_second(tabs, window: float) -> float:
    """Weeks advanced by all tabs together over `window` seconds of play, per second."""
    start_weeks = [_week(t) for t in tabs]
    start = time.perf_counter()
    time.sleep(window)
    end_weeks = [_week(t) for t in tabs]
    return (sum(end_weeks) - sum(start_weeks)) / (time.perf_counter() - start)


def _wait_empty(address: str, timeout: float = 120.0) -> float:
    from funnelsim.dashboard import server

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        now = server.status(address)
        if now["sessions"] == 0 and now["models"] == 0:
            break
        time.sleep(0.25)
    return time.perf_counter() - start


def time_room(path: Path, tabs: int, churn: int, window: float, workers: int | None = None) -> None:
    """The workshop room under load, against one server in headless Chromium."""
    import shutil
    import subprocess

    from playwright.sync_api import sync_playwright

    from funnelsim.dashboard import server

    port = server.free_port("127.0.0.1")
    address = server.url("127.0.0.1", port)
    limits = server.Limits(workers=workers)
    process = server.start(path, "127.0.0.1", port, limits, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    grace = limits.grace
    try:
        if not server.wait_ready(address, process, 120):
            raise SystemExit("the dashboard server did not start")
        time.sleep(2)
        cold_mb = _proc_rss_mb(process.pid)
        with sync_playwright() as p:
            chromium = shutil.which("chromium") or "/usr/bin/chromium"
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"], headless=True)
            alone, first_load = _open(browser, address)
            second, idle_load = _open(browser, address)  # a second tab on an idle, warm server
            second.close()
            alone.get_by_role("button", name="Play").click()
            time.sleep(1.0)
            one = _weeks_per_second([alone], window)
            alone.close()
            _wait_empty(address)
            warm_mb = _proc_rss_mb(process.pid)

            room = [_open(browser, address)[0] for _ in range(tabs)]
            for tab in room:
                tab.get_by_role("button", name="Play").click()
            time.sleep(1.0)
            many = _weeks_per_second(room, window)
            newcomer, busy_load = _open(browser, address)
            for tab in [*room, newcomer]:
                tab.close()
            closed = time.perf_counter()
            released = _wait_empty(address, timeout=15.0)
            time.sleep(max(0.0, 15.0 - (time.perf_counter() - closed)))
            after_close = _cpu_share(process.pid, 2.0)  # 15 to 17 s after the close, whatever happened
            if released >= 15.0:  # not gone by then: how long it took after all
                _wait_empty(address)
                released = time.perf_counter() - closed

            for start in range(0, churn, 5):
                batch = [_open(browser, address, wait=False)[0] for _ in range(min(5, churn - start))]
                for tab in batch:
                    tab.get_by_role("button", name="Play").click()
                time.sleep(3.0)
                for tab in batch:
                    tab.close()
            _wait_empty(address)
            time.sleep(3.0)
            churned_mb = _proc_rss_mb(process.pid)
            browser.close()
    finally:
        server.stop(process)

    ratio = many / one if one else float("nan")
    pool = "one per core" if workers is None else workers
    print(f"\nroom ({path.name}; workers: {pool}; grace {grace:g} s; shared cores make these noisy):")
    print(f"  one tab alone: {one:.2f} weeks/s; first load {first_load:.1f} s, on an idle server {idle_load:.1f} s")
    print(f"  {tabs} tabs playing at once: {many:.2f} weeks/s in total = {ratio:.2f}x one tab   (target >= 1.6x)")
    print(f"  a new tab while {tabs} play: controls in {busy_load:.1f} s   (target <= 3 s)")
    print(f"  after the last tab closed: sessions and models gone in {released:.1f} s;")
    print(f"    CPU 15 s after: {after_close:.0%} of a core   (target <= 10%)")
    print(
        f"  memory: idle {cold_mb:.0f} MB (warm, after one tab: {warm_mb:.0f} MB); after {churn} tabs opened, "
        f"played and closed {churned_mb:.0f} MB = {churned_mb / cold_mb - 1:+.0%} of idle, "
        f"{churned_mb / warm_mb - 1:+.0%} of warm   (target within 25%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    parser.add_argument("--pair-scenario", type=Path, default=ROOT / "scenarios" / "lead_strategy.yaml")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--page", action="store_true", help="also time through Solara's widgets")
    parser.add_argument("--browser", action="store_true", help="also time clicks in headless Chromium")
    parser.add_argument("--room", action="store_true", help="only the room under load: many tabs on one server")
    parser.add_argument("--tabs", type=int, default=8, help="tabs playing at once with --room (default 8)")
    parser.add_argument("--churn", type=int, default=50, help="tabs opened, played, closed with --room (default 50)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds of play measured with --room")
    parser.add_argument("--workers", type=int, default=None, help="the server's worker processes (default: cores)")
    args = parser.parse_args()
    if args.room:
        time_room(args.pair_scenario, args.tabs, args.churn, args.window, args.workers)
        return
    draw(fresh(args.scenario, False))  # warm up imports, fonts and caches

    print(f"{args.scenario.name}, one strategy; {args.pair_scenario.name}, two side by side (median seconds)")
    print("\nstep + draw six figures, at week:   " + "  ".join(f"{w:>6}" for w in WEEKS))
    for label, path, pair, days in (
        ("  one strategy, +1 day", args.scenario, False, 1),
        ("  one strategy, +1 week", args.scenario, False, 5),
        ("  side by side, +1 week", args.pair_scenario, True, 5),
    ):
        times = time_steps(path, pair, days, args.repeats)
        print(f"{label:<36}" + "  ".join(f"{times[w]:6.2f}" for w in WEEKS))
    print("\nlever moved at week:                " + "  ".join(f"{w:>6}" for w in WEEKS))
    for label, path, pair in (("one strategy", args.scenario, False), ("side by side", args.pair_scenario, True)):
        times = time_lever(path, pair, args.repeats)
        print(f"  {label}, first redraw            " + "  ".join(f"{times[w][0]:6.2f}" for w in WEEKS))
        print(f"  {label}, replayed and drawn      " + "  ".join(f"{times[w][1]:6.2f}" for w in WEEKS))
    if args.page:
        step, lever = time_page(args.scenario, args.repeats)
        print(f"\npage (solara.render), week 26: step {step:.2f} s, lever to replayed figures {lever:.2f} s")
    if args.browser:
        step, lever = time_browser(args.scenario, args.repeats)
        print(f"\nbrowser (Chromium): step {step:.2f} s (weeks 1-{args.repeats}); lever at week 26+ {lever:.2f} s")


if __name__ == "__main__":
    main()
