"""The dashboard in a real (headless) Chromium: the page loads, figures draw, step and play update them.

Run by `.ci/browser.sh` (`pytest -m browser`); skipped when Chromium or Playwright is missing.
The browser is Debian's `chromium`, driven by Playwright (its own browser download needs the internet).
Leaves a screenshot in ci-artifacts/dashboard.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "lead_strategy.yaml"
ARTIFACTS = Path(os.environ.get("FUNNELSIM_ARTIFACTS", ROOT / "ci-artifacts"))
CHROMIUM = os.environ.get("FUNNELSIM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FIGURE_SOURCES = (
    "Array.from(document.querySelectorAll('img.fs-figure')).map(i => i.complete && i.naturalWidth > 0 ? i.src : '')"
)


@pytest.fixture(scope="module")
def address(tmp_path_factory):
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/browser.sh installs it")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[browser]'")
    pytest.importorskip("solara", reason="the dashboard extra is not installed: pip install -e '.[dashboard]'")
    from funnelsim.dashboard import server

    port = server.free_port("127.0.0.1")
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    process = server.start(SCENARIO, "127.0.0.1", port, stdout=log, stderr=subprocess.STDOUT)
    url = server.url("127.0.0.1", port)
    try:
        assert server.wait_ready(url, process, timeout=120), Path(log.name).read_text()
        yield url
    finally:
        server.stop(process)
        log.close()


@pytest.fixture(scope="module")
def page(address):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright gives the browser a fresh profile directory of its own
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        tab = browser.new_page(viewport={"width": 1920, "height": 1080})
        tab.set_default_timeout(60_000)
        tab.goto(address)
        yield tab
        browser.close()


def figures(page) -> list[str]:
    return page.evaluate(FIGURE_SOURCES)


def wait_for_new_figures(page, before: list[str], timeout: float = 30.0) -> float:
    """Seconds until every figure shows a new, loaded image."""
    start = time.perf_counter()
    page.wait_for_function(
        f"before => {{ const now = {FIGURE_SOURCES}; "
        "return now.length === before.length && now.every((s, i) => s && s !== before[i]); }",
        arg=before,
        timeout=timeout * 1000,
    )
    return time.perf_counter() - start


def test_page_loads_with_every_figure(page):
    page.get_by_text("Funnel by stage").wait_for()
    page.wait_for_function(f"() => {{ const s = {FIGURE_SOURCES}; return s.length === 6 && s.every(x => x); }}")
    assert page.get_by_text("Week 0 of 52").is_visible()
    for name in ("Play", "Step +1 week", "Reset"):
        assert page.get_by_role("button", name=name).is_visible()


def test_step_updates_the_figures(page):
    before = figures(page)
    start = time.perf_counter()
    page.get_by_role("button", name="Step +1 week").click()
    page.get_by_text("Week 1 of 52").wait_for()
    wait_for_new_figures(page, before)
    print(f"browser: step to updated figures {time.perf_counter() - start:.2f} s")


def week(page) -> float:
    return float(page.locator(".fs-clock").inner_text().split()[1])


def settled_week(page, pause: float = 0.75, tries: int = 20) -> float:
    """The week once the clock has stopped moving (a step already under way when Pause is
    clicked still lands)."""
    last = week(page)
    for _ in range(tries):
        time.sleep(pause)
        now = week(page)
        if now == last:
            return now
        last = now
    return last


def test_play_then_pause(page):
    before = figures(page)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => parseFloat(document.querySelector('.fs-clock').innerText.split(' ')[1]) >= 4")
    page.get_by_role("button", name="Pause").click()
    page.get_by_text("Paused").wait_for()
    wait_for_new_figures(page, before)


def test_a_lever_replays_with_the_new_setting(page):
    reached = settled_week(page)
    before = figures(page)
    start = time.perf_counter()
    page.locator(".fs-lever-reps").click(position={"x": 200, "y": 10})
    wait_for_new_figures(page, before)
    first = time.perf_counter() - start
    page.get_by_text("Your changes: Sales reps").wait_for()
    page.get_by_text("Paused").wait_for()
    assert week(page) == reached
    replayed = time.perf_counter() - start
    print(f"browser: lever to updated figures {first:.2f} s, replayed to week {reached:g} in {replayed:.2f} s")


def test_side_by_side_and_screenshot(page):
    page.get_by_text("Side by side: compare two strategies").click()
    page.get_by_text("Levers apply to:").wait_for()
    page.get_by_text("Paused").wait_for()
    before = figures(page)
    page.get_by_role("button", name="Step +1 week").click()
    wait_for_new_figures(page, before)
    assert page.locator("table.fs-kpis").get_by_text("difference").is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 50_000
