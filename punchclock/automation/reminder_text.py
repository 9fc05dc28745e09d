"""The words of reminder emails: placeholders, texts per level and language, and filling them.

Built-in texts get firmer with the level: a friendly reminder, a second reminder, a final
notice, and the repeating one (level 4). An organization may replace any of them per
language; placeholders are the only thing filled in, so a template cannot reach anything
else (no attribute access, no format specs).
"""

from __future__ import annotations

import string
from datetime import date

from babel.dates import format_date

from punchclock.automation.models import ReminderTemplate
from punchclock.core.money import Money
from punchclock.invoicing import sending
from punchclock.invoicing.models import Invoice
from punchclock.payments import portal
from punchclock.payments.balances import Balance

PLACEHOLDERS = {
    "number": "the invoice number",
    "issue_date": "the invoice's issue date",
    "due_date": "its due date",
    "days_overdue": "days past the due date (0 before it)",
    "total": "the invoice total with currency",
    "amount": "the amount still open, with currency",
    "client": "the client's name",
    "organization": "your organization's name",
    "link": "the client's own link to view (and pay) the invoice online",
    "late_fee": "the late fee with currency (empty when the level has none)",
    "late_fee_text": "a sentence naming the late fee and its document, in the client's "
    "language (empty when the level has none)",
}
LANGUAGES = ("en", "de", "fr")
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French"}
LEVEL_NAMES = {1: "Friendly reminder", 2: "Second reminder", 3: "Final notice", 4: "Repeating"}
LONGEST_SUBJECT = 200

_EN_END = "\n\n{late_fee_text}\n\nThe invoice and its payment status online:\n{link}\n\n"
_EN_END += "Kind regards,\n{organization}"
_DE_END = "\n\n{late_fee_text}\n\nRechnung und Zahlungsstand online:\n{link}\n\n"
_DE_END += "Mit freundlichen Grüßen\n{organization}"
_FR_END = "\n\n{late_fee_text}\n\nLa facture et l'état de son paiement en ligne\N{NO-BREAK SPACE}:"
_FR_END += "\n{link}\n\nCordialement,\n{organization}"

# language -> level -> (subject, body)
WORDING: dict[str, dict[int, tuple[str, str]]] = {
    "en": {
        1: (
            "Friendly reminder: invoice {number}",
            "Hello,\n\nthis is a friendly reminder about invoice {number} of {issue_date}, "
            "due on {due_date}: {amount} is still open.\nIf you have paid it already, thank "
            "you, and please disregard this email." + _EN_END,
        ),
        2: (
            "Second reminder: invoice {number} is overdue",
            "Hello,\n\nwe have not yet received payment for invoice {number} of {issue_date}. "
            "It was due on {due_date} and is now {days_overdue} days overdue; {amount} is "
            "still open.\n\nPlease transfer the amount within the next few days." + _EN_END,
        ),
        3: (
            "Final notice: invoice {number}",
            "Hello,\n\ndespite our reminders, invoice {number} of {issue_date} (due on "
            "{due_date}) is still unpaid: {amount} is open, {days_overdue} days after the due "
            "date.\n\nThis is our final notice. Please pay the amount within 7 days; "
            "otherwise we will have to take further steps to collect it." + _EN_END,
        ),
        4: (
            "Invoice {number} is still unpaid",
            "Hello,\n\ninvoice {number} of {issue_date} is still unpaid, {days_overdue} days "
            "after its due date of {due_date}. The open amount is {amount}.\n\nPlease pay it "
            "without further delay, or tell us if something about the invoice is wrong." + _EN_END,
        ),
    },
    "de": {
        1: (
            "Zahlungserinnerung: Rechnung {number}",
            "Guten Tag,\n\nwir möchten Sie freundlich an unsere Rechnung {number} vom "
            "{issue_date} erinnern, fällig am {due_date}: Offen sind noch {amount}.\nFalls "
            "Sie bereits bezahlt haben, danken wir Ihnen; betrachten Sie diese Nachricht "
            "dann bitte als gegenstandslos." + _DE_END,
        ),
        2: (
            "Mahnung: Rechnung {number} ist überfällig",
            "Guten Tag,\n\nfür unsere Rechnung {number} vom {issue_date} konnten wir bis heute "
            "keinen Zahlungseingang feststellen. Sie war am {due_date} fällig und ist seit "
            "{days_overdue} Tagen überfällig; offen sind noch {amount}.\n\nBitte überweisen "
            "Sie den Betrag in den nächsten Tagen." + _DE_END,
        ),
        3: (
            "Letzte Mahnung: Rechnung {number}",
            "Guten Tag,\n\ntrotz unserer Erinnerungen ist unsere Rechnung {number} vom "
            "{issue_date} (fällig am {due_date}) weiterhin unbezahlt: Offen sind {amount}, "
            "{days_overdue} Tage nach Fälligkeit.\n\nDies ist unsere letzte Mahnung. Bitte "
            "begleichen Sie den Betrag innerhalb von 7 Tagen; andernfalls müssen wir weitere "
            "Schritte einleiten, um die Forderung einzuziehen." + _DE_END,
        ),
        4: (
            "Erneute Mahnung: Rechnung {number}",
            "Guten Tag,\n\nunsere Rechnung {number} vom {issue_date} ist {days_overdue} Tage "
            "nach ihrer Fälligkeit am {due_date} noch immer unbezahlt. Offen sind "
            "{amount}.\n\nBitte begleichen Sie den Betrag umgehend, oder sagen Sie uns, "
            "falls mit der Rechnung etwas nicht stimmt." + _DE_END,
        ),
    },
    "fr": {
        1: (
            "Petit rappel\N{NO-BREAK SPACE}: facture {number}",
            "Bonjour,\n\nnous nous permettons de vous rappeler la facture {number} du "
            "{issue_date}, à régler avant le {due_date}\N{NO-BREAK SPACE}: il reste {amount} "
            "à payer.\nSi vous l'avez déjà réglée, merci, et veuillez ne pas tenir compte "
            "de ce message." + _FR_END,
        ),
        2: (
            "Relance\N{NO-BREAK SPACE}: facture {number} échue",
            "Bonjour,\n\nsauf erreur de notre part, nous n'avons pas encore reçu le règlement "
            "de la facture {number} du {issue_date}. Elle était à régler avant le {due_date} "
            "et présente un retard de {days_overdue} jours\N{NO-BREAK SPACE}; il reste "
            "{amount} à payer.\n\nNous vous remercions de bien vouloir effectuer le virement "
            "dans les prochains jours." + _FR_END,
        ),
        3: (
            "Dernière relance\N{NO-BREAK SPACE}: facture {number}",
            "Bonjour,\n\nmalgré nos rappels, la facture {number} du {issue_date} (échéance le "
            "{due_date}) reste impayée\N{NO-BREAK SPACE}: il reste {amount} à payer, "
            "{days_overdue} jours après l'échéance.\n\nCeci est notre dernière relance. "
            "Merci de régler ce montant sous 7 jours\N{NO-BREAK SPACE}; à défaut, nous "
            "devrons engager une procédure de recouvrement." + _FR_END,
        ),
        4: (
            "Nouvelle relance\N{NO-BREAK SPACE}: facture {number}",
            "Bonjour,\n\nla facture {number} du {issue_date} reste impayée {days_overdue} "
            "jours après son échéance du {due_date}. Le montant dû est de {amount}.\n\n"
            "Merci de la régler sans délai, ou de nous signaler si quelque chose ne va pas "
            "avec cette facture." + _FR_END,
        ),
    },
}
LATE_FEE_TEXT = {
    "en": "A late fee of {fee} is charged with invoice {fee_number}, attached.",
    "de": "Für diese Mahnung berechnen wir eine Mahngebühr von {fee} "
    "(Rechnung {fee_number}, anbei).",
    "fr": "Des frais de relance de {fee} vous sont facturés (facture {fee_number}, ci-jointe).",
}
LATE_FEE_LINE = {
    "en": "Late fee for invoice {number} (reminder {step})",
    "de": "Mahngebühr für Rechnung {number} ({step}. Mahnung)",
    "fr": "Frais de relance pour la facture {number} (relance {step})",
}


def language_of(code: str) -> str:
    """The built-in language for a locale such as "de-AT"; English when there is none."""
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in WORDING else "en"


def check_wording(text: str, field: str) -> None:
    """A subject or body may use only the reminder placeholders, written as {name}."""
    sending.check_wording(text, field, PLACEHOLDERS)


def uses(text: str, name: str) -> bool:
    return any(found == name for _literal, found, _spec, _conv in string.Formatter().parse(text))


def fill(subject: str, body: str, values: dict[str, str]) -> tuple[str, str]:
    """The subject and body with their placeholders filled, blank gaps closed."""
    filled_subject = subject.format_map(values).strip()
    filled_body = body.format_map(values)
    # An empty late-fee sentence leaves no hole of blank lines.
    while "\n\n\n" in filled_body:
        filled_body = filled_body.replace("\n\n\n", "\n\n")
    return filled_subject[:1].upper() + filled_subject[1:], filled_body.strip() + "\n"


def wording_for(organization_id: int, level: int, language: str) -> tuple[str, str, bool]:
    """Subject, body, and whether they are the organization's own (else built in)."""
    found = ReminderTemplate.objects.filter(
        organization_id=organization_id, level=level, language=language
    ).first()
    if found is not None:
        return found.subject, found.body, True
    subject, body = WORDING[language_of(language)][level]
    return subject, body, False


def _day(value: date | None, locale: str) -> str:
    return format_date(value, format="long", locale=locale) if value else ""


def values_for(
    invoice: Invoice, balance: Balance, today: date, late_fee: Invoice | None
) -> dict[str, str]:
    """What the placeholders stand for, in the invoice's language; {link} is added on use."""
    locale = invoice.language.replace("-", "_")
    language = language_of(invoice.language)
    buyer, seller = invoice.snapshot.get("buyer", {}), invoice.snapshot.get("seller", {})
    due_date = invoice.due_date or today
    fee = Money(late_fee.gross_total, late_fee.currency).format(locale) if late_fee else ""
    return {
        "number": invoice.number or "",
        "issue_date": _day(invoice.issue_date, locale),
        "due_date": _day(invoice.due_date, locale),
        "days_overdue": str(max((today - due_date).days, 0)),
        "total": Money(invoice.gross_total, invoice.currency).format(locale),
        "amount": Money(balance.balance, balance.currency).format(locale),
        "client": buyer.get("name") or invoice.client.name,
        "organization": seller.get("name") or invoice.organization.name,
        "late_fee": fee,
        "late_fee_text": LATE_FEE_TEXT[language].format(fee=fee, fee_number=late_fee.number)
        if late_fee
        else "",
    }


def wording(
    invoice: Invoice, level: int, balance: Balance, today: date, late_fee: Invoice | None
) -> tuple[str, str]:
    """The subject and body of this level's reminder for this invoice."""
    subject, body, _own = wording_for(invoice.organization_id, level, language_of(invoice.language))
    values = values_for(invoice, balance, today, late_fee)
    if uses(subject + body, "link"):
        # Only a wording that shows the link makes one.
        values["link"] = portal.url_for(portal.link_for(invoice))
    return fill(subject, body, values)
