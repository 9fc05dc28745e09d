"""Invoices and credit notes as PDF/A-3b, rendered with Typst.

`render_pdf` only reads: an issued document is drawn from its snapshot and its stored
lines and totals, so later edits of the organization or client never change it; a draft
is drawn from the live data (and marked as a draft). Only the design – logo and brand
colour – is read from the organization at render time.
"""

from __future__ import annotations

import io
import json
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import segno
import segno.helpers
import typst
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from punchclock.core.money import Money
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing import services
from punchclock.invoicing.models import (
    BilledEntry,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSettings,
    TaxCategory,
)

DEFAULT_TEMPLATE = Path(__file__).with_name("invoice.typ")
FONTS = ["Inter", "Liberation Sans", "DejaVu Sans", "Libertinus Serif"]
# Each style falls back to faces that ship inside Typst.
FONT_STYLES = {
    "sans": FONTS,
    "serif": ["Libertinus Serif", "DejaVu Sans"],
    "classic": ["New Computer Modern", "Libertinus Serif"],
}
PDF_STANDARD: Final = "a-3b"


class DocumentError(Exception):
    """The document could not be rendered, e.g. a custom template does not compile."""


LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "draft": "DRAFT",
        "number": "Number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "period": "Period",
        "credits": "Corrects invoice",
        "client_vat_id": "Client VAT ID",
        "vat_id": "VAT ID",
        "tax_number": "Tax number",
        "bill_to": "Bill to",
        "from": "From",
        "description": "Description",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "discount": "Discount",
        "adjustment": "Adjustment",
        "tax": "Tax",
        "amount": "Amount",
        "subtotal": "Subtotal",
        "document_discount": "Discount {percent}",
        "net_total": "Total excl. tax",
        "tax_on": "{name} {rate} on {basis}",
        "total_due": "Total due",
        "total_credit": "Total credited",
        "payment": "Payment",
        "terms": "Payable within {days} days, by {due} at the latest.",
        "terms_now": "Payable immediately, by {due}.",
        "pay_online": "Pay online by card",
        "credit_terms": "This amount will be credited to you.",
        "reference": "Please quote {number} with your payment.",
        "account_holder": "Account holder",
        "iban": "IBAN",
        "bic": "BIC",
        "notes": "Notes",
        "scan_to_pay": "Scan to pay",
        "page": "Page",
        "of": "of",
        "not_issued": "not issued",
        "hours": "h",
        "days": "days",
        "pieces": "pcs",
        "vat": "VAT",
        "S": "",
        "Z": "Zero-rated supply.",
        "E": "Exempt from VAT.",
        "AE": "Reverse charge: VAT is due by the recipient (Article 196 of Council Directive "
        "2006/112/EC). Recipient's VAT ID: {buyer_vat_id}.",
        "K": "Intra-community supply, exempt from VAT (Article 138 of Council Directive "
        "2006/112/EC). Recipient's VAT ID: {buyer_vat_id}.",
        "G": "Export outside the EU, exempt from VAT.",
        "O": "Not subject to VAT.",
        "credit_reference": "This credit note corrects invoice {number}.",
        "appendix": "Time record",
        "date": "Date",
        "person": "Person",
        "hours_billed": "Hours",
        "buyer_reference": "Your reference",
        "purchase_order_reference": "Purchase order",
        "contract_reference": "Contract",
        "project_reference": "Project",
        "tax_in_currency": "VAT in {code}: {amount} (1 {currency} = {rate} {code}, {day}).",
    },
    "de": {
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "draft": "ENTWURF",
        "number": "Nummer",
        "issue_date": "Rechnungsdatum",
        "due_date": "Fällig am",
        "period": "Leistungszeitraum",
        "credits": "Korrigiert Rechnung",
        "client_vat_id": "USt-IdNr. Kunde",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
        "bill_to": "Rechnungsempfänger",
        "from": "Von",
        "description": "Beschreibung",
        "quantity": "Menge",
        "unit_price": "Einzelpreis",
        "discount": "Rabatt",
        "adjustment": "Ab-/Zuschlag",
        "tax": "USt.",
        "amount": "Betrag",
        "subtotal": "Zwischensumme",
        "document_discount": "Rabatt {percent}",
        "net_total": "Summe netto",
        "tax_on": "{name} {rate} auf {basis}",
        "total_due": "Gesamtbetrag",
        "total_credit": "Gutschriftsbetrag",
        "payment": "Zahlung",
        "terms": "Zahlbar innerhalb von {days} Tagen, spätestens am {due}.",
        "terms_now": "Sofort zahlbar, spätestens am {due}.",
        "pay_online": "Online per Karte bezahlen",
        "credit_terms": "Dieser Betrag wird Ihnen gutgeschrieben.",
        "reference": "Bitte geben Sie bei der Zahlung {number} an.",
        "account_holder": "Kontoinhaber",
        "iban": "IBAN",
        "bic": "BIC",
        "notes": "Hinweise",
        "scan_to_pay": "Scannen und bezahlen",
        "page": "Seite",
        "of": "von",
        "not_issued": "nicht ausgestellt",
        "hours": "Std.",
        "days": "Tage",
        "pieces": "Stk.",
        "vat": "USt.",
        "S": "",
        "Z": "Nullsteuersatz.",
        "E": "Steuerfreie Leistung.",
        "AE": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 "
        "MwStSystRL). USt-IdNr. des Leistungsempfängers: {buyer_vat_id}.",
        "K": "Steuerfreie innergemeinschaftliche Lieferung (Art. 138 MwStSystRL). "
        "USt-IdNr. des Leistungsempfängers: {buyer_vat_id}.",
        "G": "Steuerfreie Ausfuhr in ein Land außerhalb der EU.",
        "O": "Nicht steuerbar.",
        "credit_reference": "Diese Gutschrift korrigiert die Rechnung {number}.",
        "appendix": "Zeitnachweis",
        "date": "Datum",
        "person": "Person",
        "hours_billed": "Stunden",
        "buyer_reference": "Ihre Referenz",
        "purchase_order_reference": "Bestellnummer",
        "contract_reference": "Vertrag",
        "project_reference": "Projekt",
        "tax_in_currency": "Umsatzsteuer in {code}: {amount} "
        "(1 {currency} = {rate} {code}, {day}).",
    },
    "fr": {
        "invoice": "Facture",
        "credit_note": "Avoir",
        "draft": "BROUILLON",
        "number": "Numéro",
        "issue_date": "Date d'émission",
        "due_date": "Échéance",
        "period": "Période",
        "credits": "Corrige la facture",
        "client_vat_id": "N° TVA client",
        "vat_id": "N° TVA",
        "tax_number": "N° fiscal",
        "bill_to": "Facturé à",
        "from": "De",
        "description": "Description",
        "quantity": "Quantité",
        "unit_price": "Prix unitaire",
        "discount": "Remise",
        "adjustment": "Remise/majoration",
        "tax": "TVA",
        "amount": "Montant",
        "subtotal": "Sous-total",
        "document_discount": "Remise {percent}",
        "net_total": "Total HT",
        "tax_on": "{name} {rate} sur {basis}",
        "total_due": "Total TTC",
        "total_credit": "Total de l'avoir",
        "payment": "Paiement",
        "terms": "Payable sous {days} jours, au plus tard le {due}.",
        "terms_now": "Payable à réception, au plus tard le {due}.",
        "pay_online": "Payer en ligne par carte",
        "credit_terms": "Ce montant vous sera crédité.",
        "reference": "Merci d'indiquer {number} lors du paiement.",
        "account_holder": "Titulaire du compte",
        "iban": "IBAN",
        "bic": "BIC",
        "notes": "Mentions",
        "scan_to_pay": "Scanner pour payer",
        "page": "Page",
        "of": "sur",
        "not_issued": "non émise",
        "hours": "h",
        "days": "jours",
        "pieces": "pcs",
        "vat": "TVA",
        "S": "",
        "Z": "Taux zéro.",
        "E": "Exonération de TVA.",
        "AE": "Autoliquidation : TVA due par le preneur (article 196 de la directive "
        "2006/112/CE). N° TVA du preneur : {buyer_vat_id}.",
        "K": "Livraison intracommunautaire exonérée de TVA (article 138 de la directive "
        "2006/112/CE). N° TVA du preneur : {buyer_vat_id}.",
        "G": "Exportation hors UE, exonérée de TVA.",
        "O": "Non soumis à la TVA.",
        "credit_reference": "Cet avoir corrige la facture {number}.",
        "appendix": "Relevé des heures",
        "date": "Date",
        "person": "Personne",
        "hours_billed": "Heures",
        "buyer_reference": "Votre référence",
        "purchase_order_reference": "Bon de commande",
        "contract_reference": "Contrat",
        "project_reference": "Projet",
        "tax_in_currency": "TVA en {code} : {amount} (1 {currency} = {rate} {code}, {day}).",
    },
}
UNIT_LABELS = {"HUR": "hours", "DAY": "days", "C62": "pieces"}


def language_of(invoice: Invoice) -> str:
    base = invoice.language.replace("_", "-").split("-")[0].lower()
    return base if base in LABELS else "en"


def _locale(invoice: Invoice) -> str:
    return invoice.language.replace("-", "_")


@dataclass(frozen=True)
class _Formats:
    """Formatting for one document; the locale is parsed once, not for every value."""

    locale: str
    currency: str
    parsed: Locale = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parsed", Locale.parse(self.locale))

    def money(self, amount: Decimal) -> str:
        return Money(Decimal(amount), self.currency).format(self.parsed)

    def number(self, value: Decimal) -> str:
        # Every stored decimal (up to four), so quantity × price reads as the line's amount;
        # CLDR's default pattern stops at three ("11.335 h" for a stored 11.3347).
        return format_decimal(Decimal(value), format="#,##0.####", locale=self.parsed)

    def percent(self, value: Decimal) -> str:
        # "19 %" in German and French, "19%" in English: CLDR decides.
        return _percent(Decimal(value), self.parsed)

    def date(self, value: date | None) -> str:
        return format_date(value, format="medium", locale=self.parsed) if value else ""


def _adjustment(fmt: _Formats, line: InvoiceLine) -> str:
    """A line's discount and surcharge, signed: "−10 %", "+50 %", or both."""
    parts = []
    if line.discount_percent:
        parts.append(f"−{fmt.percent(line.discount_percent)}")
    if line.surcharge_percent:
        parts.append(f"+{fmt.percent(line.surcharge_percent)}")
    return " ".join(parts) or "–"


def _percent(value: Decimal, locale: str | Locale) -> str:
    return format_percent(value / 100, locale=locale, decimal_quantization=False)


def _address(party: dict[str, Any]) -> list[str]:
    city = " ".join(x for x in (party.get("postal_code", ""), party.get("city", "")) if x)
    return [
        x
        for x in (
            party.get("address_line1", ""),
            party.get("address_line2", ""),
            city,
            party.get("region", ""),
            party.get("country", ""),
        )
        if x
    ]


def document_data(invoice: Invoice) -> tuple[dict[str, Any], str]:
    """The JSON the template draws, and the EPC QR code as SVG text ("" when none)."""
    lang = language_of(invoice)
    labels = LABELS[lang]
    fmt = _Formats(_locale(invoice), invoice.currency)
    lines: list[InvoiceLine] = list(invoice.lines.order_by("position"))
    totals = services.invoice_totals(invoice, lines)
    issue_date: date | None
    due_date: date | None
    if invoice.is_draft:
        snapshot = services._snapshot(invoice, lines)
        today = local_date(now(), invoice.organization.timezone)
        issue_date = today
        terms_delta = timedelta(days=int(snapshot.get("payment_terms_days") or 0))
        due_date = invoice.due_date or today + terms_delta
        nets = totals.line_nets
        net, tax, gross = totals.net_total, totals.tax_total, totals.gross_total
        number = labels["draft"].capitalize()
    else:
        snapshot = invoice.snapshot
        issue_date, due_date = invoice.issue_date, invoice.due_date
        nets = [line.net_amount for line in lines]
        net, tax, gross = invoice.net_total, invoice.tax_total, invoice.gross_total
        number = invoice.number or ""
    seller, buyer = snapshot["seller"], snapshot["buyer"]
    terms_days = int(snapshot.get("payment_terms_days") or 0)
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    credits_number = invoice.credits.number if credit and invoice.credits else None

    meta = [[labels["number"], number if not invoice.is_draft else labels["not_issued"]]]
    meta.append([labels["issue_date"], fmt.date(issue_date)])
    if due_date and not credit:
        meta.append([labels["due_date"], fmt.date(due_date)])
    if invoice.period_start and invoice.period_end:
        meta.append(
            [
                labels["period"],
                f"{fmt.date(invoice.period_start)} – {fmt.date(invoice.period_end)}",
            ]
        )
    if credits_number:
        meta.append([labels["credits"], credits_number])
    if buyer.get("vat_id"):
        meta.append([labels["client_vat_id"], buyer["vat_id"]])
    references = [("buyer_reference", buyer.get("buyer_reference"))] + [
        (name, snapshot.get(name))
        for name in ("purchase_order_reference", "contract_reference", "project_reference")
    ]
    meta.extend([labels[name], value] for name, value in references if value)

    # A surcharge shares the discount column, which then says "adjustment" and signs both.
    surcharged = any(line.surcharge_percent for line in lines)
    if surcharged:
        labels = {**labels, "discount": labels["adjustment"]}
    line_rows = []
    for line, line_amount in zip(lines, nets, strict=True):
        tax_text = fmt.percent(line.tax_rate)
        if line.additional_tax_rate is not None:
            tax_text += f" + {fmt.percent(line.additional_tax_rate)} {line.additional_tax_name}"
        line_rows.append(
            {
                "position": str(line.position),
                "description": line.description,
                "quantity": fmt.number(line.quantity),
                "unit": labels[UNIT_LABELS.get(line.unit, "pieces")],
                "unit_price": fmt.money(line.unit_price),
                "discount": _adjustment(fmt, line)
                if surcharged
                else fmt.percent(line.discount_percent)
                if line.discount_percent
                else "–",
                "tax": tax_text,
                "amount": fmt.money(line_amount),
            }
        )

    total_rows = []
    if totals.allowance_total or totals.charge_total:
        total_rows.append([labels["subtotal"], fmt.money(totals.line_total)])
    if totals.allowance_total:
        total_rows.append(
            [
                labels["document_discount"].format(percent=fmt.percent(invoice.discount_percent)),
                fmt.money(-totals.allowance_total),
            ]
        )
    if totals.charge_total:
        total_rows.append(
            [
                f"{invoice.surcharge_reason} {fmt.percent(invoice.surcharge_percent)}",
                fmt.money(totals.charge_total),
            ]
        )
    total_rows.append([labels["net_total"], fmt.money(net)])
    for group in totals.groups:
        name = labels["vat"] if group.tax.name == "VAT" else group.tax.name
        total_rows.append(
            [
                labels["tax_on"].format(
                    name=name, rate=fmt.percent(group.tax.rate), basis=fmt.money(group.basis)
                ),
                fmt.money(group.amount),
            ]
        )
    if len(totals.groups) > 1:
        total_rows.append([labels["tax"], fmt.money(tax)])

    notes = []
    if credits_number:
        notes.append(labels["credit_reference"].format(number=credits_number))
    for category in sorted({line.tax_category for line in lines}):
        wording = labels.get(TaxCategory(category).value, "")
        if wording:
            notes.append(wording.format(buyer_vat_id=buyer.get("vat_id") or "–"))
    if invoice.tax_note:
        notes.append(invoice.tax_note)
    converted = snapshot.get("tax_currency")
    if converted:
        home = _Formats(_locale(invoice), converted["code"])
        notes.append(
            labels["tax_in_currency"].format(
                code=converted["code"],
                amount=home.money(Decimal(converted["tax_total"])),
                currency=invoice.currency,
                rate=home.number(Decimal(converted["rate"])),
                day=fmt.date(date.fromisoformat(converted["rate_date"]))
                if converted.get("rate_date")
                else "",
            )
        )

    qr_svg = ""
    epc: dict[str, str] | None = None
    payment: dict[str, Any] | None = None
    bank = []
    if seller.get("iban"):
        bank.append([labels["account_holder"], seller["name"]])
        bank.append([labels["iban"], _group_iban(seller["iban"])])
        if seller.get("bic"):
            bank.append([labels["bic"], seller["bic"]])
    if credit:
        payment = {"terms": labels["credit_terms"], "bank": []}
    else:
        due_text = fmt.date(due_date) if due_date else ""
        terms = (
            labels["terms"].format(days=terms_days, due=due_text)
            if terms_days
            else labels["terms_now"].format(due=due_text)
        )
        if not invoice.is_draft:
            terms += " " + labels["reference"].format(number=number)
        payment = {
            "terms": terms if due_text else "",
            "bank": bank,
            "pay_url": snapshot.get("pay_url", ""),
        }
        amount = Decimal(gross)
        if (
            invoice.currency == "EUR"
            and seller.get("iban")
            and Decimal("0.01") <= amount <= Decimal("999999999.99")
        ):
            epc = {
                "name": seller["name"][:70],
                "iban": seller["iban"].replace(" ", ""),
                "bic": (seller.get("bic") or "").replace(" ", ""),
                "amount": f"{amount:.2f}",
                "text": f"{labels['invoice']} {number}"[:140],
            }
            qr_svg = _epc_svg(epc)

    footer = [
        "\n".join([seller["name"], *_address(seller)]),
        "\n".join(
            x
            for x in (
                f"{labels['vat_id']}: {seller['vat_id']}" if seller.get("vat_id") else "",
                f"{labels['tax_number']}: {seller['tax_number']}"
                if seller.get("tax_number")
                else "",
            )
            if x
        ),
        "\n".join(
            x for x in (seller.get("email"), seller.get("phone"), seller.get("website")) if x
        ),
    ]
    organization = invoice.organization
    data = {
        "lang": lang,
        "labels": labels,
        "fonts": FONT_STYLES.get(snapshot.get("font", "sans"), FONTS),
        "brand_colour": organization.brand_colour or "#2563eb",
        "logo_png": None,
        "is_draft": invoice.is_draft,
        "kind": invoice.kind,
        "title": labels["credit_note" if credit else "invoice"],
        "number": number,
        "credits_number": credits_number,
        "currency": invoice.currency,
        "seller": {"name": seller["name"], "address": _address(seller), "vat_id": seller["vat_id"]},
        "buyer": {
            "name": buyer["name"],
            "address": _address(buyer),
            "vat_id": buyer.get("vat_id") or "",
        },
        "meta": meta,
        "message": invoice.message,
        "lines": line_rows,
        "totals": total_rows,
        "gross": fmt.money(gross),
        "payment": payment,
        "notes": notes,
        "epc": epc,
        "footer": footer,
        "footer_text": snapshot.get("footer_text", ""),
        "appendix": _appendix(invoice, fmt) if invoice.time_appendix else [],
    }
    if credit:
        labels = {**labels, "total_due": labels["total_credit"]}
        data["labels"] = labels
    return data, qr_svg


def _appendix(invoice: Invoice, fmt: _Formats) -> list[dict[str, str]]:
    """The time entries the invoice bills, in order, with the hours billed for each."""
    zone = invoice.organization.timezone
    billed = (
        BilledEntry.objects.filter(line__invoice=invoice)
        .select_related("entry__membership__user", "entry__project", "entry__task")
        .order_by("entry__start", "entry__pk")
    )
    rows = []
    for item in billed:
        entry = item.entry
        what = entry.description or (entry.task.name if entry.task else "")
        rows.append(
            {
                "date": fmt.date(local_date(entry.start, zone)),
                "person": entry.membership.user.display_name,
                "description": f"{entry.project.name}: {what}" if what else entry.project.name,
                "hours": format_decimal(
                    Decimal(item.billed_seconds) / 3600, format="#,##0.00", locale=fmt.parsed
                ),
            }
        )
    return rows


def _group_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _epc_svg(epc: dict[str, str]) -> str:
    """The EPC (GiroCode) QR code as SVG: error level M, version 13 at most, as the EPC
    guideline requires. The mask is fixed: choosing the best of eight costs about 5 ms
    per invoice in pure Python, and every mask is valid."""
    code = segno.make_qr(_epc_data(epc), error="m", boost_error=False, mask=2)
    if int(code.version) > 13:
        raise DocumentError("the payment QR code would be too large")
    out = io.BytesIO()
    code.save(out, kind="svg", border=0, xmldecl=False)
    return out.getvalue().decode()


def _epc_data(epc: dict[str, str]) -> bytes | str:
    """The EPC payload as segno builds it (UTF-8 bytes, as the payload's header declares)."""
    # segno has no public accessor for the payload.
    make_data: Any = getattr(segno.helpers, "_make_epc_qr_data")  # noqa: B009
    data: bytes | str = make_data(
        name=epc["name"],
        iban=epc["iban"],
        amount=Decimal(epc["amount"]),
        text=epc["text"],
        reference=None,
        bic=epc["bic"] or None,
        purpose=None,
        encoding=None,
    )
    return data


EPC_ENCODINGS = {
    "1": "utf-8",
    "2": "iso-8859-1",
    "3": "iso-8859-2",
    "4": "iso-8859-4",
    "5": "iso-8859-5",
    "6": "iso-8859-7",
    "7": "iso-8859-10",
    "8": "iso-8859-15",
}


def epc_payload(epc: dict[str, str]) -> str:
    """The text inside the EPC QR code, decoded as its third line declares."""
    data = _epc_data(epc)
    if isinstance(data, str):
        return data
    declared = data.split(b"\n", 3)[2].decode("ascii").strip()
    return data.decode(EPC_ENCODINGS.get(declared, "utf-8"))


def _logo(invoice: Invoice) -> tuple[str, list[int] | None]:
    """The logo as SVG text, or as PNG byte values; nothing when missing or unreadable."""
    logo = invoice.organization.logo
    if not logo:
        return "", None
    try:
        with logo.open("rb") as handle:
            content = handle.read()
    except OSError:
        return "", None
    if content.startswith(b"\x89PNG"):
        return "", list(content)
    if b"<svg" in content[:2048]:
        return content.decode("utf-8", errors="replace"), None
    return "", None


_compiler: typst.Compiler | None = None
_compiler_lock = threading.Lock()


def _get_compiler() -> typst.Compiler:
    """One compiler per process: loading fonts is the slow part of a render.

    Its root is an empty folder of its own: an uploaded template that reads files or
    images finds nothing (the default root, the working directory, holds the database)."""
    global _compiler
    with _compiler_lock:
        if _compiler is None:
            _compiler = typst.Compiler(root=tempfile.mkdtemp(prefix="punchclock-typst-"))
        return _compiler


def own_template(organization_id: int) -> str | None:
    """The organization's uploaded Typst template, if it has one."""
    return InvoiceSettings.of(organization_id).template_source or None


def _drawing(invoice: Invoice) -> tuple[dict[str, Any], str, str]:
    """What the template draws: the document data, the QR code and the logo as SVG."""
    data, qr_svg = document_data(invoice)
    logo_svg, logo_png = _logo(invoice)
    data["logo_png"] = logo_png
    return data, qr_svg, logo_svg


def render_pdf(invoice: Invoice, template: str | bytes | Path | None = None) -> bytes:
    """The invoice as PDF/A-3b in the organization's template (or `template`, or ours).

    A template that does not compile raises DocumentError with Typst's message."""
    if template is None:
        template = own_template(invoice.organization_id)
    data, qr_svg, logo_svg = _drawing(invoice)
    return compile_document(data, qr_svg=qr_svg, logo_svg=logo_svg, template=template)


def render_pages(invoice: Invoice, *, ppi: float = 110.0) -> list[bytes]:
    """The invoice's pages as PNG images, drawn exactly as the PDF (for the draft preview)."""
    data, qr_svg, logo_svg = _drawing(invoice)
    pages = _compile(
        data,
        qr_svg=qr_svg,
        logo_svg=logo_svg,
        template=own_template(invoice.organization_id),
        format="png",
        ppi=ppi,
    )
    if isinstance(pages, bytes):
        return [pages]
    if not isinstance(pages, list):
        raise DocumentError("the invoice template produced no pages")
    return [page for page in pages if page]


def compile_document(
    data: dict[str, Any],
    *,
    qr_svg: str = "",
    logo_svg: str = "",
    template: str | bytes | Path | None = None,
) -> bytes:
    pdf = _compile(
        data, qr_svg=qr_svg, logo_svg=logo_svg, template=template, pdf_standards=PDF_STANDARD
    )
    if not isinstance(pdf, bytes):
        raise DocumentError("the invoice template produced no PDF")
    return pdf


def _compile(
    data: dict[str, Any],
    *,
    qr_svg: str,
    logo_svg: str,
    template: str | bytes | Path | None,
    **options: Any,
) -> Any:
    if template is None:
        source = DEFAULT_TEMPLATE.read_bytes()
    elif isinstance(template, Path):
        try:
            source = template.read_bytes()
        except OSError as exc:
            raise DocumentError(f"cannot read template {template}: {exc}") from exc
    else:
        source = template.encode() if isinstance(template, str) else template
    inputs = {
        "data": json.dumps(data, ensure_ascii=False),
        "qr": qr_svg,
        "logo": logo_svg,
    }
    compiler = _get_compiler()
    try:
        with _compiler_lock:
            return compiler.compile(input=source, sys_inputs=inputs, **options)
    except (typst.TypstError, RuntimeError, ValueError) as exc:
        raise DocumentError(f"the invoice template does not compile: {exc}") from exc
