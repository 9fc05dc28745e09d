"""What the client reads in the portal, in the document's or the client's language.

The wording is a dict per language, like the PDF's; the words a page shares with its PDF
(invoice, unit price, VAT 19 % on …, the tax notes) come from the PDF's LABELS, so both say
the same. Money, dates and percentages are formatted by the PDF's `_Formats`, in the same
locale. A language without wording here falls back to English, formats included.

Pages get their text ready-made: templates only place it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from babel.numbers import format_currency

from punchclock.core.money import round_money
from punchclock.core.timeutil import local_date
from punchclock.invoicing.documents.pdf import LABELS as PDF_LABELS
from punchclock.invoicing.documents.pdf import UNIT_LABELS, _Formats
from punchclock.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Unit
from punchclock.payments.balances import State
from punchclock.payments.models import Payment, PortalLink
from punchclock.payments.portal import (
    AccountPage,
    DocumentPage,
    ExpiredLink,
    LinkError,
    RevokedLink,
    Row,
    UnknownLink,
)

ENGLISH = "en"
NBSP = "\N{NO-BREAK SPACE}"  # before a French colon
NNBSP = "\N{NARROW NO-BREAK SPACE}"  # before French ; ! ?
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "all_documents": "All documents",
        "document_for": "{document} for {name}",
        "issued_on": "Issued {date}",
        "due_on": "due {date}",
        "corrects": "corrects invoice {number}",
        "amount_due": "Amount due",
        "credited": "Credited",
        "total": "Total",
        "overdue_one": "{days} day overdue",
        "overdue_other": "{days} days overdue",
        "settled": "Nothing left to pay",
        "settled_credited": "Nothing to pay: credited",
        "pay_amount_online": "Pay {amount} online",
        "download_pdf": "Download PDF",
        "download_einvoice": "Download e-invoice (XML)",
        "details": "Details",
        "surcharge": "Surcharge",
        "credit_notes": "Credit notes",
        "paid": "Paid",
        "open_balance": "Open balance",
        "message": "Message",
        "payments": "Payments",
        "method": "Method",
        "payment_reference": "Reference",
        "refund": "Refund",
        "dated": "of {date}",
        "pay_by_transfer": "Pay by bank transfer",
        "transfer_reference": "Reference",
        "private": "This page is private to {client}: anyone with its address can open it, "
        "so please do not share it.",
        "private_until": "This page is private to {client} and works until {date}: anyone "
        "with its address can open it, so please do not share it.",
        "account": "Your account",
        "statement": "Statement of account",
        "statement_intro": "Every invoice and credit note from {organization}, and the "
        "payments received.",
        "open": "Open",
        "credit_in_favour": "Credit in your favour {amount}",
        "status": "Status",
        "no_documents": "No invoices yet.",
        "for": "For",
        "unallocated": "credit",
        "status_open": "Open",
        "status_partially_paid": "Partially paid",
        "status_paid": "Paid",
        "status_overdue": "Overdue",
        "status_credited": "Credited",
        "status_credit_note": "Credit note",
        "method_transfer": "Bank transfer",
        "method_card": "Card",
        "method_cash": "Cash",
        "method_stripe": "Online (Stripe)",
        "method_other": "Other",
        "payment_success": "Thank you — your payment is being confirmed.",
        "payment_cancelled": "The payment was cancelled; nothing was charged.",
        "payment_unavailable": "Online payment is not available right now; please try later.",
        "unknown_title": "This link does not open anything",
        "unknown_text": "Check that the whole address from the email was copied. If it still "
        "does not work, ask the sender for a new link.",
        "revoked_title": "This link was withdrawn",
        "revoked_text": "The sender turned this link off. Ask them for a new one.",
        "expired_title": "This link has expired",
        "expired_text": "Links to a whole account work for a limited time. Ask the sender for "
        "a new one.",
        "write_to": "Write to {organization}",
        "retainer_title": "Your retainer",
        "retainer_left": "{left} left of {allowance} in {period}",
        "retainer_over": "{over} beyond the {allowance} of {period}",
    },
    "de": {
        "all_documents": "Alle Dokumente",
        "document_for": "{document} für {name}",
        "issued_on": "Ausgestellt am {date}",
        "due_on": "fällig am {date}",
        "corrects": "korrigiert Rechnung {number}",
        "amount_due": "Offener Betrag",
        "credited": "Gutgeschriebener Betrag",
        "total": "Gesamtbetrag",
        "overdue_one": "{days} Tag überfällig",
        "overdue_other": "{days} Tage überfällig",
        "settled": "Kein offener Betrag",
        "settled_credited": "Nichts zu zahlen: per Gutschrift ausgeglichen",
        "pay_amount_online": "{amount} jetzt online bezahlen",
        "download_pdf": "PDF herunterladen",
        "download_einvoice": "E-Rechnung herunterladen (XML)",
        "details": "Positionen",
        "surcharge": "Zuschlag",
        "credit_notes": "Gutschriften",
        "paid": "Bezahlt",
        "open_balance": "Offener Betrag",
        "message": "Nachricht",
        "payments": "Zahlungen",
        "method": "Zahlungsart",
        "payment_reference": "Referenz",
        "refund": "Erstattung",
        "dated": "vom {date}",
        "pay_by_transfer": "Zahlung per Überweisung",
        "transfer_reference": "Verwendungszweck",
        "private": "Diese Seite ist nur für {client} bestimmt. Jeder, der ihre Adresse kennt, "
        "kann sie öffnen – bitte geben Sie sie daher nicht weiter.",
        "private_until": "Diese Seite ist nur für {client} bestimmt und bis zum {date} "
        "gültig. Jeder, der ihre Adresse kennt, kann sie öffnen – bitte geben Sie sie daher "
        "nicht weiter.",
        "account": "Ihr Kundenkonto",
        "statement": "Kontoauszug",
        "statement_intro": "Alle Rechnungen und Gutschriften von {organization} sowie die "
        "eingegangenen Zahlungen.",
        "open": "Offen",
        "credit_in_favour": "Guthaben zu Ihren Gunsten: {amount}",
        "status": "Zahlungsstatus",
        "no_documents": "Noch keine Rechnungen.",
        "for": "Für",
        "unallocated": "Guthaben",
        "status_open": "Offen",
        "status_partially_paid": "Teilweise bezahlt",
        "status_paid": "Bezahlt",
        "status_overdue": "Überfällig",
        "status_credited": "Gutgeschrieben",
        "status_credit_note": "Gutschrift",
        "method_transfer": "Überweisung",
        "method_card": "Karte",
        "method_cash": "Barzahlung",
        "method_stripe": "Online (Stripe)",
        "method_other": "Sonstige",
        "payment_success": "Vielen Dank – Ihre Zahlung wird gerade bestätigt.",
        "payment_cancelled": "Die Zahlung wurde abgebrochen; es wurde nichts belastet.",
        "payment_unavailable": "Die Online-Zahlung ist gerade nicht verfügbar. Bitte "
        "versuchen Sie es später noch einmal.",
        "unknown_title": "Dieser Link führt zu keinem Dokument",
        "unknown_text": "Bitte prüfen Sie, ob die Adresse aus der E-Mail vollständig kopiert "
        "wurde. Funktioniert der Link dann immer noch nicht, bitten Sie den Absender um einen "
        "neuen.",
        "revoked_title": "Dieser Link wurde deaktiviert",
        "revoked_text": "Der Absender hat diesen Link abgeschaltet. Bitte fordern Sie bei ihm "
        "einen neuen Link an.",
        "expired_title": "Dieser Link ist abgelaufen",
        "expired_text": "Links zu einem ganzen Kundenkonto gelten nur für begrenzte Zeit. "
        "Bitte fordern Sie beim Absender einen neuen Link an.",
        "write_to": "E-Mail an {organization}",
        "retainer_title": "Ihr Stundenkontingent",
        "retainer_left": "Noch {left} von {allowance} im {period}",
        "retainer_over": "{over} über den {allowance} im {period}",
    },
    "fr": {
        "all_documents": "Tous les documents",
        "document_for": "{document} pour {name}",
        "issued_on": f"Date d’émission{NBSP}: {{date}}",
        "due_on": "échéance le {date}",
        "corrects": "corrige la facture {number}",
        "amount_due": "Montant restant dû",
        "credited": "Montant crédité",
        "total": "Montant total",
        "overdue_one": "{days} jour de retard",
        "overdue_other": "{days} jours de retard",
        "settled": "Aucun montant restant dû",
        "settled_credited": f"Rien à payer{NBSP}: facture annulée par avoir",
        "pay_amount_online": "Payer {amount} en ligne",
        "download_pdf": "Télécharger le PDF",
        "download_einvoice": "Télécharger la facture électronique (XML)",
        "details": "Détail",
        "surcharge": "Majoration",
        "credit_notes": "Avoirs",
        "paid": "Montant réglé",
        "open_balance": "Montant restant dû",
        "message": "Message",
        "payments": "Paiements",
        "method": "Moyen de paiement",
        "payment_reference": "Référence",
        "refund": "Remboursement",
        "dated": "du {date}",
        "pay_by_transfer": "Payer par virement bancaire",
        "transfer_reference": "Référence du virement",
        "private": f"Cette page est réservée à {{client}}{NBSP}: toute personne disposant de "
        "son adresse peut l’ouvrir, merci donc de ne pas la partager.",
        "private_until": "Cette page est réservée à {client} et reste accessible jusqu’au "
        f"{{date}}{NBSP}: toute personne disposant de son adresse peut l’ouvrir, merci donc "
        "de ne pas la partager.",
        "account": "Votre compte",
        "statement": "Relevé de compte",
        "statement_intro": "Toutes les factures et tous les avoirs émis par {organization}, ainsi "
        "que les paiements reçus.",
        "open": "Restant dû",
        "credit_in_favour": f"Solde en votre faveur{NBSP}: {{amount}}",
        "status": "Statut",
        "no_documents": "Aucune facture pour le moment.",
        "for": "Pour",
        "unallocated": "crédit",
        "status_open": "À payer",
        "status_partially_paid": "Partiellement payée",
        "status_paid": "Payée",
        "status_overdue": "En retard",
        "status_credited": "Annulée par avoir",
        "status_credit_note": "Avoir",
        "method_transfer": "Virement bancaire",
        "method_card": "Carte bancaire",
        "method_cash": "Espèces",
        "method_stripe": "En ligne (Stripe)",
        "method_other": "Autre",
        "payment_success": f"Merci{NNBSP}! Votre paiement est en cours de confirmation.",
        "payment_cancelled": f"Le paiement a été annulé{NNBSP}; aucun montant n’a été débité.",
        "payment_unavailable": "Le paiement en ligne n’est pas disponible pour le moment. "
        "Merci de réessayer plus tard.",
        "unknown_title": "Ce lien ne mène à aucun document",
        "unknown_text": "Vérifiez que l’adresse figurant dans l’e-mail a été copiée en entier. "
        "Si le lien ne fonctionne toujours pas, demandez-en un nouveau à l’expéditeur.",
        "revoked_title": "Ce lien a été désactivé",
        "revoked_text": "L’expéditeur a désactivé ce lien. Merci de lui en demander un nouveau.",
        "expired_title": "Ce lien a expiré",
        "expired_text": "Les liens vers l’ensemble d’un compte ne sont valables que pour une "
        "durée limitée. Merci d’en demander un nouveau à l’expéditeur.",
        "write_to": "Écrire à {organization}",
        "retainer_title": "Votre forfait",
        "retainer_left": "Il reste {left} sur {allowance} en {period}",
        "retainer_over": "{over} au-delà des {allowance} de {period}",
    },
}
# The client reads "Open" whether or not the invoice was sent or viewed: that is our news.
CLIENT_STATES = {State.SENT: State.OPEN, State.VIEWED: State.OPEN}
PROBLEMS = {UnknownLink: "unknown", RevokedLink: "revoked", ExpiredLink: "expired"}
# What the client reads after coming back from Stripe Checkout (?payment=…): its flash style.
PAYMENT_NOTES = {"success": "success", "cancelled": "info", "unavailable": "error"}


def language(code: str) -> str:
    """The language of a locale code ("de", "fr-CH") when the portal speaks it; else English."""
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LABELS else ENGLISH


@cache
def _formats(lang: str, currency: str) -> _Formats:
    return _Formats(lang, currency)


@dataclass(frozen=True)
class Text:
    """One page's wording (the PDF's words and the portal's) and its formats."""

    lang: str
    labels: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", PDF_LABELS[self.lang] | LABELS[self.lang])

    def formats(self, currency: str) -> _Formats:
        return _formats(self.lang, currency)

    def say(self, key: str, **values: Any) -> str:
        return self.labels[key].format(**values)


def text_in(code: str) -> Text:
    return Text(language(code))


def for_error(error: LinkError) -> Text:
    """A link that ended speaks its client's language; an unknown token English, since
    nothing tells whose it is (and it must answer exactly as any other unknown token)."""
    return text_in(error.link.client.language) if error.link else Text(ENGLISH)


def problem(text: Text, error: LinkError) -> tuple[str, str]:
    """The title and explanation of a link that opens nothing."""
    name = PROBLEMS[type(error)]
    return text.labels[f"{name}_title"], text.labels[f"{name}_text"]


def payment_note(text: Text, outcome: str) -> tuple[str, str] | None:
    """The flash style and words for coming back from Checkout; None for anything else."""
    style = PAYMENT_NOTES.get(outcome)
    return (style, text.labels[f"payment_{outcome}"]) if style else None


def status(text: Text, state: str) -> str:
    return text.labels[f"status_{CLIENT_STATES.get(state, state)}"]


def _rate(fmt: _Formats, amount: Decimal) -> str:
    """A unit price: money, but keeping a rate's extra decimals (€95.1234)."""
    value = Decimal(amount)
    if value == round_money(value, fmt.currency):
        return fmt.money(value)
    return format_currency(
        value.normalize(), fmt.currency, locale=fmt.parsed, decimal_quantization=False
    )


def _address(fmt: _Formats, labels: dict[str, str], party: dict[str, str]) -> list[str]:
    """A snapshot's party as address lines, the country named in the page's language."""
    city = " ".join(x for x in (party.get("postal_code", ""), party.get("city", "")) if x)
    country = party.get("country", "")
    return [
        line
        for line in (
            party.get("name", ""),
            party.get("address_line1", ""),
            party.get("address_line2", ""),
            city,
            str(fmt.parsed.territories.get(country.upper(), country)) if country else "",
            f"{labels['vat_id']} {party['vat_id']}" if party.get("vat_id") else "",
        )
        if line
    ]


@dataclass(frozen=True)
class Figure:
    """A label with its formatted amount: a row of the totals."""

    label: str
    value: str
    strong: bool = False


@dataclass(frozen=True)
class LineText:
    description: str
    adjustment: str
    quantity: str
    unit_price: str
    tax: str
    amount: str


@dataclass(frozen=True)
class PaymentText:
    date: str
    method: str
    reference: str
    amount: str
    invoices: list[Invoice] = field(default_factory=list)  # on the statement: what it paid


@dataclass(frozen=True)
class DocumentText:
    title: str
    eyebrow: str
    status: str
    dates: str
    headline: Figure
    overdue: str
    settled: str
    pay: str
    due: str
    seller: list[str]
    buyer: list[str]
    lines: list[LineText]
    totals: list[Figure]
    tax_notes: list[str]
    payments: list[PaymentText]
    credit_notes: list[tuple[Invoice, str]]
    foot: str


def _method(text: Text, method: str, amount: Decimal) -> str:
    return text.labels["refund"] if amount < 0 else text.labels[f"method_{method}"]


def _line(text: Text, fmt: _Formats, line: InvoiceLine) -> LineText:
    adjustment = []
    if line.discount_percent:
        adjustment.append(f"−{fmt.percent(line.discount_percent)}")
    if line.surcharge_percent:
        adjustment.append(f"+{fmt.percent(line.surcharge_percent)}")
    quantity = fmt.number(line.quantity)
    if line.unit != Unit.PIECE:
        quantity += " " + text.labels[UNIT_LABELS.get(line.unit, "pieces")]
    tax = fmt.percent(line.tax_rate)
    if line.additional_tax_rate is not None:
        tax += f" + {fmt.percent(line.additional_tax_rate)} {line.additional_tax_name}"
    return LineText(
        description=line.description,
        adjustment=" ".join(adjustment),
        quantity=quantity,
        unit_price=_rate(fmt, line.unit_price),
        tax=tax,
        amount=fmt.money(line.net_amount),
    )


def _totals(text: Text, fmt: _Formats, page: DocumentPage) -> list[Figure]:
    """The totals as the PDF words them, then what credit notes and payments took off."""
    invoice, totals, balance, say = page.invoice, page.totals, page.balance, text.say
    rows = []
    if totals.allowance_total or totals.charge_total:
        rows.append(Figure(say("subtotal"), fmt.money(totals.line_total)))
    if totals.allowance_total:
        label = say("document_discount", percent=fmt.percent(invoice.discount_percent))
        rows.append(Figure(label, f"−{fmt.money(totals.allowance_total)}"))
    if totals.charge_total:
        reason = invoice.surcharge_reason or say("surcharge")
        label = f"{reason} {fmt.percent(invoice.surcharge_percent)}"
        rows.append(Figure(label, f"+{fmt.money(totals.charge_total)}"))
    rows.append(Figure(say("net_total"), fmt.money(totals.net_total)))
    for group in totals.groups:
        name = say("vat") if group.tax.name == "VAT" else group.tax.name
        rate, basis = fmt.percent(group.tax.rate), fmt.money(group.basis)
        rows.append(
            Figure(say("tax_on", name=name, rate=rate, basis=basis), fmt.money(group.amount))
        )
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    total = say("total_credit" if credit else "total_due")
    rows.append(Figure(total, fmt.money(totals.gross_total), strong=True))
    if credit:
        return rows
    if balance.credited:
        rows.append(Figure(say("credit_notes"), f"−{fmt.money(balance.credited)}"))
    if balance.paid:
        rows.append(Figure(say("paid"), f"−{fmt.money(balance.paid)}"))
    if balance.credited or balance.paid:
        rows.append(Figure(say("open_balance"), fmt.money(balance.balance), strong=True))
    return rows


def _headline(text: Text, fmt: _Formats, page: DocumentPage) -> tuple[Figure, str, str]:
    """The big amount, and the overdue or settled remark beside it."""
    invoice, balance = page.invoice, page.balance
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return Figure(text.say("credited"), fmt.money(invoice.gross_total)), "", ""
    if balance.is_open:
        overdue = ""
        if balance.days_overdue:
            form = fmt.parsed.plural_form(balance.days_overdue)
            key = f"overdue_{form}" if f"overdue_{form}" in text.labels else "overdue_other"
            overdue = text.say(key, days=balance.days_overdue)
        return Figure(text.say("amount_due"), fmt.money(balance.balance)), overdue, ""
    settled = "settled_credited" if balance.state == State.CREDITED else "settled"
    return Figure(text.say("total"), fmt.money(balance.gross)), "", text.say(settled)


def _dates(text: Text, fmt: _Formats, invoice: Invoice) -> str:
    parts = [text.say("issued_on", date=fmt.date(invoice.issue_date))]
    if invoice.due_date and invoice.kind == InvoiceKind.INVOICE:
        parts.append(text.say("due_on", date=fmt.date(invoice.due_date)))
    if invoice.credits:
        parts.append(text.say("corrects", number=invoice.credits.number))
    return " · ".join(parts)


def document_text(text: Text, page: DocumentPage, link: PortalLink) -> DocumentText:
    """Everything the client reads on a document's page, in `text`'s language."""
    invoice, balance, labels = page.invoice, page.balance, text.labels
    fmt = text.formats(invoice.currency)
    seller, buyer = invoice.snapshot["seller"], invoice.snapshot["buyer"]
    kind = labels["credit_note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "invoice"]
    headline, overdue, settled = _headline(text, fmt, page)
    due = fmt.money(balance.balance)
    return DocumentText(
        title=f"{kind} {invoice.number}",
        eyebrow=text.say("document_for", document=kind, name=buyer.get("name") or link.client.name),
        status=status(text, balance.state),
        dates=_dates(text, fmt, invoice),
        headline=headline,
        overdue=overdue,
        settled=settled,
        pay=text.say("pay_amount_online", amount=due) if page.payable else "",
        due=due,
        seller=_address(fmt, labels, seller),
        buyer=_address(fmt, labels, buyer),
        lines=[_line(text, fmt, line) for line in page.lines],
        totals=_totals(text, fmt, page),
        # The PDF's wording of the notes the document was issued with.
        tax_notes=[
            labels[code].format(buyer_vat_id=buyer.get("vat_id") or "–")
            for code in invoice.snapshot.get("tax_notes", {})
            if labels.get(code)
        ],
        payments=[
            PaymentText(
                date=fmt.date(allocation.payment.received_on),
                method=_method(text, allocation.payment.method, allocation.amount),
                reference=allocation.payment.reference,
                amount=fmt.money(allocation.amount),
            )
            for allocation in page.payments
        ],
        credit_notes=[
            (
                note,
                f"{text.say('dated', date=fmt.date(note.issue_date))} · "
                f"{text.formats(note.currency).money(note.gross_total)}",
            )
            for note in page.credit_notes
        ],
        foot=text.say("private", client=link.client.name),
    )


@dataclass(frozen=True)
class RowText:
    invoice: Invoice
    state: str
    status: str
    issued: str
    due: str
    total: str
    open: str  # empty when nothing is owed on it


@dataclass(frozen=True)
class AccountText:
    intro: str
    open_totals: list[str]
    settled: str
    credit: list[str]
    rows: list[RowText]
    payments: list[PaymentText]
    foot: str


def _row(text: Text, fmt: _Formats, row: Row) -> RowText:
    invoice, balance = row.invoice, row.balance
    money = text.formats(invoice.currency).money
    is_invoice = invoice.kind == InvoiceKind.INVOICE
    return RowText(
        invoice=invoice,
        state=balance.state,
        status=status(text, balance.state),
        issued=fmt.date(invoice.issue_date),
        due=fmt.date(invoice.due_date) if is_invoice else "",
        total=money(balance.gross),
        open=money(balance.balance) if balance.is_open and is_invoice else "",
    )


def _statement_payment(text: Text, fmt: _Formats, payment: Payment) -> PaymentText:
    allocations = list(payment.allocations.all())
    return PaymentText(
        date=fmt.date(payment.received_on),
        method=_method(text, payment.method, payment.amount),
        reference=payment.reference,
        amount=text.formats(payment.currency).money(payment.amount),
        invoices=[a.invoice for a in allocations if a.invoice.status == InvoiceStatus.ISSUED],
    )


def account_text(text: Text, page: AccountPage, link: PortalLink) -> AccountText:
    """Everything the client reads on the statement of account, in `text`'s language."""
    client = link.client
    fmt = text.formats(client.currency)
    if link.expires_at:
        until = fmt.date(local_date(link.expires_at, link.organization.timezone))
        foot = text.say("private_until", client=client.name, date=until)
    else:
        foot = text.say("private", client=client.name)
    return AccountText(
        intro=text.say("statement_intro", organization=link.organization.name),
        open_totals=[text.formats(c).money(amount) for c, amount in page.open_totals]
        or [fmt.money(Decimal(0))],
        settled="" if page.open_totals else text.say("settled"),
        credit=[
            text.say("credit_in_favour", amount=text.formats(c).money(amount))
            for c, amount in page.credit
        ],
        rows=[_row(text, fmt, row) for row in page.rows],
        payments=[_statement_payment(text, fmt, payment) for payment in page.payments],
        foot=foot,
    )
