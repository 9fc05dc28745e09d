"""A real `punch worker` killed mid-job, then restarted: every period is billed once.

The worker runs in a process of its own against the test database. A wrapper around
issue_invoice lets the test catch it in the middle of a period's transaction (an invoice
issued, not yet committed) and SIGKILL it there; a second worker, stopped with SIGTERM in
the middle of its own job, must finish that job before it exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from punchclock.automation import tasks
from punchclock.automation import worker as background
from punchclock.automation.models import RunStatus, ScheduleRun
from punchclock.invoicing.models import Invoice, InvoiceStatus
from tests.automation.test_worker import APRIL_FIRST, three_due_months  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]

# `punch worker` with the test's clock, pausing after the Nth invoice it issues: it touches
# the marker file, then sleeps inside the period's transaction.
WORKER = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
import django
django.setup()
from punchclock.automation import services
from punchclock.invoicing import services as invoicing

marker, nth, pause = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
services.now = lambda: datetime.fromisoformat(sys.argv[4])
issue, issued = invoicing.issue_invoice, []

def pausing_issue(*args, **kwargs):
    invoice = issue(*args, **kwargs)
    issued.append(invoice)
    if len(issued) == nth:
        marker.touch()
        time.sleep(pause)
    return invoice

invoicing.issue_invoice = pausing_issue
from punchclock.cli.main import main
main(["worker", "--poll", "0.1"], prog_name="punch")
"""


def database_url() -> str:
    """The test database, as DATABASE_URL for a process of its own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def spawn(tmp_path):
    """Start `WORKER` processes on the test database; any still running at the end is killed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="punchclock.config.settings",
        DATABASE_URL=database_url(),
        PUNCHCLOCK_DATA_DIR=str(tmp_path),
        SECRET_KEY="worker-test-" + "x" * 40,
        SECURE_HTTPS="0",
    )
    started: list[subprocess.Popen] = []

    def start(name: str, *, nth: int, pause: float) -> subprocess.Popen:
        marker = tmp_path / name
        command = [sys.executable, "-c", WORKER, str(marker), str(nth), str(pause)]
        with (tmp_path / f"{name}.log").open("w") as log:
            started.append(
                subprocess.Popen(
                    [*command, APRIL_FIRST.isoformat()],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for(marker: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the worker never reached the job: " + log.read_text()
        time.sleep(0.05)


def issued() -> list[str]:
    invoices = Invoice.objects.filter(status=InvoiceStatus.ISSUED).order_by("number")
    return [invoice.number for invoice in invoices]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("three_due_months", "wipe_invoices_after")
def test_a_worker_killed_mid_job_and_restarted_bills_each_period_once(spawn, tmp_path):
    tasks.tick(at=APRIL_FIRST)  # January to March are due
    first = spawn("first", nth=2, pause=120)
    wait_for(tmp_path / "first", first, tmp_path / "first.log")
    first.send_signal(signal.SIGKILL)  # in February's transaction, its invoice issued
    first.wait(timeout=10)

    assert ScheduleRun.objects.count() == 1  # January committed; February rolled back
    assert len(issued()) == 1
    (killed,) = [job for job in DBTaskResult.objects.all() if job.task_name == "run_schedules"]
    assert killed.status == TaskResultStatus.RUNNING  # the queue cannot know it died

    second = spawn("second", nth=1, pause=0.5)
    wait_for(tmp_path / "second", second, tmp_path / "second.log")
    second.send_signal(signal.SIGTERM)  # mid-job: it finishes the job, then stops
    assert second.wait(timeout=30) == 0, (tmp_path / "second.log").read_text()

    runs = ScheduleRun.objects.order_by("period_start")
    assert [run.period_start.month for run in runs] == [1, 2, 3]
    assert {run.status for run in runs} == {RunStatus.ISSUED}
    numbers = issued()
    # No period billed twice, and the killed transaction's number was given again: no gap.
    assert numbers == [f"{APRIL_FIRST.year}-000{n}" for n in (1, 2, 3)]
    assert sorted(run.invoice.number for run in runs) == numbers
    restarted = DBTaskResult.objects.exclude(pk=killed.pk).filter(
        task_path=tasks.run_schedules.module_path
    )
    assert [job.status for job in restarted] == [TaskResultStatus.SUCCESSFUL]
    assert "stopping after the job at hand" in (tmp_path / "second.log").read_text()

    # The killed job stays visible to the owner once it has been "running" too long.
    DBTaskResult.objects.filter(pk=killed.pk).update(started_at=APRIL_FIRST)
    assert [failure.job_id for failure in background.failures()] == [str(killed.pk)]
