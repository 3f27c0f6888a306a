"""Start the dashboard's web server: `solara run` on the app module, in a child process.

Solara's own command line sets up its settings, assets and uvicorn; running it as a child keeps all
of that as Solara does it (`serve` adds the room's status route first). The scenario file and the
room's limits travel in environment variables; a tab whose connection is lost keeps its kernel for
the reconnect grace only (`SOLARA_KERNEL_CULL_TIMEOUT`, 24 hours by Solara's default). Solara's
update check and usage telemetry are switched off (a workshop room may have no internet).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from funnelsim.dashboard.room import DEFAULT_GRACE, DEFAULT_IDLE_TIMEOUT, GRACE_ENV, IDLE_TIMEOUT_ENV, MAX_SESSIONS_ENV
from funnelsim.dashboard.room import STATUS_PATH as STATUS_PATH
from funnelsim.dashboard.workers import WORKERS_ENV

APP = "funnelsim.dashboard.app"
SCENARIO_ENV = "FUNNELSIM_DASHBOARD_SCENARIO"
# the page is on this machine: never ask a proxy for it
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Limits:
    """What the trainer sets for the room: None means no limit (or never idle)."""

    max_sessions: int | None = None
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT  # seconds without anyone using a session
    grace: float = DEFAULT_GRACE  # seconds a tab whose connection is lost keeps its session
    workers: int | None = None  # processes for the sessions' models (None: one per core; 0: none)


def server_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "funnelsim.dashboard.serve",
        "run",
        APP,
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
        "--no-check-version",
        "--log-level-uvicorn",
        "warning",
    ]


def server_env(scenario: Path | None, limits: Limits | None = None) -> dict[str, str]:
    limits = limits or Limits()
    env = dict(os.environ)
    if scenario is not None:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    env[MAX_SESSIONS_ENV] = str(limits.max_sessions or "")
    env[IDLE_TIMEOUT_ENV] = str(limits.idle_timeout or 0)
    env[GRACE_ENV] = str(limits.grace)
    workers = (os.cpu_count() or 1) if limits.workers is None else limits.workers
    env[WORKERS_ENV] = str(workers)
    env["SOLARA_KERNEL_CULL_TIMEOUT"] = f"{limits.grace}s"
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # Solara warns on every page load served over plain http to a name other than localhost
    quiet = "ignore:Cookies with samesite:UserWarning"
    env["PYTHONWARNINGS"] = f"{env['PYTHONWARNINGS']},{quiet}" if env.get("PYTHONWARNINGS") else quiet
    return env


def start(scenario: Path | None, host: str, port: int, limits: Limits | None = None, **popen) -> subprocess.Popen:
    """The server process; it serves http://host:port/ once `wait_ready` returns True."""
    return subprocess.Popen(server_command(host, port), env=server_env(scenario, limits), **popen)


def status(address: str, timeout: float = 5.0) -> dict:
    """The room's status, asked of the running server (see `room.Room.status`)."""
    with _LOCAL.open(address.rstrip("/") + STATUS_PATH, timeout=timeout) as response:
        return json.loads(response.read())


def url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def wait_ready(address: str, process: subprocess.Popen, timeout: float = 60.0) -> bool:
    """Poll until the page answers (False if the process died or time ran out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with _LOCAL.open(address, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def stop(process: subprocess.Popen, grace: float = 5.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
