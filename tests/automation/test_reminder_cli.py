"""`punch reminders list` and `punch reminders run [--dry-run]` against a live test server."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail

from punchclock.automation.models import ReminderSent
from tests.automation.test_reminders import DUE, clock, dunning  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("wipe_invoices_after"),
]


def test_list_dry_run_then_run_sends_each_reminder_once(dunning, clock, punch_as):  # noqa: F811
    punch = punch_as(dunning.owner)
    clock.day(DUE + timedelta(days=3))
    result = punch("reminders", "list")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["Nothing is due."]

    clock.day(DUE + timedelta(days=7))
    number = dunning.invoice.number
    result = punch("reminders", "run", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"would send level 1 for {number}"]
    assert not ReminderSent.objects.exists()

    listed = punch("reminders", "list").output.splitlines()
    assert listed[0] == "Due now:"
    assert listed[2].split()[:4] == [number, "Globex", "level", "1"]

    result = punch("reminders", "run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"sent: level 1 for {number}"]
    assert punch("reminders", "run").output.splitlines() == ["Nothing is due."]
    assert len(mail.outbox) == 1

    data = json.loads(punch("reminders", "list", "--json").output)
    assert data["due"] == []
    assert [(r["invoice_number"], r["state"]) for r in data["recent"]] == [(number, "sent")]
    listed_again = punch("reminders", "list")
    assert listed_again.exit_code == 0, listed_again.output
    recent = listed_again.output.splitlines()
    assert recent[:2] == ["Nothing is due.", "Recent:"]
    assert recent[3].split()[:5] == [number, "Globex", "level", "1", "Sent"]


def test_members_are_refused_with_a_message(dunning, punch_as):  # noqa: F811
    result = punch_as(dunning.member)("reminders", "run")
    assert result.exit_code == 4
    assert result.output == "Error: Your role does not allow this (invoices.manage).\n"
