"""Team time and approvals: who sees whose week, who decides, reopening and the lock date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from punchclock.accounts.models import Role
from punchclock.tracking import services
from punchclock.tracking.models import LockEvent, TimeEntry, Timesheet, TimesheetStatus
from tests import factories
from tests.conftest import login

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 16)  # last week: finished, so it can be submitted and locked


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)
    monkeypatch.setattr("punchclock.core.timeutil.now", lambda: NOW)


def add(person, project, start, minutes=60):
    return services.add_entry(
        person, by=person, project=project, start=start, end=start + timedelta(minutes=minutes)
    )


def submit(person):
    return services.submit_timesheet(
        person, period_start=MONDAY, period_end=MONDAY + timedelta(days=6)
    )


@pytest.fixture
def stranger(agency):
    """A member on the other project only: not one of the manager's people."""
    person = factories.make_membership(
        agency.organization, Role.MEMBER, factories.make_user(name="Sam Stranger")
    )
    agency.other_project.assignments.create(membership=person)
    return person


# Team time -------------------------------------------------------------------------------


def test_admins_see_everyone_with_hours_per_day_and_status(agency, as_owner, stranger):
    add(agency.member, agency.project, datetime(2026, 11, 17, 8, 0, tzinfo=UTC), 90)
    add(stranger, agency.other_project, datetime(2026, 11, 18, 8, 0, tzinfo=UTC), 60)
    submit(agency.member)
    response = as_owner.get("/time/team/", {"week": "2026-11-18"})
    html = response.content.decode()
    assert response.status_code == 200
    names = [r.person.user.display_name for r in response.context["rows"]]
    assert {"Max Member", "Sam Stranger", "Mia Manager", "Olivia Owner"} <= set(names)
    member_row = next(r for r in response.context["rows"] if r.person == agency.member)
    assert member_row.days == [0, 5400, 0, 0, 0, 0, 0]
    assert response.context["week_total"] == 5400 + 3600
    assert "Submitted" in html
    assert "Not submitted" in html
    assert f"/time/week/?week=2026-11-16&amp;person={agency.member.pk}" in html


def test_managers_see_the_people_on_their_projects_only(agency, stranger):
    response = login(agency.manager).get("/time/team/")
    people = {r.person for r in response.context["rows"]}
    assert people == {agency.manager, agency.member}
    assert "time on the projects you manage" in response.content.decode()


def test_members_may_not_open_team_time_or_approvals(agency, as_member):
    assert as_member.get("/time/team/").status_code == 403
    assert as_member.get("/time/approvals/").status_code == 403


def test_a_manager_cannot_open_the_week_of_someone_not_on_their_projects(agency, stranger):
    manager = login(agency.manager)
    assert manager.get("/time/week/", {"person": stranger.pk}).status_code == 403
    assert manager.get("/time/", {"person": stranger.pk}).status_code == 403


def test_outsiders_get_404_for_agency_people(agency, as_outsider):
    assert as_outsider.get("/time/week/", {"person": agency.member.pk}).status_code == 404


def test_a_viewer_sees_a_persons_week_read_only_when_the_project_is_not_theirs(agency, stranger):
    add(stranger, agency.other_project, datetime(2026, 11, 17, 8, 0, tzinfo=UTC), 60)
    # An admin can edit everything; a second, read-only case: a manager of another project.
    other_manager = factories.make_membership(agency.organization, Role.MANAGER)
    agency.other_project.assignments.create(membership=other_manager, is_manager=True)
    agency.project.assignments.create(membership=stranger)
    add(stranger, agency.project, datetime(2026, 11, 18, 8, 0, tzinfo=UTC), 60)
    html = (
        login(other_manager)
        .get("/time/week/", {"week": "2026-11-16", "person": stranger.pk})
        .content.decode()
    )
    # The manager of globex/web sees (and may edit) globex/web only.
    assert f'id="cell-{agency.other_project.pk}-0-20261117"' in html
    assert f'id="row-{agency.project.pk}-0"' not in html


# Approvals -------------------------------------------------------------------------------


def test_the_manager_sees_pending_timesheets_with_hours(agency, stranger):
    add(agency.member, agency.project, datetime(2026, 11, 17, 8, 0, tzinfo=UTC), 150)
    submit(agency.member)
    submit(stranger)
    response = login(agency.manager).get("/time/approvals/")
    pending = response.context["pending"]
    assert [(s.membership, seconds) for s, seconds in pending] == [(agency.member, 9000)]
    assert "2:30" in response.content.decode()
    assert "Lock date" not in response.content.decode()


def test_a_manager_approves(agency):
    sheet = submit(agency.member)
    response = login(agency.manager).post(
        f"/time/timesheets/{sheet.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == TimesheetStatus.APPROVED
    assert sheet.decided_by == agency.manager.user


def test_rejecting_needs_a_comment(agency):
    sheet = submit(agency.member)
    manager = login(agency.manager)
    refused = manager.post(f"/time/timesheets/{sheet.pk}/decide/", {"decision": "reject"})
    assert refused.status_code == 400
    assert "Say why the timesheet is rejected." in refused.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == TimesheetStatus.SUBMITTED
    manager.post(
        f"/time/timesheets/{sheet.pk}/decide/", {"decision": "reject", "comment": "Fix Tuesday"}
    )
    sheet.refresh_from_db()
    assert (sheet.status, sheet.comment) == (TimesheetStatus.REJECTED, "Fix Tuesday")


def test_a_member_cannot_approve(agency, as_member):
    sheet = submit(agency.manager)
    response = as_member.post(f"/time/timesheets/{sheet.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 403
    sheet.refresh_from_db()
    assert sheet.status == TimesheetStatus.SUBMITTED


def test_a_manager_cannot_decide_for_people_outside_their_projects(agency, stranger):
    sheet = submit(stranger)
    response = login(agency.manager).post(
        f"/time/timesheets/{sheet.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 403


def test_an_admin_reopens_an_approved_week_with_a_logged_reason(agency):
    sheet = submit(agency.member)
    services.decide_timesheet(sheet, by=agency.manager, approve=True)
    admin = login(agency.admin)
    page = admin.get("/time/approvals/").content.decode()
    assert "Recently approved" in page
    assert "Reopen" in page
    refused = admin.post(f"/time/timesheets/{sheet.pk}/reopen/", {"reason": " "})
    assert refused.status_code == 400
    assert "Say why the timesheet is reopened." in refused.content.decode()
    response = admin.post(f"/time/timesheets/{sheet.pk}/reopen/", {"reason": "Forgot Friday"})
    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == TimesheetStatus.REJECTED
    event = LockEvent.objects.get(action="reopen_timesheet")
    assert "Forgot Friday" in event.detail
    assert "Forgot Friday" in admin.get("/time/approvals/").content.decode()


def test_managers_cannot_reopen(agency):
    sheet = submit(agency.member)
    services.decide_timesheet(sheet, by=agency.manager, approve=True)
    response = login(agency.manager).post(
        f"/time/timesheets/{sheet.pk}/reopen/", {"reason": "please"}
    )
    assert response.status_code == 403
    assert not LockEvent.objects.exists()


def test_an_outsider_gets_404_for_agency_timesheets(agency, as_outsider):
    sheet = submit(agency.member)
    for action, body in (("decide", {"decision": "approve"}), ("reopen", {"reason": "x"})):
        assert as_outsider.post(f"/time/timesheets/{sheet.pk}/{action}/", body).status_code == 404


def test_a_decided_timesheet_cannot_be_decided_again(agency):
    sheet = submit(agency.member)
    services.decide_timesheet(sheet, by=agency.manager, approve=True)
    response = login(agency.manager).post(
        f"/time/timesheets/{sheet.pk}/decide/", {"decision": "reject", "comment": "no"}
    )
    assert response.status_code == 400
    assert "already Approved" in response.content.decode()


# Lock date -------------------------------------------------------------------------------


def test_an_owner_sets_the_lock_date(agency, as_owner):
    response = as_owner.post("/time/lock-date/", {"lock_date": "2026-11-15"})
    assert response.status_code == 302
    agency.organization.refresh_from_db()
    assert agency.organization.lock_date == date(2026, 11, 15)
    assert LockEvent.objects.filter(action="set_lock_date").exists()
    html = as_owner.get("/time/approvals/").content.decode()
    assert "15 November 2026" in html


def test_the_lock_date_cannot_be_in_the_future(agency, as_owner):
    response = as_owner.post("/time/lock-date/", {"lock_date": "2026-12-01"})
    assert response.status_code == 400
    assert "The lock date must be in the past." in response.content.decode()
    agency.organization.refresh_from_db()
    assert agency.organization.lock_date is None


def test_clearing_the_lock_date(agency, as_owner):
    agency.organization.lock_date = date(2026, 11, 1)
    agency.organization.save()
    assert as_owner.post("/time/lock-date/", {"lock_date": ""}).status_code == 302
    agency.organization.refresh_from_db()
    assert agency.organization.lock_date is None


def test_members_and_managers_cannot_move_the_lock_date(agency, as_member):
    assert as_member.post("/time/lock-date/", {"lock_date": "2026-11-15"}).status_code == 403
    manager = login(agency.manager)
    assert manager.post("/time/lock-date/", {"lock_date": "2026-11-15"}).status_code == 403
    agency.organization.refresh_from_db()
    assert agency.organization.lock_date is None


# Query counts ----------------------------------------------------------------------------


def _entries(agency, first, last):
    people = [agency.member, agency.manager]
    for i in range(first, last):
        start = datetime(2026, 11, 16, 6, 0, tzinfo=UTC) + timedelta(days=i % 5, minutes=20 * i)
        add(people[i % 2], agency.project, start, 15)


def test_team_time_needs_no_more_queries_for_30_entries_than_for_3(
    agency, as_owner, django_assert_max_num_queries
):
    _entries(agency, 0, 3)
    with CaptureQueriesContext(connection) as few:
        as_owner.get("/time/team/", {"week": "2026-11-16"})
    _entries(agency, 3, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_owner.get("/time/team/", {"week": "2026-11-16"})
    assert response.context["week_total"] == 30 * 15 * 60


def test_approvals_need_no_more_queries_for_30_entries_than_for_3(
    agency, as_owner, django_assert_max_num_queries
):
    _entries(agency, 0, 3)
    submit(agency.member)
    services.decide_timesheet(submit(agency.manager), by=agency.owner, approve=True)
    with CaptureQueriesContext(connection) as few:
        as_owner.get("/time/approvals/")
    Timesheet.objects.all().delete()
    _entries(agency, 3, 30)
    submit(agency.member)
    services.decide_timesheet(submit(agency.manager), by=agency.owner, approve=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_owner.get("/time/approvals/")
    hours = [seconds for _, seconds in response.context["pending"] + response.context["approved"]]
    assert sum(hours) == 30 * 15 * 60
    assert TimeEntry.objects.count() == 30
