"""Wall time of `punch` commands next to Watson and Timewarrior, empty and with a long history.

Run from the repository root with the project's virtualenv:

    python bench/cli_bench.py                 # 15 runs, 100,000 past entries (about 3 minutes)
    python bench/cli_bench.py --quick         # 5 runs, 10,000 entries: a smoke test
    python bench/cli_bench.py --database-url postgres://postgres@127.0.0.1:5432/punch_bench

It builds everything it needs in a temporary folder: a Punchclock data folder (or the
PostgreSQL database given), a user with an organization, clients, projects and rates, a write
API token, a `punch serve` on a free loopback port and a `punch` config file; a Watson folder
(WATSON_DIR) and a Timewarrior database (TIMEWARRIORDB). Every command is timed as a user runs
it: a new process, wall time from spawn to exit. The tools take turns in every round so that
noise from other work on the machine falls on all of them alike. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"

# The same seeded history goes into all three tools: (project, tag/description) pairs.
PROJECTS = [
    ("acme", "Acme", "api", "API"),
    ("acme", "Acme", "web", "Website"),
    ("globex", "Globex", "shop", "Shop"),
]
PROJECT_CODES = [f"{c}/{p}" for c, _, p, _ in PROJECTS]
TAGS = ["dev", "review", "meeting", "ops", "support"]
HISTORY_YEARS = 3


# Small helpers ---------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def p90(samples: list[float]) -> float:
    """Nearest-rank 90th percentile: with 3 samples it is the slowest."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


class CommandFailed(RuntimeError):
    pass


@dataclass
class Timing:
    wall: float  # seconds from spawn to exit
    cpu: float  # user + system seconds of the command's own process (not the server's)
    out: str


def run(argv: list[str], env: dict[str, str], timeout: float = 600) -> Timing:
    """Run a command as a user would: a new process, its output captured."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise CommandFailed(
            f"{' '.join(argv)} exited {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return Timing(elapsed, cpu, done.stdout)


def wait_for_next_second(after: float) -> None:
    """Wait until a stop falls in a later second than its start.

    Punchclock and Timewarrior keep whole seconds and refuse a stop in the second of its
    start; Watson gets the same pause, so every stop records a real, positive interval.
    """
    delay = math.floor(after) + 1.02 - time.time()
    if delay > 0:
        time.sleep(delay)


# History ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    start: int  # Unix seconds, UTC
    end: int
    project: int  # index into PROJECTS
    tag: str


def make_history(count: int, *, until: datetime, seed: int = 20261125) -> list[Interval]:
    """`count` finished, non-overlapping intervals over the last three years before `until`.

    Evenly spread slots, each holding one interval of 30–75 % of the slot (about 5–12 minutes
    at 100,000 entries). Intervals never cross a UTC month boundary, so Timewarrior's monthly
    files hold exactly the same intervals as the other tools.
    """
    rng = random.Random(seed)
    end_all = int(until.timestamp())
    begin_all = end_all - int(timedelta(days=365 * HISTORY_YEARS).total_seconds())
    slot = (end_all - begin_all) / max(count, 1)
    intervals = []
    for i in range(count):
        slot_start = begin_all + int(i * slot)
        start = slot_start + int(rng.uniform(0, 0.2) * slot)
        end = start + max(60, int(rng.uniform(0.3, 0.75) * slot))
        boundary = _next_month(start)
        end = min(end, boundary)
        intervals.append(Interval(start, end, rng.randrange(len(PROJECTS)), rng.choice(TAGS)))
    return intervals


def _next_month(ts: int) -> int:
    day = datetime.fromtimestamp(ts, UTC)
    first = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC)
    return int(first.timestamp())


# Punchclock server -------------------------------------------------------------------------


@dataclass
class Punchclock:
    data_dir: Path
    database_url: str | None
    env: dict[str, str]
    port: int = 0
    url: str = ""
    token: str = ""
    organization: Any = None
    membership: Any = None
    projects: list[Any] = field(default_factory=list)
    server: subprocess.Popen[bytes] | None = None
    server_log: Path | None = None

    def setup_django(self) -> None:
        os.environ["PUNCHCLOCK_DATA_DIR"] = str(self.data_dir)
        os.environ["DJANGO_SETTINGS_MODULE"] = "punchclock.config.settings"
        if self.database_url:
            os.environ["DATABASE_URL"] = self.database_url
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)

    def create_fixtures(self, history_start: date) -> None:
        """A user who owns an organization with two clients, three projects and rates."""
        from decimal import Decimal

        from punchclock.accounts import services as accounts
        from punchclock.accounts.models import Membership
        from punchclock.clients import services as clients
        from punchclock.projects import services as projects

        suffix = secrets.token_hex(4)
        user, organization = accounts.sign_up(
            email=f"bench-{suffix}@example.com",
            password=secrets.token_urlsafe(24),
            name="Bench Person",
            organization_name=f"Bench Agency {suffix}",
            timezone="UTC",
            currency="EUR",
        )
        me = Membership.objects.get(user=user, organization=organization)
        made_clients: dict[str, Any] = {}
        for client_code, client_name, code, name in PROJECTS:
            if client_code not in made_clients:
                made_clients[client_code] = clients.create_client(
                    by=me, name=client_name, code=client_code, country="DE"
                )
            project = projects.create_project(
                by=me, client=made_clients[client_code], name=name, code=code
            )
            projects.assign_member(project, by=me, membership=me)
            # A rate change halfway through the history, so the report prices two periods.
            midway = history_start + timedelta(days=365 * HISTORY_YEARS // 2)
            for amount, since in ((Decimal("90"), history_start), (Decimal("105"), midway)):
                projects.set_rate(
                    by=me, kind="bill", amount=amount, effective_from=since, project=project
                )
            self.projects.append(project)
        _, self.token = accounts.create_api_token(membership=me, name="bench", scope="write")
        self.organization, self.membership = organization, me

    def seed(self, intervals: list[Interval]) -> None:
        from punchclock.tracking import services as tracking
        from punchclock.tracking.models import Source, TimeEntry

        chunk = 10_000
        for offset in range(0, len(intervals), chunk):
            tracking.record_history(
                self.organization,
                [
                    TimeEntry(
                        organization=self.organization,
                        membership=self.membership,
                        project=self.projects[i.project],
                        description=i.tag,
                        start=datetime.fromtimestamp(i.start, UTC),
                        end=datetime.fromtimestamp(i.end, UTC),
                        billable=True,
                        source=Source.IMPORT,
                    )
                    for i in intervals[offset : offset + chunk]
                ],
            )
        from django.db import connections

        connections.close_all()

    def start_server(self, punch: str, workdir: Path) -> None:
        from django.db import connections

        connections.close_all()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server_log = workdir / "server.log"
        env = dict(self.env, PUNCHCLOCK_DATA_DIR=str(self.data_dir))
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        with self.server_log.open("wb") as out:
            # A session of its own: Ctrl+C in the terminal reaches only this script, which
            # then stops the whole server process group itself.
            self.server = subprocess.Popen(
                [punch, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "2"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"punch serve exited:\n{self.server_log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                status, _ = self.http("GET", "/healthz", auth=False)
                if status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"punch serve did not answer /healthz:\n{self.server_log.read_text()}")

    def statuses(self) -> dict[str, int]:
        """HTTP statuses in the access log: every request of the run should be a 2xx."""
        if self.server_log is None or not self.server_log.exists():
            return {}
        found = re.findall(r'HTTP/1\.[01]" (\d{3}) ', self.server_log.read_text(errors="replace"))
        return dict(sorted(Counter(found).items()))

    def stop_server(self) -> None:
        if self.server is None or self.server.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(timeout=5)

    def http(
        self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True
    ) -> tuple[int, Any]:
        """One request on a fresh connection, as each `punch` process makes it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Accept": "application/json", "User-Agent": "punch/bench"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw[:200]
        return response.status, data


# Tools -----------------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    label: str
    env: dict[str, str]
    start: list[str]
    status: list[str]
    stop: list[str]
    report: list[str]
    help: list[str]
    discard: Callable[[], None]  # throw a running timer away, untimed
    running_marker: str  # text `status` prints while the timer runs
    version: str = ""


def punch_tool(punch: str, env: dict[str, str], server: Punchclock) -> Tool:
    def discard() -> None:
        status, data = server.http("POST", "/api/v1/timer/discard")
        if status != 200:
            raise CommandFailed(f"discarding the punch timer answered {status}: {data}")

    return Tool(
        name="punch",
        label="punch",
        env=env,
        start=[punch, "start", PROJECT_CODES[0], "dev"],
        status=[punch, "status"],
        stop=[punch, "stop"],
        report=[punch, "report", "--all"],
        help=[punch, "--help"],
        discard=discard,
        running_marker="Tracking acme/api",
    )


def watson_tool(watson: str, env: dict[str, str]) -> Tool:
    def discard() -> None:
        run([watson, "cancel"], env)

    return Tool(
        name="watson",
        label="Watson",
        env=env,
        start=[watson, "start", PROJECT_CODES[0], "+dev"],
        status=[watson, "status"],
        stop=[watson, "stop"],
        report=[watson, "report", "--all", "--no-pager"],
        help=[watson, "--help"],
        discard=discard,
        running_marker="Project acme/api",
    )


def timew_tool(timew: str, env: dict[str, str]) -> Tool:
    def discard() -> None:
        run([timew, "cancel", ":yes"], env)

    return Tool(
        name="timew",
        label="Timewarrior",
        env=env,
        start=[timew, "start", PROJECT_CODES[0], "dev", ":yes"],
        status=[timew],
        stop=[timew, "stop"],
        report=[timew, "summary", ":all"],
        help=[timew, "--version"],
        discard=discard,
        running_marker='Tracking "acme/api"',
    )


def seed_watson(folder: Path, intervals: list[Interval]) -> None:
    """Watson's frames file: [start, stop, project, id, tags, updated_at], oldest first."""
    frames_file = folder / "frames"
    existing = json.loads(frames_file.read_text()) if frames_file.exists() else []
    updated = int(time.time())
    frames = [
        [i.start, i.end, PROJECT_CODES[i.project], uuid.UUID(int=n + 1).hex, [i.tag], updated]
        for n, i in enumerate(intervals)
    ]
    merged = sorted(frames + existing, key=lambda f: f[0])
    frames_file.write_text(json.dumps(merged, indent=1, ensure_ascii=False))


def _timew_stamp(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")


def seed_timewarrior(folder: Path, intervals: list[Interval]) -> None:
    """Timewarrior's monthly data files (`inc START - END # tags`) and its tag counts."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    months: dict[str, list[str]] = {}
    for existing in data.glob("????-??.data"):
        months[existing.stem] = existing.read_text().splitlines()
    tag_counts: Counter[str] = Counter()
    for i in intervals:
        project = PROJECT_CODES[i.project]
        start = _timew_stamp(i.start)
        line = f'inc {start} - {_timew_stamp(i.end)} # "{project}" {i.tag}'
        months.setdefault(f"{start[:4]}-{start[4:6]}", []).append(line)
        tag_counts[project] += 1
        tag_counts[i.tag] += 1
    for month, lines in months.items():
        # Lines sort by their start stamp, which follows "inc ".
        (data / f"{month}.data").write_text("\n".join(sorted(lines, key=lambda s: s[4:20])) + "\n")
    tags_file = data / "tags.data"
    if tags_file.exists():
        for name, value in json.loads(tags_file.read_text()).items():
            tag_counts[name] += value.get("count", 0)
    tags = ",\n".join(
        f'  {json.dumps(name).replace("/", chr(92) + "/")}:{{"count":{count}}}'
        for name, count in sorted(tag_counts.items())
    )
    tags_file.write_text("{\n" + tags + "\n}")


# Measuring -------------------------------------------------------------------------------


@dataclass
class Series:
    tool: str
    command: str
    history: int
    argv: str
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    warmup: float | None = None
    sample_output: str = ""

    def as_dict(self) -> dict[str, Any]:
        ms = [round(s * 1000, 1) for s in self.samples]
        cpu_ms = [round(s * 1000, 1) for s in self.cpu]
        lines = self.sample_output.splitlines()
        return {
            "tool": self.tool,
            "command": self.command,
            "history": self.history,
            "argv": self.argv,
            "runs": len(ms),
            "median_ms": round(statistics.median(ms), 1) if ms else None,
            "p90_ms": p90(ms) if ms else None,
            "min_ms": min(ms) if ms else None,
            "max_ms": max(ms) if ms else None,
            "warmup_ms": round(self.warmup * 1000, 1) if self.warmup is not None else None,
            "cpu_median_ms": round(statistics.median(cpu_ms), 1) if cpu_ms else None,
            "samples_ms": ms,
            "output_lines": len(lines),
            "sample_output": "\n".join(
                [*lines[:12], "…", *lines[-4:]] if len(lines) > 16 else lines
            ),
        }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.series: dict[tuple[str, str, int], Series] = {}

    def record(self, tool: Tool, command: str, history: int, argv: list[str], t: Timing) -> None:
        key = (tool.name, command, history)
        series = self.series.setdefault(key, Series(tool.name, command, history, _shown(argv)))
        if series.warmup is None:
            series.warmup = t.wall
        else:
            series.samples.append(t.wall)
            series.cpu.append(t.cpu)
        series.sample_output = t.out

    def wanted(self, tool: Tool, command: str, history: int) -> bool:
        """More samples needed? Commands slower than --slow-threshold get --slow-runs only."""
        series = self.series.get((tool.name, command, history))
        if series is None or series.warmup is None:
            return True
        limit = self.args.runs
        if series.warmup > self.args.slow_threshold:
            limit = min(limit, self.args.slow_runs)
        return len(series.samples) < limit

    def rounds(self, tools: list[Tool]) -> Iterator[list[Tool]]:
        """One warm-up round and then --runs rounds; the tools' order rotates every round."""
        for n in range(self.args.runs + 1):
            shift = n % len(tools)
            yield tools[shift:] + tools[:shift]

    def timer_cycles(self, tools: list[Tool], history: int) -> None:
        """start, status (running) and stop, measured as a user types them, in turns."""
        for number, order in enumerate(self.rounds(tools)):
            for tool in order:
                timing = run(tool.start, tool.env)
                started_at = time.time()
                self.record(tool, "start", history, tool.start, timing)
                timing = run(tool.status, tool.env)
                if tool.running_marker not in timing.out:
                    raise CommandFailed(f"{tool.name} status shows no running timer:\n{timing.out}")
                self.record(tool, "status", history, tool.status, timing)
                if self.wanted(tool, "stop", history):
                    wait_for_next_second(started_at)
                    self.record(tool, "stop", history, tool.stop, run(tool.stop, tool.env))
                else:
                    tool.discard()
            log(f"  round {number}/{self.args.runs} done")

    def repeated(self, tools: list[Tool], command: str, history: int) -> None:
        for order in self.rounds(tools):
            for tool in order:
                argv = getattr(tool, command)
                if self.wanted(tool, command, history):
                    self.record(tool, command, history, argv, run(argv, tool.env))


def api_timings(server: Punchclock, runs: int, history: int) -> dict[str, Any]:
    """The server's share: the same requests from this process, one connection each."""
    requests: dict[str, list[float]] = {
        "POST /timer/start": [],
        "GET /timer": [],
        "POST /timer/stop": [],
        "GET /reports/time?period=all": [],
    }

    def timed(name: str, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        began = time.perf_counter()
        status, data = server.http(method, "/api/v1" + path, body)
        elapsed = time.perf_counter() - began
        if status >= 400:
            raise CommandFailed(f"{method} {path} answered {status}: {data}")
        requests[name].append(elapsed)

    for _ in range(runs + 1):
        timed("POST /timer/start", "POST", "/timer/start", {"project": PROJECT_CODES[1]})
        started_at = time.time()
        timed("GET /timer", "GET", "/timer")
        wait_for_next_second(started_at)
        timed("POST /timer/stop", "POST", "/timer/stop", {})
        timed("GET /reports/time?period=all", "GET", "/reports/time?period=all&by=project")
    out = {}
    for name, samples in requests.items():
        ms = [round(s * 1000, 1) for s in samples[1:]]  # the first round warms up
        out[name] = {
            "history": history,
            "runs": len(ms),
            "median_ms": round(statistics.median(ms), 1),
            "p90_ms": p90(ms),
        }
    return out


def _shown(argv: list[str]) -> str:
    return " ".join([Path(argv[0]).name, *argv[1:]])


# Machine ---------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if match:
            memory = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB"
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "memory": memory,
        "kernel": platform.release(),
        "os": _os_name(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def _os_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.platform()


def load_average() -> list[float]:
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return []


def checkout() -> dict[str, Any]:
    """Which Punchclock code ran: the commit and how many files differed from it."""
    info: dict[str, Any] = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(REPO)]
        info["commit"] = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", "punchclock"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        info["changed_files_in_punchclock"] = len(changed)
    return info


def first_line(argv: list[str], env: dict[str, str]) -> str:
    with contextlib.suppress(Exception):
        return run(argv, env).out.strip().splitlines()[0]
    return "?"


# Output ----------------------------------------------------------------------------------

ROWS = [
    ("help", None, "`--help` (start-up only)"),
    ("start", 0, "start, empty"),
    ("status", 0, "status, empty"),
    ("stop", 0, "stop, empty"),
    ("start", "N", "start, {n} entries"),
    ("status", "N", "status, {n} entries"),
    ("stop", "N", "stop, {n} entries"),
    ("report", "N", "full report, {n} entries"),
]


def markdown_table(
    results: list[dict[str, Any]], tools: list[Tool], entries: int, metric: str = "wall"
) -> str:
    by_key = {(r["tool"], r["command"], r["history"]): r for r in results}
    head = "| command | " + " | ".join(f"{t.label} {t.version}".strip() for t in tools) + " |"
    lines = [head, "|---|" + "---:|" * len(tools)]
    for command, history, label in ROWS:
        size = entries if history == "N" else 0
        cells = []
        for tool in tools:
            r = by_key.get((tool.name, command, size))
            if metric == "cpu":
                cells.append(_ms(r["cpu_median_ms"]) if r and r["runs"] else "–")
            else:
                cells.append(_cell(r) if r else "–")
        lines.append(f"| {label.format(n=f'{entries:,}')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(r: dict[str, Any]) -> str:
    if not r["runs"]:
        return "–"
    return f"{_ms(r['median_ms'])} (p90 {_ms(r['p90_ms'])}, n={r['runs']})"


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


# Main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="timed runs per command (default 15; 5 quick)")
    parser.add_argument(
        "--slow-runs",
        type=int,
        help="runs of commands slower than --slow-threshold (default 3; 2 quick)",
    )
    parser.add_argument("--slow-threshold", type=float, default=1.0, help="seconds (default 1)")
    parser.add_argument("--entries", type=int, help="past entries (default 100000; 10000 quick)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument(
        "--database-url",
        help="benchmark against PostgreSQL (a throw-away "
        "database: migrated, gets a new organization)",
    )
    parser.add_argument("--punch", default=str(Path(sys.executable).parent / "punch"))
    parser.add_argument(
        "--watson",
        default=None,
        help="watson executable (default: /tmp/watson-venv/bin/watson, else on PATH)",
    )
    parser.add_argument("--timew", default=shutil.which("timew"))
    parser.add_argument("--tools", default="punch,watson,timew", help="comma-separated")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="run the tools as the environment is (e.g. with PYTHONDONTWRITEBYTECODE)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args()
    args.runs = args.runs or (5 if args.quick else 15)
    args.slow_runs = args.slow_runs or (2 if args.quick else 3)
    args.entries = args.entries if args.entries is not None else (10_000 if args.quick else 100_000)
    if args.watson is None:
        default = Path("/tmp/watson-venv/bin/watson")
        args.watson = str(default) if default.exists() else shutil.which("watson")
    return args


def tool_env(workdir: Path, no_bytecode_cache: bool) -> dict[str, str]:
    env = dict(os.environ, TZ="UTC", PAGER="cat", LC_ALL="C.UTF-8", NO_COLOR="1")
    for name in ("PUNCH_URL", "PUNCH_TOKEN", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    if not no_bytecode_cache:
        # An installed package has compiled bytecode; an editable checkout run with
        # PYTHONDONTWRITEBYTECODE would compile punchclock's modules on every start instead.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    return env


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="punch-bench-"))
    # SIGTERM ends the run like Ctrl+C: through the finally below, which stops the server.
    signal.signal(signal.SIGTERM, _interrupt)
    env = tool_env(workdir, args.no_bytecode_cache)
    server = Punchclock(workdir / "punch-data", args.database_url, env)
    notes: list[str] = []
    began = time.time()
    load_before = load_average()
    code = checkout()
    try:
        tools: list[Tool] = []
        until = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        history = make_history(args.entries, until=until - timedelta(days=1))
        seeding: dict[str, float] = {}

        if "punch" in wanted:
            log(
                f"Punchclock: migrating {'PostgreSQL' if args.database_url else 'SQLite'}, "
                "creating the organization and a token"
            )
            server.setup_django()
            server.create_fixtures(
                datetime.fromtimestamp(history[0].start, UTC).date() if history else until.date()
            )
            server.start_server(args.punch, workdir)
            log(f"punch serve is up at {server.url} (log: {server.server_log})")
            config = workdir / "punch-config.json"
            config.write_text(json.dumps({"url": server.url, "token": server.token}))
            config.chmod(0o600)
            punch_env = dict(env, PUNCH_CONFIG=str(config))
            status, _ = server.http("GET", "/api/v1/timer")
            if status == 404:
                notes.append(
                    "punch skipped: GET /api/v1/timer answered 404 (tracking API not "
                    "registered in punchclock/api/api.py)"
                )
                log(notes[-1])
            elif status != 200:
                raise RuntimeError(f"GET /api/v1/timer answered {status}")
            else:
                tools.append(punch_tool(args.punch, punch_env, server))
        if "watson" in wanted:
            if args.watson:
                (workdir / "watson").mkdir()
                tools.append(
                    watson_tool(args.watson, dict(env, WATSON_DIR=str(workdir / "watson")))
                )
            else:
                notes.append("Watson skipped: not installed (pip install td-watson)")
        if "timew" in wanted:
            if args.timew:
                (workdir / "timew").mkdir()
                tools.append(
                    timew_tool(args.timew, dict(env, TIMEWARRIORDB=str(workdir / "timew")))
                )
            else:
                notes.append("Timewarrior skipped: not installed (apt-get install timewarrior)")
        if not tools:
            raise RuntimeError("no tool to measure: " + "; ".join(notes))
        for tool in tools:
            tool.version = first_line([*tool.help[:1], "--version"], tool.env).split()[-1]
            for _ in range(2):  # fill the bytecode cache before anything is timed
                run(tool.help, tool.env)

        bench = Bench(args)
        log(
            f"Measuring: {', '.join(f'{t.label} {t.version}' for t in tools)}; "
            f"{args.runs} runs (+1 warm-up), {args.slow_runs} for commands over "
            f"{args.slow_threshold:g} s"
        )
        log("--help / --version (start-up)")
        bench.repeated(tools, "help", 0)
        bare_help: dict[str, Any] | None = None
        if any(t.name == "punch" for t in tools) and not args.no_bytecode_cache:
            bare = Series("punch", "help (environment as is)", 0, "punch --help")
            bare_env = dict(os.environ)
            for _ in range(args.runs + 1):
                timing = run([args.punch, "--help"], bare_env)
                bare.samples.append(timing.wall)
                bare.cpu.append(timing.cpu)
            bare.warmup = bare.samples.pop(0)
            bare.cpu.pop(0)
            bare_help = bare.as_dict()
            bare_help["environment"] = {
                k: os.environ.get(k) for k in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
            }
        log("start / status / stop with an empty history")
        bench.timer_cycles(tools, 0)
        api: dict[str, Any] = {}
        if server.port and any(t.name == "punch" for t in tools):
            log("server share: the same requests from this process, empty history")
            api["empty"] = api_timings(server, args.runs, 0)

        log(f"Seeding {args.entries:,} past entries into every tool")
        for tool in tools:
            began_seed = time.perf_counter()
            if tool.name == "punch":
                server.seed(history)
            elif tool.name == "watson":
                seed_watson(Path(tool.env["WATSON_DIR"]), history)
            elif tool.name == "timew":
                seed_timewarrior(Path(tool.env["TIMEWARRIORDB"]), history)
            seeding[tool.name] = round(time.perf_counter() - began_seed, 1)
            log(f"  {tool.label}: {seeding[tool.name]} s")

        log(f"start / status / stop with {args.entries:,} entries")
        bench.timer_cycles(tools, args.entries)
        log(f"full reports over {args.entries:,} entries")
        bench.repeated(tools, "report", args.entries)
        if server.port and any(t.name == "punch" for t in tools):
            log(f"server share: the same requests from this process, {args.entries:,} entries")
            api["seeded"] = api_timings(server, args.runs, args.entries)

        results = [s.as_dict() for s in bench.series.values()]
        table = markdown_table(results, tools, args.entries)
        cpu_table = markdown_table(results, tools, args.entries, metric="cpu")
        stamp = datetime.now(UTC)
        document = {
            "benchmark": "cli",
            "date": stamp.isoformat(timespec="seconds"),
            "argv": sys.argv[1:],
            "duration_s": round(time.time() - began, 1),
            "machine": machine_info(),
            "load_average": {"before": load_before, "after": load_average()},
            "tools": {t.name: {"label": t.label, "version": t.version} for t in tools},
            "punchclock_checkout": code,
            "settings": {
                "runs": args.runs,
                "slow_runs": args.slow_runs,
                "slow_threshold_s": args.slow_threshold,
                "entries": args.entries,
                "history_years": HISTORY_YEARS,
                "database": "PostgreSQL" if args.database_url else "SQLite (embedded)",
                "server": "punch serve --workers 2 (gunicorn, 4 threads each) on 127.0.0.1",
                "bytecode_cache": not args.no_bytecode_cache,
            },
            "seeding_s": seeding,
            "results": results,
            "punch_help_environment_as_is": bare_help,
            "api": api,
            "server_statuses": server.statuses(),
            "notes": notes,
            "table_markdown": table,
            "cpu_table_markdown": cpu_table,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        suffix = ("-postgres" if args.database_url else "") + ("-quick" if args.quick else "")
        path = args.out / f"cli-{stamp:%Y-%m-%d}{suffix}.json"
        number = 1
        while path.exists():  # a second run on the same day keeps the first
            number += 1
            path = args.out / f"cli-{stamp:%Y-%m-%d}{suffix}-{number}.json"
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        print()
        print(
            f"Median wall time (p90, timed runs) — {machine_info()['cpu']}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{'PostgreSQL' if args.database_url else 'SQLite'}"
        )
        print()
        print(table)
        print("\nCPU time of the command's own process (median; the server's work not included):")
        print()
        print(cpu_table)
        if bare_help:
            print(
                f"\npunch --help with the environment as is "
                f"(PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE')}): "
                f"{_ms(bare_help['median_ms'])} median"
            )
        for phase, timings in api.items():
            print(f"\nServer share, {phase} history (one connection per request, from Python):")
            for name, t in timings.items():
                print(f"  {name:<32} {_ms(t['median_ms']):>8} median, p90 {_ms(t['p90_ms'])}")
        print(f"\nServer access log statuses: {server.statuses()}")
        for note in notes:
            print(f"\nNote: {note}")
        print(f"\nWrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
        return 0
    except KeyboardInterrupt:
        log("Interrupted.")
        return 130
    finally:
        server.stop_server()
        if args.keep:
            log(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
