"""`funnelsim dashboard`: what it says before any server starts."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest

from funnelsim.cli import build_parser, main
from funnelsim.commands import dashboard
from funnelsim.errors import install_hint

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_the_command_is_registered_with_host_and_port():
    args = build_parser().parse_args(["dashboard", "s.yaml", "--port", "9000"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 9000, False)
    assert args.handler is dashboard.cmd_dashboard


def test_a_bad_port_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "s.yaml", "--port", "70000"])
    assert exit_.value.code == 2
    assert "ports run from 1 to 65535" in capsys.readouterr().err


def test_without_the_extra_it_says_how_to_install(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a))
    assert main(["dashboard", str(SCENARIOS / "baseline.yaml")]) == 2
    err = capsys.readouterr().err
    assert install_hint("dashboard") in err
    assert "Traceback" not in err


def test_a_bad_file_fails_as_in_run(tmp_path, capsys):
    pytest.importorskip("solara")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nhorizon_weeks: -1\n")
    assert main(["dashboard", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: horizon_weeks" in err


def test_a_busy_port_is_reported(capsys):
    pytest.importorskip("solara")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert main(["dashboard", str(SCENARIOS / "baseline.yaml"), "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err


def test_the_room_limits_have_defaults_and_read_durations():
    args = build_parser().parse_args(["dashboard", "s.yaml"])
    assert (args.max_sessions, args.idle_timeout, args.reconnect_grace, args.workers) == (None, 1800.0, 10.0, None)
    args = build_parser().parse_args(
        ["dashboard", "s.yaml", "--max-sessions", "20", "--idle-timeout", "2h", "--reconnect-grace", "30s"]
    )
    assert (args.max_sessions, args.idle_timeout, args.reconnect_grace) == (20, 7200.0, 30.0)
    assert build_parser().parse_args(["dashboard", "s.yaml", "--idle-timeout", "0"]).idle_timeout == 0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-sessions", "0", "at least 1 session"),
        ("--max-sessions", "many", "expected a whole number"),
        ("--idle-timeout", "soon", "expected a duration such as 90s, 30m or 2h"),
        ("--reconnect-grace", "-5s", "a duration is 0 or more"),
        ("--workers", "-1", "0 or more workers"),
    ],
)
def test_bad_room_limits_are_usage_errors(capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "s.yaml", f"{option}={value}"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_the_limits_reach_the_server_as_solara_and_the_room_read_them():
    pytest.importorskip("solara")
    from funnelsim.dashboard import server
    from funnelsim.dashboard.room import Room

    env = server.server_env(None, server.Limits(max_sessions=12, idle_timeout=None, grace=4.0))
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == "4.0s"
    room = Room.from_env(env)
    assert (room.max_sessions, room.idle_timeout, room.grace) == (12, None, 4.0)


def test_the_command_prints_the_room_for_the_trainer(tmp_path):
    """The real command, its server and its status line: `room: 0 of 3 sessions open, ...`."""
    pytest.importorskip("solara")
    import subprocess
    import sys

    from funnelsim.dashboard import server

    port = server.free_port("127.0.0.1")
    command = [sys.executable, "-m", "funnelsim.cli", "dashboard", str(SCENARIOS / "baseline.yaml")]
    command += ["--port", str(port), "--max-sessions", "3", "--idle-timeout", "45m", "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("room:"):
                break
        status = server.status(server.url("127.0.0.1", port))
    finally:
        process.terminate()
        rest, _ = process.communicate(timeout=30)
    assert any(line.startswith("ready: open") for line in lines), lines
    expected = "room: 0 of 3 sessions open, 0 playing, 0 computing; workers 0 of 2 busy; server "
    assert lines[-1].startswith(expected), lines
    assert (status["sessions"], status["max_sessions"], status["idle_timeout"], status["models"]) == (0, 3, 2700, 0)
    assert len(status["workers"]) == 2
    assert process.returncode == 0 and "Traceback" not in rest
