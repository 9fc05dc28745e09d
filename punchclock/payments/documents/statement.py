"""A client's statement of account as PDF (Typst, the invoices' machinery) and as CSV.

The PDF goes to the client, so it speaks the client's language (English, German or French)
and wears the organization's brand colour, logo and font, like its invoices. The CSV is for
spreadsheets: every text cell is neutralised so that no cell can run as a formula.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date

from punchclock.accounts.models import Organization
from punchclock.clients.models import Client
from punchclock.core.money import Money, round_money
from punchclock.invoicing.documents import pdf
from punchclock.invoicing.models import Invoice, InvoiceSettings
from punchclock.payments.receivables import (
    ENGLISH,
    CurrencyStatement,
    Statement,
    StatementRow,
    describe,
)

TEMPLATE = Path(__file__).with_name("statement.typ")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Statement of account",
        "period": "Period",
        "statement_date": "Statement date",
        "client": "Client",
        "vat_id": "VAT ID",
        "tax_number": "Tax number",
        "to": "Statement for",
        "from": "From",
        "intro": "Your account with us from {start} to {end}. Please let us know if anything "
        "differs from your records.",
        "summary": "Balance on {date}",
        "owed": "owed to us",
        "in_credit": "in your favour",
        "settled": "settled",
        "amounts_in": "Amounts in {currency}",
        "date": "Date",
        "document": "Document",
        "details": "Details",
        "debit": "Debit",
        "credit": "Credit",
        "balance": "Balance",
        "opening": "Opening balance",
        "closing": "Closing balance",
        "totals": "Movements in the period",
        "nothing": "No activity in this period.",
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "payment": "Payment",
        "refund": "Refund",
        "payment_note": "Please quote the invoice numbers with your payment.",
        "account_holder": "Account holder",
        "page": "Page",
        "of": "of",
    },
    "de": {
        "title": "Kontoauszug",
        "period": "Zeitraum",
        "statement_date": "Datum",
        "client": "Kunde",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
        "to": "Kontoauszug für",
        "from": "Von",
        "intro": "Ihr Kundenkonto bei uns vom {start} bis {end}. Bitte sagen Sie uns Bescheid, "
        "wenn etwas von Ihren Unterlagen abweicht.",
        "summary": "Saldo am {date}",
        "owed": "zu unseren Gunsten",
        "in_credit": "zu Ihren Gunsten",
        "settled": "ausgeglichen",
        "amounts_in": "Beträge in {currency}",
        "date": "Datum",
        "document": "Beleg",
        "details": "Details",
        "debit": "Soll",
        "credit": "Haben",
        "balance": "Saldo",
        "opening": "Anfangssaldo",
        "closing": "Endsaldo",
        "totals": "Bewegungen im Zeitraum",
        "nothing": "Keine Buchungen in diesem Zeitraum.",
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "payment": "Zahlung",
        "refund": "Erstattung",
        "payment_note": "Bitte geben Sie bei Zahlungen die Rechnungsnummern an.",
        "account_holder": "Kontoinhaber",
        "page": "Seite",
        "of": "von",
    },
    "fr": {
        "title": "Relevé de compte",
        "period": "Période",
        "statement_date": "Date du relevé",
        "client": "Client",
        "vat_id": "N° TVA",
        "tax_number": "N° fiscal",
        "to": "Relevé pour",
        "from": "De",
        "intro": "Votre compte chez nous du {start} au {end}. Merci de nous signaler toute "
        "différence avec vos écritures.",
        "summary": "Solde au {date}",
        "owed": "en notre faveur",
        "in_credit": "en votre faveur",
        "settled": "soldé",
        "amounts_in": "Montants en {currency}",
        "date": "Date",
        "document": "Pièce",
        "details": "Détails",
        "debit": "Débit",
        "credit": "Crédit",
        "balance": "Solde",
        "opening": "Solde d'ouverture",
        "closing": "Solde de clôture",
        "totals": "Mouvements de la période",
        "nothing": "Aucun mouvement sur cette période.",
        "invoice": "Facture",
        "credit_note": "Avoir",
        "payment": "Paiement",
        "refund": "Remboursement",
        "payment_note": "Merci d'indiquer les numéros de facture avec votre paiement.",
        "account_holder": "Titulaire du compte",
        "page": "Page",
        "of": "sur",
    },
}
# The words of the rows' details (see receivables.describe), per language.
WORDS: dict[str, dict[str, str]] = {
    "en": ENGLISH,
    "de": {
        "due": "fällig am {date}",
        "corrects": "korrigiert {numbers}",
        "for": "für {numbers}",
        "reference": "Ref. {reference}",
        "converted": "{amount} {currency} zu {rate}",
        "kept": "als Guthaben",
        "taken_back": "zurück von {numbers}",
        "from_credit": "aus dem Guthaben",
        "transfer": "Überweisung",
        "card": "Karte",
        "cash": "Bar",
        "stripe": "Online (Stripe)",
        "other": "Sonstige",
    },
    "fr": {
        "due": "échéance {date}",
        "corrects": "corrige {numbers}",
        "for": "pour {numbers}",
        "reference": "réf. {reference}",
        "converted": "{amount} {currency} au taux {rate}",
        "kept": "conservé en avoir",
        "taken_back": "repris sur {numbers}",
        "from_credit": "prélevé sur l'avoir",
        "transfer": "Virement",
        "card": "Carte",
        "cash": "Espèces",
        "stripe": "En ligne (Stripe)",
        "other": "Autre",
    },
}


def _language(client: Client) -> str:
    base = client.language.replace("_", "-").split("-")[0].lower()
    return base if base in LABELS else "en"


class _Writer:
    """Dates and money in one locale, parsed once for the whole document."""

    def __init__(self, locale: str) -> None:
        self.locale = Locale.parse(locale.replace("-", "_"))

    def date(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def money(self, amount: Decimal, currency: str) -> str:
        return Money(amount, currency).format(self.locale)

    def country(self, code: str) -> str:
        return str(self.locale.territories.get(code.upper(), code)) if code else ""


def _address(party: Organization | Client, write: _Writer) -> list[str]:
    city = " ".join(x for x in (party.postal_code, party.city) if x)
    region = party.region if isinstance(party, Client) else ""
    lines = (party.address_line1, party.address_line2, city, region, write.country(party.country))
    return [line for line in lines if line]


def _row(
    row: StatementRow, labels: dict[str, str], words: dict[str, str], write: _Writer
) -> dict[str, str]:
    currency = row.currency
    return {
        "date": write.date(row.day),
        "document": f"{labels[row.kind]} {row.reference}".strip()
        if row.kind in ("invoice", "credit_note")
        else labels[row.kind],
        "details": describe(row, words, write.date),
        "debit": write.money(row.debit, currency) if row.debit else "",
        "credit": write.money(row.credit, currency) if row.credit else "",
        "balance": write.money(row.balance, currency),
    }


def _standing(balance: Decimal, labels: dict[str, str]) -> str:
    if balance > 0:
        return labels["owed"]
    return labels["in_credit"] if balance < 0 else labels["settled"]


def _section(
    section: CurrencyStatement, labels: dict[str, str], words: dict[str, str], write: _Writer
) -> dict[str, Any]:
    currency = section.currency
    return {
        "currency": currency,
        "heading": labels["amounts_in"].format(currency=currency),
        "opening": write.money(section.opening, currency),
        "closing": write.money(section.closing, currency),
        "standing": _standing(section.closing, labels),
        "debits": write.money(section.debits, currency),
        "credits": write.money(section.credits, currency),
        "rows": [_row(row, labels, words, write) for row in section.rows],
    }


def document_data(found: Statement, *, today: date) -> dict[str, Any]:
    """The JSON the statement template draws."""
    client = found.client
    organization = client.organization
    lang = _language(client)
    labels, words = LABELS[lang], WORDS[lang]
    write = _Writer(client.language)
    settings = InvoiceSettings.of(organization.pk)
    period = f"{write.date(found.start)} – {write.date(found.end)}"
    return {
        "lang": lang,
        "labels": labels,
        "fonts": pdf.FONT_STYLES.get(settings.font, pdf.FONTS),
        "brand_colour": organization.brand_colour or "#2563eb",
        "logo_png": None,
        "title": labels["title"],
        "seller": {
            "name": organization.display_legal_name,
            "address": _address(organization, write),
            "vat_id": organization.vat_id,
        },
        "buyer": {
            "name": client.name,
            "address": _address(client, write),
            "vat_id": client.vat_id,
        },
        "meta": [
            [labels["period"], period],
            [labels["statement_date"], write.date(today)],
            [labels["client"], client.code],
        ],
        "intro": labels["intro"].format(start=write.date(found.start), end=write.date(found.end)),
        "summary_title": labels["summary"].format(date=write.date(found.end)),
        "summary": [
            [write.money(s.closing, s.currency), _standing(s.closing, labels)]
            for s in found.sections
        ],
        "sections": [_section(s, labels, words, write) for s in found.sections],
        # How to pay is only worth saying when something is owed.
        "owing": any(section.closing > 0 for section in found.sections),
        "bank": _bank(organization, labels),
        "footer": _footer(organization, labels, write),
        "footer_text": settings.footer_text,
    }


def _bank(organization: Organization, labels: dict[str, str]) -> list[list[str]]:
    """Where to pay, as on the invoices."""
    if not organization.iban:
        return []
    found = [
        [labels["account_holder"], organization.display_legal_name],
        ["IBAN", pdf._group_iban(organization.iban)],
    ]
    if organization.bic:
        found.append(["BIC", organization.bic])
    return found


def _footer(organization: Organization, labels: dict[str, str], write: _Writer) -> list[str]:
    ids = [
        f"{labels['vat_id']}: {organization.vat_id}" if organization.vat_id else "",
        f"{labels['tax_number']}: {organization.tax_number}" if organization.tax_number else "",
    ]
    contact = [organization.email, organization.phone, organization.website]
    return [
        "\n".join([organization.display_legal_name, *_address(organization, write)]),
        "\n".join(x for x in ids if x),
        "\n".join(x for x in contact if x),
    ]


def render_pdf(found: Statement, *, today: date) -> bytes:
    """The statement as PDF/A-3b; DocumentError if Typst cannot draw it."""
    data = document_data(found, today=today)
    # An unsaved invoice carries the organization: the logo reader looks at nothing else.
    logo_svg, logo_png = pdf._logo(Invoice(organization=found.client.organization))
    data["logo_png"] = logo_png
    return pdf.compile_document(data, logo_svg=logo_svg, template=TEMPLATE)


def filename(found: Statement, extension: str) -> str:
    return f"statement-{found.client.code}-{found.start}-{found.end}.{extension}"


# CSV --------------------------------------------------------------------------------------

CSV_HEADER = [
    "Date",
    "Type",
    "Reference",
    "Due",
    "Details",
    "Currency",
    "Debit",
    "Credit",
    "Balance",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """Text a spreadsheet shows as it is and never runs: formula starts get a quote."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def amount_cell(amount: Decimal, currency: str) -> str:
    """Plain decimal text with a dot. A number, even a negative one, is no formula, so it
    stays a number the spreadsheet can add up."""
    return format(round_money(amount, currency), "f")


def render_csv(found: Statement) -> str:
    """One block per currency: its opening balance, the rows, its closing balance."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for section in found.sections:
        code = section.currency
        opening = amount_cell(section.opening, code)
        writer.writerow([found.start, "Opening balance", "", "", "", code, "", "", opening])
        for row in section.rows:
            writer.writerow(
                [
                    row.day,
                    row.label,
                    text_cell(row.reference),
                    row.due_date or "",
                    text_cell(row.details),
                    code,
                    amount_cell(row.debit, code) if row.debit else "",
                    amount_cell(row.credit, code) if row.credit else "",
                    amount_cell(row.balance, code),
                ]
            )
        closing = amount_cell(section.closing, code)
        writer.writerow([found.end, "Closing balance", "", "", "", code, "", "", closing])
    return out.getvalue()
