"""Timers: start, switch, stop, resume, discard; one running timer per person."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from punchclock.projects.models import BillingMethod, ProjectStatus
from punchclock.tracking import services
from punchclock.tracking.models import TimeEntry
from tests.concurrency import at_once
from tests.factories import make_task

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: T0 + timedelta(hours=12))


def test_start_then_stop_records_the_exact_span(agency):
    started = services.start_timer(
        agency.member, project=agency.project, description="fix login", at=T0
    ).started
    stopped = services.stop_timer(agency.member, at=T0 + timedelta(minutes=90, seconds=7))
    assert stopped.pk == started.pk
    assert stopped.seconds() == 90 * 60 + 7
    stopped.refresh_from_db()
    assert stopped.duration_seconds == 90 * 60 + 7


def test_starting_while_running_switches_at_the_same_instant(agency):
    first = services.start_timer(agency.member, project=agency.project, at=T0).started
    change = services.start_timer(
        agency.member, project=agency.project, task=agency.task, at=T0 + timedelta(hours=2)
    )
    first.refresh_from_db()
    assert change.stopped.pk == first.pk
    assert first.end == change.started.start == T0 + timedelta(hours=2)
    assert TimeEntry.objects.filter(membership=agency.member, end__isnull=True).count() == 1


def test_a_start_before_the_running_timer_began_is_refused(agency):
    services.start_timer(agency.member, project=agency.project, at=T0)
    with pytest.raises(ValidationError) as caught:
        services.start_timer(agency.member, project=agency.project, at=T0 - timedelta(minutes=5))
    assert "start" in caught.value.message_dict
    assert TimeEntry.objects.count() == 1


def test_a_switch_in_the_same_second_replaces_the_zero_length_timer(agency):
    services.start_timer(agency.member, project=agency.project, at=T0)
    change = services.start_timer(agency.member, project=agency.project, task=agency.task, at=T0)
    assert change.stopped is None
    assert TimeEntry.objects.get().task == agency.task


def test_stop_without_a_timer_says_so(agency):
    with pytest.raises(ValidationError, match="No timer is running"):
        services.stop_timer(agency.member, at=T0)


def test_resume_starts_the_last_entry_again(agency):
    services.start_timer(
        agency.member,
        project=agency.project,
        task=agency.task,
        description="review",
        tags=["Urgent", "#api"],
        at=T0,
    )
    services.stop_timer(agency.member, at=T0 + timedelta(hours=1))
    resumed = services.resume_timer(agency.member, at=T0 + timedelta(hours=3)).started
    assert (resumed.project, resumed.task, resumed.description) == (
        agency.project,
        agency.task,
        "review",
    )
    assert sorted(t.name for t in resumed.tags.all()) == ["api", "urgent"]


def test_discard_removes_the_running_entry(agency):
    services.start_timer(agency.member, project=agency.project, at=T0)
    services.discard_timer(agency.member)
    assert not TimeEntry.objects.exists()


def test_billable_defaults_from_task_then_project(agency):
    quiet = make_task(agency.project, "Meetings", billable_default=False)
    entry = services.start_timer(agency.member, project=agency.project, task=quiet, at=T0).started
    assert entry.billable is False
    agency.project.billing_method = BillingMethod.NON_BILLABLE
    agency.project.save()
    forced = services.start_timer(
        agency.member, project=agency.project, billable=True, at=T0 + timedelta(hours=1)
    ).started
    assert forced.billable is False


def test_archived_projects_and_unassigned_people_cannot_track(agency):
    with pytest.raises(ValidationError, match="not assigned"):
        services.start_timer(agency.member, project=agency.other_project, at=T0)
    agency.project.status = ProjectStatus.ARCHIVED
    agency.project.save()
    with pytest.raises(ValidationError, match="archived"):
        services.start_timer(agency.member, project=agency.project, at=T0)
    assert not TimeEntry.objects.exists()


def test_the_database_allows_only_one_running_timer(agency):
    services.start_timer(agency.member, project=agency.project, at=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntry.objects.create(
            organization=agency.organization,
            membership=agency.member,
            project=agency.project,
            start=T0 + timedelta(hours=1),
        )


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_starts_leave_exactly_one_running(agency):
    seconds = itertools.count()  # each thread starts a second after the one before

    def start() -> str:
        at = T0 + timedelta(seconds=next(seconds))
        services.start_timer(agency.member, project=agency.project, at=at)
        return "started"

    started, failures = at_once(start, 20)
    # Every start either ran or was refused with a message; none crashed.
    assert len(started) + len(failures) == 20
    assert all(f.startswith("ValidationError(") for f in failures), failures
    assert TimeEntry.objects.filter(membership=agency.member, end__isnull=True).count() == 1
    # Every entry that is not running ended exactly when a later one started.
    entries = list(TimeEntry.objects.filter(membership=agency.member).order_by("start"))
    for earlier, later in itertools.pairwise(entries):
        assert earlier.end == later.start
