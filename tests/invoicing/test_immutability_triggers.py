"""The database itself refuses changes to issued invoices and their lines."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from punchclock.invoicing import services
from tests.invoicing.conftest import free_draft


def run(sql: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def issued(billing):
    draft = free_draft(billing, ("Design", "1", "100"))
    return services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 30))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE invoicing_invoice SET gross_total = 0 WHERE id = %s",
        "UPDATE invoicing_invoice SET status = 'draft' WHERE id = %s",
        "DELETE FROM invoicing_invoice WHERE id = %s",
        "UPDATE invoicing_invoiceline SET unit_price = 1 WHERE invoice_id = %s",
        "DELETE FROM invoicing_invoiceline WHERE invoice_id = %s",
        "INSERT INTO invoicing_invoiceline (invoice_id, position, description, quantity, unit,"
        " unit_price, discount_percent, tax_category, tax_rate, additional_tax_name, net_amount)"
        " VALUES (%s, 9, 'x', 1, 'C62', 1, 0, 'S', 19, '', 1)",
    ],
)
def test_raw_sql_cannot_change_an_issued_invoice_or_its_lines(issued, sql):
    # IntegrityError on both databases; DatabaseError is its base class.
    with pytest.raises(DatabaseError, match="immutable"):
        run(sql, issued.pk)
    issued.refresh_from_db()
    assert str(issued.gross_total) == "119.0000"
    assert issued.lines.count() == 1


def test_drafts_stay_editable_with_raw_sql(billing):
    draft = free_draft(billing, ("Design", "1", "100"))
    run("UPDATE invoicing_invoice SET message = 'hello' WHERE id = %s", draft.pk)
    run("UPDATE invoicing_invoiceline SET description = 'Redesign' WHERE invoice_id = %s", draft.pk)
    draft.refresh_from_db()
    assert draft.message == "hello"
    assert draft.lines.get().description == "Redesign"


def test_the_trigger_error_is_an_integrity_error_on_both_databases(issued):
    with pytest.raises(IntegrityError):
        run("UPDATE invoicing_invoice SET gross_total = 0 WHERE id = %s", issued.pk)
    assert connection.vendor in ("sqlite", "postgresql")
