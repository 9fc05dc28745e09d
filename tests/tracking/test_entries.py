"""Manual entries: add, edit, split, duplicate, delete; bad input writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from punchclock.tracking import services
from punchclock.tracking.models import TimeEntry

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)


def add(agency, start=START, end=START + timedelta(hours=2), **kw):
    return services.add_entry(
        agency.member, by=agency.member, project=agency.project, start=start, end=end, **kw
    )


def test_add_an_entry_with_tags_and_a_reference(agency):
    entry = add(agency, description="PR review", tags=["review"], external_ref="GH-42")
    assert entry.seconds() == 7200
    assert entry.external_ref == "GH-42"
    assert [t.name for t in entry.tags.all()] == ["review"]


@pytest.mark.parametrize(
    ("start", "end", "field", "text"),
    [
        (START, START, "end", "after the start"),
        (START, START - timedelta(minutes=1), "end", "after the start"),
        (NOW + timedelta(hours=1), NOW + timedelta(hours=2), "start", "future"),
        (START, NOW + timedelta(hours=1), "end", "future"),
        (START - timedelta(hours=30), START, "end", "confirm"),
    ],
)
def test_impossible_entries_are_refused_and_nothing_is_written(agency, start, end, field, text):
    with pytest.raises(ValidationError) as caught:
        add(agency, start=start, end=end)
    assert text in " ".join(caught.value.message_dict[field])
    assert not TimeEntry.objects.exists()


def test_a_long_entry_passes_when_confirmed(agency):
    entry = add(agency, start=START - timedelta(hours=30), end=START, allow_long=True)
    assert entry.seconds() == 30 * 3600


def test_overlaps_are_reported_not_refused(agency):
    first = add(agency)
    second = add(agency, start=START + timedelta(hours=1), end=START + timedelta(hours=3))
    assert list(services.overlapping(second)) == [first]


def test_split_keeps_everything_but_the_times(agency):
    entry = add(agency, description="deploy", tags=["ops"])
    left, right = services.split_entry(entry, by=agency.member, at=START + timedelta(minutes=45))
    assert (left.start, left.end) == (START, START + timedelta(minutes=45))
    assert (right.start, right.end) == (START + timedelta(minutes=45), START + timedelta(hours=2))
    assert right.description == "deploy"
    assert [t.name for t in right.tags.all()] == ["ops"]
    with pytest.raises(ValidationError):
        services.split_entry(left, by=agency.member, at=START + timedelta(hours=5))


def test_duplicate_copies_to_another_day(agency):
    entry = add(agency)
    copy = services.duplicate_entry(entry, by=agency.member, on=date(2026, 11, 19))
    assert copy.start == START - timedelta(days=1)
    assert copy.seconds() == entry.seconds()


def test_members_cannot_touch_other_peoples_time(agency):
    theirs = services.add_entry(
        agency.manager,
        by=agency.manager,
        project=agency.project,
        start=START,
        end=START + timedelta(hours=1),
    )
    with pytest.raises(PermissionDenied):
        services.update_entry(theirs, by=agency.member, description="mine now")
    with pytest.raises(PermissionDenied):
        services.delete_entry(theirs, by=agency.member)
    with pytest.raises(PermissionDenied):
        services.add_entry(
            agency.manager,
            by=agency.member,
            project=agency.project,
            start=START,
            end=START + timedelta(hours=1),
        )


def test_a_project_manager_may_correct_time_on_the_managed_project(agency):
    entry = add(agency)
    services.update_entry(entry, by=agency.manager, end=START + timedelta(hours=1))
    entry.refresh_from_db()
    assert entry.seconds() == 3600


def test_moving_an_entry_to_another_project_drops_the_old_task(agency):
    entry = add(agency, task=agency.task)
    agency.other_project.assignments.create(membership=agency.member)
    services.update_entry(entry, by=agency.member, project=agency.other_project)
    entry.refresh_from_db()
    assert entry.task is None


def test_visible_entries_follow_the_roles(agency):
    mine = add(agency)
    other = services.add_entry(
        agency.admin,
        by=agency.admin,
        project=agency.other_project,
        start=START,
        end=START + timedelta(hours=1),
    )
    assert set(services.visible_entries(agency.member)) == {mine}
    assert set(services.visible_entries(agency.manager)) == {mine}
    assert set(services.visible_entries(agency.owner)) == {mine, other}


def test_outsiders_never_find_an_entry(agency, outsider):
    entry = add(agency)
    from django.http import Http404

    with pytest.raises(Http404):
        services.get_entry_for(outsider, entry.pk)
