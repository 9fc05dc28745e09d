"""The reminders API: settings with the page's validation, wording, history, dry run, send."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from punchclock.automation import reminder_settings
from punchclock.automation.models import ReminderLevel, ReminderSent, ReminderTemplate
from tests.api.helpers import Api, assert_error, token_for
from tests.api.openapi_walk import routes
from tests.automation.test_reminders import DUE, clock, dunning  # noqa: F401 - fixtures

ROUTES = [r for r in routes() if r.path.startswith("/reminders")]


@pytest.fixture
def owner_api(billing) -> Api:
    return Api(token_for(billing.owner))


def levels_now(organization) -> list[tuple]:
    return list(
        ReminderLevel.objects.filter(organization=organization)
        .order_by("level")
        .values_list("level", "is_active", "days_after_due", "late_fee", "late_fee_amount")
    )


def test_the_routes_are_in_the_openapi_document():
    assert {(r.method, r.path) for r in ROUTES} == {
        ("get", "/reminders/settings"),
        ("put", "/reminders/settings"),
        ("post", "/reminders/settings/set-up"),
        ("get", "/reminders/templates"),
        ("put", "/reminders/templates"),
        ("post", "/reminders/templates/reset"),
        ("get", "/reminders/sent"),
        ("get", "/reminders/invoices/{invoice_id}"),
        ("get", "/reminders/due"),
        ("post", "/reminders/send"),
    }


def test_nothing_is_set_up_until_asked_then_the_defaults(billing, owner_api):
    assert owner_api.get("/reminders/settings").json() == {"set_up": False, "levels": []}
    body = owner_api.post("/reminders/settings/set-up").json()
    assert body["set_up"] is True
    assert [(lv["level"], lv["days_after_due"], lv["is_active"]) for lv in body["levels"]] == [
        (1, 7, True),
        (2, 21, True),
        (3, 35, True),
        (4, 49, False),
    ]
    assert owner_api.post("/reminders/settings/set-up").json() == body  # once


def test_changing_some_levels_keeps_the_others(billing, owner_api):
    owner_api.post("/reminders/settings/set-up")
    change = {"level": 2, "is_active": True, "days_after_due": 28, "late_fee": "fixed"}
    change["late_fee_amount"] = "7.50"
    change["late_fee_taxed"] = True
    response = owner_api.put("/reminders/settings", {"levels": [change]})
    assert response.status_code == 200, response.content
    second = response.json()["levels"][1]
    assert (second["days_after_due"], second["late_fee"], second["late_fee_amount"]) == (
        28,
        "fixed",
        "7.5",
    )
    assert levels_now(billing.organization)[0][2] == 7  # level 1 untouched


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": 2, "is_active": True, "days_after_due": 5}, "days_after_due"),  # before 1
        ({"level": 1, "is_active": True, "days_after_due": 400}, "days_after_due"),
        ({"level": 4, "is_active": True, "days_after_due": 60, "repeat_every_days": 2}, None),
        (
            {"level": 3, "is_active": True, "days_after_due": 35, "late_fee": "percent"}
            | {"late_fee_amount": "150", "late_fee_taxed": True},
            "late_fee_amount",
        ),
        (
            {"level": 3, "is_active": True, "days_after_due": 35, "late_fee": "fixed"}
            | {"late_fee_amount": "5", "late_fee_taxed": False},
            "late_fee_taxed",  # untaxed needs the registration number
        ),
        ({"level": 3, "is_active": True, "days_after_due": 35, "late_fee": "fixed"}, None),
        ({"level": 9, "is_active": True, "days_after_due": 35}, None),
    ],
)
def test_bad_levels_are_refused_and_nothing_changes(billing, owner_api, change, field):
    owner_api.post("/reminders/settings/set-up")
    before = levels_now(billing.organization)
    response = owner_api.put("/reminders/settings", {"levels": [change]})
    assert response.status_code in (400, 422), response.content
    body = assert_error(response, response.status_code)
    if field:
        named = [error["field"] or "" for error in body["errors"]]
        assert any(name.endswith(field) for name in named), body
    assert levels_now(billing.organization) == before


def test_a_level_given_twice_and_levels_before_set_up_are_refused(billing, owner_api):
    one = {"level": 1, "is_active": True, "days_after_due": 7}
    assert_error(owner_api.put("/reminders/settings", {"levels": [one]}), 422, "levels")
    owner_api.post("/reminders/settings/set-up")
    assert_error(owner_api.put("/reminders/settings", {"levels": [one, one]}), 422, "levels")


def test_wording_saved_per_level_and_language_then_reset(billing, owner_api):
    templates = owner_api.get("/reminders/templates").json()
    assert len(templates) == 12
    assert not any(t["own"] for t in templates)
    body = {"level": 2, "language": "de", "subject": "Rechnung {number}", "body": "Bitte {amount}"}
    saved = owner_api.put("/reminders/templates", body).json()
    assert saved == {**body, "own": True}
    stored = ReminderTemplate.objects.get(organization=billing.organization)
    assert (stored.level, stored.language, stored.subject) == (2, "de", "Rechnung {number}")
    reset = owner_api.post("/reminders/templates/reset", {"level": 2, "language": "de"}).json()
    assert reset["own"] is False
    assert reset["subject"] != body["subject"]
    assert not ReminderTemplate.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "Invoice {nope}"}, "subject"),
        ({"body": "Pay {amount.__class__}"}, "body"),
        ({"subject": "two\nlines"}, "subject"),
        ({"language": "xx"}, "language"),
        ({"body": "   "}, "body"),
    ],
)
def test_bad_wording_is_refused_and_nothing_saved(billing, owner_api, change, field):
    body = {"level": 1, "language": "en", "subject": "Invoice {number}", "body": "Pay {amount}"}
    response = owner_api.put("/reminders/templates", body | change)
    assert_error(response, 422, field)
    assert not ReminderTemplate.objects.exists()


def test_dry_run_then_send_then_history(dunning, clock, owner_api):  # noqa: F811
    clock.day(DUE + timedelta(days=7))
    due = owner_api.get("/reminders/due").json()
    assert [(d["invoice_number"], d["level"], d["open_amount"]) for d in due] == [
        (dunning.invoice.number, 1, f"{dunning.invoice.gross_total:.2f}")
    ]
    assert not ReminderSent.objects.exists()
    assert not mail.outbox

    sent = owner_api.post("/reminders/send").json()
    assert sent["sent"] == 1
    assert [(o["level"], o["status"]) for o in sent["outcomes"]] == [(1, "sent")]
    assert len(mail.outbox) == 1
    assert owner_api.post("/reminders/send").json() == {"sent": 0, "outcomes": []}
    assert owner_api.get("/reminders/due").json() == []

    history = owner_api.get(f"/reminders/invoices/{dunning.invoice.pk}").json()
    assert [(r["level"], r["state"]) for r in history] == [(1, "sent")]
    page = owner_api.get("/reminders/sent", {"state": "sent"}).json()
    assert page["count"] == 1
    assert page["items"][0]["invoice_id"] == dunning.invoice.pk
    assert owner_api.get("/reminders/sent", {"state": "waiting"}).json()["count"] == 0
    assert_error(owner_api.get("/reminders/sent", {"state": "bogus"}), 422, "state")


def test_the_late_fee_shows_in_the_dry_run_and_history(dunning, clock, owner_api):  # noqa: F811
    clock.day(DUE + timedelta(days=7))
    owner_api.post("/reminders/send")
    clock.day(DUE + timedelta(days=21))
    (due,) = owner_api.get("/reminders/due").json()
    assert (due["level"], due["late_fee"]) == (2, "5.00")
    owner_api.post("/reminders/send")
    history = owner_api.get(f"/reminders/invoices/{dunning.invoice.pk}").json()
    assert history[1]["late_fee_number"]
    assert Decimal(history[1]["balance"]) == dunning.invoice.gross_total


@pytest.mark.parametrize("role", ["manager", "member"])
def test_managers_and_members_get_403(dunning, role):  # noqa: F811
    api = Api(token_for(getattr(dunning, role)))
    for route in ROUTES:
        path = route.fill({"invoice_id": dunning.invoice.pk})
        if route.method == "get":
            response = api.get(path)
        else:
            response = getattr(api, route.method)(path, {"levels": [], "level": 1})
        assert response.status_code in (403, 422), (route.path, response.content)
    assert_error(api.get("/reminders/settings"), 403)
    assert_error(api.post("/reminders/send"), 403)
    before = levels_now(dunning.organization)
    assert reminder_settings.levels_of(dunning.organization)
    assert levels_now(dunning.organization) == before
