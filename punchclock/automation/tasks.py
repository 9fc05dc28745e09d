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

from punchclock.accounts.models import Organization
from punchclock.automation import (
    notification_mail,
    notifications,
    recurring,
    reminders,
    retainer_runs,
    services,
)
from punchclock.core.dbstats import refresh_planner_statistics
from punchclock.core.timeutil import now
from punchclock.reports import monthly
from punchclock.reports.documents import keep_documents

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


def _organization(organization_id: int) -> Organization | None:
    return Organization.objects.filter(pk=organization_id).first()


@task
def run_schedules(organization_id: int | None = None) -> dict[str, int]:
    """Bill the due periods of schedules and recurring invoices, retry failed sends, and close
    the retainers' ended periods, of one organization (of all without one); returns counts
    by status."""
    if organization_id is None:
        counts = _counted("Billing schedules", services.run_due())
    else:
        organization = _organization(organization_id)
        if organization is None:
            return {}  # deleted since the tick
        counts = _counted(
            f"Billing schedules of {organization_id}",
            services.run_due(organization=organization),
        )
    # Recurring invoices' periods (decision 0011) and retainers' ended periods (decision
    # 0012) are billed in the same job, counted apart.
    fixed = _counted("Recurring invoices", recurring.run_due(organization_id=organization_id))
    closed = _counted("Retainers", retainer_runs.run_due(organization_id=organization_id))
    return (
        counts
        | {f"recurring {status}": n for status, n in fixed.items()}
        | {f"retainer {status}": n for status, n in closed.items()}
    )


@task
def send_reminders(organization_id: int | None = None) -> dict[str, int]:
    """Send the reminders due today, each once, of one organization (of all without one);
    returns counts by outcome."""
    if organization_id is None:
        return _counted("Reminders", reminders.send_due())
    organization = _organization(organization_id)
    if organization is None:
        return {}
    return _counted(
        f"Reminders of {organization_id}", reminders.send_due(organization=organization)
    )


@task
def keep_reports(organization_id: int) -> dict[str, int]:
    """Build the kept report periods that writes made stale or that were never built, and
    keep the issued documents not kept yet (reports.documents), so the next report reads
    them instead of building them in its request."""
    built = monthly.keep_built(organization_id)
    if built:
        # Thousands of kept rows may be new: SQLite's planner needs to know (core.dbstats).
        refresh_planner_statistics()
    organization = Organization.objects.filter(pk=organization_id).first()
    documents = keep_documents(organization) if organization is not None else 0
    counts = {"built": built, "documents": documents}
    return _logged(f"Report periods of {organization_id}", {k: v for k, v in counts.items() if v})


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
    """Queue what is due in this window, one job per organization with due work: schedules
    each minute, reminders each hour (they are due by the day; the hour only retries a mail
    server that refused), kept report periods each hour (reports.monthly.keep_built),
    pruning each day. Names what this call queued ("run_schedules:7").

    One job per organization lets several workers share a month end: each takes the next
    organization's job. Finding which organizations have work is a few queries in all
    (services.organizations_due, reminders.organizations_due), not one per schedule.
    The team's notifications are checked each hour and their emails sent each minute when
    any wait (decision 0013), for all organizations at once: both are light."""
    at = at or now()
    minute, hour = f"{at:%Y-%m-%dT%H:%M}", f"{at:%Y-%m-%dT%H}"
    billing = (
        services.organizations_due()
        | recurring.organizations_due()
        | retainer_runs.organizations_due()
    )
    queued = queue_once(run_schedules, window=minute, organizations=billing)
    queued += queue_once(send_reminders, window=hour, organizations=reminders.organizations_due())
    queued += queue_once(prune_results, window=f"{at:%Y-%m-%d}")
    queued += queue_once(keep_reports, window=hour, organizations=monthly.organizations_due())
    queued += queue_once(check_notifications, window=hour)
    if notification_mail.anything_due(at=at):
        queued += queue_once(send_notifications, window=minute)
    return queued


def _job_id(job: Task, window: str, organization_id: int | None = None) -> uuid.UUID:
    which = "" if organization_id is None else f" {organization_id}"
    return uuid.uuid5(_TICK_IDS, f"{job.module_path}{which} {window}")


def queue_once(job: Task, *, window: str, organizations: Iterable[int] | None = None) -> list[str]:
    """Queue `job` once in this window (once per organization of `organizations` when given,
    with `organization_id` as its argument), except where a run of it still waits. Names
    what it queued.

    A job's id is derived from (job, organization, window), so the queue table's primary
    key is the claim: of several workers ticking in the same minute, one inserts the row
    and the others find it (on PostgreSQL a second insert waits for the first to commit,
    then fails on the key; on SQLite writers take turns anyway). No table of our own is
    needed, and the row is the record of that window's run. Deleting it when pruned cannot
    queue a window twice: pruning only takes rows days old.
    """
    wanted: list[int | None] = [None] if organizations is None else [*sorted(organizations)]
    if not wanted:
        return []
    # A second run behind one that has not started would find nothing new. A running one
    # does not count: its worker may have died, and a run beside it claims nothing twice.
    waiting = {
        (args.get("kwargs") or {}).get("organization_id")
        for args in DBTaskResult.objects.ready()
        .filter(task_path=job.module_path)
        .values_list("args_kwargs", flat=True)
    }
    ids = {pk: _job_id(job, window, pk) for pk in wanted if pk not in waiting}
    taken = set(DBTaskResult.objects.filter(pk__in=ids.values()).values_list("pk", flat=True))
    job.get_backend().validate_task(job)
    queued = []
    for organization_id, job_id in ids.items():
        if job_id in taken:
            continue
        kwargs = {} if organization_id is None else {"organization_id": organization_id}
        _, created = DBTaskResult.objects.get_or_create(
            id=job_id,
            defaults={
                "args_kwargs": {"args": [], "kwargs": kwargs},
                "priority": job.priority,
                "task_path": job.module_path,
                "queue_name": job.queue_name,
                "backend_name": job.backend,
                "run_after": get_date_max(),  # the queue's way of saying "as soon as possible"
            },
        )
        if created:
            queued.append(job.name if organization_id is None else f"{job.name}:{organization_id}")
    return queued


@task
def check_notifications(organization_id: int | None = None) -> dict[str, int]:
    """Tell the team of invoices overdue, budgets crossed and long timers (each cause once),
    then email what is due; `organization_id` limits it to one organization."""
    found = notifications.check(organization_id=organization_id).as_dict()
    sent = notification_mail.deliver(organization_id=organization_id)
    return _logged("Notifications", {k: n for k, n in (found | sent).items() if n})


@task
def send_notifications(organization_id: int | None = None) -> dict[str, int]:
    """Email the notifications that are due, retrying refused ones; counts by outcome."""
    return _logged(
        "Notification emails", notification_mail.deliver(organization_id=organization_id)
    )


def _logged(what: str, counts: dict[str, int]) -> dict[str, int]:
    if counts:
        log.info("%s: %s", what, ", ".join(f"{n} {name}" for name, n in sorted(counts.items())))
    return counts
