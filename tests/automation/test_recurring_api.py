"""The recurring invoice API: create, read, change, preview, dry-run and run, runs, delete."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from punchclock.automation import recurring as service
from punchclock.automation.models import RecurringInvoice, RecurringPrice, RecurringRun
from punchclock.invoicing.models import Invoice
from tests.api.helpers import Api, assert_error, token_for
from tests.api.openapi_walk import routes

ROUTES = [r for r in routes() if r.path.startswith("/recurring-invoices")]


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(service, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))


@pytest.fixture
def owner_api(billing) -> Api:
    return Api(token_for(billing.owner))


def body(billing, **changes):
    data = {
        "client_id": billing.client.pk,
        "name": "Hosting",
        "frequency": "monthly",
        "starts_on": "2026-10-01",
        "action": "issue",
        "note": "Service period {period_start} – {period_end}",
        "lines": [
            {
                "description": "Hosting {month} {year}",
                "unit_price": "49.00",
                "prices": [{"effective_from": "2027-01-01", "unit_price": "59.00"}],
            },
            {"description": "Support", "quantity": "2", "unit": "HUR", "unit_price": "15"},
        ],
    }
    data.update(changes)
    return data


def test_the_routes_are_in_the_openapi_document():
    assert {(r.method, r.path) for r in ROUTES} == {
        ("get", "/recurring-invoices"),
        ("post", "/recurring-invoices"),
        ("get", "/recurring-invoices/{recurring_id}"),
        ("patch", "/recurring-invoices/{recurring_id}"),
        ("delete", "/recurring-invoices/{recurring_id}"),
        ("get", "/recurring-invoices/{recurring_id}/runs"),
        ("post", "/recurring-invoices/{recurring_id}/run"),
        ("get", "/recurring-invoices/{recurring_id}/preview"),
    }


def test_create_then_read_with_its_next_run(billing, owner_api):
    created = owner_api.post("/recurring-invoices", body(billing))
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["id"] == RecurringInvoice.objects.get().pk
    assert data["frequency_text"] == "Monthly on the 1st, in advance"
    assert data["lines"][0]["prices"] == [{"effective_from": "2027-01-01", "unit_price": "59.00"}]
    assert data["due_periods"] == 2  # October and November
    nxt = data["next_run"]
    assert (nxt["run_on"], nxt["period_end"], nxt["cycle"]) == ("2026-12-01", "2026-12-31", 3)
    assert [line["description"] for line in nxt["lines"]] == ["Hosting December 2026", "Support"]
    assert (nxt["net"], nxt["tax"], nxt["gross"]) == ("79.00", "15.01", "94.01")
    assert nxt["text"] == "on 1 Dec: Hosting December 2026 + 1 more line — 79.00 EUR + VAT"
    assert nxt["note"] == "Service period Dec 1, 2026 – Dec 31, 2026"
    listed = owner_api.get("/recurring-invoices").json()
    assert [item["id"] for item in listed["items"]] == [data["id"]]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"note": "For {monthh}"}, "note", "“{monthh}” is not a placeholder"),
        (
            {"lines": [{"description": "Hosting {month!s}", "unit_price": "1"}]},
            "lines",
            "is not a placeholder",
        ),
        ({"starts_on": "2026-10-02"}, "starts_on", "issue day"),
        ({"lines": []}, "lines", ""),
        ({"cycles": 0}, "cycles", ""),
        ({"frequency": "weekly"}, "frequency", ""),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    billing, owner_api, changes, field, words
):
    response = owner_api.post("/recurring-invoices", body(billing, **changes))
    error = assert_error(response, 422)
    assert any(e["field"].startswith(field) for e in error["errors"]), error
    assert words in error["detail"]
    assert not RecurringInvoice.objects.exists()
    assert not RecurringPrice.objects.exists()


def test_dry_run_writes_nothing_then_run_bills_each_period_once(billing, owner_api):
    pk = owner_api.post("/recurring-invoices", body(billing)).json()["id"]
    dry = owner_api.post(f"/recurring-invoices/{pk}/run", {"dry_run": True}).json()
    assert [p["status"] for p in dry["periods"]] == ["issued", "issued"]
    assert dry["periods"][0]["invoice_estimate"]["lines"][0]["description"] == (
        "Hosting October 2026"
    )
    assert not RecurringRun.objects.exists()
    ran = owner_api.post(f"/recurring-invoices/{pk}/run", {}).json()
    assert [p["cycle"] for p in ran["periods"]] == [1, 2]
    assert all(p["invoice_number"] for p in ran["periods"])
    again = owner_api.post(f"/recurring-invoices/{pk}/run", {}).json()
    assert again["periods"] == []
    assert Invoice.objects.count() == 2
    runs = owner_api.get(f"/recurring-invoices/{pk}/runs").json()
    assert [r["period_start"] for r in runs["items"]] == ["2026-11-01", "2026-10-01"]


def test_patch_pauses_and_replaces_lines_then_delete_keeps_invoices(billing, owner_api):
    pk = owner_api.post("/recurring-invoices", body(billing)).json()["id"]
    changed = owner_api.patch(
        f"/recurring-invoices/{pk}",
        {"is_active": False, "lines": [{"description": "Managed {month}", "unit_price": "60"}]},
    ).json()
    assert changed["is_active"] is False
    assert [line["description"] for line in changed["lines"]] == ["Managed {month}"]
    paused = owner_api.post(f"/recurring-invoices/{pk}/run", {})
    assert_error(paused, 422)
    owner_api.patch(f"/recurring-invoices/{pk}", {"is_active": True})
    owner_api.post(f"/recurring-invoices/{pk}/run", {})
    assert owner_api.delete(f"/recurring-invoices/{pk}").status_code == 204
    assert_error(owner_api.get(f"/recurring-invoices/{pk}"), 404)
    assert Invoice.objects.count() == 2
    assert RecurringRun.objects.count() == 2


def test_members_without_billing_rights_get_403(billing):
    member = Api(token_for(billing.member))
    assert_error(member.get("/recurring-invoices"), 403)
    assert_error(member.post("/recurring-invoices", body(billing)), 403)
    assert not RecurringInvoice.objects.exists()
