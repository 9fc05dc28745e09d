"""`punch expense` and `punch rates` against a live test server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from punchclock.accounts.services import create_api_token
from punchclock.cli.main import main
from punchclock.expenses.models import ExchangeRate, Expense
from punchclock.expenses.services import create_starter_categories
from tests.expenses.conftest import pdf_bytes


@pytest.fixture
def punch_as(agency, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    create_starter_categories(agency.organization)

    def make(membership):
        _, raw = create_api_token(membership=membership, name="cli", scope="write")
        env = {
            "PUNCH_CONFIG": str(tmp_path / f"config-{membership.pk}.json"),
            "PUNCH_URL": live_server.url,
            "PUNCH_TOKEN": raw,
        }
        runner = CliRunner()

        def run(*args: str):
            return runner.invoke(main, list(args), env=env)

        return run

    return make


@pytest.mark.django_db(transaction=True)
def test_an_expense_with_its_receipt_from_the_terminal(agency, punch_as, tmp_path):
    punch = punch_as(agency.member)
    ticket = tmp_path / "ticket.pdf"
    ticket.write_bytes(pdf_bytes())
    added = punch(
        "expense",
        "add",
        "globex",
        "42.50",
        "eur",
        "Train to client",
        "--category",
        "travel",
        "--receipt",
        str(ticket),
        "--date",
        "yesterday",
        "--reimbursable",
    )
    assert added.exit_code == 0, added.output
    assert "Recorded expense" in added.output
    assert "42.50 EUR Travel for Globex" in added.output
    expense = Expense.objects.get()
    assert (expense.membership, expense.reimbursable) == (agency.member, True)
    assert [r.original_name for r in expense.receipts.all()] == ["ticket.pdf"]

    mileage = punch("expense", "add", "globex/api", "120", "km", "Drive", "-c", "mileage")
    assert mileage.exit_code == 0, mileage.output
    assert "36.00 EUR Mileage for globex/api" in mileage.output

    listed = punch("expense", "list", "--period", "all", "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert data["count"] == 2
    assert {e["description"] for e in data["items"]} == {"Train to client", "Drive"}
    table = punch("expense", "list", "--period", "all")
    assert "[receipt]" in table.output
    assert "Total 78.50 EUR" in table.output


@pytest.mark.django_db(transaction=True)
def test_rates_are_imported_from_a_file(agency, punch_as, ecb_file, tmp_path):
    punch = punch_as(agency.owner)
    rates = tmp_path / "eurofxref-daily.xml"
    rates.write_bytes(ecb_file)
    imported = punch("rates", "import", str(rates))
    assert imported.exit_code == 0, imported.output
    assert f"Imported {ExchangeRate.objects.count()} exchange rates" in imported.output
    again = punch("rates", "import", str(rates))
    assert "No new rates" in again.output


@pytest.mark.django_db(transaction=True)
def test_bad_input_is_a_message_and_exit_code_1(agency, punch_as, tmp_path):
    punch = punch_as(agency.member)
    no_rate = punch("expense", "add", "globex", "10", "USD", "Lunch", "-c", "travel")
    assert no_rate.exit_code == 1
    assert "No exchange rate for USD" in no_rate.output
    bad_day = punch("expense", "add", "globex", "10", "EUR", "Lunch", "--date", "someday")
    assert (bad_day.exit_code, "is not a date" in bad_day.output) == (1, True)
    missing = punch("expense", "add", "globex", "10", "EUR", "Lunch", "--receipt", "nope.pdf")
    assert (missing.exit_code, "Cannot read the receipt" in missing.output) == (1, True)
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"MZ not a pdf")
    refused = punch(
        "expense", "add", "globex", "10", "EUR", "Lunch", "-c", "trav", "--receipt", str(fake)
    )
    assert refused.exit_code == 1
    assert "receipt was refused" in refused.output
    not_allowed = punch("rates", "import", str(fake))
    assert not_allowed.exit_code == 4
    for result in (no_rate, bad_day, missing, refused, not_allowed):
        assert "Traceback" not in result.output
    assert not Expense.objects.exists()
