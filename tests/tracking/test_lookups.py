"""What people type: project codes by prefix, tasks by name, days and times in their zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from punchclock.core.timeutil import TimeInputError, parse_day, parse_when
from punchclock.projects.models import ProjectMember
from punchclock.tracking import services
from tests.factories import make_client, make_project, make_task

REF = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


def test_project_codes_match_by_unique_prefix(agency):
    assert services.find_project(agency.member, "globex/api") == agency.project
    assert services.find_project(agency.member, "glo/a") == agency.project
    assert services.find_project(agency.owner, "globex/w") == agency.other_project


def test_ambiguous_codes_list_the_candidates(agency):
    apex = make_client(agency.organization, "Globe Travel", code="globe")
    make_project(apex, "API", code="api")
    with pytest.raises(ValidationError) as caught:
        services.find_project(agency.owner, "glo/api")
    assert "globe/api" in caught.value.message_dict["project"][0]
    assert "globex/api" in caught.value.message_dict["project"][0]


def test_projects_a_member_is_not_on_are_not_found(agency):
    with pytest.raises(ValidationError, match="No active project"):
        services.find_project(agency.member, "globex/web")


def test_tasks_match_by_name_prefix(agency):
    review = make_task(agency.project, "Review")
    make_task(agency.project, "Research")
    assert services.find_task(agency.project, "rev") == review
    assert services.find_task(agency.project, "development") == agency.task
    with pytest.raises(ValidationError, match="several"):
        services.find_task(agency.project, "re")
    with pytest.raises(ValidationError, match="no task"):
        services.find_task(agency.project, "nothing")


def test_a_duration_entry_goes_after_the_days_last_entry(agency, monkeypatch):
    monkeypatch.setattr(services, "now", lambda: REF)
    agency.member.user.timezone = "Europe/Berlin"
    agency.member.user.save()
    first = services.add_duration(
        agency.member,
        by=agency.member,
        project=agency.project,
        day=date(2026, 11, 24),
        seconds=5400,
    )
    second = services.add_duration(
        agency.member,
        by=agency.member,
        project=agency.project,
        day=date(2026, 11, 24),
        seconds=1800,
    )
    assert first.start == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert second.start == first.end
    assert second.duration_seconds == 1800


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:15", datetime(2026, 11, 25, 8, 15, tzinfo=UTC)),
        ("yesterday 17:00", datetime(2026, 11, 24, 16, 0, tzinfo=UTC)),
        ("mon 8", datetime(2026, 11, 23, 7, 0, tzinfo=UTC)),
        ("2026-11-20T09:15:00+01:00", datetime(2026, 11, 20, 8, 15, tzinfo=UTC)),
        ("2026-11-20T08:15:00Z", datetime(2026, 11, 20, 8, 15, tzinfo=UTC)),
    ],
)
def test_times_are_read_in_the_persons_zone(text, expected):
    assert parse_when(text, "Europe/Berlin", REF) == expected


@pytest.mark.parametrize("bad", ["25:00", "noon-ish", "2026-13-01 9:00", "a b c", ""])
def test_times_that_make_no_sense(bad):
    with pytest.raises(TimeInputError):
        parse_when(bad, "Europe/Berlin", REF)


def test_weekdays_mean_the_latest_one():
    assert parse_day("mon", "UTC", date(2026, 11, 25)) == date(2026, 11, 23)
    assert parse_day("wednesday", "UTC", date(2026, 11, 25)) == date(2026, 11, 25)
    assert parse_day("2026-02-03", "UTC") == date(2026, 2, 3)


def test_assignments_decide_visibility_for_members(agency):
    ProjectMember.objects.create(project=agency.other_project, membership=agency.member)
    assert services.find_project(agency.member, "globex/web") == agency.other_project


def test_a_duration_that_would_run_into_the_future_ends_now(agency, monkeypatch):
    late = datetime(2026, 11, 25, 23, 17, tzinfo=UTC)  # 00:17 on the 26th in Berlin
    monkeypatch.setattr(services, "now", lambda: late)
    agency.member.user.timezone = "Europe/Berlin"
    agency.member.user.save()
    services.add_entry(
        agency.member,
        by=agency.member,
        project=agency.project,
        start=late - timedelta(hours=1),
        end=late - timedelta(minutes=1),
    )
    entry = services.add_duration(
        agency.member,
        by=agency.member,
        project=agency.project,
        day=date(2026, 11, 25),
        seconds=5400,
    )
    assert entry.end == late
    assert entry.duration_seconds == 5400
