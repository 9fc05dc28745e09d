"""The EN 16931 semantic model of an issued invoice or credit note, syntax-neutral.

`from_invoice` reads only what issuing froze: the snapshot, the stored lines and the stored
totals. The UBL and CII writers turn the result into XML; neither looks at the database.
Amounts are Decimals already rounded to the currency's minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from punchclock.core.money import minor_units, round_money
from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice, InvoiceKind, InvoiceLine, TaxCategory
from punchclock.invoicing.totals import TaxGroup, Totals

INVOICE, CREDIT_NOTE = "380", "381"  # UNTDID 1001
DISCOUNT = "95"  # UNTDID 5189: discount
MUTUALLY_DEFINED = "ZZZ"  # UNTDID 7161: a charge whose reason the text gives
SEPA_CREDIT_TRANSFER, CREDIT_TRANSFER, NOT_DEFINED = "58", "30", "1"  # UNTDID 4461
# VATEX codes; exempt supplies (E) have many legal bases, so they carry the invoice's text.
EXEMPTION_CODES = {
    TaxCategory.REVERSE_CHARGE: "VATEX-EU-AE",
    TaxCategory.INTRA_COMMUNITY: "VATEX-EU-IC",
    TaxCategory.EXPORT: "VATEX-EU-G",
    TaxCategory.NOT_SUBJECT: "VATEX-EU-O",
}
# SEPA currencies in which code 58 makes sense; elsewhere an IBAN is a plain transfer.
SEPA_CURRENCIES = {"EUR"}
HUNDRED = Decimal(100)


class EInvoiceError(ValueError):
    """The document cannot be expressed as an EN 16931 e-invoice."""


@dataclass(frozen=True, slots=True)
class Specification:
    """BT-24 (CustomizationID / guideline) and BT-23 (ProfileID / business process)."""

    customization_id: str
    profile_id: str | None = None


EN16931 = Specification("urn:cen.eu:en16931:2017")
XRECHNUNG = Specification("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0")
PEPPOL = Specification(
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
    "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
)


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    line2: str
    city: str
    postal_code: str
    region: str
    country: str  # ISO 3166-1 alpha-2


@dataclass(frozen=True, slots=True)
class ElectronicAddress:
    """BT-34 / BT-49 with its EAS scheme (BR-62, BR-63)."""

    value: str
    scheme: str


@dataclass(frozen=True, slots=True)
class Contact:
    """BG-6 seller contact: BT-41 name, BT-42 phone, BT-43 email."""

    name: str
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class Party:
    """BG-4 seller or BG-7 buyer."""

    name: str
    address: Address
    vat_id: str  # BT-31 / BT-48
    tax_registration: str = ""  # BT-32, seller only
    legal_registration_id: str = ""  # BT-30 / BT-47, e.g. a commercial register number
    electronic_address: ElectronicAddress | None = None
    contact: Contact | None = None


@dataclass(frozen=True, slots=True)
class PaymentMeans:
    """BG-16: code (BT-81), remittance information (BT-83), IBAN (BT-84), BIC (BT-86)."""

    code: str
    remittance: str
    iban: str = ""
    account_name: str = ""
    bic: str = ""


@dataclass(frozen=True, slots=True)
class Allowance:
    """An allowance, or with `charge` set a charge.

    BG-20/BG-21 at document level (with their VAT), BG-27/BG-28 on a line (without).
    """

    amount: Decimal
    base_amount: Decimal | None
    percent: Decimal | None
    reason: str
    reason_code: str
    category: str = ""
    rate: Decimal | None = None
    charge: bool = False


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """BG-23: one per VAT category and rate."""

    category: str
    rate: Decimal | None  # None for O, which has no rate (BR-O-05, BR-48)
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str = ""
    exemption_reason_code: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    """BG-25."""

    id: str
    quantity: Decimal
    unit_code: str
    net_amount: Decimal  # BT-131
    item_name: str
    net_price: Decimal  # BT-146
    category: str
    rate: Decimal | None
    allowance: Allowance | None = None
    charge: Allowance | None = None


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """BG-22."""

    line_total: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    payable: Decimal  # BT-115


@dataclass(frozen=True, slots=True)
class PrecedingInvoice:
    """BG-3: the invoice a credit note corrects (BT-25, BT-26)."""

    number: str
    issue_date: date | None


@dataclass(frozen=True, slots=True)
class EInvoice:
    number: str  # BT-1
    issue_date: date  # BT-2
    type_code: str  # BT-3
    currency: str  # BT-5
    seller: Party
    buyer: Party
    payment_means: PaymentMeans
    payment_terms: str  # BT-20
    totals: DocumentTotals
    vat_breakdown: tuple[VatBreakdown, ...]
    lines: tuple[Line, ...]
    allowances: tuple[Allowance, ...] = ()  # allowances and charges, BG-20 and BG-21
    due_date: date | None = None  # BT-9
    notes: tuple[str, ...] = ()  # BT-22
    buyer_reference: str = ""  # BT-10
    project_reference: str = ""  # BT-11
    contract_reference: str = ""  # BT-12
    purchase_order_reference: str = ""  # BT-13
    preceding_invoice: PrecedingInvoice | None = None
    period_start: date | None = None  # BT-73
    period_end: date | None = None  # BT-74
    delivery_date: date | None = None  # BT-72
    deliver_to_country: str = ""  # BT-80
    # BT-6 and BT-111, when the organization accounts for VAT in another currency; the
    # rate was frozen in the snapshot at issue.
    tax_currency: str = ""
    tax_total_in_tax_currency: Decimal | None = None

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == CREDIT_NOTE

    def amount(self, value: Decimal) -> str:
        """An amount as the XML writes it, in the currency's minor units."""
        rounded = round_money(value, self.currency)
        # A negated zero (credit notes) would print as -0.00, which the rules read as < 0.
        return f"{rounded if rounded else abs(rounded):f}"


def number(value: Decimal) -> str:
    """A quantity, price or percentage without trailing zeros and never in E-notation."""
    text = f"{value if value else abs(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def from_invoice(invoice: Invoice) -> EInvoice:
    """The e-invoice of an issued invoice or credit note."""
    if invoice.is_draft or not invoice.number or invoice.issue_date is None:
        raise EInvoiceError("A draft has no e-invoice: issue it first.")
    if minor_units(invoice.currency) > 2:
        # BR-DEC-*: EN 16931 amounts have at most two decimals.
        raise EInvoiceError(
            f"{invoice.currency} amounts have {minor_units(invoice.currency)} decimals; "
            "EN 16931 allows at most two."
        )
    lines = list(invoice.lines.order_by("position"))
    for line in lines:
        if line.additional_tax_rate is not None:
            raise EInvoiceError(
                f"Line {line.position} carries {line.additional_tax_name or 'a second tax'} "
                "besides VAT; EN 16931 knows only one VAT per line, so this document "
                "cannot be an e-invoice."
            )
    categories = {line.tax_category for line in lines}
    if TaxCategory.NOT_SUBJECT in categories and len(categories) > 1:
        raise EInvoiceError(
            "A document with lines not subject to VAT (O) cannot have lines of other "
            "VAT categories (BR-O-11 to BR-O-14)."
        )
    totals = _checked_totals(invoice, lines)
    # Credit notes store negative quantities; UBL CreditNote and CII 381 say "credit" by
    # their type, so their amounts are positive (BR-27 forbids negative prices anyway).
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    sign = Decimal(-1) if credit else Decimal(1)
    currency = invoice.currency
    snapshot: dict[str, Any] = invoice.snapshot
    not_subject = categories == {TaxCategory.NOT_SUBJECT}
    tax_currency: dict[str, str] = snapshot.get("tax_currency") or {}

    groups = [group for group in totals.groups if group.tax.name == "VAT"]
    allowances = tuple(
        _document_allowance(group, invoice.discount_percent, sign, currency)
        for group in groups
        if group.allowance
    ) + tuple(_document_charge(group, invoice, sign, currency) for group in groups if group.charge)
    breakdown = tuple(
        VatBreakdown(
            category=group.tax.category,
            rate=_rate(group.tax.category, group.tax.rate),
            taxable_amount=sign * group.basis,
            tax_amount=sign * group.amount,
            exemption_reason=_exemption_reason(invoice, group.tax.category),
            exemption_reason_code=EXEMPTION_CODES.get(TaxCategory(group.tax.category), ""),
        )
        for group in groups
    )
    buyer = _party(snapshot["buyer"], with_vat_id=not not_subject)
    seller = _party(snapshot["seller"], with_vat_id=not not_subject, seller=True)
    if not_subject and not seller.legal_registration_id:
        raise EInvoiceError(
            "A document not subject to VAT may not name VAT identifiers (BR-O-02), so the "
            "seller needs a legal registration identifier instead (BT-30, BR-CO-26)."
        )
    intra_community = TaxCategory.INTRA_COMMUNITY in categories
    period = (invoice.period_start, invoice.period_end)
    has_period = period[0] is not None and period[1] is not None
    gross = sign * invoice.gross_total
    preceding = None
    if credit and invoice.credits is not None:
        preceding = PrecedingInvoice(invoice.credits.number or "", invoice.credits.issue_date)
    return EInvoice(
        number=invoice.number,
        issue_date=invoice.issue_date,
        type_code=CREDIT_NOTE if credit else INVOICE,
        currency=currency,
        seller=seller,
        buyer=buyer,
        payment_means=_payment_means(snapshot["seller"], invoice, credit),
        payment_terms=_payment_terms(snapshot, invoice, credit),
        totals=DocumentTotals(
            line_total=sign * totals.line_total,
            allowance_total=sign * totals.allowance_total,
            charge_total=sign * totals.charge_total,
            tax_exclusive=sign * invoice.net_total,
            tax_total=sign * invoice.tax_total,
            tax_inclusive=gross,
            payable=gross,
        ),
        vat_breakdown=breakdown,
        lines=tuple(_line(line, sign, currency) for line in lines),
        allowances=allowances,
        due_date=None if credit else invoice.due_date,
        notes=(invoice.message,) if invoice.message else (),
        buyer_reference=snapshot["buyer"].get("buyer_reference", ""),
        project_reference=snapshot.get("project_reference", ""),
        contract_reference=snapshot.get("contract_reference", ""),
        purchase_order_reference=snapshot.get("purchase_order_reference", ""),
        preceding_invoice=preceding,
        period_start=period[0] if has_period else None,
        period_end=period[1] if has_period else None,
        # BR-IC-11 and BR-IC-12: an intra-community supply names when and where it went.
        # Without a billing period the supply is dated on the issue date, as the invoice
        # itself says nothing else.
        delivery_date=invoice.issue_date if intra_community and not has_period else None,
        deliver_to_country=snapshot["buyer"].get("country", "") if intra_community else "",
        tax_currency=tax_currency.get("code", ""),
        tax_total_in_tax_currency=(
            sign * Decimal(tax_currency["tax_total"]) if tax_currency else None
        ),
    )


def _checked_totals(invoice: Invoice, lines: list[InvoiceLine]) -> Totals:
    """The tax groups recomputed from the stored lines, refused unless they match what's stored."""
    totals = services.invoice_totals(invoice, lines)
    stored = (invoice.net_total, invoice.tax_total, invoice.gross_total)
    computed = (totals.net_total, totals.tax_total, totals.gross_total)
    line_nets = [line.net_amount for line in lines]
    if stored != computed or line_nets != totals.line_nets:
        raise EInvoiceError(
            f"{invoice.number}: the stored totals {stored} do not match the lines "
            f"{computed}; the e-invoice would contradict the PDF."
        )
    return totals


def _rate(category: str, rate: Decimal) -> Decimal | None:
    return None if category == TaxCategory.NOT_SUBJECT else rate


def _exemption_reason(invoice: Invoice, category: str) -> str:
    """BT-120: the invoice's own reason for exempt supplies, the legal wording otherwise."""
    if category in (TaxCategory.STANDARD, TaxCategory.ZERO):
        return ""  # BR-S-10, BR-Z-10: no exemption reason
    if category == TaxCategory.EXEMPT:
        return invoice.tax_note
    notes: dict[str, str] = invoice.snapshot.get("tax_notes", {})
    return notes.get(category) or services.LEGAL_NOTES[TaxCategory(category)]


def _party(data: dict[str, Any], *, with_vat_id: bool, seller: bool = False) -> Party:
    address = Address(
        line1=data.get("address_line1", ""),
        line2=data.get("address_line2", ""),
        city=data.get("city", ""),
        postal_code=data.get("postal_code", ""),
        region=data.get("region", ""),
        country=data.get("country", ""),
    )
    electronic = None
    if data.get("electronic_address"):
        electronic = ElectronicAddress(
            data["electronic_address"], data.get("electronic_address_scheme", "")
        )
    contact = None
    if seller and (data.get("email") or data.get("phone") or data.get("contact_name")):
        contact = Contact(
            name=data.get("contact_name", ""),
            phone=data.get("phone", ""),
            email=data.get("email", ""),
        )
    return Party(
        name=data["name"],
        address=address,
        # BR-O-02: a document not subject to VAT names no VAT identifiers.
        vat_id=data.get("vat_id", "") if with_vat_id else "",
        tax_registration=data.get("tax_number", "") if seller else "",
        legal_registration_id=data.get("legal_registration_id", ""),
        electronic_address=electronic,
        contact=contact,
    )


def _payment_means(seller: dict[str, Any], invoice: Invoice, credit: bool) -> PaymentMeans:
    iban = seller.get("iban", "")
    # A credit note is paid back to the buyer, whose account the snapshot does not know.
    if credit or not iban:
        return PaymentMeans(NOT_DEFINED, remittance=invoice.number or "")
    code = SEPA_CREDIT_TRANSFER if invoice.currency in SEPA_CURRENCIES else CREDIT_TRANSFER
    return PaymentMeans(
        code,
        remittance=invoice.number or "",
        iban=iban.replace(" ", ""),
        account_name=seller.get("name", ""),
        bic=seller.get("bic", ""),
    )


def _payment_terms(snapshot: dict[str, Any], invoice: Invoice, credit: bool) -> str:
    if credit:
        return "This amount will be credited to you."
    days = int(snapshot.get("payment_terms_days") or 0)
    due = invoice.due_date.isoformat() if invoice.due_date else ""
    if days == 0:
        return f"Payable immediately, by {due}."
    return f"Payable within {days} days, by {due} at the latest."


def _document_allowance(
    group: TaxGroup, percent: Decimal, sign: Decimal, currency: str
) -> Allowance:
    """The document discount's share of one VAT group, as totals.py rounded it."""
    amount = sign * group.allowance
    base = sign * (group.basis + group.allowance)
    return Allowance(
        amount=amount,
        **_base_and_percent(base, percent, amount),
        reason="Discount",
        reason_code=DISCOUNT,
        category=group.tax.category,
        rate=_rate(group.tax.category, group.tax.rate),
    )


def _document_charge(group: TaxGroup, invoice: Invoice, sign: Decimal, currency: str) -> Allowance:
    """The document surcharge's share of one VAT group, as totals.py rounded it."""
    amount = sign * group.charge
    base = sign * (group.basis + group.allowance - group.charge)
    return Allowance(
        amount=amount,
        **_base_and_percent(base, invoice.surcharge_percent, amount),
        reason=invoice.surcharge_reason or "Surcharge",
        reason_code=MUTUALLY_DEFINED,
        category=group.tax.category,
        rate=_rate(group.tax.category, group.tax.rate),
        charge=True,
    )


def _line(line: InvoiceLine, sign: Decimal, currency: str) -> Line:
    quantity, price = sign * line.quantity, line.unit_price
    if price < 0:
        # BR-27: prices are never negative; a negative line is a negative quantity.
        quantity, price = -quantity, -price
    net = sign * line.net_amount
    gross = round_money(quantity * price, currency)
    allowance = charge = None
    # The line's net was rounded once from quantity × price × (100 − discount + surcharge);
    # the allowance and charge stated here add up to exactly that net (BR-CO / R120).
    discount_amount = Decimal(0)
    if line.discount_percent and line.surcharge_percent:
        discount_amount = round_money(gross * line.discount_percent / HUNDRED, currency)
    elif line.discount_percent:
        discount_amount = gross - net
    surcharge_amount = net - gross + discount_amount
    if discount_amount:
        allowance = Allowance(
            amount=discount_amount,
            **_base_and_percent(gross, line.discount_percent, discount_amount),
            reason="Discount",
            reason_code=DISCOUNT,
        )
    if line.surcharge_percent and surcharge_amount:
        charge = Allowance(
            amount=surcharge_amount,
            **_base_and_percent(gross, line.surcharge_percent, surcharge_amount),
            reason="Surcharge",
            reason_code=MUTUALLY_DEFINED,
            charge=True,
        )
    return Line(
        id=str(line.position),
        quantity=quantity,
        unit_code=line.unit,
        net_amount=net,
        item_name=line.description,
        net_price=price,
        category=line.tax_category,
        rate=_rate(line.tax_category, line.tax_rate),
        allowance=allowance,
        charge=charge,
    )


def _base_and_percent(base: Decimal, percent: Decimal, amount: Decimal) -> dict[str, Any]:
    """BT-93/BT-94 only when amount = base × percent holds within Peppol's 0.02 slack.

    With whole-unit currencies (JPY) half-up rounding can be off by 0.5; the amount alone
    is then the honest statement (PEPPOL-EN16931-R040/R041).
    """
    if abs(base * percent / HUNDRED - amount) <= Decimal("0.02"):
        return {"base_amount": base, "percent": percent}
    return {"base_amount": None, "percent": None}


def cius_gaps(einvoice: EInvoice, specification: Specification) -> list[str]:
    """What XRechnung or Peppol require beyond EN 16931 that this document lacks."""
    gaps = []
    if specification == XRECHNUNG:
        if not einvoice.buyer_reference:
            gaps.append("BT-10 buyer reference / Leitweg-ID (BR-DE-15)")
        contact = einvoice.seller.contact
        if contact is None or not (contact.name and contact.phone and contact.email):
            gaps.append("BG-6 seller contact with name, phone and email (BR-DE-2)")
        if einvoice.seller.electronic_address is None:
            gaps.append("BT-34 seller electronic address (PEPPOL-EN16931-R020)")
        if einvoice.buyer.electronic_address is None:
            gaps.append("BT-49 buyer electronic address (PEPPOL-EN16931-R010)")
    if specification == PEPPOL:
        if not (einvoice.buyer_reference or einvoice.purchase_order_reference):
            gaps.append("BT-10 buyer reference or BT-13 purchase order (PEPPOL-EN16931-R003)")
        if einvoice.seller.electronic_address is None:
            gaps.append("BT-34 seller electronic address (PEPPOL-EN16931-R020)")
        if einvoice.buyer.electronic_address is None:
            gaps.append("BT-49 buyer electronic address (PEPPOL-EN16931-R010)")
    return gaps
