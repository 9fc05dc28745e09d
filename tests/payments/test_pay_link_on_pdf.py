"""The PDF of an invoice the client may pay online carries its portal link."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from punchclock.invoicing import services as invoicing
from punchclock.payments import portal
from punchclock.payments.models import PaymentSettings, PortalLink
from tests.payments.conftest import issued


@pytest.fixture
def stripe_on(billing, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_offline"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_offline"
    PaymentSettings.objects.create(organization=billing.organization, stripe_enabled=True)


def _text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


def test_an_invoice_payable_online_prints_a_link_to_itself(billing, stripe_on):
    invoice = issued(billing)
    url = invoice.snapshot["pay_url"]
    link = portal.resolve(url.rstrip("/").rsplit("/", 1)[-1])
    assert link.invoice_id == invoice.pk
    assert invoicing.verify_chain(billing.organization) is None  # the link is hashed with it
    if shutil.which("pdftotext"):
        text = _text(bytes(invoice.documents.get(kind="pdf").content))
        assert "Pay online by card" in text
        assert url.split("//", 1)[1][:30] in text


def test_no_link_without_stripe_or_when_the_client_opted_out(billing, settings, stripe_on):
    billing.client.online_payment = False
    billing.client.save()
    assert "pay_url" not in issued(billing).snapshot
    billing.client.online_payment = True
    billing.client.save()
    settings.STRIPE_SECRET_KEY = ""
    assert "pay_url" not in issued(billing).snapshot
    assert not PortalLink.objects.exists()
