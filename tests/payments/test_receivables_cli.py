"""`punch owed`, `punch statement` and `punch payment` against a live test server."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from punchclock.payments.balances import balance_of, client_credit
from punchclock.payments.models import Payment
from tests import factories
from tests.payments.conftest import TODAY
from tests.payments.receivables_factories import document
from tests.payments.test_receivables_api import api_on_today  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today", "api_on_today", "wipe_invoices_after"),
]


def test_owed_prints_open_invoices_and_totals_per_currency(billing, punch_as):
    dollars = factories.make_client(billing.organization, "Initech", code="initech", currency="USD")
    late = document(billing.client, "119.00", on=date(2026, 8, 1), due=date(2026, 8, 15))
    soon = document(dollars, "42.50", on=date(2026, 11, 19), due=date(2026, 12, 19))
    punch = punch_as(billing.owner)
    paid = punch("payment", "add", late.number, "19.00", "--date", "2026-11-20")
    assert paid.exit_code == 0, paid.output

    table = punch("owed")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["Client", "Invoice", "Due", "Overdue", "Balance"]
    assert lines[1].split() == ["Globex", late.number, "2026-08-15", "97", "days", "100.00", "EUR"]
    assert lines[2].split() == ["Initech", soon.number, "2026-12-19", "not", "due", "42.50", "USD"]
    assert lines[4:] == [
        "Total owed: 100.00 EUR (100.00 overdue)",
        "Total owed: 42.50 USD (none overdue)",
    ]

    as_json = punch("owed", "--json")
    data = json.loads(as_json.output)
    assert [(t["currency"], t["outstanding"]) for t in data["totals"]] == [
        ("EUR", "100.00"),
        ("USD", "42.50"),
    ]
    one = punch("owed", "--client", "initech")
    assert "Initech" in one.output
    assert "Globex" not in one.output


def test_payments_by_number_and_by_id_then_the_list(billing, punch_as):
    invoice = document(billing.client, "119.00", on=date(2026, 11, 2))
    punch = punch_as(billing.owner)
    first = punch(
        "payment",
        "add",
        invoice.number,
        "100.00",
        "--date",
        "2026-11-19",
        "--method",
        "transfer",
        "--reference",
        "TX-1",
    )
    assert first.exit_code == 0, first.output
    payment = Payment.objects.get()
    assert first.output.splitlines() == [
        f"Recorded payment {payment.pk}: 100.00 EUR from Globex, received 2026-11-19 by transfer.",
        f"Paid: {invoice.number} 100.00.",
    ]
    assert (payment.reference, payment.received_on) == ("TX-1", date(2026, 11, 19))

    second = punch(
        "payment",
        "add",
        str(invoice.pk),
        "50.00",
        "--date",
        "2026-11-20",
        "--method",
        "cash",
        "--note",
        "at the desk",
    )
    assert second.exit_code == 0, second.output
    assert f"Paid: {invoice.number} 19.00." in second.output
    assert "Kept as credit: 31.00 EUR." in second.output
    assert balance_of(invoice, TODAY).balance == 0
    assert client_credit(billing.client.pk) == {"EUR": Decimal("31.00")}

    listed = punch("payment", "list", "--client", "globex")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["ID", "Received", "Amount", "Method", "Client", "Paid"]
    assert lines[1].split()[1:] == [
        "2026-11-20",
        "50.00",
        "EUR",
        "cash",
        "Globex",
        invoice.number,
        "19.00",
    ]
    assert lines[2].split()[1:] == [
        "2026-11-19",
        "100.00",
        "EUR",
        "transfer",
        "Globex",
        invoice.number,
        "100.00",
    ]
    data = json.loads(punch("payment", "list", "--json").output)
    assert data["count"] == 2
    assert data["items"][0]["note"] == "at the desk"


def test_a_payment_in_another_currency(billing, punch_as):
    invoice = document(billing.client, "119.00", on=date(2026, 11, 2))
    punch = punch_as(billing.owner)
    result = punch(
        "payment",
        "add",
        invoice.number,
        "100.00",
        "--date",
        "2026-11-20",
        "--currency",
        "usd",
        "--rate",
        "0.9",
        "--json",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert (created["amount"], created["currency"], created["exchange_rate"]) == (
        "100.00",
        "USD",
        "0.9",
    )
    assert created["allocations"][0]["amount"] == "90.00"


def test_the_statement_prints_and_downloads(billing, punch_as, tmp_path):
    invoice = document(billing.client, "119.00", on=date(2026, 11, 2), due=date(2026, 12, 2))
    document(billing.client, "80.00", on=date(2025, 12, 1))
    punch = punch_as(billing.owner)
    punch("payment", "add", invoice.number, "50.00", "--date", "2026-11-20")
    shown = punch("statement", "globex")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == "Statement of account: Globex (globex), 2026-01-01 to 2026-12-31"
    assert lines[2] == "EUR"
    assert lines[4].split() == ["2026-01-01", "Opening", "balance", "80.00"]
    assert lines[5].split() == [
        "2026-11-02",
        "Invoice",
        invoice.number,
        "due",
        "2026-12-02",
        "119.00",
        "199.00",
    ]
    assert lines[6].split()[:2] == ["2026-11-20", "Payment"]
    assert lines[6].split()[-2:] == ["50.00", "149.00"]
    assert lines[7].split() == ["2026-12-31", "Closing", "balance", "149.00"]

    autumn = json.loads(punch("statement", "globex", "--from", "2026-11-03", "--json").output)
    assert autumn["currencies"][0]["opening"] == "199.00"

    pdf, sheet = tmp_path / "globex.pdf", tmp_path / "globex.csv"
    written = punch(
        "statement", "globex", "--to", "2026-11-30", "--pdf", str(pdf), "--csv", str(sheet)
    )
    assert written.exit_code == 0, written.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert sheet.read_text().splitlines()[-1] == "2026-11-30,Closing balance,,,,EUR,,,149.00"
    assert f"Wrote {pdf}" in written.output


def test_mistakes_are_one_line_messages_with_exit_codes_and_write_nothing(
    billing, punch_as, tmp_path
):
    invoice = document(billing.client, "119.00", on=date(2026, 11, 2))
    punch = punch_as(billing.owner)
    cases = [
        (punch("payment", "add", "2099-9999", "10.00"), 1, "There is no invoice 2099-9999"),
        (punch("payment", "add", invoice.number, "ten"), 1, "“ten” is not an amount"),
        (punch("payment", "add", invoice.number, "NaN"), 1, "“NaN” is not an amount"),
        (punch("payment", "add", invoice.number, "0", "--date", "2026-11-20"), 1, "amount"),
        (punch("payment", "add", invoice.number, "5", "--date", "someday"), 1, "is not a date"),
        (punch("payment", "add", invoice.number, "5", "--method", "gold"), 2, "gold"),
        (
            punch(
                "payment",
                "add",
                invoice.number,
                "5",
                "--date",
                "2026-11-20",
                "--currency",
                "XYZ",
                "--rate",
                "1.1",
            ),
            1,
            "currency",
        ),
        (punch("statement", "nobody"), 1, "There is no client “nobody”"),
        (punch("statement", "globex", "--from", "2026-12-01", "--to", "2026-01-01"), 1, "end"),
        (punch("owed", "--client", "nobody"), 1, "There is no client “nobody”"),
        (punch_as(billing.member)("owed"), 4, "does not allow"),
        (punch_as(billing.member)("payment", "add", invoice.number, "5"), 4, "does not allow"),
    ]
    for result, code, message in cases:
        assert result.exit_code == code, (result.output, message)
        assert message in result.output
        assert "Traceback" not in result.output
    assert not Payment.objects.exists()
    assert punch("payment", "list").output == "No payments.\n"


def test_owed_says_when_nothing_is_owed(billing, punch_as):
    assert punch_as(billing.owner)("owed").output == "Nothing is owed to you.\n"
