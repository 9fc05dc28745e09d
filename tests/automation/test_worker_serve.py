"""`punch serve` runs the embedded worker beside the server, and stops it with the server."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from punchclock.cli import server as server_commands

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _gone(pid: int) -> bool:
    """No such process, or only its exit status left for the system to collect."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def _ran(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT task_path, status FROM django_tasks_database_dbtaskresult")
        return list(rows)


@pytest.mark.skipif(
    bool(os.environ.get("PUNCHCLOCK_TEST_DATABASE_URL")),
    reason="runs once, on the embedded database the command uses (the SQLite half)",
)
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states")
def test_serve_runs_the_worker_and_stops_it_when_it_stops(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(PUNCHCLOCK_DATA_DIR=str(tmp_path), SECRET_KEY="serve-test-" + "x" * 40)
    env.pop("PUNCHCLOCK_EMBEDDED_WORKER", None)
    log_path = tmp_path / "serve.log"
    punch = Path(sys.executable).with_name("punch")
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(punch), "serve", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
                break
            except OSError:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        started = re.search(r"Background worker started \(pid (\d+)\)", log_path.read_text())
        assert started, log_path.read_text()
        worker = int(started[1])
        assert not _gone(worker)
        # Its first tick queues the day's pruning at once (nothing else is due on an empty
        # instance), and it runs it.
        pruning = ("punchclock.automation.tasks.prune_results", "SUCCESSFUL")
        while pruning not in _ran(tmp_path / "punchclock.sqlite3"):
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=20)
    deadline = time.monotonic() + 10
    while not _gone(worker):
        assert time.monotonic() < deadline, "the worker outlived the server"
        time.sleep(0.1)
    assert re.search(r"Worker \S+ stopped\.", log_path.read_text()), log_path.read_text()


def test_the_embedded_worker_can_be_left_to_a_service(monkeypatch):
    monkeypatch.setenv("PUNCHCLOCK_EMBEDDED_WORKER", "0")
    assert server_commands._start_worker() is None
