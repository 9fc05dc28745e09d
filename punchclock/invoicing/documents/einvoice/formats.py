"""The e-invoice formats Punchclock produces, and the Factur-X PDF that carries one.

Every issued document that EN 16931 can express gets its CII embedded in the PDF
(Factur-X, profile EN 16931); the XML formats are written from the same frozen model on
request, so they always say what the stored PDF says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from punchclock.core.money import minor_units
from punchclock.invoicing.documents.einvoice import cii, ubl
from punchclock.invoicing.documents.einvoice.model import (
    EN16931,
    PEPPOL,
    XRECHNUNG,
    EInvoice,
    EInvoiceError,
    Specification,
    cius_gaps,
    from_invoice,
)
from punchclock.invoicing.documents.einvoice.validation import Report, validate
from punchclock.invoicing.models import Invoice

FACTURX_FILENAME = "factur-x.xml"


@dataclass(frozen=True)
class Format:
    code: str
    label: str
    write: Callable[[EInvoice, Specification], bytes]
    specification: Specification
    suffix: str


FORMATS = {
    f.code: f
    for f in (
        Format("cii", "CII (EN 16931)", cii.to_cii, EN16931, "cii"),
        Format("ubl", "UBL 2.1 (EN 16931)", ubl.to_ubl, EN16931, "ubl"),
        Format("xrechnung-ubl", "XRechnung 3.0, UBL", ubl.to_ubl, XRECHNUNG, "xrechnung-ubl"),
        Format("xrechnung-cii", "XRechnung 3.0, CII", cii.to_cii, XRECHNUNG, "xrechnung-cii"),
        Format("peppol", "Peppol BIS Billing 3.0", ubl.to_ubl, PEPPOL, "peppol"),
    )
}


def not_applicable(invoice: Invoice) -> str:
    """Why EN 16931 cannot express this document at all ("" when it can).

    Such documents (a second tax beside VAT, currencies with three decimals) are issued as
    plain PDFs; every other document must make a valid e-invoice to be issued."""
    if minor_units(invoice.currency) > 2:
        return f"{invoice.currency} has {minor_units(invoice.currency)} decimals"
    if invoice.lines.exclude(additional_tax_rate=None).exists():
        return "a second tax beside VAT"
    return ""


def write(invoice: Invoice, code: str, model: EInvoice | None = None) -> bytes:
    """The document in one of FORMATS; raises EInvoiceError when it cannot be one.

    A caller that already built the model (and so checked `not_applicable`) passes it."""
    found = FORMATS.get(code)
    if found is None:
        raise EInvoiceError(f"Unknown format “{code}”; use one of {', '.join(FORMATS)}.")
    if model is None:
        reason = not_applicable(invoice)
        if reason:
            raise EInvoiceError(f"This document has no e-invoice: {reason}.")
        model = from_invoice(invoice)
    gaps = cius_gaps(model, found.specification)
    if gaps:
        raise EInvoiceError(f"{found.label} needs " + "; ".join(gaps) + ".")
    return found.write(model, found.specification)


@dataclass(frozen=True)
class FormatCheck:
    """One format of a document checked against the official rules, or why it has none."""

    code: str
    label: str
    report: Report | None
    problem: str = ""


def check_all(invoice: Invoice) -> list[FormatCheck]:
    """Every format of an issued document, written from one model and validated."""
    model = None
    if not not_applicable(invoice):
        try:
            model = from_invoice(invoice)
        except EInvoiceError as exc:
            return [FormatCheck(f.code, f.label, None, str(exc)) for f in FORMATS.values()]
    checks = []
    for code, found in FORMATS.items():
        try:
            xml = write(invoice, code, model)
        except EInvoiceError as exc:
            checks.append(FormatCheck(code, found.label, None, str(exc)))
        else:
            checks.append(FormatCheck(code, found.label, validate(xml)))
    return checks


def filename(invoice: Invoice, code: str) -> str:
    return f"{invoice.number}-{FORMATS[code].suffix}.xml"


def embed_facturx(pdf: bytes, xml: bytes, *, lang: str) -> bytes:
    """The PDF/A-3b with the CII attached as factur-x.xml and Factur-X XMP (EN 16931)."""
    import facturx

    result: bytes = facturx.generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931", check_xsd=False, lang=lang
    )
    return result
