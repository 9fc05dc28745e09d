"""The portal speaks the client's language: the document's for its page, the client's for the
statement and for a link that ended; English when the language is unknown or nothing tells
whose a link is. Money and dates as babel writes them in that locale, like the PDF."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency
from django.test import Client as HttpClient
from django.urls import reverse

from punchclock.clients.models import Client
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.documents.pdf import LABELS as PDF_LABELS
from punchclock.invoicing.models import Invoice, Unit
from punchclock.payments import portal, portal_text, services, stripe_payments
from punchclock.payments.balances import State
from punchclock.payments.models import Method, PortalLink
from punchclock.payments.portal_text import LABELS
from tests.payments.conftest import issued, paid
from tests.payments.test_portal_links import Clock, _forge, portal_clock

pytestmark = pytest.mark.usefixtures("frozen_today", "clock")

GROSS = Decimal("1487.50")  # 1,250.00 net + 19 % VAT
OPEN = Decimal("987.50")  # after a payment of 500.00
ISSUED, DUE = date(2026, 11, 2), date(2026, 12, 2)
NBSP = "\N{NO-BREAK SPACE}"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return portal_clock(monkeypatch)


@pytest.fixture
def online(monkeypatch) -> None:
    monkeypatch.setattr(stripe_payments, "online_payment_available", lambda invoice: True)


def speaking(billing, language: str) -> Invoice:
    """An invoice of 1,487.50 to a client speaking `language`, 500.00 of it paid."""
    billing.client.language = language
    billing.client.save()
    invoice = issued(billing, "1250.00")
    services.record_payment(
        invoice, paid("500.00", method=Method.CASH, reference="First half"), by=billing.owner
    )
    return invoice


def get(path: str) -> tuple[int, str]:
    response = HttpClient().get(path)
    return response.status_code, response.content.decode()


def home(link: PortalLink) -> str:
    return reverse("portal:home", args=[portal.token_for(link)])


def euros(amount: Decimal, locale: str) -> str:
    return format_currency(amount, "EUR", locale=locale)


def day(value: date, locale: str) -> str:
    return format_date(value, format="medium", locale=locale)


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]*)">', html)
    assert found
    return found[1]


# Document pages --------------------------------------------------------------------------


def test_a_german_invoice_page_is_german_with_german_money_and_dates(billing, online):
    invoice = speaking(billing, "de")
    status, html = get(home(portal.link_for(invoice)))
    assert status == 200
    assert html_lang(html) == "de"
    assert euros(GROSS, "de") == "1.487,50\N{NO-BREAK SPACE}€"
    for shown in (
        f"<title>Rechnung {invoice.number} · Acme Agency</title>",
        "Rechnung für Globex",
        ">Teilweise bezahlt</span>",
        "Ausgestellt am 02.11.2026 · fällig am 02.12.2026",
        f"Offener Betrag</span>\n      <strong>{euros(OPEN, 'de')}</strong>",
        f"{euros(OPEN, 'de')} jetzt online bezahlen",
        "PDF herunterladen",
        "Einzelpreis",
        f"USt. 19\N{NO-BREAK SPACE}% auf {euros(Decimal('1250.00'), 'de')}",
        f"<dt><strong>Gesamtbetrag</strong></dt><dd><strong>{euros(GROSS, 'de')}</strong>",
        f"<dt>Bezahlt</dt><dd>−{euros(Decimal('500.00'), 'de')}</dd>",
        "<td>Barzahlung</td>",
        f"<td>{day(date(2026, 11, 20), 'de')}</td>",
        "Diese Seite ist nur für Globex bestimmt.",
    ):
        assert shown in html, shown
    for english in ("€1,487.50", "Amount due", "Download PDF", "Nov 2, 2026", "Issued"):
        assert english not in html, english


def test_lines_show_units_rates_and_discounts_in_the_language(billing):
    billing.client.language = "de"
    billing.client.save()
    draft = invoicing.start_draft(billing.client, by=billing.owner)
    invoicing.add_line(
        draft,
        by=billing.owner,
        description="Beratung",
        quantity=Decimal("2.5"),
        unit_price=Decimal("95.1234"),
        unit=Unit.HOUR,
        discount_percent=Decimal(10),
        tax_category="S",
        tax_rate=Decimal(19),
    )
    invoice = invoicing.issue_invoice(draft, by=billing.owner, issue_date=ISSUED)
    html = get(home(portal.link_for(invoice)))[1]
    assert '<td class="num">2,5 Std.</td>' in html
    assert f'<td class="num">95,1234{NBSP}€</td>' in html, "a rate keeps its decimals"
    assert f'<small class="muted">−10{NBSP}%</small>' in html
    # 2.5 × 95.1234 less 10 % = 214.02765, rounded once.
    assert f'<td class="num">{euros(Decimal("214.03"), "de")}</td>' in html


def test_a_french_invoice_page_is_french_with_french_spaces(billing, online):
    invoice = speaking(billing, "fr")
    status, html = get(home(portal.link_for(invoice)))
    assert status == 200
    assert html_lang(html) == "fr"
    # Babel puts a narrow no-break space between thousands and a no-break space before €.
    assert euros(GROSS, "fr") == "1\N{NARROW NO-BREAK SPACE}487,50\N{NO-BREAK SPACE}€"
    for shown in (
        "Facture pour Globex",
        ">Partiellement payée</span>",
        f"Date d’émission\N{NO-BREAK SPACE}: {day(ISSUED, 'fr')} · échéance le {day(DUE, 'fr')}",
        f"Montant restant dû</span>\n      <strong>{euros(OPEN, 'fr')}</strong>",
        f"Payer {euros(OPEN, 'fr')} en ligne",
        f"<dt><strong>Total TTC</strong></dt><dd><strong>{euros(GROSS, 'fr')}</strong>",
        "<td>Espèces</td>",
        "Télécharger le PDF",
    ):
        assert shown in html, shown
    assert day(ISSUED, "fr") == "2 nov. 2026"
    assert "1 487,50" not in html, "plain spaces would let the amount break across lines"


def test_an_unknown_language_falls_back_to_english(billing):
    # Older or imported data may hold a language the portal has no words for; the invoice
    # takes it from the client when drafted.
    Client.objects.filter(pk=billing.client.pk).update(language="es")
    billing.client.refresh_from_db()
    invoice = issued(billing, "1250.00")
    services.record_payment(invoice, paid("500.00"), by=billing.owner)
    assert invoice.language == "es"
    status, html = get(home(portal.link_for(invoice)))
    assert status == 200
    assert html_lang(html) == "en"
    assert "Amount due" in html
    assert "€987.50" in html
    assert f"Issued {day(ISSUED, 'en')}" in html
    status, html = get(home(portal.client_link(billing.client, by=billing.owner)))
    assert (status, html_lang(html)) == (200, "en")
    assert "Statement of account" in html


def test_a_document_keeps_its_own_language_on_a_client_wide_link(billing):
    invoice = speaking(billing, "de")
    billing.client.language = "fr"  # the client changed its language after the invoice
    billing.client.save()
    link = portal.client_link(billing.client, by=billing.owner)

    status, statement = get(home(link))
    assert (status, html_lang(statement)) == (200, "fr")
    assert "Relevé de compte" in statement
    status, page = get(reverse("portal:invoice", args=[portal.token_for(link), invoice.pk]))
    assert (status, html_lang(page)) == (200, "de")
    assert "← Alle Dokumente" in page
    assert "Offener Betrag" in page


def test_the_overdue_days_are_counted_in_the_language(billing, clock):
    invoice = speaking(billing, "de")
    link = portal.link_for(invoice)
    clock.at += timedelta(days=23)  # due on 2 December: one day late
    assert "1 Tag überfällig" in get(home(link))[1]
    clock.at += timedelta(days=3)
    html = get(home(link))[1]
    assert "4 Tage überfällig" in html
    assert ">Überfällig</span>" in html


def test_coming_back_from_checkout_is_told_in_the_language(billing):
    link = portal.link_for(speaking(billing, "fr"))
    notes = {
        "success": "Votre paiement est en cours de confirmation.",
        "cancelled": "aucun montant n’a été débité.",
        "unavailable": "Le paiement en ligne n’est pas disponible pour le moment.",
    }
    for outcome, words in notes.items():
        assert words in get(f"{home(link)}?payment={outcome}")[1], outcome


# The statement of account ----------------------------------------------------------------


def test_a_german_statement_is_german(billing):
    invoice = speaking(billing, "de")
    link = portal.client_link(billing.client, by=billing.owner)
    status, html = get(home(link))
    assert status == 200
    assert html_lang(html) == "de"
    for shown in (
        "<title>Ihr Kundenkonto · Acme Agency</title>",
        "Kontoauszug",
        "<th>Zahlungsstatus</th>",
        f"<strong>{euros(OPEN, 'de')}</strong>",
        f"<td>{day(ISSUED, 'de')}</td>",
        f'<td class="num">{euros(GROSS, "de")}</td>',
        ">Teilweise bezahlt</span>",
        f">{invoice.number}</a>",
        "<td>Barzahlung</td>",
        # The link ends 90 days after 10 November 2026.
        f"bis zum {day(date(2027, 2, 8), 'de')} gültig",
    ):
        assert shown in html, shown


# Links that open nothing -----------------------------------------------------------------


def test_a_revoked_german_link_explains_itself_in_german(billing):
    billing.organization.email = "billing@acme.test"
    billing.organization.save()
    link = portal.link_for(speaking(billing, "de"))
    portal.revoke(link, by=billing.owner)
    status, html = get(home(link))
    assert status == 410
    assert html_lang(html) == "de"
    assert "<h1>Dieser Link wurde deaktiviert</h1>" in html
    assert "Bitte fordern Sie bei ihm einen neuen Link an." in html
    assert "E-Mail an Acme Agency" in html
    assert "withdrawn" not in html


def test_an_expired_french_link_explains_itself_in_french(billing, clock):
    speaking(billing, "fr")
    link = portal.client_link(billing.client, by=billing.owner)
    clock.at += timedelta(days=portal.CLIENT_LINK_DAYS, seconds=1)
    status, html = get(home(link))
    assert (status, html_lang(html)) == (410, "fr")
    assert "<h1>Ce lien a expiré</h1>" in html


def test_a_forged_token_is_answered_in_english_whoever_it_imitates(billing):
    link = portal.link_for(speaking(billing, "de"))
    status, html = get(reverse("portal:home", args=[_forge(portal.token_for(link))]))
    assert status == 404
    assert html_lang(html) == "en"
    assert "<h1>This link does not open anything</h1>" in html
    # A German link asking for a document it does not cover learns nothing more.
    other = issued(billing)
    outside = HttpClient().get(reverse("portal:invoice", args=[portal.token_for(link), other.pk]))
    forged = HttpClient().get(reverse("portal:home", args=["1.forged"]))
    assert (outside.status_code, outside.content) == (404, forged.content)


# The wording itself ----------------------------------------------------------------------


def test_every_language_has_all_the_words():
    assert set(LABELS) == set(PDF_LABELS) == {"en", "de", "fr"}
    for lang, labels in LABELS.items():
        assert labels.keys() == LABELS["en"].keys(), lang
        assert all(labels.values()), lang
        # The portal adds words; those it shares with the PDF come from the PDF.
        assert not labels.keys() & PDF_LABELS[lang].keys(), lang
        text = portal_text.Text(lang)
        for state in (s for s in State.LABELS if s != State.DRAFT):
            assert portal_text.status(text, state), (lang, state)
        for method in Method.values:
            assert text.labels[f"method_{method}"], (lang, method)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("de", "de"), ("fr", "fr"), ("en", "en"), ("de-CH", "de"), ("fr_BE", "fr"), ("es", "en")],
)
def test_the_language_of_a_locale_code(code, expected):
    assert portal_text.language(code) == expected


def test_sent_and_viewed_read_as_open_to_the_client():
    text = portal_text.Text("de")
    assert {portal_text.status(text, s) for s in (State.OPEN, State.SENT, State.VIEWED)} == {
        "Offen"
    }
