"""The weekly timesheet grid: cells set a day's total, rows, totals, submitting the week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from punchclock.tracking import services
from punchclock.tracking.models import TimeEntry, Timesheet, TimesheetStatus
from tests.conftest import login

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 15:00 in Berlin
MONDAY = date(2026, 11, 23)
TUESDAY = date(2026, 11, 24)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)
    monkeypatch.setattr("punchclock.core.timeutil.now", lambda: NOW)


@pytest.fixture(autouse=True)
def _berlin(agency):
    for person in (agency.member, agency.manager):
        person.user.timezone = "Europe/Berlin"
        person.user.save()


def add(agency, start, minutes=60, task=None, person=None):
    person = person or agency.member
    return services.add_entry(
        person,
        by=person,
        project=agency.project,
        task=task,
        start=start,
        end=start + timedelta(minutes=minutes),
    )


def set_cell(http, agency, day, duration, task=None, **extra):
    body = {
        "project": agency.project.pk,
        "task": task.pk if task else "",
        "day": day.isoformat(),
        "duration": duration,
    } | extra
    return http.post("/time/week/cell/", body, **HTMX)


def test_the_grid_has_a_row_per_project_and_task_and_totals(agency, as_member):
    add(agency, datetime(2026, 11, 23, 8, 0, tzinfo=UTC), 90, task=agency.task)
    add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 30, task=agency.task)
    add(agency, datetime(2026, 11, 24, 10, 0, tzinfo=UTC), 60)
    response = as_member.get("/time/week/", {"week": "2026-11-25"})
    html = response.content.decode()
    assert response.context["monday"] == MONDAY
    assert [r.key for r in response.context["rows"]] == [
        f"{agency.project.pk}-0",
        f"{agency.project.pk}-{agency.task.pk}",
    ]
    assert response.context["day_totals"][:3] == [5400, 5400, 0]
    assert 'id="week-total">3:00<' in html
    assert 'value="1:30"' in html
    assert 'value="0:30"' in html
    assert "?week=2026-11-16" in html
    assert "?week=2026-11-30" in html
    assert "Submit week for approval" in html


def test_typing_into_an_empty_cell_adds_an_entry(agency, as_member):
    response = set_cell(as_member, agency, TUESDAY, "2h", task=agency.task)
    assert response.status_code == 200
    entry = TimeEntry.objects.get()
    assert (entry.task, entry.duration_seconds) == (agency.task, 7200)
    # Placed from 09:00 Berlin.
    assert entry.start == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_the_cell_answer_is_the_row_with_totals_out_of_band(agency, as_member):
    add(agency, datetime(2026, 11, 23, 8, 0, tzinfo=UTC), 60)
    response = set_cell(as_member, agency, TUESDAY, "1:30")
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="row-{agency.project.pk}-0">')
    assert '<td class="num grid-total">2:30</td>' in html
    assert '<template>\n<tfoot id="week-foot" hx-swap-oob="true">' in html
    assert 'id="week-stats"' in html
    assert 'id="week-total">2:30<' in html
    assert "<html" not in html


def test_typing_into_a_single_entry_cell_changes_that_entrys_length(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    response = set_cell(as_member, agency, TUESDAY, "2h15")
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.start == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert entry.duration_seconds == 2 * 3600 + 15 * 60
    assert TimeEntry.objects.count() == 1


def test_emptying_a_single_entry_cell_removes_the_entry_but_keeps_the_row(agency, as_member):
    add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    response = set_cell(as_member, agency, TUESDAY, "")
    assert response.status_code == 200
    assert not TimeEntry.objects.exists()
    assert f'id="row-{agency.project.pk}-0"' in as_member.get("/time/week/").content.decode()


def test_a_cell_with_several_entries_is_read_only_with_a_link_to_the_day(agency, as_member):
    add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    add(agency, datetime(2026, 11, 24, 10, 0, tzinfo=UTC), 30)
    html = as_member.get("/time/week/").content.decode()
    assert f'id="cell-{agency.project.pk}-0-20261124"' not in html
    assert 'title="2 entries: change them in the day view."' in html
    assert 'href="/time/?date=2026-11-24"' in html
    response = set_cell(as_member, agency, TUESDAY, "5h")
    assert response.status_code == 400
    assert "change them in the day view" in response.content.decode()
    assert sorted(e.duration_seconds for e in TimeEntry.objects.all()) == [1800, 3600]


def test_a_bad_duration_is_shown_in_the_cell_with_400(agency, as_member):
    response = set_cell(as_member, agency, TUESDAY, "lots")
    html = response.content.decode()
    assert response.status_code == 400
    assert "is not a duration" in html
    assert not TimeEntry.objects.exists()


def test_a_future_total_is_refused_in_the_cell(agency, as_member):
    response = set_cell(as_member, agency, date(2026, 11, 25), "8h")
    assert response.status_code == 400
    assert "cannot be tracked in the future" in response.content.decode()
    assert 'value="8h"' in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_a_cell_longer_than_a_day_is_refused(agency, as_member):
    response = set_cell(as_member, agency, date(2026, 11, 20), "30h")
    assert response.status_code == 400
    assert not TimeEntry.objects.exists()


def test_add_row_shows_an_empty_row_to_type_into(agency, as_member):
    response = as_member.post(
        "/time/week/rows/",
        {"week": "2026-11-24", "project": agency.project.pk, "task": agency.task.pk},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="week-grid"')
    assert f'id="cell-{agency.project.pk}-{agency.task.pk}-20261123"' in html
    # The row stays for the week without time on it.
    assert (
        f'id="row-{agency.project.pk}-{agency.task.pk}"'
        in as_member.get("/time/week/").content.decode()
    )
    assert (
        f'id="row-{agency.project.pk}-{agency.task.pk}"'
        not in as_member.get("/time/week/", {"week": "2026-11-30"}).content.decode()
    )


def test_add_row_refuses_a_task_of_another_project_and_unknown_projects(agency, as_member):
    from tests.factories import make_task

    foreign = make_task(agency.other_project, "Design")
    wrong = as_member.post(
        "/time/week/rows/", {"project": agency.project.pk, "task": foreign.pk}, **HTMX
    )
    assert wrong.status_code == 400
    unknown = as_member.post("/time/week/rows/", {"project": "999999"})
    assert unknown.status_code == 400
    assert "project" in unknown.context["row_form"].errors


def test_submitting_the_week_makes_every_cell_read_only(agency, as_member):
    add(agency, datetime(2026, 11, 23, 8, 0, tzinfo=UTC), 60)
    response = as_member.post("/time/week/submit/", {"week": "2026-11-25"})
    assert response.status_code == 302
    sheet = Timesheet.objects.get()
    assert (sheet.period_start, sheet.period_end) == (MONDAY, date(2026, 11, 29))
    html = as_member.get("/time/week/").content.decode()
    assert "Submitted for approval" in html
    assert 'hx-post="/time/week/cell/"' not in html
    assert "Submit week for approval" not in html
    refused = set_cell(as_member, agency, TUESDAY, "1h")
    assert refused.status_code == 400
    assert "submitted for approval" in refused.content.decode()
    assert TimeEntry.objects.count() == 1


def test_submitting_with_a_running_timer_is_refused_on_the_page(agency, as_member):
    services.start_timer(agency.member, project=agency.project, at=NOW - timedelta(hours=1))
    response = as_member.post("/time/week/submit/", {"week": "2026-11-25"})
    assert response.status_code == 400
    assert "Stop the running timer before submitting." in response.content.decode()
    assert not Timesheet.objects.exists()


def test_a_rejected_week_shows_the_comment_and_can_be_submitted_again(agency, as_member):
    add(agency, datetime(2026, 11, 23, 8, 0, tzinfo=UTC), 60)
    sheet = services.submit_timesheet(
        agency.member, period_start=MONDAY, period_end=MONDAY + timedelta(days=6)
    )
    services.decide_timesheet(sheet, by=agency.manager, approve=False, comment="Tuesday is empty")
    html = as_member.get("/time/week/").content.decode()
    assert "Rejected" in html
    assert "Tuesday is empty" in html
    assert "Submit again" in html
    assert 'hx-post="/time/week/cell/"' in html


def test_locked_days_are_read_only(agency, as_member):
    agency.organization.lock_date = TUESDAY
    agency.organization.save()
    html = as_member.get("/time/week/").content.decode()
    assert f'id="cell-{agency.project.pk}-0-20261124"' not in html
    add_row = as_member.post("/time/week/rows/", {"project": agency.project.pk}, **HTMX)
    html = add_row.content.decode()
    assert f'id="cell-{agency.project.pk}-0-20261124"' not in html
    assert f'id="cell-{agency.project.pk}-0-20261125"' in html
    assert 'title="Time up to 2026-11-24 is locked."' in html


def test_a_manager_edits_a_persons_week_and_a_member_cannot_see_others(agency, as_member):
    manager = login(agency.manager)
    page = manager.get("/time/week/", {"person": agency.member.pk})
    assert page.status_code == 200
    assert "Max Member" in page.content.decode()
    response = set_cell(manager, agency, TUESDAY, "1h", person=agency.member.pk)
    assert response.status_code == 200
    assert TimeEntry.objects.get().membership == agency.member
    assert as_member.get("/time/week/", {"person": agency.manager.pk}).status_code == 403


def test_a_manager_approves_from_the_persons_week(agency):
    sheet = services.submit_timesheet(
        agency.member, period_start=MONDAY, period_end=MONDAY + timedelta(days=6)
    )
    manager = login(agency.manager)
    week = f"/time/week/?week=2026-11-23&person={agency.member.pk}"
    assert "Approve" in manager.get(week).content.decode()
    response = manager.post(
        f"/time/timesheets/{sheet.pk}/decide/", {"decision": "approve", "next": week}
    )
    assert response.status_code == 302
    assert response["Location"] == week
    sheet.refresh_from_db()
    assert sheet.status == TimesheetStatus.APPROVED


def test_the_week_grid_needs_no_more_queries_for_30_entries_than_for_3(
    agency, as_member, django_assert_max_num_queries
):
    def add_entries(first, last):
        for i in range(first, last):
            start = datetime(2026, 11, 23, 6, 0, tzinfo=UTC) + timedelta(days=i % 2, minutes=20 * i)
            add(agency, start, 15, task=agency.task if i % 3 else None)

    add_entries(0, 3)
    with CaptureQueriesContext(connection) as few:
        as_member.get("/time/week/")
    add_entries(3, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_member.get("/time/week/")
    assert sum(response.context["day_totals"]) == 30 * 15 * 60
