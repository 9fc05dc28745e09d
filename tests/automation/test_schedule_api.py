"""The billing schedule API: create, change, pause, delete, read runs, preview, run and dry-run."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from punchclock.automation import services
from punchclock.automation.models import BillingSchedule, RunStatus, ScheduleRun
from punchclock.invoicing.models import Invoice
from tests import factories
from tests.api.helpers import Api, assert_error, token_for
from tests.api.openapi_walk import routes, sample
from tests.automation.test_schedule_pages import frozen_today, schedule, worked  # noqa: F401

SCHEDULE_ROUTES = [r for r in routes() if r.path.startswith("/schedules")]


@pytest.fixture
def owner_api(billing) -> Api:
    return Api(token_for(billing.owner))


def test_the_routes_are_in_the_openapi_document():
    assert {(r.method, r.path) for r in SCHEDULE_ROUTES} == {
        ("get", "/schedules"),
        ("post", "/schedules"),
        ("get", "/schedules/{schedule_id}"),
        ("patch", "/schedules/{schedule_id}"),
        ("delete", "/schedules/{schedule_id}"),
        ("get", "/schedules/{schedule_id}/runs"),
        ("post", "/schedules/{schedule_id}/run"),
        ("get", "/schedules/{schedule_id}/preview"),
    }


def test_create_with_defaults_then_read_it(billing, owner_api):
    worked(billing.member, billing.project, date(2026, 11, 10), minutes=150)
    created = owner_api.post(
        "/schedules",
        {"client_id": billing.client.pk, "frequency": "monthly", "starts_on": "2026-11-01"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    stored = BillingSchedule.objects.get()
    assert body["id"] == stored.pk
    assert {k: body[k] for k in ("client", "project", "frequency_text", "action", "group_by")} == {
        "client": "Globex",
        "project": None,
        "frequency_text": "Monthly on the 1st",
        "action": "draft",
        "group_by": "project",
    }
    assert (body["include_time"], body["is_active"], body["run_as"]) == (True, True, "Olivia Owner")
    assert body["due_periods"] == 0
    assert body["next_run"] == {
        "run_on": "2026-12-01",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        "hours": "2.5",
        "expenses": 0,
        "amount": "250.00",
        "currency": "EUR",
        "text": "on 1 Dec: invoice for 2.5 h + 0 expenses ≈ 250.00 EUR",
    }
    assert owner_api.get(f"/schedules/{stored.pk}").json() == body
    preview = owner_api.get(f"/schedules/{stored.pk}/preview").json()
    assert preview == {"next_run": body["next_run"]}


def test_every_frequency_in_words(billing, owner_api):
    client = billing.client.pk
    bodies = [
        {"frequency": "monthly", "day_of_month": 31},
        {"frequency": "weekly", "interval_weeks": 1},
        {"frequency": "weekly", "interval_weeks": 2},
        {"frequency": "quarterly"},
        {"frequency": "quarterly", "day_of_month": 2},
        {"frequency": "project_end", "ends_on": "2026-11-30"},
    ]
    texts = []
    for body in bodies:
        made = owner_api.post(
            "/schedules", {"client_id": client, "starts_on": "2026-10-01", **body}
        )
        assert made.status_code == 201, made.content
        texts.append(made.json()["frequency_text"])
    assert texts == [
        "Monthly on the 31st",
        "Every week",
        "Every 2 weeks",
        "Quarterly",
        "Quarterly on the 2nd",
        "Once after 30 Nov 2026",
    ]
    listed = owner_api.get("/schedules", {"limit": 2}).json()
    assert (listed["count"], len(listed["items"])) == (6, 2)


def test_the_list_filters_by_client_and_state(billing, owner_api):
    mine = schedule(billing)
    initech = factories.make_client(billing.organization, "Initech", code="initech")
    paused = owner_api.post(
        "/schedules",
        {
            "client_id": initech.pk,
            "frequency": "quarterly",
            "starts_on": "2026-10-01",
            "is_active": False,
        },
    ).json()
    by_client = owner_api.get("/schedules", {"client_id": billing.client.pk}).json()
    assert [s["id"] for s in by_client["items"]] == [mine.pk]
    inactive = owner_api.get("/schedules", {"active": "false"}).json()
    assert [s["id"] for s in inactive["items"]] == [paused["id"]]


def test_patch_changes_pauses_and_clears_the_project(billing, owner_api):
    existing = schedule(billing, project=billing.project)
    url = f"/schedules/{existing.pk}"
    changed = owner_api.patch(url, {"day_of_month": 15, "action": "send", "is_active": False})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["frequency_text"], changed.json()["is_active"]) == (
        "Monthly on the 15th",
        False,
    )
    cleared = owner_api.patch(url, {"project_id": None}).json()
    assert (cleared["project_id"], cleared["project"]) == (None, None)
    chosen = owner_api.patch(url, {"project_id": billing.other_project.pk}).json()
    assert chosen["project"] == "Website"
    existing.refresh_from_db()
    assert (existing.day_of_month, existing.action, existing.is_active) == (15, "send", False)


def test_bad_bodies_name_the_field_and_change_nothing(billing, outsider, owner_api):
    existing = schedule(billing)
    initech = factories.make_client(billing.organization, "Initech", code="initech")
    theirs = factories.make_project(initech, "Portal", code="portal")
    rival = factories.make_client(outsider.organization, "Rival", code="rival")
    base = {"client_id": billing.client.pk, "frequency": "monthly", "starts_on": "2026-10-01"}
    created_cases = [
        ({**base, "client_id": rival.pk}, "client_id"),
        ({**base, "client_id": 10**30}, "client_id"),
        ({**base, "project_id": theirs.pk}, "project"),
        ({**base, "frequency": "daily"}, "frequency"),
        ({**base, "day_of_month": 0}, "day_of_month"),
        ({**base, "interval_weeks": 53}, "interval_weeks"),
        ({**base, "starts_on": "9999-12-31"}, "starts_on"),
        ({**base, "starts_on": "2026-02-30"}, "starts_on"),
        ({**base, "frequency": "project_end"}, "ends_on"),
        ({**base, "group_by": "mood"}, "group_by"),
        ({**base, "action": "pray"}, "action"),
        (
            {**base, "include_time": False, "include_expenses": False, "include_fixed_fees": False},
            "include_time",
        ),
        ({**base, "run_as": 1}, "run_as"),
        ({**base, "is_active": None}, "is_active"),
    ]
    for body, field in created_cases:
        assert_error(owner_api.post("/schedules", body), 422, field)
    url = f"/schedules/{existing.pk}"
    for body, field in [
        ({"client_id": initech.pk}, "client_id"),
        ({"starts_on": None}, "starts_on"),
        ({"frequency": "project_end"}, "ends_on"),
        ({"project_id": theirs.pk}, "project"),
    ]:
        assert_error(owner_api.patch(url, body), 422, field)
    assert BillingSchedule.objects.count() == 1
    existing.refresh_from_db()
    assert (existing.client, existing.frequency, existing.project) == (
        billing.client,
        "monthly",
        None,
    )


def test_garbage_ids_and_bodies_get_4xx_never_500(billing, owner_api):
    existing = schedule(billing)
    for query in ({"client_id": 10**30}, {"client_id": "x"}, {"active": "maybe"}):
        assert_error(owner_api.get("/schedules", query), 422)
    for route in SCHEDULE_ROUTES:
        for pk in (0, 10**17, 10**19, "x", "-1") if "{schedule_id}" in route.path else ():
            path = route.path.replace("{schedule_id}", str(pk))
            send = getattr(owner_api, route.method)
            response = send(path) if route.method in ("get", "delete") else send(path, {})
            assert 400 <= response.status_code < 500, (route.path, pk, response.status_code)
        if route.method in ("post", "patch"):
            path = route.fill({"schedule_id": existing.pk})
            for raw in ("not json", "[]", "null", '{"dry_run": "maybe"}', '{"day_of_month": NaN}'):
                response = getattr(owner_api, route.method)(path, raw=raw)
                assert 400 <= response.status_code < 500, (route.path, raw, response.content)
            body = route.body_schema()
            schema_sample = sample(body) if body else {}
            for field in (body or {}).get("properties", {}):
                for value in (None, "", "x" * 5000, "\x00", 10**30, -1, [], {"a": 1}, 1.5):
                    response = getattr(owner_api, route.method)(
                        path, {**schema_sample, "client_id": billing.client.pk, field: value}
                    )
                    assert response.status_code < 500, (route.path, field, value)
                    assert response.status_code != 409, (route.path, field, value)


@pytest.mark.parametrize("role", ["manager", "member"])
def test_managers_and_members_get_403(billing, role):
    existing = schedule(billing)
    api = Api(token_for(getattr(billing, role)))
    assert_error(api.get("/schedules"), 403)
    body = {"client_id": billing.client.pk, "frequency": "monthly", "starts_on": "2026-10-01"}
    assert_error(api.post("/schedules", body), 403)
    for route in SCHEDULE_ROUTES:
        if "{schedule_id}" not in route.path:
            continue
        path = route.fill({"schedule_id": existing.pk})
        body = route.body_schema()
        send = getattr(api, route.method)
        response = send(path) if body is None else send(path, sample(body))
        assert_error(response, 403)
    assert BillingSchedule.objects.get().is_active
    assert not ScheduleRun.objects.exists()


def test_outsiders_get_404_for_every_schedule_route(billing, outsider):
    existing = schedule(billing)
    api = Api(token_for(outsider))
    for route in SCHEDULE_ROUTES:
        if "{schedule_id}" not in route.path:
            continue
        path = route.fill({"schedule_id": existing.pk})
        body = route.body_schema()
        send = getattr(api, route.method)
        response = send(path) if body is None else send(path, sample(body))
        assert_error(response, 404)
    assert api.get("/schedules").json() == {"items": [], "count": 0}
    assert_error(
        api.post(
            "/schedules",
            {"client_id": billing.client.pk, "frequency": "monthly", "starts_on": "2026-10-01"},
        ),
        422,
        "client_id",
    )
    assert BillingSchedule.objects.count() == 1
    assert not ScheduleRun.objects.exists()


def test_a_read_token_cannot_run(billing):
    existing = schedule(billing)
    api = Api(token_for(billing.owner, "read"))
    assert api.get(f"/schedules/{existing.pk}").status_code == 200
    assert_error(api.post(f"/schedules/{existing.pk}/run", {"dry_run": True}), 403)


def test_dry_run_then_run_then_nothing_left(billing, owner_api):
    monthly = schedule(billing, starts_on=date(2026, 9, 1))
    worked(billing.member, billing.project, date(2026, 9, 14), minutes=90)
    url = f"/schedules/{monthly.pk}/run"

    dry = owner_api.post(url, {"dry_run": True})
    assert dry.status_code == 200, dry.content
    first, second = dry.json()["periods"]
    assert dry.json()["dry_run"] is True
    assert (first["period_start"], first["status"], first["invoice_id"]) == (
        "2026-09-01",
        "issued",
        None,
    )
    assert first["estimate"]["text"] == "on 1 Oct: invoice for 1.5 h + 0 expenses ≈ 150.00 EUR"
    assert (second["status"], second["estimate"]) == ("empty", None)
    assert second["message"].startswith("No unbilled work for Globex from 2026-10-01")
    assert not ScheduleRun.objects.exists()
    assert not Invoice.objects.exists()

    ran = owner_api.post(url, {}).json()
    invoice = Invoice.objects.get()
    assert ran["dry_run"] is False
    assert [(p["status"], p["invoice_number"], p["invoice_total"]) for p in ran["periods"]] == [
        (RunStatus.ISSUED, invoice.number, "178.50"),
        (RunStatus.EMPTY, None, None),
    ]
    assert owner_api.post(url, {"dry_run": False}).json()["periods"] == []
    assert owner_api.post(url, {"dry_run": True}).json()["periods"] == []
    assert Invoice.objects.count() == 1

    runs = owner_api.get(f"/schedules/{monthly.pk}/runs").json()
    assert runs["count"] == 2
    latest, earliest = runs["items"]
    assert (latest["period_start"], latest["status"], latest["invoice_id"]) == (
        "2026-10-01",
        "empty",
        None,
    )
    assert (earliest["invoice_id"], earliest["invoice_total"], earliest["currency"]) == (
        invoice.pk,
        "178.50",
        "EUR",
    )
    assert owner_api.get(f"/schedules/{monthly.pk}").json()["due_periods"] == 0


def test_a_paused_schedule_dry_runs_but_does_not_run(billing, owner_api):
    monthly = schedule(billing, is_active=False)
    url = f"/schedules/{monthly.pk}/run"
    assert len(owner_api.post(url, {"dry_run": True}).json()["periods"]) == 1
    assert_error(owner_api.post(url, {"dry_run": False}), 422, "is_active")
    assert not ScheduleRun.objects.exists()


def test_delete_without_runs_only(billing, owner_api):
    fresh = schedule(billing)
    assert owner_api.delete(f"/schedules/{fresh.pk}").status_code == 204
    assert not BillingSchedule.objects.exists()
    ran = schedule(billing)
    owner_api.post(f"/schedules/{ran.pk}/run", {})
    assert_error(owner_api.delete(f"/schedules/{ran.pk}"), 422, "schedule")
    assert BillingSchedule.objects.filter(pk=ran.pk).exists()


def test_the_list_runs_as_many_queries_for_ten_schedules_as_for_one(billing, owner_api):
    first = schedule(billing, starts_on=date(2026, 8, 1))
    owner_api.get("/schedules")  # the first request stamps the token's last use
    with CaptureQueriesContext(connection) as one:
        owner_api.get("/schedules")
    services.run_schedule(first, by=billing.owner, today=date(2026, 10, 1))
    for day in range(2, 11):
        schedule(billing, starts_on=date(2026, 8, day))
    with CaptureQueriesContext(connection) as ten:
        body = owner_api.get("/schedules").json()
    assert len(ten.captured_queries) == len(one.captured_queries)
    due = {item["id"]: item["due_periods"] for item in body["items"]}
    assert due[first.pk] == 1  # August and September ran; October is due
    assert sorted(due.values()) == [1] + [3] * 9
    assert "next_run" not in body["items"][0]
