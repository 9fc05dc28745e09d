"""The background worker: queued jobs run once, ticks queue once a minute, failures stay visible."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor
from django.tasks import task
from django.tasks.base import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from punchclock.automation import services, tasks
from punchclock.automation import worker as background
from punchclock.automation.models import Action, RunStatus, ScheduleRun
from punchclock.cli.main import main
from punchclock.invoicing.models import Invoice, InvoiceStatus
from punchclock.reports import monthly as kept_periods
from tests.automation.test_schedules import monthly, worked

APRIL_FIRST = datetime(2026, 4, 1, 12, tzinfo=UTC)  # January to March are due


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch):
    """The queue's worker closes connections between jobs, as Django does between requests;
    inside a test's transaction that would close the test's own (Django's test client
    skips it for the same reason)."""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


@pytest.fixture
def three_due_months(billing, monkeypatch):
    """A monthly schedule from January with work in each month; the clock on 1 April."""
    monthly(billing, action=Action.ISSUE)
    for month in (1, 2, 3):
        worked(billing, date(2026, month, 10))
    monkeypatch.setattr(services, "now", lambda: APRIL_FIRST)
    return billing


def drain(worker_id: str = "test") -> None:
    """Run every ready job with the queue's own worker; batch mode stops when none is left."""
    Worker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=0.01,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
    ).run()


def in_thread(target: Callable[[], object], failures: list[str]) -> threading.Thread:
    """A thread with a connection of its own, closed at its end; errors land in `failures`."""

    def body() -> None:
        try:
            target()
        except Exception as exc:  # any error is the failure the test looks for
            failures.append(repr(exc))
        finally:
            connection.close()

    return threading.Thread(target=body)


def schedule_jobs() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=tasks.run_schedules.module_path))


def issued() -> int:
    return Invoice.objects.filter(status=InvoiceStatus.ISSUED).count()


def test_a_queued_run_executes_once_and_records_what_it_did(three_due_months):
    result = tasks.run_schedules.enqueue()
    drain()
    drain()  # a second pass finds nothing left to run
    job = DBTaskResult.objects.get(pk=result.id)
    assert job.status == TaskResultStatus.SUCCESSFUL
    assert job.worker_ids == ["test"]
    assert job.return_value == {"issued": 3}
    assert issued() == 3
    assert ScheduleRun.objects.filter(status=RunStatus.ISSUED).count() == 3


def test_a_second_run_of_the_schedules_changes_nothing(three_due_months):
    first, second = tasks.run_schedules.enqueue(), tasks.run_schedules.enqueue()
    drain()
    values = {str(job.pk): job.return_value for job in DBTaskResult.objects.all()}
    assert values == {first.id: {"issued": 3}, second.id: {}}
    assert issued() == 3


def test_ticks_in_the_same_minute_queue_one_run(three_due_months):
    schedules = f"run_schedules:{three_due_months.organization.pk}"
    reports = [f"keep_reports:{pk}" for pk in sorted(kept_periods.organizations_due())]
    assert f"keep_reports:{three_due_months.organization.pk}" in reports  # its entries
    assert tasks.tick(at=APRIL_FIRST) == [
        schedules,
        "prune_results",
        *reports,
        "check_notifications",
    ]
    assert tasks.tick(at=APRIL_FIRST + timedelta(seconds=59)) == []
    drain()
    assert tasks.tick(at=APRIL_FIRST + timedelta(seconds=30)) == []  # ran: still that minute's
    assert len(schedule_jobs()) == 1
    assert schedule_jobs()[0].return_value == {"issued": 3}
    assert issued() == 3
    # Billed: the next minute's tick finds nothing due and queues nothing (the hourly
    # notification check is queued already, and no email waits).
    assert tasks.tick(at=APRIL_FIRST + timedelta(minutes=1)) == []


def test_a_tick_queues_nothing_behind_a_run_that_still_waits(three_due_months):
    tasks.tick(at=APRIL_FIRST)
    assert tasks.tick(at=APRIL_FIRST + timedelta(minutes=5)) == []
    assert len(schedule_jobs()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_ticking_at_once_queue_one_run(three_due_months, wipe_invoices_after):
    barrier = threading.Barrier(2)
    queued: list[list[str]] = []
    failures: list[str] = []

    def scheduler() -> None:
        barrier.wait()
        queued.append(tasks.tick(at=APRIL_FIRST))

    reports = [f"keep_reports:{pk}" for pk in kept_periods.organizations_due()]
    threads = [in_thread(scheduler, failures) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    # Each window's job was queued by exactly one of them (not necessarily the same one).
    assert sorted(name for names in queued for name in names) == sorted(
        [
            "check_notifications",
            *reports,
            "prune_results",
            f"run_schedules:{three_due_months.organization.pk}",
        ]
    )
    assert len(schedule_jobs()) == 1


ran: list[str] = []
ran_lock = threading.Lock()


@task(takes_context=True)
def record_run(context) -> None:
    """A test job that notes each execution, slowly enough for two workers to overlap."""
    with ran_lock:
        ran.append(context.task_result.id)
    time.sleep(0.01)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_never_run_the_same_job_twice(db):
    # On SQLite the claim happens in an exclusive transaction, so the workers take turns
    # at the queue; on PostgreSQL they claim side by side with FOR UPDATE SKIP LOCKED.
    ran.clear()
    jobs = [record_run.enqueue().id for _ in range(40)]
    failures: list[str] = []
    workers = [in_thread(lambda name=name: drain(name), failures) for name in ("a", "b")]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert failures == []
    assert sorted(ran) == sorted(jobs)  # every job, each exactly once
    finished = DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL)
    assert finished.count() == 40
    assert all(len(job.worker_ids) == 1 for job in finished)


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_their_ticks_bill_each_period_once(three_due_months, wipe_invoices_after):
    failures: list[str] = []

    def worker(name: str) -> None:
        tasks.tick(at=APRIL_FIRST)
        drain(name)

    threads = [in_thread(lambda name=name: worker(name), failures) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert issued() == 3
    assert ScheduleRun.objects.count() == 3
    assert [job.status for job in schedule_jobs()] == [TaskResultStatus.SUCCESSFUL]


@pytest.mark.django_db(transaction=True)
def test_the_worker_loop_ticks_runs_the_schedules_and_stops_when_asked(
    three_due_months, wipe_invoices_after
):
    runner = background.BackgroundWorker(poll=0.05, tick_every=3600, worker_id="loop")
    failures: list[str] = []
    thread = in_thread(runner.run, failures)
    thread.start()
    deadline = time.monotonic() + 30
    while ScheduleRun.objects.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert failures == []
    assert issued() == 3
    (job,) = schedule_jobs()
    assert (job.status, job.worker_ids) == (TaskResultStatus.SUCCESSFUL, ["loop"])


def test_a_signal_stops_the_worker_after_its_job_and_a_second_abandons_the_job(db):
    runner = background.BackgroundWorker(worker_id="signals")
    runner._on_signal(signal.SIGTERM, None)
    assert runner._stopping.is_set()
    assert runner._jobs.running is False  # the queue's loop ends after the job at hand
    with pytest.raises(KeyboardInterrupt):
        runner._on_signal(signal.SIGINT, None)


def test_the_worker_refuses_a_backend_that_is_not_a_database_queue(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with pytest.raises(background.NotADatabaseQueue, match="DatabaseBackend"):
        background.BackgroundWorker()


@task
def fail_loudly() -> None:
    """A test job that always fails."""
    raise ValueError("the mail server said no")


def test_failed_jobs_stay_listed_for_the_owner(db):
    fail_loudly.enqueue()
    drain()
    job = DBTaskResult.objects.get()
    assert job.status == TaskResultStatus.FAILED
    assert "ValueError" in job.traceback
    (failure,) = background.failures()
    assert (failure.task, failure.error) == ("fail_loudly", "ValueError: the mail server said no")
    result = CliRunner().invoke(main, ["worker", "--failures"])
    assert result.exit_code == 0, result.output
    assert "fail_loudly  ValueError: the mail server said no" in result.output
    assert str(job.pk) in result.output


def test_a_job_whose_worker_died_is_listed_as_interrupted(db, monkeypatch):
    result = record_run.enqueue()
    job = DBTaskResult.objects.get(pk=result.id)
    job.claim("gone:123")  # what a worker killed mid-job leaves behind
    assert background.failures() == []  # it may just be a long job
    monkeypatch.setattr(background, "STUCK_AFTER", timedelta(0))
    (failure,) = background.failures()
    assert failure.task == "record_run"
    assert failure.error.startswith("Interrupted")
    assert "gone:123" in failure.error


def test_no_failures_says_so(db):
    result = CliRunner().invoke(main, ["worker", "--failures"])
    assert (result.exit_code, result.output) == (0, "No failed jobs.\n")


def test_pruning_keeps_failures_longer_than_successes(db, monkeypatch):
    for kind in (record_run, record_run, fail_loudly, fail_loudly):
        kind.enqueue()
    ran.clear()
    drain()
    jobs = DBTaskResult.objects.order_by("task_path", "pk")
    old_failure, new_failure = jobs.filter(status=TaskResultStatus.FAILED)
    old_success, new_success = jobs.filter(status=TaskResultStatus.SUCCESSFUL)
    at = tasks.now()
    for job, age in ((old_failure, 91), (new_failure, 60), (old_success, 8), (new_success, 6)):
        DBTaskResult.objects.filter(pk=job.pk).update(finished_at=at - timedelta(days=age))
    assert tasks.prune_results.call() == 2
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {
        new_failure.pk,
        new_success.pk,
    }


def test_a_worker_started_by_a_server_stops_when_the_server_is_gone(db):
    runner = background.BackgroundWorker(parent_pid=-1, worker_id="orphan")  # never a parent
    runner.run()  # returns at once instead of working for nobody
    assert not DBTaskResult.objects.exists()


def test_a_database_error_is_logged_and_the_worker_goes_on(db, monkeypatch, caplog):
    runner = background.BackgroundWorker(poll=0.01, tick_every=0, worker_id="flaky")
    ticks: list[int] = []

    def flaky_tick() -> list[str]:
        ticks.append(1)
        if len(ticks) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        if len(ticks) == 3:
            runner.stop()
        return []

    monkeypatch.setattr(tasks, "tick", flaky_tick)
    runner.run()
    assert len(ticks) == 3
    assert "The queue could not be read" in caplog.text


def test_the_worker_will_not_start_on_a_database_without_its_tables(db, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: ["0001"])
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 1
    assert "The database is not migrated yet" in result.output
