"""Background jobs, and the tick that queues them once per window however many workers tick.

Every job here is safe to run twice: `run_due` claims each period with a `ScheduleRun` row
unique on (schedule, period), and `reminders.send_due` each step with a `ReminderSent` row,
so a repeated or concurrent run finds the work taken. The queue has no retries of its own;
a run that failed or was killed is simply repeated by the next window's tick, which also
catches up on everything that came due while no worker ran.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.tasks import Task, task
from django.tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from punchclock.automation import recurring, reminders, services
from punchclock.core.timeutil import now

log = logging.getLogger(__name__)

# Finished jobs stay in the queue table as the record of what ran; failures much longer, so
# an owner who looks once a month (`punch worker --failures`) still finds them.
KEEP_SUCCESSFUL = timedelta(days=7)
KEEP_FAILED = timedelta(days=90)

# Job ids of ticked jobs are derived from this namespace, the task and the window.
_TICK_IDS = uuid.UUID("8534f41f-32f5-49b3-b951-e7bcd3aa8663")


def _counted(what: str, outcomes: Iterable[Any]) -> dict[str, int]:
    """Outcomes counted by status, logged when there were any."""
    counts = Counter(str(outcome.status) for outcome in outcomes)
    if counts:
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        log.info("%s ran: %s", what, summary)
    return dict(counts)


@task
def run_schedules() -> dict[str, int]:
    """Bill every schedule's due periods and retry failed sends; returns counts by status.

    Recurring invoices' due periods too: their counts are keyed "recurring <status>"."""
    counts = _counted("Billing schedules", services.run_due())
    fixed = _counted("Recurring invoices", recurring.run_due())
    return counts | {f"recurring {status}": n for status, n in fixed.items()}


@task
def send_reminders() -> dict[str, int]:
    """Send every reminder due today, each once; returns counts by outcome."""
    return _counted("Reminders", reminders.send_due())


@task
def prune_results() -> int:
    """Delete finished jobs past their keeping time; returns how many went."""
    at = now()
    deleted, _ = (
        DBTaskResult.objects.finished()
        .filter(finished_at__lt=at - KEEP_SUCCESSFUL)
        .exclude(status=TaskResultStatus.FAILED, finished_at__gte=at - KEEP_FAILED)
        .delete()
    )
    return deleted


def tick(*, at: datetime | None = None) -> list[str]:
    """Queue what is due in this window: the schedules each minute, reminders each hour (they
    are due by the day; the hour only retries a mail server that refused), pruning each day.
    Names what this call queued."""
    at = at or now()
    windows: list[tuple[Task, str]] = [
        (run_schedules, f"{at:%Y-%m-%dT%H:%M}"),
        (send_reminders, f"{at:%Y-%m-%dT%H}"),
        (prune_results, f"{at:%Y-%m-%d}"),
    ]
    return [job.name for job, window in windows if queue_once(job, window=window)]


def queue_once(job: Task, *, window: str) -> bool:
    """Queue `job` unless it was queued in this window already, or a run of it still waits.

    The job's id is derived from (job, window), so the queue table's primary key is the
    claim: of several workers ticking in the same minute, one inserts the row and the others
    find it (on PostgreSQL a second insert waits for the first to commit, then fails on the
    key; on SQLite writers take turns anyway). No table of our own is needed, and the row is
    the record of that window's run. Deleting it when pruned cannot queue a window twice:
    pruning only takes rows days old.
    """
    waiting = DBTaskResult.objects.ready().filter(task_path=job.module_path)
    if waiting.exists():
        # A second run behind one that has not started would find nothing new. A running one
        # does not count: its worker may have died, and a run beside it claims nothing twice.
        return False
    job.get_backend().validate_task(job)
    _, created = DBTaskResult.objects.get_or_create(
        id=uuid.uuid5(_TICK_IDS, f"{job.module_path} {window}"),
        defaults={
            "args_kwargs": {"args": [], "kwargs": {}},
            "priority": job.priority,
            "task_path": job.module_path,
            "queue_name": job.queue_name,
            "backend_name": job.backend,
            "run_after": get_date_max(),  # the queue's way of saying "as soon as possible"
        },
    )
    return created
