"""The background worker behind `punch worker`: queued jobs, and the tick that queues more.

One loop in one thread: tick when the tick is due (queue what has come due: the billing
schedules' run each minute, reminders each hour), run every job that is ready, then wait
for the next look at the queue. The jobs are taken by the queue's own worker
(django-tasks-db) in batch mode: each is claimed with SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL, or in an exclusive transaction on SQLite, and marked running before it starts,
so several workers never run the same job. A long job only delays the next tick, which is
harmless: a run of the schedules bills every period whose day has come, however late.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType

from django.db import DatabaseError
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from punchclock.automation import tasks
from punchclock.core.timeutil import now

log = logging.getLogger(__name__)

# A job marked running for this long most likely lost its worker (killed, or the machine
# went down): the queue cannot tell, so the failure list names it as interrupted.
STUCK_AFTER = timedelta(hours=1)


class NotADatabaseQueue(Exception):
    """The default task backend is not a database queue, so no worker can take its jobs."""


class BackgroundWorker:
    """Tick every `tick_every` seconds and run ready jobs, looking every `poll` seconds."""

    def __init__(
        self,
        *,
        poll: float = 1.0,
        tick_every: float = 60.0,
        parent_pid: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
            raise NotADatabaseQueue(
                "TASKS['default'] must be django_tasks_db.DatabaseBackend for a worker to run."
            )
        self.poll = poll
        self.tick_every = tick_every
        self.parent_pid = parent_pid
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"[-64:]
        self._stopping = threading.Event()
        self._jobs = Worker(
            queue_names=["*"],
            excluded_queue_names=[],
            interval=poll,
            batch=True,  # return when the queue is empty, so this loop can tick
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id,
        )

    def run(self) -> None:
        """Work until stop(), or until the process that started this worker is gone."""
        log.info("Worker %s started, ticking every %g s.", self.worker_id, self.tick_every)
        next_tick = time.monotonic()
        while not self._stopping.is_set():
            if self._orphaned():
                log.warning("The server that started this worker has gone: stopping.")
                break
            try:
                if time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + self.tick_every
                    tasks.tick()
                self._jobs.run()
            except DatabaseError:
                # The database restarting must not end the worker: log it, look again later.
                log.exception("The queue could not be read; trying again in %g s", self.poll)
            self._stopping.wait(self.poll)
        log.info("Worker %s stopped.", self.worker_id)

    def stop(self) -> None:
        """Finish the job at hand, then leave run()."""
        self._stopping.set()
        self._jobs.running = False

    def stop_on_signals(self) -> None:
        """SIGTERM or SIGINT: stop after the job at hand; a second one abandons that job."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping.is_set():
            # The job's open transaction rolls back and the queue records it as failed; the
            # next tick redoes whatever it had not committed.
            raise KeyboardInterrupt
        log.warning(
            "%s: stopping after the job at hand (send it again to abandon the job).",
            signal.strsignal(signum),
        )
        self.stop()

    def _orphaned(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid


@dataclass(frozen=True)
class Failure:
    job_id: str
    task: str
    at: datetime
    error: str


def failures(*, limit: int = 20) -> list[Failure]:
    """Failed jobs, and jobs whose worker most likely died mid-job, newest first."""
    failed = DBTaskResult.objects.failed().order_by("-finished_at")[:limit]
    stuck = DBTaskResult.objects.running().filter(started_at__lt=now() - STUCK_AFTER)
    found = [
        Failure(str(job.pk), job.task_name, job.finished_at or job.enqueued_at, _last_line(job))
        for job in failed
    ]
    found += [
        Failure(
            str(job.pk),
            job.task_name,
            job.started_at or job.enqueued_at,
            f"Interrupted: marked running since then by worker {', '.join(job.worker_ids)}, "
            "which most likely stopped mid-job.",
        )
        for job in stuck.order_by("-started_at")[:limit]
    ]
    return sorted(found, key=lambda failure: failure.at, reverse=True)[:limit]


def _last_line(job: DBTaskResult) -> str:
    """The exception line of a traceback: what went wrong, without the stack."""
    lines = [line for line in job.traceback.splitlines() if line.strip()]
    return lines[-1] if lines else job.exception_class_path
