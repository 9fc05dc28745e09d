"""The month-end run of the billing schedules: 1,000 clients, one monthly schedule each.

Run from the repository root with the project's virtualenv:

    python bench/schedules_bench.py                       # 1,000 clients, issue
    python bench/schedules_bench.py --clients 20          # a smoke test
    python bench/schedules_bench.py --action draft        # drafts instead of issued invoices
    python bench/schedules_bench.py --database-url postgres://postgres@127.0.0.1:5432/punch_sched
    python bench/schedules_bench.py --organizations 10 --workers 2 --database-url postgres://…

It builds everything in a temporary folder (a Punchclock data folder with embedded SQLite, or
the throw-away PostgreSQL database given, migrated), with the organization `invoice_bench.py`
makes (full billing identity, so every issued invoice gets its PDF/A-3 and Factur-X XML).
Then, through the ORM (bulk inserts): `--clients` clients with one project each, an
organization rate of 100 EUR an hour, two time entries per client last month (90 and 45
minutes) and a monthly schedule per client (on the 1st, from the first of last month), so
exactly one period of each schedule is due today. Then, as the worker does it:

1. the month-end run: the worker's tick queues one `run_schedules` job per organization
   (`--organizations`, the clients spread evenly over them), and the queue's worker
   (django-tasks-db, batch mode) takes them: in this process (wall and CPU time, queries),
   or with `--workers N` in N worker processes side by side (wall time until the last one
   has emptied the queue, their CPU time; queries are not counted across processes);
2. `--idle-runs` more ticks (each a minute later) with nothing left to bill: what each
   minute's tick costs once the month is billed.

Checks: one invoice and one run per client, each run with the status the action gives, and
nothing more after the idle runs; the run exits 1 when one fails. The result is written to
bench/results/schedules-<date>[-postgres].json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli_bench import RESULTS, checkout, load_average, log, machine_info  # sibling scripts
from invoice_bench import create_fixture, django_env, setup_django


@dataclass
class Timed:
    wall_s: float
    cpu_s: float
    queries: int
    value: Any


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--action", choices=["draft", "issue"], default="issue")
    parser.add_argument("--idle-runs", type=int, default=5)
    parser.add_argument("--organizations", type=int, default=1, help="spread the clients")
    parser.add_argument(
        "--workers", type=int, default=0, help="worker processes (0: the bench's own process)"
    )
    parser.add_argument("--database-url", help="a throw-away PostgreSQL database")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def last_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    start = (first - timedelta(days=1)).replace(day=1)
    return start, first


def build(fixtures: list[Any], clients: int, action: str, month_start: date) -> None:
    """Clients (spread over the organizations), projects, a rate, two entries and a monthly
    schedule each, in bulk."""
    from punchclock.automation.models import BillingSchedule
    from punchclock.clients.models import Client
    from punchclock.projects.models import Project
    from punchclock.tracking.models import TimeEntry
    from tests.factories import make_rate

    owners = {fixture.organization.pk: fixture.owner for fixture in fixtures}
    made = Client.objects.bulk_create(
        Client(
            organization=fixtures[n % len(fixtures)].organization,
            name=f"Client {n:04d} GmbH",
            code=f"client-{n:04d}",
            email=f"ap{n}@client.test",
            country="DE",
            currency="EUR",
            language="de",
            address_line1=f"Hafenstraße {n}",
            postal_code="20457",
            city="Hamburg",
        )
        for n in range(clients)
    )
    projects = Project.objects.bulk_create(
        Project(
            organization_id=client.organization_id, client=client, name="Development", code="dev"
        )
        for client in made
    )
    for fixture in fixtures:
        make_rate(fixture.organization, "100")
    entries = []
    for project in projects:
        for day, minutes in ((3, 90), (17, 45)):
            start = datetime(month_start.year, month_start.month, day, 9, tzinfo=UTC)
            entries.append(
                TimeEntry(
                    organization_id=project.organization_id,
                    membership=owners[project.organization_id],
                    project=project,
                    description="Feature work",
                    start=start,
                    end=start + timedelta(minutes=minutes),
                    duration_seconds=minutes * 60,
                )
            )
    TimeEntry.objects.bulk_create(entries, batch_size=1000)
    BillingSchedule.objects.bulk_create(
        BillingSchedule(
            organization_id=client.organization_id,
            client=client,
            frequency="monthly",
            day_of_month=1,
            starts_on=month_start,
            action=action,
            run_as=owners[client.organization_id],
        )
        for client in made
    )


def run_job(at: datetime, workers: int) -> Timed:
    """Tick (one `run_schedules` job per organization with due work) and let the queue's
    worker take the jobs, as `punch worker` does: here, or in `workers` processes."""
    import resource
    import subprocess

    from django.db import connection
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    from punchclock.automation import tasks

    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    before = set(DBTaskResult.objects.values_list("pk", flat=True))
    wall, cpu = time.perf_counter(), time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with connection.execute_wrapper(count):
        tasks.tick(at=at)
    if workers:
        command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"]
        processes = [
            subprocess.Popen([*command, "--interval", "0.1", "--worker-id", f"bench-{n}"])
            for n in range(workers)
        ]
        if any(process.wait() != 0 for process in processes):
            raise SystemExit("a worker process failed")
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_children = (used.ru_utime - children.ru_utime) + (used.ru_stime - children.ru_stime)
    else:
        worker = Worker(
            queue_names=["*"],
            excluded_queue_names=[],
            interval=0.1,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="bench",
        )
        with connection.execute_wrapper(count):
            worker.run()
        cpu_children = 0.0
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu + cpu_children
    jobs = DBTaskResult.objects.exclude(pk__in=before).filter(
        task_path=tasks.run_schedules.module_path
    )
    returned: Counter[str] = Counter()
    for job in jobs:
        if job.status != "SUCCESSFUL":
            raise SystemExit(f"a job failed:\n{job.traceback}")
        returned.update(job.return_value)
    return Timed(round(wall, 2), round(cpu, 2), queries, dict(returned))


def outcomes() -> dict[str, int]:
    from punchclock.automation.models import ScheduleRun
    from punchclock.invoicing.models import Invoice

    runs = Counter(ScheduleRun.objects.values_list("status", flat=True))
    invoices = Counter(Invoice.objects.values_list("status", flat=True))
    return {
        **{f"runs_{k}": v for k, v in sorted(runs.items())},
        **{f"invoices_{k}": v for k, v in sorted(invoices.items())},
    }


def results_path(out: Path, postgres: bool) -> Path:
    stem = f"schedules-{date.today():%Y-%m-%d}{'-postgres' if postgres else ''}"
    path, n = out / f"{stem}.json", 2
    while path.exists():
        path, n = out / f"{stem}-{n}.json", n + 1
    return path


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="punch-schedbench-"))
    try:
        info = setup_django(django_env(workdir, args.database_url), args.database_url)
        from django.db import connection
        from django.test.utils import override_settings

        from punchclock.automation.models import BillingSchedule
        from punchclock.automation.services import today_for

        fixtures = [create_fixture() for _ in range(args.organizations)]
        log(
            f"{info['database']}: building {args.clients} clients with a monthly schedule each, "
            f"in {args.organizations} organization(s)"
        )
        began = time.perf_counter()
        month_start, run_on = last_month(date.today())
        build(fixtures, args.clients, args.action, month_start)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # as `punch serve` does at start
        build_s = round(time.perf_counter() - began, 1)
        today = today_for(BillingSchedule.objects.select_related("organization").first())
        log(f"built in {build_s} s; running the month end ({month_start:%B %Y}, on {today})")

        # Draft runs tell the owner by email; keep those in memory, not on the console.
        locmem = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
        at = datetime.now(UTC)
        with override_settings(MAILERS=locmem):
            month_end = run_job(at, args.workers)
            log(f"month end: {month_end}")
            after_month_end = outcomes()
            idle = [run_job(at + timedelta(minutes=n), 0) for n in range(1, args.idle_runs + 1)]
        after_idle = outcomes()
        expected = "issued" if args.action == "issue" else "drafted"
        checks = {
            f"one {expected} run per client": after_month_end.get(f"runs_{expected}")
            == args.clients,
            "one invoice per client": sum(
                v for k, v in after_month_end.items() if k.startswith("invoices_")
            )
            == args.clients,
            "idle runs change nothing": after_idle == after_month_end,
            "idle runs bill nothing": all(run.value == {} for run in idle),
        }
        failed = [name for name, ok in checks.items() if not ok]
        record = {
            "bench": "schedules",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "load_average": load_average(),
            "checkout": checkout(),
            **info,
            "clients": args.clients,
            "organizations": args.organizations,
            "workers": args.workers or "in the bench's process",
            "action": args.action,
            "period": [str(month_start), str(run_on - timedelta(days=1))],
            "build_s": build_s,
            "month_end": {
                "wall_s": month_end.wall_s,
                "cpu_s": month_end.cpu_s,
                "queries": month_end.queries,
                "queries_counted": "the tick only" if args.workers else "the tick and the jobs",
                "per_client_ms": round(month_end.wall_s * 1000 / args.clients, 1),
                "returned": month_end.value,
                "outcomes": after_month_end,
            },
            "idle_run": {
                "n": len(idle),
                "median_wall_s": round(statistics.median(r.wall_s for r in idle), 3)
                if idle
                else None,
                "queries": idle[-1].queries if idle else None,
            },
            "checks_failed": failed,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        path = results_path(args.out, bool(args.database_url))
        path.write_text(json.dumps(record, indent=2, default=str) + "\n")
        log(f"wrote {path}")
        print(json.dumps({k: record[k] for k in ("month_end", "idle_run", "checks_failed")}))
        return 1 if failed else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
