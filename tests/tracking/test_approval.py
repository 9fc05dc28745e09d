"""Timesheets: submit, approve or reject, lock; admins reopen and the unlock is logged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from punchclock.tracking import services
from punchclock.tracking.models import LockEvent, TimesheetStatus

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 16)
ENTRY_START = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)


@pytest.fixture
def entry(agency):
    return services.add_entry(
        agency.member,
        by=agency.member,
        project=agency.project,
        start=ENTRY_START,
        end=ENTRY_START + timedelta(hours=3),
    )


def submit(agency):
    return services.submit_timesheet(
        agency.member, period_start=MONDAY, period_end=MONDAY + timedelta(days=6)
    )


def test_submitted_and_approved_weeks_lock_the_members_entries(agency, entry):
    sheet = submit(agency)
    with pytest.raises(ValidationError, match="submitted"):
        services.update_entry(entry, by=agency.member, description="changed")
    services.decide_timesheet(sheet, by=agency.manager, approve=True)
    with pytest.raises(ValidationError, match="approved"):
        services.delete_entry(entry, by=agency.member)
    with pytest.raises(ValidationError, match="approved"):
        services.add_entry(
            agency.member,
            by=agency.member,
            project=agency.project,
            start=ENTRY_START + timedelta(hours=4),
            end=ENTRY_START + timedelta(hours=5),
        )


def test_a_rejection_needs_a_reason_and_unlocks(agency, entry):
    sheet = submit(agency)
    with pytest.raises(ValidationError, match="why"):
        services.decide_timesheet(sheet, by=agency.manager, approve=False)
    services.decide_timesheet(sheet, by=agency.manager, approve=False, comment="Split Tuesday")
    services.update_entry(entry, by=agency.member, description="fixed")
    again = submit(agency)
    assert again.status == TimesheetStatus.SUBMITTED


def test_members_cannot_approve_and_managers_only_their_people(agency, entry):
    sheet = submit(agency)
    with pytest.raises(PermissionDenied):
        services.decide_timesheet(sheet, by=agency.member, approve=True)
    own = services.submit_timesheet(
        agency.manager, period_start=MONDAY, period_end=MONDAY + timedelta(days=6)
    )
    with pytest.raises(PermissionDenied):
        services.decide_timesheet(own, by=agency.manager, approve=True)
    services.decide_timesheet(own, by=agency.admin, approve=True)


def test_admins_reopen_and_the_unlock_is_logged(agency, entry):
    sheet = submit(agency)
    services.decide_timesheet(sheet, by=agency.admin, approve=True)
    with pytest.raises(PermissionDenied):
        services.reopen_timesheet(sheet, by=agency.manager, reason="typo")
    services.reopen_timesheet(sheet, by=agency.admin, reason="Client asked for a split")
    services.update_entry(entry, by=agency.member, description="split")
    event = LockEvent.objects.get()
    assert event.action == "reopen_timesheet"
    assert "Client asked" in event.detail


def test_the_lock_date_freezes_everything_up_to_it(agency, entry):
    services.set_lock_date(agency.organization, by=agency.owner, lock_date=date(2026, 11, 20))
    agency.member.organization.refresh_from_db()
    entry.refresh_from_db()
    with pytest.raises(ValidationError, match="locked"):
        services.update_entry(entry, by=agency.owner, description="late change")
    with pytest.raises(ValidationError, match="past"):
        services.set_lock_date(agency.organization, by=agency.owner, lock_date=date(2026, 12, 1))
    with pytest.raises(PermissionDenied):
        services.set_lock_date(agency.organization, by=agency.member, lock_date=None)
    assert LockEvent.objects.filter(action="set_lock_date").count() == 1


def test_overlapping_submissions_are_refused(agency, entry):
    submit(agency)
    with pytest.raises(ValidationError, match="overlaps"):
        services.submit_timesheet(
            agency.member,
            period_start=MONDAY + timedelta(days=3),
            period_end=MONDAY + timedelta(days=9),
        )
