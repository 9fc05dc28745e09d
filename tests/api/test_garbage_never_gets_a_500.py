"""No input makes the API answer 500: every write route is fed garbage, field by field.

Routes and their body fields come from the OpenAPI document, so new endpoints are covered
without touching this file.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from punchclock.accounts.models import Role
from punchclock.automation.recurring import LineSpec, save_recurring
from punchclock.automation.retainers import save_retainer
from punchclock.automation.services import save_schedule
from punchclock.invoicing.services import add_line, start_draft
from tests import factories
from tests.api.helpers import Api, token_for
from tests.api.openapi_walk import Route, resolve, routes, sample

WRITE_ROUTES = [r for r in routes() if r.method != "get"]

RAW_BODIES: list[str | bytes] = [
    "not json",
    "{",
    '{"name": }',
    "[]",
    "[1, 2, 3]",
    "null",
    '"text"',
    "123",
    "1e999",
    "9" * 5000,
    "[" * 50_000,
    b"\xff\xfe\x00",
    '{"amount": NaN}',
]

# Per kind of field, the values most likely to slip past validation into a service or the
# database: overflowing numbers, NaN, NUL characters, wrong types, nulls.
TEXT_VALUES: list[Any] = [None, "", "x" * 5000, "\x00", 10**30, {"nested": [1]}]
NUMBER_VALUES: list[Any] = [None, "NaN", "1e999999999", -1, 10**30, -(10**30), 1.5, True, "x", []]
OTHER_VALUES: list[Any] = [None, "x", 2, [], "2099-13-45"]


@pytest.fixture
def targets(agency, outsider, settings, tmp_path) -> dict[str, dict[str, int]]:
    """Path ids per kind: the agency's own, unknown ones, and the rival organization's."""
    settings.MEDIA_ROOT = tmp_path
    rival_client = factories.make_client(outsider.organization, "Rival", code="rival")
    rival_project = factories.make_project(rival_client, "Rival site", code="site")
    rival_task = factories.make_task(rival_project, "Rival task")
    rival_member = factories.make_membership(outsider.organization, Role.MEMBER)
    rate = factories.make_rate(agency.organization, "95", project=agency.project)
    entry, sheet = factories.make_entry_and_timesheet(agency.member)
    rival_entry, rival_sheet = factories.make_entry_and_timesheet(outsider)
    expense, receipt = factories.make_expense_with_receipt(agency.member)
    rival_expense, rival_receipt = factories.make_expense_with_receipt(outsider)
    invoice = start_draft(agency.client, by=agency.owner)
    rival_invoice = start_draft(rival_client, by=outsider)
    line = add_line(
        invoice, by=agency.owner, description="Setup", quantity=Decimal(1), unit_price=Decimal(9)
    )
    rival_line = add_line(
        rival_invoice, by=outsider, description="Setup", quantity=Decimal(1), unit_price=Decimal(9)
    )
    payment = factories.make_payment(agency.client)
    rival_payment = factories.make_payment(rival_client)
    bank_line = factories.make_bank_line(agency.organization)
    rival_bank_line = factories.make_bank_line(outsider.organization)
    schedule = save_schedule(
        agency.owner, client=agency.client, frequency="monthly", starts_on=date(2026, 11, 1)
    )
    rival_schedule = save_schedule(
        outsider, client=rival_client, frequency="monthly", starts_on=date(2026, 11, 1)
    )
    recurring = save_recurring(
        agency.owner,
        client=agency.client,
        name="Hosting",
        starts_on=date(2026, 11, 1),
        lines=[LineSpec("Hosting {month}", Decimal(1), Decimal(49))],
    )
    rival_recurring = save_recurring(
        outsider,
        client=rival_client,
        name="Hosting",
        starts_on=date(2026, 11, 1),
        lines=[LineSpec("Hosting {month}", Decimal(1), Decimal(49))],
    )
    return {
        "own": {
            "client_id": agency.client.pk,
            "project_id": agency.project.pk,
            "task_id": agency.task.pk,
            "member_id": agency.member.pk,
            "membership_id": agency.member.pk,
            "contact_id": 0,
            "rate_id": rate.pk,
            "invitation_id": 0,
            "entry_id": entry.pk,
            "sheet_id": sheet.pk,
            "expense_id": expense.pk,
            "receipt_id": receipt.pk,
            "invoice_id": invoice.pk,
            "line_id": line.pk,
            "payment_id": payment.pk,
            "statement_id": bank_line.statement_id,
            "bank_line_id": bank_line.pk,
            "schedule_id": schedule.pk,
            "retainer_id": save_retainer(
                agency.owner,
                client=agency.client,
                included=Decimal(10),
                fee=Decimal(900),
                starts_on=date(2026, 11, 1),
            ).pk,
            "notification_id": factories.make_notification(agency.member).pk,
            "recurring_id": recurring.pk,
        },
        "rival": {
            "client_id": rival_client.pk,
            "project_id": rival_project.pk,
            "task_id": rival_task.pk,
            "member_id": rival_member.pk,
            "membership_id": rival_member.pk,
            "contact_id": 10**17,
            "rate_id": 10**17,
            "invitation_id": 10**17,
            "entry_id": rival_entry.pk,
            "sheet_id": rival_sheet.pk,
            "expense_id": rival_expense.pk,
            "receipt_id": rival_receipt.pk,
            "invoice_id": rival_invoice.pk,
            "line_id": rival_line.pk,
            "payment_id": rival_payment.pk,
            "statement_id": rival_bank_line.statement_id,
            "bank_line_id": rival_bank_line.pk,
            "schedule_id": rival_schedule.pk,
            "retainer_id": save_retainer(
                outsider,
                client=rival_client,
                included=Decimal(10),
                fee=Decimal(900),
                starts_on=date(2026, 11, 1),
            ).pk,
            "notification_id": factories.make_notification(outsider).pk,
            "recurring_id": rival_recurring.pk,
        },
    }


def _values_for(schema: dict[str, Any]) -> list[Any]:
    options = [resolve(o) for o in schema.get("anyOf", [schema])]
    kinds = {o.get("type") for o in options} - {"null"}
    if kinds & {"integer", "number"}:
        return NUMBER_VALUES
    if kinds == {"string"} and not any("enum" in o or "format" in o for o in options):
        return TEXT_VALUES
    return OTHER_VALUES


def _send(api: Api, route: Route, path: str, body: Any = None, raw: Any = None) -> Any:
    send = getattr(api, route.method)
    if raw is not None:
        return send(path, raw=raw)
    return send(path) if body is None else send(path, body)


def _assert_handled(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.content[:500])
    # 409 is what an IntegrityError that escaped a service becomes: a bug to fix there.
    assert response.status_code != 409, (what, response.content[:500])
    if response.status_code >= 300:
        assert "detail" in response.json(), what


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_garbage_bodies_and_ids_never_get_a_500(route, agency, targets):
    api = Api(token_for(agency.owner))
    schema = route.body_schema()
    own = targets["own"]
    valid = sample(schema) if schema is not None else None
    if valid:
        # A base body the API accepts, so each garbage value is the only thing wrong.
        valid = {k: own.get(k, v) if k.endswith("_id") else v for k, v in valid.items()}
    properties = resolve(schema).get("properties", {}) if schema is not None else {}

    # Field by field on the agency's own objects, so each value reaches the service.
    path = route.fill(own)
    for field, field_schema in properties.items():
        for value in _values_for(field_schema):
            body = {**valid, field: value}
            _assert_handled(_send(api, route, path, body), f"{field}={value!r:.40}")
        if field.endswith("_id"):
            for label, ids in targets.items():
                body = {**valid, field: ids.get(field, 10**17)}
                _assert_handled(_send(api, route, path, body), f"{field} of {label}")
    for label, ids in targets.items():
        path = route.fill(ids)
        for raw in RAW_BODIES:
            _assert_handled(_send(api, route, path, raw=raw), f"{label} raw {raw[:20]!r}")
        _assert_handled(_send(api, route, path, valid), f"{label} valid sample")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
RATE_FIELDS = ["kind", "amount", "effective_from", "client_id", "project_id", "membership_id"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(st.sampled_from(RATE_FIELDS), JSON, max_size=6))
def test_random_json_posted_as_a_rate_never_gets_a_500(owner_api, body):
    _assert_handled(owner_api.post("/rates", body), repr(body))
