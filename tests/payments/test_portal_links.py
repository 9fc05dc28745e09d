"""Portal links: signed tokens that open one link, and nothing once revoked or expired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core import serializers
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from punchclock.accounts.models import Role
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import Invoice
from punchclock.payments import portal
from punchclock.payments.models import PortalLink
from tests import factories
from tests.invoicing.conftest import free_draft
from tests.payments.conftest import issued


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at


def portal_clock(monkeypatch) -> Clock:
    """The portal's clock, on 10 November 2026 (invoices of 2 November are due on 2 December)."""
    found = Clock(datetime(2026, 11, 10, 12, tzinfo=UTC))
    monkeypatch.setattr(portal, "now", found)
    return found


def rival_organization() -> SimpleNamespace:
    """Another organization with its own client and issued invoice."""
    organization = factories.make_organization(
        "Rival Studio", default_currency="EUR", vat_id="DE136695976"
    )
    owner = factories.make_membership(
        organization, Role.OWNER, factories.make_user("owner@rival.test", name="Rita Rival")
    )
    client = factories.make_client(organization, "Initech", code="initech", currency="EUR")
    team = SimpleNamespace(organization=organization, owner=owner, client=client)
    team.invoice = issued(team, "700.00")
    return team


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return portal_clock(monkeypatch)


@pytest.fixture
def rival(db) -> SimpleNamespace:
    return rival_organization()


def _forge(token: str) -> str:
    """The same id with a signature that is one character off."""
    head, signature = token.split(".")
    return f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


def test_a_token_opens_its_link_and_is_the_same_every_time(billing, clock):
    invoice = issued(billing)
    link = portal.link_for(invoice, by=billing.owner)
    token = portal.token_for(link)

    assert portal.TOKEN.fullmatch(token)
    assert token.startswith(f"{link.pk}.")
    assert portal.resolve(token) == link
    assert portal.link_for(invoice) == link
    assert portal.token_for(link) == token, "the link can be shown again, unchanged"
    assert portal.url_for(link) == f"http://127.0.0.1:8000/portal/{token}/"
    assert link.organization == billing.organization
    assert link.client == billing.client
    assert link.created_by == billing.owner.user
    assert link.expires_at is None, "invoice links do not expire by default"


def test_the_database_holds_nothing_that_opens_a_link(billing, clock, settings):
    link = portal.link_for(issued(billing))
    token = portal.token_for(link)
    dump = serializers.serialize("json", PortalLink.objects.all())
    assert token.split(".")[1] not in dump

    # Everything in the row, signed with any key but the server's, opens nothing.
    settings.SECRET_KEY = "a-stolen-database-is-not-the-secret-key-0123456789"
    guessed = portal.token_for(link)
    settings.SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
    with pytest.raises(portal.UnknownLink):
        portal.resolve(guessed)
    assert portal.resolve(token) == link


def test_links_survive_a_secret_key_rotation_through_the_fallbacks(billing, clock, settings):
    link = portal.link_for(issued(billing))
    old_token = portal.token_for(link)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "the-new-secret-key-after-rotation-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert portal.resolve(old_token) == link
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(portal.UnknownLink):
        portal.resolve(old_token)


def test_drafts_have_no_link(billing, clock):
    draft = free_draft(billing, ("Consulting", "1", "100"))
    with pytest.raises(ValidationError, match="issue it first"):
        portal.link_for(draft, by=billing.owner)
    assert not PortalLink.objects.exists()


def test_only_payment_managers_of_the_organization_make_and_revoke_links(billing, clock, outsider):
    invoice = issued(billing)
    with pytest.raises(PermissionDenied):
        portal.link_for(invoice, by=billing.member)
    with pytest.raises(PermissionDenied):
        portal.client_link(billing.client, by=billing.manager)
    with pytest.raises(ValidationError, match="another organization"):
        portal.link_for(invoice, by=outsider)
    assert not PortalLink.objects.exists()

    link = portal.link_for(invoice, by=billing.admin)
    with pytest.raises(PermissionDenied):
        portal.revoke(link, by=billing.member)
    with pytest.raises(ValidationError, match="another organization"):
        portal.revoke(link, by=outsider)
    link.refresh_from_db()
    assert link.revoked_at is None


def test_a_revoked_link_ends_and_the_invoice_gets_a_new_one(billing, clock):
    invoice = issued(billing)
    link = portal.link_for(invoice)
    token = portal.token_for(link)
    portal.revoke(link, by=billing.owner)
    first = link.revoked_at
    assert first == clock.at
    clock.at += timedelta(hours=1)
    portal.revoke(link, by=billing.owner)
    assert link.revoked_at == first, "revoking again changes nothing"

    with pytest.raises(portal.RevokedLink) as caught:
        portal.resolve(token)
    assert caught.value.status == 410
    assert caught.value.link == link
    renewed = portal.link_for(invoice)
    assert renewed != link
    assert portal.token_for(renewed) != token
    assert portal.resolve(portal.token_for(renewed)) == renewed


def test_a_client_link_expires_after_its_days_and_is_then_made_anew(billing, clock):
    link = portal.client_link(billing.client, by=billing.owner)
    assert link.invoice is None
    assert link.expires_at == clock.at + timedelta(days=portal.CLIENT_LINK_DAYS)
    assert portal.client_link(billing.client, by=billing.owner) == link
    token = portal.token_for(link)

    clock.at = link.expires_at - timedelta(seconds=1)
    assert portal.resolve(token) == link
    clock.at = link.expires_at
    with pytest.raises(portal.ExpiredLink) as caught:
        portal.resolve(token)
    assert caught.value.status == 410
    renewed = portal.client_link(billing.client, by=billing.owner)
    assert renewed != link
    assert renewed.expires_at == clock.at + timedelta(days=portal.CLIENT_LINK_DAYS)


def test_a_revoked_or_expired_token_with_a_bad_signature_is_just_unknown(billing, clock):
    """Only a genuine token learns that its link ended."""
    link = portal.link_for(issued(billing))
    portal.revoke(link, by=billing.owner)
    with pytest.raises(portal.UnknownLink) as caught:
        portal.resolve(_forge(portal.token_for(link)))
    assert caught.value.link is None


def test_forged_and_tampered_tokens_open_nothing(billing, clock, rival):
    own = portal.link_for(issued(billing))
    other = portal.link_for(rival.invoice)
    token = portal.token_for(own)
    signature = token.split(".")[1]
    forged = [
        _forge(token),
        # A genuine signature, but for another link's id (either way round).
        f"{other.pk}.{signature}",
        f"{own.pk}.{portal.token_for(other).split('.')[1]}",
        f"{own.pk + 1}.{signature}",
        f"0{token}",
        f"{token}=",
        f"{token}.{signature}",
        token[:-1],
        token.upper(),
        f"{own.pk}",
        f"99999999999999999999.{signature}",
        f"{own.nonce}",
        f"\N{ARABIC-INDIC DIGIT ONE}.{signature}",
    ]
    for bad in forged:
        with pytest.raises(portal.UnknownLink):
            portal.resolve(bad)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=st.text(max_size=80) | st.from_regex(portal.TOKEN, fullmatch=True))
def test_any_string_is_a_live_link_or_unknown(billing, garbage):
    with pytest.raises(portal.UnknownLink):
        portal.resolve(garbage)


def test_an_invoice_link_covers_its_invoice_and_credit_notes_only(billing, clock, rival):
    invoice, other = issued(billing), issued(billing, "50.00")
    note = invoicing.credit_invoice(invoice, by=billing.owner)
    draft = free_draft(billing, ("Consulting", "1", "100"))
    link = portal.link_for(invoice)
    assert set(portal.documents(link)) == {invoice, note}
    for outside in (other, draft, rival.invoice):
        with pytest.raises(portal.UnknownLink):
            portal.document(link, outside.pk)

    everything = portal.client_link(billing.client, by=billing.owner)
    assert set(portal.documents(everything)) == {invoice, other, note}
    for outside in (draft, rival.invoice):
        with pytest.raises(portal.UnknownLink):
            portal.document(everything, outside.pk)
    assert Invoice.objects.filter(pk=draft.pk).exists()
