"""One job per organization: the tick queues each organization's due work once, so several
workers share a month end; two real worker processes bill each period exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.db import connection
from django.tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from punchclock.accounts.models import Organization, Role
from punchclock.automation import services, tasks
from punchclock.automation.models import Action, RunStatus, ScheduleRun
from punchclock.invoicing.models import Invoice, InvoiceStatus
from tests import factories
from tests.automation.test_worker import APRIL_FIRST, drain, keep_the_test_connection  # noqa: F401
from tests.automation.test_worker_kill import ROOT, database_url
from tests.invoicing.conftest import track

# `punch worker` with the test's clock; each issued invoice takes a little longer, so that
# one worker cannot empty the queue before the other has started.
WORKER = """
import sys, time
from datetime import datetime
import django
django.setup()
from punchclock.automation import services
from punchclock.invoicing import services as invoicing

services.now = lambda: datetime.fromisoformat(sys.argv[1])
issue = invoicing.issue_invoice

def slow_issue(*args, **kwargs):
    invoice = issue(*args, **kwargs)
    time.sleep(0.2)
    return invoice

invoicing.issue_invoice = slow_issue
from punchclock.cli.main import main
main(["worker", "--poll", "0.1"], prog_name="punch")
"""


def organization_with_schedule(name: str, *, months: tuple[int, ...] = (1, 2, 3)) -> int:
    """An organization billing one client monthly from January, with work in `months`."""
    organization = factories.make_organization(name, default_currency="EUR", vat_id="DE811907980")
    owner = factories.make_membership(organization, Role.OWNER)
    client = factories.make_client(organization, f"{name} client")
    project = factories.make_project(client, "API")
    factories.make_rate(organization, "100")
    for month in months:
        track(owner, project, APRIL_FIRST.replace(month=month, day=10), 120)
    services.save_schedule(
        owner,
        client=client,
        frequency="monthly",
        day_of_month=1,
        starts_on=date(2026, 1, 1),
        action=Action.ISSUE,
    )
    return organization.pk


@pytest.fixture
def april(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: APRIL_FIRST)


def jobs_of(task) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task.module_path))


@pytest.mark.usefixtures("april")
def test_the_tick_queues_one_job_per_organization_with_due_work(db):
    first = organization_with_schedule("North")
    second = organization_with_schedule("South")
    organization_with_schedule("Idle", months=())  # due periods too: they run as "empty"
    caught_up = organization_with_schedule("Done")
    services.run_due(organization=Organization.objects.get(pk=caught_up))

    queued = tasks.tick(at=APRIL_FIRST)
    assert f"run_schedules:{first}" in queued
    assert f"run_schedules:{second}" in queued
    assert f"run_schedules:{caught_up}" not in queued  # nothing left to do there
    assert tasks.tick(at=APRIL_FIRST + timedelta(seconds=30)) == []  # the same minute

    drain()
    values = {
        job.args_kwargs["kwargs"]["organization_id"]: job.return_value
        for job in jobs_of(tasks.run_schedules)
    }
    assert values[first] == values[second] == {"issued": 3}
    for organization in (first, second, caught_up):
        runs = ScheduleRun.objects.filter(schedule__organization_id=organization)
        assert runs.filter(status=RunStatus.ISSUED).count() == 3
    assert tasks.tick(at=APRIL_FIRST + timedelta(minutes=1)) == []  # all billed


@pytest.mark.usefixtures("april")
def test_a_job_runs_only_its_own_organizations_schedules(db):
    first = organization_with_schedule("North")
    second = organization_with_schedule("South")
    tasks.run_schedules.enqueue(organization_id=first)
    drain()
    assert ScheduleRun.objects.filter(schedule__organization_id=first).count() == 3
    assert not ScheduleRun.objects.filter(schedule__organization_id=second).exists()


@pytest.mark.usefixtures("april")
def test_finding_the_due_organizations_costs_the_same_for_many_schedules(
    db, django_assert_num_queries
):
    for n in range(3):
        organization_with_schedule(f"Org {n}")
    services.run_due()  # everything billed: an idle minute from here on
    with django_assert_num_queries(3) as few:
        assert services.organizations_due() == set()
    for n in range(3, 12):
        organization_with_schedule(f"Org {n}")
    services.run_due()
    with django_assert_num_queries(len(few.captured_queries)):
        assert services.organizations_due() == set()


def test_a_job_for_an_organization_deleted_since_the_tick_does_nothing(db):
    tasks.run_schedules.enqueue(organization_id=10**9)
    tasks.send_reminders.enqueue(organization_id=10**9)
    drain()
    assert [job.return_value for job in DBTaskResult.objects.all()] == [{}, {}]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("wipe_invoices_after")
def test_two_worker_processes_share_the_organizations_and_bill_each_period_once(tmp_path):
    organizations = [organization_with_schedule(f"Org {n}") for n in range(6)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="punchclock.config.settings",
        DATABASE_URL=database_url(),
        PUNCHCLOCK_DATA_DIR=str(tmp_path),
        SECRET_KEY="worker-test-" + "x" * 40,
        SECURE_HTTPS="0",
    )
    workers = []
    for name in ("a", "b"):
        log = (tmp_path / f"{name}.log").open("w")
        command = [sys.executable, "-c", WORKER, APRIL_FIRST.isoformat()]
        workers.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    try:
        deadline = time.monotonic() + 90
        while ScheduleRun.objects.filter(status=RunStatus.ISSUED).count() < 18:
            logs = "".join((tmp_path / f"{n}.log").read_text() for n in ("a", "b"))
            assert all(worker.poll() is None for worker in workers), logs
            assert time.monotonic() < deadline, logs
            time.sleep(0.2)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert worker.wait(timeout=30) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    for organization in organizations:
        runs = ScheduleRun.objects.filter(schedule__organization_id=organization)
        assert sorted(run.period_start.month for run in runs) == [1, 2, 3]
        invoices = Invoice.objects.filter(organization_id=organization)
        assert invoices.filter(status=InvoiceStatus.ISSUED).count() == 3
        assert invoices.count() == 3  # no draft left over from a second try either
    jobs = [job for job in jobs_of(tasks.run_schedules) if job.return_value]
    assert {job.status for job in jobs} == {TaskResultStatus.SUCCESSFUL}
    # Each organization's work was done by one job, and the workers shared the jobs.
    billed = sorted(job.args_kwargs["kwargs"]["organization_id"] for job in jobs)
    assert billed == sorted(organizations)
    if connection.vendor == "postgresql":
        # On PostgreSQL both workers took jobs and ran them side by side. (On SQLite one
        # database writer at a time: the other worker mostly waits, so no claim there.)
        assert len({worker for job in jobs for worker in job.worker_ids}) == 2
        spans = sorted((job.started_at, job.finished_at) for job in jobs)
        assert any(later[0] < earlier[1] for earlier, later in pairwise(spans))
