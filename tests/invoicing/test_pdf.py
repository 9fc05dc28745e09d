"""Invoices rendered as PDF/A-3b with Typst, in English, German and French."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from punchclock.invoicing import services
from punchclock.invoicing.documents.pdf import (
    DocumentError,
    document_data,
    epc_payload,
    render_pdf,
)
from punchclock.invoicing.models import Invoice
from tests.invoicing.conftest import free_draft

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def issued(billing, language: str = "en", lines: int = 3) -> Invoice:
    org = billing.organization
    org.iban = "DE89 3704 0044 0532 0130 00"
    org.bic = "COBADEFFXXX"
    org.address_line1 = "Hauptstraße 1"
    org.postal_code = "10115"
    org.city = "Berlin"
    org.country = "DE"
    org.save()
    draft = free_draft(
        billing,
        *[(f"Development work, sprint {n}", "7.5", "100") for n in range(1, lines + 1)],
    )
    draft.language = language
    draft.message = "Thank you for your business."
    draft.save()
    return services.issue_invoice(draft, by=billing.owner)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_issued_invoice_renders_in_each_language(billing, language):
    invoice = issued(billing, language)
    pdf = render_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    assert 5_000 < len(pdf) < 2_000_000
    assert b"pdfaid" in pdf  # PDF/A-3b metadata
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"invoice-{language}.pdf").write_bytes(pdf)


def test_german_invoice_has_german_labels_and_formats(billing):
    invoice = issued(billing, "de")
    data, _ = document_data(invoice)
    assert data["title"] == "Rechnung"
    assert data["labels"]["description"] == "Beschreibung"
    assert data["lines"][0]["quantity"] == "7,5"
    assert data["lines"][0]["unit_price"] == "100,00\xa0€"
    assert data["lines"][0]["unit"] in {"Std.", "Stk.", "Tage"}


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) missing")
def test_a_quantity_shows_every_stored_decimal_so_it_multiplies_to_the_amount(billing):
    # 11.3347 h at 95.00 is 1,076.80; shown as 11.335 it would read as 1,076.83.
    draft = free_draft(billing, ("Overage", "11.3347", "95"), ("Hosting", "1", "49"))
    data, _ = document_data(services.issue_invoice(draft, by=billing.owner))
    assert [line["quantity"] for line in data["lines"]] == ["11.3347", "1"]


def test_german_pdf_text(billing):
    pdf = render_pdf(issued(billing, "de"))
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Rechnung" in text
    assert "Seite 1 von 1" in text
    assert "Beschreibung" in text


def test_issued_invoice_ignores_later_client_edits(billing):
    invoice = issued(billing)
    billing.client.name = "Renamed Corp"
    billing.client.save()
    invoice.refresh_from_db()
    data, _ = document_data(invoice)
    assert data["buyer"]["name"] == "Globex"


def test_multi_page_invoice_with_80_lines(billing):
    invoice = issued(billing, "en", lines=80)
    pdf = render_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") >= 2 or pdf.count(b"/Type/Page") >= 2 or len(pdf) > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "invoice-80-lines.pdf").write_bytes(pdf)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
        pages = int(
            next(x for x in info.stdout.decode().splitlines() if x.startswith("Pages:")).split()[1]
        )
        assert pages >= 2


def test_eur_invoice_has_epc_qr_code(billing):
    invoice = issued(billing)
    data, svg = document_data(invoice)
    assert svg.startswith("<svg")
    payload = epc_payload(data["epc"])
    assert "DE89370400440532013000" in payload
    amount = next(x for x in payload.splitlines() if x.startswith("EUR"))
    assert Decimal(amount[3:]) == invoice.gross_total


@pytest.mark.parametrize(
    ("name", "text", "declared"),
    [
        ("Müller & Söhne GmbH", "Rechnung 2026-0008 für Straße", "2"),  # fits Latin-1
        ("Northwind", "Invoice 2026-0001 — €", "1"),  # needs UTF-8
    ],
)
def test_the_epc_payload_declares_the_encoding_it_uses(name, text, declared):
    epc = {
        "name": name,
        "iban": "DE89370400440532013000",
        "bic": "",
        "amount": "12.00",
        "text": text,
    }
    payload = epc_payload(epc)
    lines = payload.splitlines()
    assert lines[:4] == ["BCD", "002", declared, "SCT"]
    assert (lines[5], lines[-1]) == (name, text)


def test_credit_note_is_titled_and_references_original(billing):
    invoice = issued(billing, "de")
    note = services.credit_invoice(invoice, by=billing.owner)
    data, svg = document_data(note)
    assert data["title"] == "Gutschrift"
    assert data["credits_number"] == invoice.number
    assert svg == ""
    pdf = render_pdf(note)
    assert pdf.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "credit-note-de.pdf").write_bytes(pdf)


def test_draft_renders_as_preview(billing):
    draft = free_draft(billing, ("Consulting", "2", "150"))
    data, _ = document_data(draft)
    assert data["is_draft"] is True
    assert render_pdf(draft).startswith(b"%PDF")


def test_reverse_charge_note_names_buyer_vat_id(billing):
    draft = free_draft(billing, ("Consulting", "2", "150"))
    line = draft.lines.get()
    services.update_line(line, by=billing.owner, tax_category="AE", tax_rate=Decimal(0))
    billing.client.vat_id = "FR40303265045"
    billing.client.save()
    data, _ = document_data(draft)
    assert any("Article 196" in note and "FR40303265045" in note for note in data["notes"])


def test_broken_template_raises_document_error(billing):
    invoice = issued(billing)
    with pytest.raises(DocumentError, match="does not compile"):
        render_pdf(invoice, template="#let x = (\n#undefined-function()")


def test_render_time_with_reused_compiler(billing):
    invoice = issued(billing)
    render_pdf(invoice)  # warm up: fonts load once per process
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        render_pdf(invoice)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"\nmedian render of a one-page invoice: {statistics.median(timings):.1f} ms")
