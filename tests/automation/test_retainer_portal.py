"""The client reads what is left of its retainer in the portal, in its own language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from punchclock.automation import retainers
from punchclock.clients.models import Client
from punchclock.payments import portal
from tests.automation.test_retainers import make, worked
from tests.payments.test_portal_language import get, home


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(retainers, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "12.5 h left of 20 h in November 2026"),
        ("de", "Noch 12,5 h von 20 h im November 2026"),
        ("fr", "Il reste 12,5 h sur 20 h en novembre 2026"),
    ],
)
def test_the_statement_shows_hours_left_in_the_clients_language(billing, language, sentence):
    Client.objects.filter(pk=billing.client.pk).update(language=language)
    billing.client.refresh_from_db()
    make(billing, name="Support", included=Decimal(20), starts_on=date(2026, 11, 1))
    worked(billing, date(2026, 11, 3), 450)
    status, html = get(home(portal.client_link(billing.client, by=billing.owner)))
    assert status == 200
    assert sentence in html


def test_overage_reads_as_beyond_the_allowance(billing):
    make(billing, included=Decimal(2), starts_on=date(2026, 11, 1))
    worked(billing, date(2026, 11, 3), 180)
    _status, html = get(home(portal.client_link(billing.client, by=billing.owner)))
    assert "1 h beyond the 2 h of November 2026" in html


def test_a_client_without_retainer_sees_no_retainer_section(billing):
    status, html = get(home(portal.client_link(billing.client, by=billing.owner)))
    assert status == 200
    assert 'id="retainers"' not in html
