"""Garbage in every time-tracking form gets a 4xx and writes nothing, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from punchclock.tracking import services
from punchclock.tracking.models import LockEvent, TimeEntry, Timesheet
from punchclock.tracking.urls import urlpatterns

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
GARBAGE = [
    {},
    {"project": "x", "task": "y", "day": "yesterday-ish", "duration": "∞", "date": "32/13"},
    {"project": "99999999999999999999", "task": "-1", "day": "2026-02-30", "person": "abc"},
    {"person": "99999999999999999999", "week": "soon", "date": "0000-00-00"},
    {"at": "25:61", "decision": "maybe", "reason": "", "lock_date": "tomorrow-ish"},
    {"at": "0001-01-01 00:30", "lock_date": "0001-01-01"},
    {"description": "x" * 5000, "start": "\x00", "end": "💥", "tags": "#" * 900},
    {"date": "0001-01-01", "day": "9999-12-31", "week": "9999-12-31", "duration": "1h"},
    {"project": "a", "date": "2026-11-20", "start": "0001-01-01 00:30", "end": "9999-12-31 9:00"},
]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)
    monkeypatch.setattr("punchclock.core.timeutil.now", lambda: NOW)


@pytest.fixture
def entry(agency):
    return services.add_entry(
        agency.member,
        by=agency.member,
        project=agency.project,
        start=NOW - timedelta(hours=3),
        end=NOW - timedelta(hours=2),
    )


def post_urls(entry, sheet):
    """Every route of the app that reads a posted form, with real ids where it needs one."""
    gets_only = {"day", "week", "team", "approvals", "timer", "entry_row"}
    # These read nothing but the id in the address (see the id test below).
    no_input = {"timer_resume", "timer_discard", "entry_delete", "entry_duplicate"}
    urls = []
    for pattern in urlpatterns:
        if pattern.name in gets_only | no_input:
            continue
        if "<int:pk>" in str(pattern.pattern):
            pk = sheet.pk if pattern.name.startswith("timesheet") else entry.pk
            urls.append(reverse(f"tracking:{pattern.name}", args=[pk]))
        else:
            urls.append(reverse(f"tracking:{pattern.name}"))
    return urls


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_garbage_posts_get_4xx_and_change_nothing(agency, entry, headers):
    from tests.conftest import login

    sheet = Timesheet.objects.create(
        organization=agency.organization,
        membership=agency.member,
        period_start=NOW.date() - timedelta(days=30),
        period_end=NOW.date() - timedelta(days=24),
        submitted_at=NOW,
    )
    urls = post_urls(entry, sheet)
    assert len(urls) == 11
    for who in (agency.member, agency.owner):
        http = login(who)
        for url in urls:
            for body in GARBAGE:
                response = http.post(url, body, **headers)
                assert 400 <= response.status_code < 500, (
                    who.role,
                    url,
                    body,
                    response.status_code,
                )
    assert TimeEntry.objects.get().pk == entry.pk
    assert TimeEntry.objects.get().duration_seconds == 3600
    assert Timesheet.objects.get().status == "submitted"
    assert not LockEvent.objects.exists()


def test_non_numeric_and_huge_ids_are_404(agency, as_member, entry):
    for path in ("/time/entries/abc/edit/", "/time/entries/99999999999999999999/delete/"):
        assert as_member.post(path).status_code == 404
    assert as_member.post("/time/timesheets/99999999999999999999/decide/").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"date": "yesterday-ish"},
        {"date": "2026-02-30"},
        {"week": "x"},
        {"person": "abc"},
        {"person": "99999999999999999999"},
        {"date": "0001-01-01", "week": "0001-01-01"},
        {"date": "9999-12-31", "week": "9999-12-31"},
    ],
)
def test_garbage_in_page_addresses_is_a_4xx(agency, as_owner, query):
    for path in ("/time/", "/time/week/", "/time/team/"):
        response = as_owner.get(path, query)
        assert response.status_code in (200, 400, 404), (path, query, response.status_code)
        if set(query) & ({"date"} if path == "/time/" else {"week"}):
            assert response.status_code == 400


def test_signed_out_visitors_are_sent_to_sign_in(agency, client):
    for path in ("/time/", "/time/week/", "/time/team/", "/time/approvals/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert client.post("/time/timer/start/", {"project": "globex/api"}).status_code == 302
    assert not TimeEntry.objects.filter(end__isnull=True).exists()
