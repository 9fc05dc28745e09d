"""The day view: a person's entries of a local day, added, edited, split, copied, deleted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from punchclock.projects.models import ProjectStatus
from punchclock.tracking import services
from punchclock.tracking.models import TimeEntry, Timesheet
from tests.conftest import login

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 15:00 in Berlin
DAY = "2026-11-24"  # the Tuesday before
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)
    monkeypatch.setattr("punchclock.core.timeutil.now", lambda: NOW)


@pytest.fixture(autouse=True)
def _berlin(agency):
    for person in (agency.member, agency.manager, agency.owner):
        person.user.timezone = "Europe/Berlin"
        person.user.save()


def add(agency, start, minutes=60, **fields):
    return services.add_entry(
        agency.member,
        by=agency.member,
        project=agency.project,
        start=start,
        end=start + timedelta(minutes=minutes),
        **fields,
    )


def post_entry(http, **data):
    body = {"date": DAY, "project": "", "task": "", "description": "", "tags": ""} | data
    return http.post("/time/entries/add/", body)


# Showing a day ----------------------------------------------------------------------------


def test_the_day_lists_entries_newest_first_with_details_and_totals(agency, as_member):
    add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 90, description="first", tags=["bug"])
    add(
        agency,
        datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        30,
        description="second",
        task=agency.task,
        billable=False,
    )
    html = as_member.get("/time/", {"date": DAY}).content.decode()
    assert html.index("second") < html.index("first")
    assert "09:00–10:30" in html
    assert "13:00–13:30" in html
    assert "#bug" in html
    assert "Development" in html
    assert '<span class="stat-value">2:00</span><span class="stat-label">tracked' in html
    assert '<span class="stat-value">1:30</span><span class="stat-label">billable' in html
    assert "Not billable" in html
    assert "Tuesday, 24 November 2026" in html
    assert "?date=2026-11-23" in html
    assert "?date=2026-11-25" in html


def test_the_day_is_cut_at_local_midnight(agency, as_member):
    # 23:30 UTC on the 23rd is 00:30 on the 24th in Berlin.
    add(agency, datetime(2026, 11, 23, 23, 30, tzinfo=UTC), 30, description="just after midnight")
    assert "just after midnight" in as_member.get("/time/", {"date": DAY}).content.decode()
    assert (
        "just after midnight"
        not in as_member.get("/time/", {"date": "2026-11-23"}).content.decode()
    )


def test_overlapping_entries_carry_a_warning_badge(agency, as_member):
    add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    TimeEntry.objects.create(
        organization=agency.organization,
        membership=agency.member,
        project=agency.project,
        start=datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
        end=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    )
    html = as_member.get("/time/", {"date": DAY}).content.decode()
    assert html.count(">Overlaps</span>") == 2


def test_locked_entries_show_the_reason_and_no_edit_button(agency, as_member):
    entry = add(agency, datetime(2026, 11, 17, 8, 0, tzinfo=UTC))
    agency.organization.lock_date = date(2026, 11, 20)
    agency.organization.save()
    html = as_member.get("/time/", {"date": "2026-11-17"}).content.decode()
    assert "Locked</span>" in html
    assert "Time up to 2026-11-20 is locked." in html
    assert f"/time/entries/{entry.pk}/edit/" not in html
    assert "Add time" not in html


def test_a_bad_date_is_a_400_naming_it(agency, as_member):
    response = as_member.get("/time/", {"date": "2026-13-45"})
    assert response.status_code == 400
    assert "is not a date" in response.content.decode()


def test_the_htmx_refresh_answers_the_list_and_the_totals(agency, as_member):
    response = as_member.get("/time/", {"date": DAY}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="day-entries"')
    assert 'id="day-totals"' in html
    assert 'hx-swap-oob="true"' in html
    assert "<html" not in html


# Adding ----------------------------------------------------------------------------------


def test_add_by_start_and_end_in_the_users_zone(agency, as_member):
    response = post_entry(
        as_member, project=agency.project.pk, start="9:15", end="10:45", description="standup"
    )
    assert response.status_code == 302
    entry = TimeEntry.objects.get()
    assert entry.start == datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    assert entry.duration_seconds == 90 * 60
    assert entry.description == "standup"


def test_add_by_duration_places_it_after_the_days_last_entry(agency, as_member):
    add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    response = post_entry(
        as_member, project=agency.project.pk, task=agency.task.pk, duration="1h30", tags="bug, #ux"
    )
    assert response.status_code == 302
    entry = TimeEntry.objects.order_by("-start").first()
    assert entry.start == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert entry.duration_seconds == 5400
    assert entry.task == agency.task
    assert sorted(t.name for t in entry.tags.all()) == ["bug", "ux"]


def test_add_with_a_start_and_a_duration(agency, as_member):
    post_entry(as_member, project=agency.project.pk, start="14:00", duration="45m")
    entry = TimeEntry.objects.get()
    assert entry.start == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert entry.duration_seconds == 45 * 60


def test_add_with_htmx_answers_a_fresh_form_and_the_list_out_of_band(agency, as_member):
    response = as_member.post(
        "/time/entries/add/",
        {"date": DAY, "project": agency.project.pk, "duration": "2h"},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="add-entry"')
    assert '<section id="day-entries"' in html
    assert 'hx-swap-oob="true"' in html
    assert '>2:00</span><span class="stat-label">tracked' in html


def test_a_time_in_the_dst_gap_is_refused_on_the_start_field(agency, as_member):
    response = as_member.post(
        "/time/entries/add/",
        {"date": "2026-03-29", "project": agency.project.pk, "start": "2:30", "end": "4:00"},
        **HTMX,
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "does not exist in Europe/Berlin" in form.errors["start"][0]
    assert "daylight saving" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_future_time_is_refused(agency, as_member):
    response = post_entry(
        as_member, date="2026-11-25", project=agency.project.pk, start="16:00", end="17:00"
    )
    assert response.status_code == 400
    assert "cannot be tracked in the future" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_an_end_before_the_start_names_the_end(agency, as_member):
    response = post_entry(as_member, project=agency.project.pk, start="10:00", end="9:00")
    assert response.status_code == 400
    assert response.context["form"].errors["end"] == ["The end must be after the start."]


def test_over_24_hours_needs_the_confirm_box(agency, as_member):
    data = {"project": agency.project.pk, "duration": "26h", "date": "2026-11-20"}
    response = post_entry(as_member, **data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "confirm it if it is really right" in html
    assert 'type="checkbox" name="allow_long"' in html
    assert not TimeEntry.objects.exists()
    confirmed = post_entry(as_member, **data, allow_long="on")
    assert confirmed.status_code == 302
    assert TimeEntry.objects.get().duration_seconds == 26 * 3600


def test_an_archived_project_is_named_in_the_error(agency, as_member):
    agency.project.status = ProjectStatus.ARCHIVED
    agency.project.save()
    response = post_entry(as_member, project=agency.project.pk, duration="1h")
    assert response.status_code == 400
    assert response.context["form"].errors["project"] == ["The project globex/api is archived."]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"duration": "1h"}, "project"),
        ({"project": "x", "duration": "1h"}, "project"),
        ({"project": "PROJECT", "duration": "soon"}, "duration"),
        ({"project": "PROJECT"}, "duration"),
        ({"project": "PROJECT", "start": "9:00"}, "end"),
        ({"project": "PROJECT", "start": "25:00", "end": "26:00"}, "start"),
        ({"project": "PROJECT", "end": "10:00"}, "start"),
        ({"project": "PROJECT", "end": "10:00", "start": "9:00", "duration": "1h"}, "duration"),
        ({"project": "PROJECT", "duration": "1h", "task": "999999"}, "task"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(agency, as_member, data, field):
    if data.get("project") == "PROJECT":
        data["project"] = agency.project.pk
    response = post_entry(as_member, **data)
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not TimeEntry.objects.exists()


def test_a_member_cannot_add_time_on_a_project_they_are_not_on(agency, as_member):
    response = post_entry(as_member, project=agency.other_project.pk, duration="1h")
    assert response.status_code == 400
    assert not TimeEntry.objects.exists()


def test_a_manager_adds_time_for_a_person_on_their_project(agency):
    response = post_entry(
        login(agency.manager), person=agency.member.pk, project=agency.project.pk, duration="1h"
    )
    assert response.status_code == 302
    assert TimeEntry.objects.get().membership == agency.member


def test_a_member_may_not_look_at_someone_elses_day(agency, as_member):
    assert as_member.get("/time/", {"person": agency.manager.pk}).status_code == 403


# Editing, splitting, copying, deleting ---------------------------------------------------


def test_edit_swaps_the_row_into_a_form_and_saving_swaps_it_back(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60, description="old")
    form = as_member.get(f"/time/entries/{entry.pk}/edit/", **HTMX)
    html = form.content.decode()
    assert html.lstrip().startswith(f'<tr id="entry-{entry.pk}" class="entry-editing">')
    assert 'value="09:00"' in html
    assert 'value="10:00"' in html
    saved = as_member.post(
        f"/time/entries/{entry.pk}/edit/",
        {
            "project": agency.project.pk,
            "task": agency.task.pk,
            "description": "new",
            "start": "9:00",
            "end": "11:15",
            "tags": "review",
            "billable": "on",
        },
        **HTMX,
    )
    html = saved.content.decode()
    assert saved.status_code == 200
    assert html.lstrip().startswith(f'<tr id="entry-{entry.pk}" class="entry')
    assert "entry-editing" not in html
    assert 'id="day-totals"' in html
    assert 'hx-swap-oob="true"' in html
    entry.refresh_from_db()
    assert (entry.description, entry.task, entry.duration_seconds) == ("new", agency.task, 8100)
    assert [t.name for t in entry.tags.all()] == ["review"]


def test_a_failed_edit_shows_the_form_again_with_400(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    response = as_member.post(
        f"/time/entries/{entry.pk}/edit/",
        {"project": agency.project.pk, "start": "9:00", "end": "8:00"},
        **HTMX,
    )
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    entry.refresh_from_db()
    assert entry.duration_seconds == 3600


def test_the_end_of_a_running_timer_is_set_from_the_day_view(agency, as_member):
    started = datetime(2026, 11, 25, 8, 12, tzinfo=UTC)
    entry = services.start_timer(agency.member, project=agency.project, at=started).started
    html = as_member.get("/time/").content.decode()
    assert "Set end" in html
    response = as_member.post(
        f"/time/entries/{entry.pk}/edit/",
        {"project": agency.project.pk, "start": "9:12", "end": "12:00"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "entriesChanged"
    entry.refresh_from_db()
    assert entry.end == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def test_the_edit_page_works_without_javascript(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    page = as_member.get(f"/time/entries/{entry.pk}/edit/")
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    response = as_member.post(
        f"/time/entries/{entry.pk}/edit/",
        {"project": agency.project.pk, "start": "9:00", "end": "9:30"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/time/?date={DAY}#entry-{entry.pk}"


def test_cancel_returns_the_plain_row(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    html = as_member.get(f"/time/entries/{entry.pk}/", **HTMX).content.decode()
    assert html.lstrip().startswith(f'<tr id="entry-{entry.pk}" class="entry')


def test_delete_answers_the_refreshed_list(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    response = as_member.post(f"/time/entries/{entry.pk}/delete/", **HTMX)
    assert response.status_code == 200
    assert "No time on this day" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_delete_without_javascript_redirects_to_the_day(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    response = as_member.post(f"/time/entries/{entry.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == f"/time/?date={DAY}"


def test_split_cuts_an_entry_at_a_local_time(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 120)
    response = as_member.post(f"/time/entries/{entry.pk}/split/", {"at": "9:45"}, **HTMX)
    assert response.status_code == 200
    halves = list(TimeEntry.objects.order_by("start"))
    assert [h.duration_seconds for h in halves] == [45 * 60, 75 * 60]


def test_a_split_outside_the_entry_is_a_400_and_changes_nothing(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 120)
    response = as_member.post(f"/time/entries/{entry.pk}/split/", {"at": "13:00"}, **HTMX)
    assert response.status_code == 400
    assert "The split time must lie inside the entry." in response.content.decode()
    assert TimeEntry.objects.count() == 1


def test_duplicate_copies_to_today(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60, description="daily")
    response = as_member.post(f"/time/entries/{entry.pk}/duplicate/", **HTMX)
    assert response.status_code == 200
    assert "Copied to today." in response.content.decode()
    copy = TimeEntry.objects.order_by("-start").first()
    assert copy.start == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert copy.description == "daily"


def test_a_submitted_week_refuses_changes_with_the_reason(agency, as_member):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    services.submit_timesheet(
        agency.member, period_start=date(2026, 11, 23), period_end=date(2026, 11, 29)
    )
    response = as_member.post(f"/time/entries/{entry.pk}/delete/", **HTMX)
    assert response.status_code == 400
    assert "submitted for approval" in response.content.decode()
    assert TimeEntry.objects.count() == 1
    assert Timesheet.objects.count() == 1


def test_outsiders_get_404_for_every_entry_url(agency, as_outsider):
    entry = add(agency, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), 60)
    for suffix in ("", "edit/"):
        assert as_outsider.get(f"/time/entries/{entry.pk}/{suffix}").status_code == 404
    for suffix in ("edit/", "delete/", "split/", "duplicate/"):
        assert (
            as_outsider.post(f"/time/entries/{entry.pk}/{suffix}", {"at": "9:30"}).status_code
            == 404
        )
    assert as_outsider.get("/time/", {"person": agency.member.pk}).status_code == 404
    assert TimeEntry.objects.get().duration_seconds == 3600


def test_a_member_gets_404_for_a_colleagues_entry(agency, as_member):
    theirs = services.add_entry(
        agency.manager,
        by=agency.manager,
        project=agency.project,
        start=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        end=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )
    assert as_member.post(f"/time/entries/{theirs.pk}/delete/").status_code == 404


# Query counts ----------------------------------------------------------------------------


def test_the_day_view_needs_no_more_queries_for_30_entries_than_for_3(
    agency, as_member, django_assert_max_num_queries
):
    start = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)

    def add_entries(first, last):
        for i in range(first, last):
            add(agency, start + timedelta(minutes=20 * i), 15, tags=["bug"], task=agency.task)

    add_entries(0, 3)
    with CaptureQueriesContext(connection) as few:
        assert len(as_member.get("/time/", {"date": DAY}).context["rows"]) == 3
    add_entries(3, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_member.get("/time/", {"date": DAY})
    assert len(response.context["rows"]) == 30
