"""The hash chain names the first issued document that was altered, removed or inserted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection

from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice
from tests.invoicing.conftest import free_draft, triggers_disabled


def issue_three(agency) -> list[Invoice]:
    invoices = []
    for day in (1, 2, 3):
        draft = free_draft(agency, (f"Work {day}", "1", "100"))
        invoices.append(
            services.issue_invoice(draft, by=agency.owner, issue_date=date(2026, 12, day))
        )
    return invoices


def test_each_document_is_chained_to_the_previous_one(billing):
    first, second, third = issue_three(billing)
    assert first.previous_hash == ""
    assert second.previous_hash == first.sha256
    assert third.previous_hash == second.sha256
    assert services.verify_chain(billing.organization) is None


def test_a_credit_note_joins_the_same_chain(billing):
    *_, third = issue_three(billing)
    note = services.credit_invoice(third, by=billing.owner, issue_date=date(2026, 12, 3))
    assert note.previous_hash == third.sha256
    assert services.verify_chain(billing.organization) is None


def test_a_raw_change_past_the_trigger_is_named(billing):
    _, second, _ = issue_three(billing)
    with triggers_disabled(), connection.cursor() as cursor:
        cursor.execute("UPDATE invoicing_invoice SET gross_total = 0 WHERE id = %s", [second.pk])
    found = services.verify_chain(billing.organization)
    assert found is not None
    assert (found.invoice, found.reason) == (second, "content was altered")


def test_a_changed_line_is_named(billing):
    first, _, _ = issue_three(billing)
    with triggers_disabled(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoiceline SET description = 'x' WHERE invoice_id = %s", [first.pk]
        )
    found = services.verify_chain(billing.organization)
    assert found is not None
    assert found.invoice == first


def test_a_removed_document_is_named_by_its_successor(billing):
    _, second, third = issue_three(billing)
    with triggers_disabled(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM invoicing_invoicedocument WHERE invoice_id = %s", [second.pk])
        cursor.execute("DELETE FROM invoicing_invoiceevent WHERE invoice_id = %s", [second.pk])
        cursor.execute("DELETE FROM invoicing_invoiceline WHERE invoice_id = %s", [second.pk])
        cursor.execute("DELETE FROM invoicing_invoice WHERE id = %s", [second.pk])
    found = services.verify_chain(billing.organization)
    assert found is not None
    assert (found.invoice, found.reason) == (third, "document 2 is missing")


def test_a_removed_last_document_is_noticed(billing):
    *_, third = issue_three(billing)
    with triggers_disabled(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM invoicing_invoicedocument WHERE invoice_id = %s", [third.pk])
        cursor.execute("DELETE FROM invoicing_invoiceevent WHERE invoice_id = %s", [third.pk])
        cursor.execute("DELETE FROM invoicing_invoiceline WHERE invoice_id = %s", [third.pk])
        cursor.execute("DELETE FROM invoicing_invoice WHERE id = %s", [third.pk])
    found = services.verify_chain(billing.organization)
    assert found is not None
    assert found.position == 3
    assert found.invoice is None


def test_other_organizations_have_their_own_chain(billing, outsider):
    issue_three(billing)
    assert services.verify_chain(outsider.organization) is None


def test_documents_without_surcharges_hash_as_before_surcharges_existed(billing):
    first, *_ = issue_three(billing)
    lines = list(first.lines.all())
    # Invoices issued before surcharges existed must keep verifying: their bytes are unchanged.
    assert b"surcharge" not in services.canonical_document(first, lines)


def test_a_lowered_surcharge_is_named(billing):
    draft = free_draft(billing, ("Work", "1", "100"))
    services.set_surcharge(draft, by=billing.owner, surcharge_percent=Decimal(20), reason="Rush")
    invoice = services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 12, 1))
    assert b'"surcharge_reason":"Rush"' in services.canonical_document(
        invoice, list(invoice.lines.all())
    )
    with triggers_disabled(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoice SET surcharge_percent = 10 WHERE id = %s", [invoice.pk]
        )
    found = services.verify_chain(billing.organization)
    assert found is not None
    assert found.invoice == invoice
