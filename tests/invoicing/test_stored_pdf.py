"""Issuing stores the rendered PDF once; downloads return those bytes, which never change."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from punchclock.invoicing import services
from punchclock.invoicing.models import InvoiceDocument
from tests.conftest import login
from tests.invoicing.conftest import NOVEMBER, at, track


def _issued(agency):
    track(agency.member, agency.project, at(2), 90)
    draft = services.create_draft(
        agency.client, by=agency.owner, period_start=NOVEMBER[0], period_end=NOVEMBER[1]
    )
    return services.issue_invoice(draft, by=agency.owner, issue_date=date(2026, 11, 30))


def test_issuing_stores_the_pdf_and_its_hash(billing):
    invoice = _issued(billing)
    stored = InvoiceDocument.objects.get(invoice=invoice)
    content = bytes(stored.content)
    assert content.startswith(b"%PDF-")
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert invoice.events.get(kind="issued").detail["pdf_sha256"] == stored.sha256


def test_the_download_is_the_stored_bytes_even_after_the_client_changes(billing):
    invoice = _issued(billing)
    stored = bytes(InvoiceDocument.objects.get(invoice=invoice).content)
    billing.client.name = "Globex Renamed Corp"
    billing.client.save()
    response = login(billing.owner).get(reverse("invoicing:pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == stored


def test_a_draft_gets_a_live_preview_and_members_get_nothing(billing):
    draft = services.start_draft(billing.client, by=billing.owner)
    preview = login(billing.owner).get(reverse("invoicing:pdf", args=[draft.pk]))
    assert preview.status_code == 200
    assert preview.content.startswith(b"%PDF-")
    assert not InvoiceDocument.objects.exists()
    assert login(billing.member).get(reverse("invoicing:pdf", args=[draft.pk])).status_code == 403


def test_the_database_refuses_to_change_a_stored_document(billing):
    invoice = _issued(billing)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoicedocument SET sha256 = 'x' WHERE invoice_id = %s",
            [invoice.pk],
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM invoicing_invoicedocument WHERE invoice_id = %s", [invoice.pk])
    assert InvoiceDocument.objects.filter(invoice=invoice).count() == 1


def test_punch_verify_reports_intact_and_broken_chains(billing):
    from click.testing import CliRunner

    from punchclock.cli.main import main
    from punchclock.invoicing.models import Invoice
    from tests.invoicing.conftest import triggers_disabled

    invoice = _issued(billing)
    intact = CliRunner().invoke(main, ["verify"])
    assert intact.exit_code == 0, intact.output
    assert "Acme Agency: intact (1 documents)" in intact.output
    with triggers_disabled():
        Invoice.objects.filter(pk=invoice.pk).update(net_total=1)
    broken = CliRunner().invoke(main, ["verify"])
    assert broken.exit_code == 1
    assert "BROKEN at position 1" in broken.output
    assert CliRunner().invoke(main, ["verify", "--organization", "999999"]).exit_code == 1
