"""The tracking API: timer, entries, timesheets and the report over HTTP with a token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client as HttpClient

from punchclock.accounts.services import create_api_token
from punchclock.tracking import services
from punchclock.tracking.models import TimeEntry
from tests.factories import make_rate

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)
    monkeypatch.setattr("punchclock.core.timeutil.now", lambda: NOW)


class Api:
    def __init__(self, membership, scope="write"):
        _, raw = create_api_token(membership=membership, name="test", scope=scope)
        self.http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def get(self, path, **query):
        return self.http.get(f"/api/v1{path}", query)

    def send(self, method, path, body=None):
        call = getattr(self.http, method)
        return call(f"/api/v1{path}", data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def api(agency):
    agency.member.user.timezone = "Europe/Berlin"
    agency.member.user.save()
    return Api(agency.member)


def test_start_status_switch_stop(agency, api):
    started = api.send(
        "post",
        "/timer/start",
        {"project": "globex/api", "description": "fix login", "at": "9:15", "tags": ["bug"]},
    )
    assert started.status_code == 200, started.json()
    assert started.json()["started"]["start"].startswith("2026-11-25T08:15:00")
    running = api.get("/timer").json()["running"]
    assert running["project"] == "globex/api"
    assert running["seconds"] == int(
        (NOW - datetime(2026, 11, 25, 8, 15, tzinfo=UTC)).total_seconds()
    )
    switched = api.send(
        "post", "/timer/start", {"project": "glo/api", "task": "dev", "at": "13:00"}
    ).json()
    assert switched["stopped"]["end"] == switched["started"]["start"]
    assert switched["started"]["task"] == "Development"
    stopped = api.send("post", "/timer/stop", {})
    assert stopped.json()["end"].startswith("2026-11-25T14:00:00")
    assert api.get("/timer").json() == {"running": None}


def test_add_with_a_duration_and_list_the_day(agency, api):
    created = api.send(
        "post",
        "/entries",
        {"project": "globex/api", "duration": "1h30", "date": "yesterday", "description": "review"},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["seconds"] == 5400
    listed = api.get("/entries", period="yesterday").json()
    assert listed["count"] == 1
    assert listed["items"][0]["description"] == "review"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"project": "nope/nothing", "duration": "1h"}, "project"),
        ({"project": "globex/api", "duration": "soon"}, "duration"),
        ({"project": "globex/api", "duration": "1h", "date": "someday"}, "date"),
        ({"project": "globex/api", "start": "2026-03-29 2:30", "end": "2026-03-29 4:00"}, "start"),
        ({"project": "globex/api", "start": "16:00", "end": "17:00"}, "start"),
        ({"project": "globex/api", "start": "10:00", "end": "9:00"}, "end"),
        ({"project": "globex/api", "start": "10:00"}, "end"),
        ({"project": "globex/api", "duration": "1h", "task": "nonexistent"}, "task"),
        ({"project": "globex/web", "duration": "1h"}, "project"),
    ],
)
def test_bad_entries_name_the_field_and_write_nothing(agency, api, body, field):
    response = api.send("post", "/entries", body)
    assert response.status_code == 422, response.json()
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert not TimeEntry.objects.exists()


def test_garbage_never_gives_a_500(agency, api):
    for body in ([], "x", {"project": 5}, {"at": {"nested": 1}}, {"tags": "notalist"}):
        response = api.http.post(
            "/api/v1/timer/start", data=json.dumps(body), content_type="application/json"
        )
        assert response.status_code in (400, 422), (body, response.status_code)
    broken = api.http.post("/api/v1/entries", data="{not json", content_type="application/json")
    assert broken.status_code == 400


def test_members_and_outsiders_do_not_see_others_entries(agency, api, outsider):
    theirs = services.add_entry(
        agency.manager,
        by=agency.manager,
        project=agency.project,
        start=NOW - timedelta(hours=3),
        end=NOW - timedelta(hours=2),
    )
    assert api.get(f"/entries/{theirs.pk}").status_code == 404
    assert api.send("patch", f"/entries/{theirs.pk}", {"description": "x"}).status_code == 404
    stranger = Api(outsider)
    assert stranger.get(f"/entries/{theirs.pk}").status_code == 404
    assert stranger.send("delete", f"/entries/{theirs.pk}").status_code == 404
    assert Api(agency.manager).get(f"/entries/{theirs.pk}").status_code == 200


def test_edit_split_and_delete(agency, api):
    entry = api.send(
        "post", "/entries", {"project": "globex/api", "start": "8:00", "end": "10:00"}
    ).json()
    changed = api.send("patch", f"/entries/{entry['id']}", {"end": "11:00", "description": "x"})
    assert changed.json()["seconds"] == 3 * 3600
    halves = api.send("post", f"/entries/{entry['id']}/split", {"at": "9:00"}).json()
    assert [h["seconds"] for h in halves] == [3600, 7200]
    assert api.send("delete", f"/entries/{entry['id']}").status_code == 200
    assert TimeEntry.objects.count() == 1


def test_read_tokens_cannot_track(agency):
    reader = Api(agency.member, scope="read")
    assert reader.send("post", "/timer/start", {"project": "globex/api"}).status_code == 403
    assert reader.get("/timer").status_code == 200


def test_timesheet_submission_and_approval(agency, api):
    api.send(
        "post",
        "/entries",
        {"project": "globex/api", "start": "2026-11-17 8:00", "end": "2026-11-17 12:00"},
    )
    sheet = api.send(
        "post", "/timesheets", {"period_start": "2026-11-16", "period_end": "2026-11-22"}
    )
    assert sheet.status_code == 201, sheet.json()
    manager = Api(agency.manager)
    pending = manager.get("/timesheets", status="submitted").json()
    assert pending["count"] == 1
    approved = manager.send("post", f"/timesheets/{sheet.json()['id']}/approve", {})
    assert approved.json()["status"] == "approved"
    entry_id = api.get("/entries", period="last-week").json()["items"][0]["id"]
    locked = api.send("patch", f"/entries/{entry_id}", {"description": "late"})
    assert locked.status_code == 422
    assert "approved" in locked.json()["detail"]


def test_report_sums_in_the_server(agency, api):
    make_rate(agency.organization, "100", project=agency.project)
    api.send("post", "/entries", {"project": "globex/api", "duration": "1h30"})
    api.send("post", "/entries", {"project": "globex/api", "duration": "45m", "billable": False})
    report = api.get("/reports/time", period="month", by="project").json()
    assert report["total"]["hours"] == "2.25"
    assert report["total"]["billable_hours"] == "1.50"
    # A member may not see rates, so not the money their hours make either (reports app
    # role rules); the owner sees the same hours with their amount.
    assert report["total"]["amounts"] == {}
    owner = Api(agency.owner).get("/reports/time", period="month", by="project").json()
    assert owner["total"]["hours"] == "2.25"
    assert owner["total"]["amounts"] == {"EUR": "150.00"}
    assert api.get("/reports/time", by="planet").status_code == 422


def test_trackable_projects_list_codes_and_tasks(agency, api):
    items = api.get("/tracking/projects").json()["items"]
    assert items == [
        {
            "id": agency.project.pk,
            "code": "globex/api",
            "name": "API",
            "client": "Globex",
            "tasks": ["Development"],
        }
    ]
