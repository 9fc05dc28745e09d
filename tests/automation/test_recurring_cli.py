"""`punch recurring list` and `punch recurring run` against a live test server."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from punchclock.automation.models import Action, RecurringRun
from punchclock.automation.recurring import LineSpec, save_recurring
from punchclock.invoicing.models import Invoice
from tests.automation.test_recurring_pages import frozen_today  # noqa: F401 - fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today", "wipe_invoices_after"),
]


def hosting(agency, **fields):
    fields.setdefault("starts_on", date(2026, 10, 1))
    fields.setdefault("action", Action.ISSUE)
    return save_recurring(
        agency.owner,
        client=agency.client,
        name=fields.pop("name", "Hosting"),
        lines=[LineSpec("Hosting {month} {year}", Decimal(1), Decimal(49))],
        **fields,
    )


def test_list_shows_each_with_its_next_run(billing, punch_as):
    first = hosting(billing)
    paused = hosting(billing, name="Domains", frequency="yearly", is_active=False)
    result = punch_as(billing.owner)("recurring", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "Client", "Name", "Frequency", "Action", "Next", "run"]
    assert lines[1].split()[:4] == [str(paused.pk), "Globex", "Domains", "Yearly"]
    assert "in advance (paused)" in lines[1]
    assert lines[1].endswith("1 due; on 1 Oct: Hosting October 2027 — 49.00 EUR + VAT")
    assert lines[2].split()[:3] == [str(first.pk), "Globex", "Hosting"]
    assert lines[2].endswith("2 due; on 1 Dec: Hosting December 2026 — 49.00 EUR + VAT")


def test_run_dry_then_for_real_bills_each_period_once(billing, punch_as):
    recurring = hosting(billing)
    punch = punch_as(billing.owner)
    dry = punch("recurring", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        f"Recurring invoice {recurring.pk}:",
        "  #1  2026-10-01 – 2026-10-31  would issue: Hosting October 2026 ≈ 58.31 EUR",
        "  #2  2026-11-01 – 2026-11-30  would issue: Hosting November 2026 ≈ 58.31 EUR",
    ]
    assert not RecurringRun.objects.exists()
    ran = punch("recurring", "run", str(recurring.pk))
    assert ran.exit_code == 0, ran.output
    assert ran.output.count("issued ") == 2
    again = punch("recurring", "run", "--json")
    assert json.loads(again.output) == []
    assert punch("recurring", "run").output == "Nothing is due.\n"
    assert Invoice.objects.count() == 2


def test_an_unknown_id_and_a_member_get_a_clear_message(billing, punch_as):
    missing = punch_as(billing.owner)("recurring", "run", "999999")
    assert missing.exit_code != 0
    assert "No such recurring invoice" in missing.output
    member = punch_as(billing.member)("recurring", "list")
    assert member.exit_code != 0
    assert "Traceback" not in member.output
