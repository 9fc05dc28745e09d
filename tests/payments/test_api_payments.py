"""The payments API: record, list, balance, credit, refund and delete, with clear refusals."""

from __future__ import annotations

import pytest

from punchclock.payments.models import Payment
from tests.api.helpers import Api, assert_error, token_for
from tests.payments.conftest import issued

pytestmark = pytest.mark.usefixtures("frozen_today")


@pytest.fixture
def owner(billing) -> Api:
    return Api(token_for(billing.owner))


def test_a_payment_is_recorded_listed_refunded_and_the_balance_follows(owner, billing):
    invoice = issued(billing)
    created = owner.post(
        f"/invoices/{invoice.pk}/payments",
        {
            "amount": "150.00",
            "received_on": "2026-11-18",
            "method": "transfer",
            "reference": "RE 1",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["amount"], body["currency"], body["method"]) == ("150.00", "EUR", "transfer")
    assert body["allocations"] == [
        {"invoice_id": invoice.pk, "number": invoice.number, "amount": "119.00"}
    ]
    balance = owner.get(f"/invoices/{invoice.pk}/balance").json()
    assert (balance["status"], balance["balance"]) == ("paid", "0.00")
    assert balance["client_credit"] == {"EUR": "31.00"}
    listed = owner.get("/payments", {"invoice_id": invoice.pk}).json()
    assert [p["id"] for p in listed["items"]] == [body["id"]]
    refund = owner.post(
        f"/payments/{body['id']}/refund", {"amount": "50.00", "refunded_on": "2026-11-19"}
    )
    assert refund.status_code == 201, refund.content
    assert refund.json()["amount"] == "-50.00"
    assert refund.json()["allocations"][0]["amount"] == "-19.00"
    after = owner.get(f"/invoices/{invoice.pk}/balance").json()
    assert (after["status"], after["balance"], after["client_credit"]) == (
        "partially_paid",
        "19.00",
        {},
    )


def test_credit_pays_the_next_invoice(owner, billing):
    first, second = issued(billing), issued(billing, "10.00")
    owner.post(f"/invoices/{first.pk}/payments", {"amount": "200.00", "received_on": "2026-11-18"})
    paid = owner.post(f"/invoices/{second.pk}/apply-credit", {})
    assert paid.status_code == 200, paid.content
    assert (paid.json()["status"], paid.json()["client_credit"]) == ("paid", {"EUR": "69.10"})


def test_bad_payments_are_refused_and_nothing_is_written(owner, billing, outsider):
    invoice = issued(billing)
    path = f"/invoices/{invoice.pk}/payments"
    assert_error(owner.post(path, {"amount": "0", "received_on": "2026-11-18"}), 422)
    assert_error(owner.post(path, {"amount": "-5", "received_on": "2026-11-18"}), 422)
    assert_error(owner.post(path, {"amount": "5", "received_on": "2030-01-01"}), 422)
    assert_error(
        owner.post(path, {"amount": "5", "received_on": "2026-11-18", "currency": "CHF"}), 422
    )
    assert_error(
        owner.post(path, {"amount": "5", "received_on": "2026-11-18", "method": "gold"}), 422
    )
    assert_error(owner.post(path, {"amount": "5", "received_on": "2026-11-18", "tip": "1"}), 422)
    assert_error(
        owner.post("/invoices/999999/payments", {"amount": "5", "received_on": "2026-11-18"}), 404
    )
    # Another organization's invoice does not exist for this token.
    assert_error(
        Api(token_for(outsider)).post(path, {"amount": "5", "received_on": "2026-11-18"}), 404
    )
    # Members may not record payments.
    assert_error(
        Api(token_for(billing.member)).post(path, {"amount": "5", "received_on": "2026-11-18"}), 403
    )
    assert not Payment.objects.exists()


def test_a_mistaken_payment_is_deleted(owner, billing):
    invoice = issued(billing)
    body = owner.post(
        f"/invoices/{invoice.pk}/payments", {"amount": "19.00", "received_on": "2026-11-18"}
    ).json()
    assert owner.delete(f"/payments/{body['id']}").status_code == 204
    assert owner.get(f"/invoices/{invoice.pk}/balance").json()["balance"] == "119.00"
    assert_error(owner.delete(f"/payments/{body['id']}"), 404)
