"""Issued PDFs are Factur-X (EN 16931); a document that would break the rules is not issued."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import facturx
import pytest
from django.core.exceptions import ValidationError
from lxml import etree
from pypdf import PdfReader

from punchclock.invoicing import services
from punchclock.invoicing.documents.einvoice import validation
from punchclock.invoicing.models import Invoice, InvoiceDocument
from tests.invoicing.conftest import free_draft

RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"


def _issued(agency, *lines):
    draft = free_draft(agency, *(lines or [("Consulting", "3", "120.00")]))
    return services.issue_invoice(draft, by=agency.owner, issue_date=date(2026, 11, 20))


def _stored(invoice: Invoice) -> bytes:
    return bytes(InvoiceDocument.objects.get(invoice=invoice).content)


def test_the_stored_pdf_carries_a_valid_en16931_cii_with_the_stored_totals(billing):
    invoice = _issued(billing, ("Consulting", "3", "120.00"), ("Hosting", "1", "39.99"))
    pdf = _stored(invoice)
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml"
    assert validation.validate(xml).valid
    root = etree.fromstring(xml)
    summation = root.find(f".//{RAM}SpecifiedTradeSettlementHeaderMonetarySummation")
    assert Decimal(summation.findtext(f"{RAM}TaxBasisTotalAmount")) == invoice.net_total
    assert Decimal(summation.findtext(f"{RAM}TaxTotalAmount")) == invoice.tax_total
    assert Decimal(summation.findtext(f"{RAM}GrandTotalAmount")) == invoice.gross_total
    assert root.findtext(".//{*}ExchangedDocument/{*}ID") == invoice.number
    metadata = PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"]
    xmp = metadata.get_object().get_data().decode()
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert "<pdfaid:part>3</pdfaid:part>" in xmp


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
def test_qpdf_finds_no_structural_error(billing, tmp_path):
    path = tmp_path / "invoice.pdf"
    path.write_bytes(_stored(_issued(billing)))
    checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors" in checked.stdout


def test_a_credit_note_is_a_381_referencing_its_invoice(billing):
    invoice = _issued(billing)
    note = services.credit_invoice(invoice, by=billing.owner, issue_date=date(2026, 11, 21))
    _name, xml = facturx.get_xml_from_pdf(_stored(note), check_xsd=True)
    assert validation.validate(xml).valid
    root = etree.fromstring(xml)
    assert root.findtext(".//{*}ExchangedDocument/{*}TypeCode") == "381"
    assert root.findtext(f".//{RAM}InvoiceReferencedDocument/{RAM}IssuerAssignedID") == (
        invoice.number
    )
    grand = root.findtext(f".//{RAM}GrandTotalAmount")
    assert Decimal(grand) == -note.gross_total > 0


def test_a_seller_without_tax_identity_cannot_issue_and_learns_why(agency):
    draft = free_draft(agency, ("Consulting", "1", "100"))
    with pytest.raises(ValidationError) as caught:
        services.issue_invoice(draft, by=agency.owner)
    message = " ".join(caught.value.message_dict["einvoice"])
    assert "BR-S-02" in message or "BR-CO-26" in message
    draft.refresh_from_db()
    assert draft.is_draft
    assert not InvoiceDocument.objects.exists()


def test_a_xrechnung_client_without_leitweg_id_is_refused_by_name(billing):
    billing.client.einvoice_format = "xrechnung-ubl"
    billing.client.save()
    draft = free_draft(billing, ("Consulting", "1", "100"))
    with pytest.raises(ValidationError) as caught:
        services.issue_invoice(draft, by=billing.owner)
    message = " ".join(caught.value.message_dict["einvoice"])
    assert "XRechnung 3.0, UBL" in message
    assert "BT-10" in message
    draft.refresh_from_db()
    assert draft.is_draft


def test_a_document_en16931_cannot_express_is_issued_as_a_plain_pdf(billing):
    draft = services.start_draft(billing.client, by=billing.owner)
    services.add_line(
        draft,
        by=billing.owner,
        description="Consulting in Québec",
        quantity=Decimal(1),
        unit_price=Decimal(100),
        tax_category="S",
        tax_rate=Decimal(5),
        additional_tax_name="QST",
        additional_tax_rate=Decimal("9.975"),
    )
    invoice = services.issue_invoice(draft, by=billing.owner)
    pdf = _stored(invoice)
    assert pdf.startswith(b"%PDF-")
    assert b"factur-x.xml" not in pdf


def test_not_subject_lines_need_their_own_document_and_a_registration_number(billing):
    draft = free_draft(billing, ("Consulting", "1", "100"))
    services.add_line(
        draft,
        by=billing.owner,
        description="Insurance passed on",
        quantity=Decimal(1),
        unit_price=Decimal(20),
        tax_category="O",
        tax_rate=Decimal(0),
    )
    with pytest.raises(ValidationError, match="BR-O-11"):
        services.issue_invoice(draft, by=billing.owner)
    services.delete_line(draft.lines.get(position=1), by=billing.owner)
    with pytest.raises(ValidationError) as caught:
        services.issue_invoice(draft, by=billing.owner)
    assert "BT-30" in " ".join(caught.value.message_dict["registration_number"])
    billing.organization.registration_number = "HRB 123456 B"
    billing.organization.save()
    issued = services.issue_invoice(draft, by=billing.owner)
    _name, xml = facturx.get_xml_from_pdf(_stored(issued), check_xsd=True)
    assert validation.validate(xml).valid
    assert b"HRB 123456 B" in xml
    assert b"DE811907980" not in xml  # BR-O-02: no VAT identifiers


def test_vat_on_a_foreign_currency_invoice_is_also_stated_in_the_home_currency(billing):
    from punchclock.expenses.services import set_manual_rate
    from punchclock.invoicing.documents.einvoice import formats

    billing.client.currency = "USD"
    billing.client.save()
    draft = free_draft(billing, ("Consulting", "3", "120.00"))  # 360.00 USD + 19 % = 68.40
    with pytest.raises(ValidationError, match="No exchange rate for USD"):
        services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 20))
    # 1 EUR = 1.0800 USD, so 1 USD = 0.925926 EUR; 68.40 USD of VAT = 63.33 EUR.
    set_manual_rate(
        billing.organization,
        by=billing.owner,
        currency="USD",
        rate=Decimal("1.08"),
        on=date(2026, 11, 19),
    )
    invoice = services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 11, 20))
    converted = invoice.snapshot["tax_currency"]
    assert (converted["code"], converted["tax_total"], converted["rate_date"]) == (
        "EUR",
        "63.33",
        "2026-11-19",
    )
    for code in ("ubl", "cii"):
        xml = formats.write(invoice, code)
        assert validation.validate(xml).valid
        root = etree.fromstring(xml)
        assert root.findtext(".//{*}TaxCurrencyCode") == "EUR"
        amounts = {
            (e.get("currencyID"), e.text)
            for e in root.iter("{*}TaxAmount", "{*}TaxTotalAmount")
            if e.get("currencyID")
        }
        assert ("EUR", "63.33") in amounts
        assert ("USD", "68.40") in amounts
    note = services.credit_invoice(invoice, by=billing.owner, issue_date=date(2026, 11, 28))
    assert note.snapshot["tax_currency"]["rate"] == converted["rate"]
    assert note.snapshot["tax_currency"]["tax_total"] == "-63.33"
    _name, xml = facturx.get_xml_from_pdf(_stored(note), check_xsd=True)
    assert validation.validate(xml).valid
