"""GET /api/v1/receivables and /api/v1/clients/{id}/statement: JSON, CSV and PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from punchclock.payments import services
from tests import factories
from tests.api.helpers import Api, assert_error, token_for
from tests.payments.conftest import paid
from tests.payments.receivables_factories import document

pytestmark = pytest.mark.usefixtures("frozen_today", "api_on_today")


@pytest.fixture
def api_on_today(monkeypatch):
    from punchclock.payments import api_receivables

    monkeypatch.setattr(api_receivables, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))


@pytest.fixture
def owner_api(billing) -> Api:
    return Api(token_for(billing.owner, "read"))


def test_receivables_list_totals_aging_and_open_invoices(billing, owner_api):
    dollars = factories.make_client(billing.organization, "Initech", code="initech", currency="USD")
    late = document(billing.client, "119.00", on=date(2026, 8, 1), due=date(2026, 8, 15))
    services.record_payment(late, paid("19.00"), by=billing.owner)
    document(dollars, "42.50", on=date(2026, 11, 19), due=date(2026, 12, 19))
    body = owner_api.get("/receivables").json()
    assert body["today"] == "2026-11-20"
    assert body["totals"] == [
        {
            "currency": "EUR",
            "outstanding": "100.00",
            "overdue": "100.00",
            "credit": "0.00",
            "invoices": 1,
            "aging": {
                "current": "0.00",
                "days_1_30": "0.00",
                "days_31_60": "0.00",
                "days_61_90": "0.00",
                "over_90": "100.00",
            },
        },
        {
            "currency": "USD",
            "outstanding": "42.50",
            "overdue": "0.00",
            "credit": "0.00",
            "invoices": 1,
            "aging": {
                "current": "42.50",
                "days_1_30": "0.00",
                "days_31_60": "0.00",
                "days_61_90": "0.00",
                "over_90": "0.00",
            },
        },
    ]
    assert [(c["code"], c["currency"], c["outstanding"]) for c in body["clients"]] == [
        ("globex", "EUR", "100.00"),
        ("initech", "USD", "42.50"),
    ]
    first = body["invoices"][0]
    assert first == {
        "invoice_id": late.pk,
        "number": late.number,
        "client_id": billing.client.pk,
        "client": "Globex",
        "code": "globex",
        "currency": "EUR",
        "issue_date": "2026-08-01",
        "due_date": "2026-08-15",
        "days_overdue": 97,
        "bucket": "over_90",
        "gross": "119.00",
        "credited": "0.00",
        "paid": "19.00",
        "balance": "100.00",
        "status": "overdue",
    }
    only = owner_api.get("/receivables", {"client_id": dollars.pk}).json()
    assert [i["code"] for i in only["invoices"]] == ["initech"]


def test_the_statement_as_json(billing, owner_api):
    invoice = document(billing.client, "119.00", on=date(2026, 11, 2), due=date(2026, 12, 2))
    payment = services.record_payment(invoice, paid("150.00", reference="TX-9"), by=billing.owner)
    body = owner_api.get(f"/clients/{billing.client.pk}/statement").json()
    assert (body["start"], body["end"], body["code"]) == ("2026-01-01", "2026-12-31", "globex")
    (euros,) = body["currencies"]
    assert {k: euros[k] for k in ("opening", "debits", "credits", "closing")} == {
        "opening": "0.00",
        "debits": "119.00",
        "credits": "150.00",
        "closing": "-31.00",
    }
    assert euros["rows"] == [
        {
            "date": "2026-11-02",
            "kind": "invoice",
            "reference": invoice.number,
            "due_date": "2026-12-02",
            "details": "due 2026-12-02",
            "invoice_id": invoice.pk,
            "payment_id": None,
            "debit": "119.00",
            "credit": "0.00",
            "balance": "119.00",
        },
        {
            "date": "2026-11-20",
            "kind": "payment",
            "reference": "TX-9",
            "due_date": None,
            "details": f"Bank transfer, ref. TX-9, for {invoice.number}",
            "invoice_id": None,
            "payment_id": payment.pk,
            "debit": "0.00",
            "credit": "150.00",
            "balance": "-31.00",
        },
    ]
    assert body["credit"] == {"EUR": "31.00"}
    earlier = owner_api.get(
        f"/clients/{billing.client.pk}/statement", {"start": "2026-11-03", "end": "2026-11-30"}
    ).json()
    assert earlier["currencies"][0]["opening"] == "119.00"
    assert len(earlier["currencies"][0]["rows"]) == 1


def test_the_statement_as_csv_and_pdf(billing, owner_api):
    document(billing.client, "119.00", on=date(2026, 11, 2))
    url = f"/clients/{billing.client.pk}/statement"
    as_csv = owner_api.get(url, {"format": "csv"})
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv.content.decode().splitlines()[-1] == (
        "2026-12-31,Closing balance,,,,EUR,,,119.00"
    )
    as_pdf = owner_api.get(url, {"format": "pdf"})
    assert as_pdf.status_code == 200
    assert as_pdf["Content-Type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF-")
    assert "statement-globex-2026-01-01-2026-12-31.pdf" in as_pdf["Content-Disposition"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-12-01", "end": "2026-11-01"}, "end"),
        ({"start": "2026-13-01"}, "start"),
        ({"end": "0001-01-01"}, "end"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_bad_statement_queries_are_422_naming_the_field(billing, owner_api, query, field):
    response = owner_api.get(f"/clients/{billing.client.pk}/statement", query)
    assert_error(response, 422, field)


def test_members_get_403_and_outsiders_404(billing, outsider):
    for role in ("member", "manager"):
        api = Api(token_for(getattr(billing, role)))
        assert_error(api.get("/receivables"), 403)
        assert_error(api.get(f"/clients/{billing.client.pk}/statement"), 403)
    rival = Api(token_for(outsider))
    assert_error(rival.get(f"/clients/{billing.client.pk}/statement", {"format": "pdf"}), 404)
    assert_error(rival.get("/receivables", {"client_id": billing.client.pk}), 404)
    document(billing.client, "119.00", on=date(2026, 11, 2))
    assert rival.get("/receivables").json()["invoices"] == []


def test_both_routes_are_in_the_openapi_document(db):
    from tests.api.openapi_walk import document as openapi

    paths = openapi()["paths"]
    assert "get" in paths["/api/v1/receivables"]
    statement = paths["/api/v1/clients/{client_id}/statement"]["get"]
    assert set(statement["responses"]["200"]["content"]) == {
        "application/json",
        "text/csv",
        "application/pdf",
    }
