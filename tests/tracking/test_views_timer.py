"""The header timer: shown on every page, started, switched and stopped with or without htmx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from punchclock.tracking import services
from punchclock.tracking.models import TimeEntry

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # a Wednesday, 15:00 in Berlin
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)
    monkeypatch.setattr("punchclock.core.timeutil.now", lambda: NOW)


@pytest.fixture(autouse=True)
def _berlin(agency):
    agency.member.user.timezone = "Europe/Berlin"
    agency.member.user.save()


def running(agency):
    return TimeEntry.objects.filter(membership=agency.member, end__isnull=True).first()


def test_an_idle_header_offers_a_quick_start_with_the_members_projects(agency, as_member):
    html = as_member.get("/time/").content.decode()
    assert 'id="timer"' in html
    assert 'name="project" list="timer-projects"' in html
    assert '<option value="globex/api">Globex — API</option>' in html
    # The member is not on globex/web: it is not offered.
    assert 'value="globex/web"' not in html


def test_the_timer_lists_what_the_pickers_list_in_the_same_order(agency):
    from punchclock.tracking.forms import project_choices, trackable_projects
    from tests import factories

    archived = factories.make_client(agency.organization, "Gone", is_archived=True)
    factories.make_project(archived, "Old")
    aardvark = factories.make_client(agency.organization, "Aardvark", code="aard")
    factories.make_project(aardvark, "Zeta", code="zeta")
    factories.make_project(aardvark, "Alpha", code="alpha")
    factories.make_project(aardvark, "Paused", code="paused", status="archived")
    for person in (agency.owner, agency.member):
        expected = [(p.full_code, p.client.name, p.name) for p in trackable_projects(person)]
        assert [tuple(c) for c in project_choices(person)] == expected
    assert [c.full_code for c in project_choices(agency.owner)][:2] == ["aard/alpha", "aard/zeta"]


def test_every_signed_in_page_carries_the_header_timer(agency, as_member):
    services.start_timer(agency.member, project=agency.project, description="fix login")
    html = as_member.get("/").content.decode()
    assert 'class="timer timer-running"' in html
    assert "fix login" in html


def test_a_running_timer_shows_project_description_and_a_ticking_clock(agency, as_member):
    services.start_timer(
        agency.member,
        project=agency.project,
        description="fix login",
        at=NOW - timedelta(hours=1, minutes=2, seconds=3),
    )
    html = as_member.get("/time/week/").content.decode()
    assert "<code>globex/api</code>" in html
    assert "fix login" in html
    assert 'data-start="2026-11-25T12:57:57Z"' in html
    assert ">1:02:03</span>" in html
    assert "running since" not in html
    assert "Stop at…" in html
    assert "■ Stop" in html
    assert "Switch" in html


def test_a_timer_running_over_ten_hours_is_shown_as_a_warning_with_its_start(agency, as_member):
    services.start_timer(agency.member, project=agency.project, at=NOW - timedelta(hours=11))
    html = as_member.get("/time/").content.decode()
    assert "timer-long" in html
    # 03:00 UTC is 04:00 in Berlin, on Wednesday.
    assert "running since Wed 04:00" in html
    assert 'name="at"' in html


def test_start_without_javascript_redirects_back(agency, as_member):
    response = as_member.post(
        "/time/timer/start/",
        {"project": "globex/api", "description": "fix login", "next": "/time/week/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/time/week/"
    assert running(agency).description == "fix login"


def test_start_with_htmx_answers_only_the_header_fragment(agency, as_member):
    response = as_member.post(
        "/time/timer/start/", {"project": "globex/api", "description": "fix login"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="timer"')
    assert "<html" not in html
    assert "timer-running" in html
    assert response["HX-Trigger"] == "timerChanged"


def test_starting_while_running_switches(agency, as_member):
    services.start_timer(agency.member, project=agency.project, at=NOW - timedelta(hours=2))
    response = as_member.post(
        "/time/timer/start/", {"project": "glo/api", "description": "review PR #42"}, **HTMX
    )
    assert response.status_code == 200
    entries = list(TimeEntry.objects.filter(membership=agency.member).order_by("start"))
    assert len(entries) == 2
    assert entries[0].end == entries[1].start == NOW
    assert "review PR #42" in response.content.decode()


def test_stop_with_htmx_returns_the_idle_header(agency, as_member):
    services.start_timer(agency.member, project=agency.project, at=NOW - timedelta(minutes=30))
    response = as_member.post("/time/timer/stop/", **HTMX)
    assert response.status_code == 200
    assert "timer-idle" in response.content.decode()
    entry = TimeEntry.objects.get()
    assert entry.end == NOW
    assert entry.duration_seconds == 1800


def test_stop_without_javascript_redirects_with_a_message(agency, as_member):
    services.start_timer(agency.member, project=agency.project, at=NOW - timedelta(minutes=30))
    response = as_member.post("/time/timer/stop/", {"next": "/time/"}, follow=True)
    assert response.redirect_chain == [("/time/", 302)]
    assert "Stopped: 0:30." in response.content.decode()


def test_a_forgotten_timer_stops_at_the_typed_time_on_the_day_it_started(agency, as_member):
    # Started Tuesday 09:12 Berlin, still running on Wednesday afternoon.
    started = datetime(2026, 11, 24, 8, 12, tzinfo=UTC)
    services.start_timer(agency.member, project=agency.project, at=started)
    response = as_member.post("/time/timer/stop/", {"at": "18:00"}, **HTMX)
    assert response.status_code == 200
    assert TimeEntry.objects.get().end == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def test_an_unknown_project_is_refused_in_the_header_with_400(agency, as_member):
    response = as_member.post("/time/timer/start/", {"project": "nope/nothing"}, **HTMX)
    assert response.status_code == 400
    assert "No active project of yours matches" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_an_unknown_project_without_javascript_gets_a_400_page(agency, as_member):
    response = as_member.post("/time/timer/start/", {"project": "nope/nothing"})
    assert response.status_code == 400
    assert "No active project of yours matches" in response.content.decode()


def test_stopping_with_nothing_running_is_a_400(agency, as_member):
    response = as_member.post("/time/timer/stop/", **HTMX)
    assert response.status_code == 400
    assert "No timer is running." in response.content.decode()


def test_a_stop_time_that_is_no_time_is_a_400(agency, as_member):
    services.start_timer(agency.member, project=agency.project, at=NOW - timedelta(minutes=30))
    response = as_member.post("/time/timer/stop/", {"at": "half past"}, **HTMX)
    assert response.status_code == 400
    assert running(agency) is not None


def test_resume_starts_the_last_entry_again(agency, as_member):
    services.add_entry(
        agency.member,
        by=agency.member,
        project=agency.project,
        task=agency.task,
        start=NOW - timedelta(hours=3),
        end=NOW - timedelta(hours=2),
        description="fix login",
    )
    response = as_member.post("/time/timer/resume/", **HTMX)
    assert response.status_code == 200
    resumed = running(agency)
    assert (resumed.description, resumed.task) == ("fix login", agency.task)


def test_discard_throws_the_running_timer_away(agency, as_member):
    services.start_timer(agency.member, project=agency.project, at=NOW - timedelta(minutes=5))
    response = as_member.post("/time/timer/discard/", **HTMX)
    assert response.status_code == 200
    assert not TimeEntry.objects.exists()


def test_the_header_refreshes_itself_with_a_get(agency, as_member):
    response = as_member.get("/time/timer/", {"next": "/time/week/"}, **HTMX)
    assert response.status_code == 200
    assert 'name="next" value="/time/week/"' in response.content.decode()


def test_a_foreign_next_address_is_ignored(agency, as_member):
    response = as_member.post(
        "/time/timer/start/", {"project": "globex/api", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/time/"


def test_timer_endpoints_only_take_posts(agency, as_member):
    for action in ("start", "stop", "resume", "discard"):
        assert as_member.get(f"/time/timer/{action}/").status_code == 405


def test_the_header_costs_at_most_two_queries(agency, as_member, django_assert_max_num_queries):
    from django.test import RequestFactory

    from punchclock.tracking.templatetags.tracking import timer_context

    services.start_timer(agency.member, project=agency.project, at=NOW - timedelta(minutes=5))
    request = RequestFactory().get("/")
    request.user = agency.member.user
    request.membership = agency.member
    with django_assert_max_num_queries(2):
        context = timer_context(request)
        assert context["running"] is not None
        assert len(context["projects"]) == 1
