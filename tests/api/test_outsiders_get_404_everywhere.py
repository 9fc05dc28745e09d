"""Another organization's token gets 404 for every agency object on every route.

The routes come from the API's OpenAPI document, so a new route is covered the day it is
added; a new kind of id in a path fails the test until it is added to `agency_ids`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from punchclock.accounts.models import Invitation
from punchclock.accounts.services import invite_member
from punchclock.automation.recurring import LineSpec, save_recurring
from punchclock.automation.retainers import save_retainer
from punchclock.automation.services import save_schedule
from punchclock.clients.services import add_contact
from punchclock.invoicing.services import add_line, start_draft
from tests import factories
from tests.api.helpers import assert_error
from tests.api.openapi_walk import routes, sample


@pytest.fixture
def agency_ids(agency, settings, tmp_path) -> dict[str, int]:
    settings.MEDIA_ROOT = tmp_path
    contact = add_contact(agency.client, by=agency.owner, name="Hank Scorpio")
    rate = factories.make_rate(agency.organization, "95", effective_from=date(2099, 1, 1))
    invitation, _raw = invite_member(
        agency.organization, email="new@example.com", role="member", by=agency.owner
    )
    entry, sheet = factories.make_entry_and_timesheet(agency.member)
    expense, receipt = factories.make_expense_with_receipt(agency.member)
    invoice = start_draft(agency.client, by=agency.owner)
    line = add_line(
        invoice, by=agency.owner, description="Setup", quantity=Decimal(1), unit_price=Decimal(9)
    )
    bank_line = factories.make_bank_line(agency.organization)
    return {
        "expense_id": expense.pk,
        "receipt_id": receipt.pk,
        "entry_id": entry.pk,
        "sheet_id": sheet.pk,
        "client_id": agency.client.pk,
        "project_id": agency.project.pk,
        "task_id": agency.task.pk,
        "member_id": agency.member.pk,
        "membership_id": agency.member.pk,
        "contact_id": contact.pk,
        "rate_id": rate.pk,
        "invitation_id": invitation.pk,
        "invoice_id": invoice.pk,
        "line_id": line.pk,
        "payment_id": factories.make_payment(agency.client).pk,
        "statement_id": bank_line.statement_id,
        "bank_line_id": bank_line.pk,
        "schedule_id": save_schedule(
            agency.owner, client=agency.client, frequency="monthly", starts_on=date(2026, 11, 1)
        ).pk,
        "retainer_id": save_retainer(
            agency.owner,
            client=agency.client,
            included=Decimal(10),
            fee=Decimal(900),
            starts_on=date(2026, 11, 1),
        ).pk,
        "notification_id": factories.make_notification(agency.member).pk,
        "recurring_id": save_recurring(
            agency.owner,
            client=agency.client,
            name="Hosting",
            starts_on=date(2026, 11, 1),
            lines=[LineSpec("Hosting {month}", Decimal(1), Decimal(49))],
        ).pk,
    }


def test_every_route_with_an_agency_id_is_404_for_an_outsider(outsider_api, agency, agency_ids):
    checked = 0
    for route in routes():
        ids_in_query = [p for p in route.required_query_params if p.endswith("_id")]
        if not route.path_params and not ids_in_query:
            continue
        unknown = set(route.path_params + ids_in_query) - set(agency_ids)
        assert not unknown, f"{route.method} {route.path}: add {unknown} to agency_ids"
        path = route.fill(agency_ids)
        if route.method == "get":
            response = outsider_api.get(path, {p: agency_ids[p] for p in ids_in_query})
        else:
            body = route.body_schema()
            payload = sample(body) if body is not None else None
            send = getattr(outsider_api, route.method)
            response = send(path) if payload is None else send(path, payload)
        assert response.status_code == 404, (route.method, route.path, response.content)
        assert_error(response, 404)
        checked += 1
    assert checked >= 25

    agency.client.refresh_from_db()
    agency.project.refresh_from_db()
    agency.member.refresh_from_db()
    assert (agency.client.name, agency.client.is_archived) == ("Globex", False)
    assert (agency.project.status, agency.member.is_active) == ("active", True)
    assert Invitation.objects.get(pk=agency_ids["invitation_id"]).revoked_at is None


def test_every_list_shows_an_outsider_nothing_of_the_agency(outsider_api, outsider, agency_ids):
    checked = 0
    for route in routes():
        if route.method != "get" or route.path_params or route.required_query_params:
            continue
        body = outsider_api.get(route.path).json()
        if "items" not in body:
            continue
        if route.path == "/members":
            assert [m["id"] for m in body["items"]] == [outsider.pk]
        else:
            assert body["items"] == [], route.path
            assert body.get("count", 0) == 0, route.path
        checked += 1
    assert checked >= 5
