"""`punch schedule list` and `punch schedule run` against a live test server."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from punchclock.automation.models import Action, BillingSchedule, RunStatus, ScheduleRun
from punchclock.invoicing.models import Invoice
from tests.automation.test_schedule_pages import frozen_today, schedule, worked  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today", "wipe_invoices_after"),
]


def test_the_client_half_imports_no_django():
    code = "import sys, punchclock.cli.automation; print('django' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_list_shows_each_schedule_with_its_next_run(billing, punch_as):
    monthly = schedule(billing, starts_on=date(2026, 11, 1))
    worked(billing.member, billing.project, date(2026, 11, 10), minutes=150)
    weekly = schedule(
        billing,
        project=billing.other_project,
        frequency="weekly",
        interval_weeks=2,
        starts_on=date(2026, 10, 1),
        is_active=False,
        action=Action.DRAFT,
    )
    punch = punch_as(billing.owner)
    result = punch("schedule", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "Client", "Frequency", "Action", "Next", "run"]
    assert lines[1].split()[:7] == [
        str(monthly.pk),
        "Globex",
        "Monthly",
        "on",
        "the",
        "1st",
        "issue",
    ]
    assert lines[1].endswith("  on 1 Dec: invoice for 2.5 h + 0 expenses ≈ 250.00 EUR")
    assert lines[2].split()[:9] == [
        str(weekly.pk),
        "Globex",
        "·",
        "Website",
        "Every",
        "2",
        "weeks",
        "(paused)",
        "draft",
    ]
    assert "3 due; on 26 Nov" in lines[2]
    data = json.loads(punch("schedule", "list", "--json").output)
    assert [s["id"] for s in data] == [monthly.pk, weekly.pk]


def test_a_dry_run_of_all_due_schedules_changes_nothing(billing, punch_as):
    schedule(billing, starts_on=date(2026, 9, 1))
    worked(billing.member, billing.project, date(2026, 9, 14), minutes=90)
    quiet = schedule(billing, starts_on=date(2026, 11, 1))  # nothing due before 1 Dec
    result = punch_as(billing.owner)("schedule", "run", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Schedule {BillingSchedule.objects.exclude(pk=quiet.pk).get().pk}:",
        "  2026-09-01 – 2026-09-30  would issue: 1.5 h + 0 expenses ≈ 150.00 EUR net",
        "  2026-10-01 – 2026-10-31  nothing to bill",
    ]
    assert not ScheduleRun.objects.exists()
    assert not Invoice.objects.exists()


def test_run_one_schedule_prints_each_period_and_runs_once(billing, punch_as):
    monthly = schedule(billing, starts_on=date(2026, 9, 1))
    worked(billing.member, billing.project, date(2026, 9, 14), minutes=90)
    punch = punch_as(billing.owner)
    result = punch("schedule", "run", str(monthly.pk))
    assert result.exit_code == 0, result.output
    invoice = Invoice.objects.get()
    assert result.output.splitlines() == [
        f"Schedule {monthly.pk}:",
        f"  2026-09-01 – 2026-09-30  issued {invoice.number}  178.50 EUR",
        "  2026-10-01 – 2026-10-31  nothing to bill",
    ]
    again = punch("schedule", "run", str(monthly.pk))
    assert (again.exit_code, again.output) == (0, "Nothing is due.\n")
    everything = punch("schedule", "run", "--json")
    assert json.loads(everything.output) == []
    assert Invoice.objects.count() == 1


def test_run_all_says_what_failed_and_drafts(billing, punch_as):
    failing = schedule(billing, starts_on=date(2026, 10, 1), project=billing.project)
    drafting = schedule(
        billing, starts_on=date(2026, 10, 1), project=billing.other_project, action=Action.DRAFT
    )
    worked(billing.member, billing.project, date(2026, 10, 5))
    worked(billing.member, billing.other_project, date(2026, 10, 6))
    BillingSchedule.objects.filter(pk=failing.pk).update(run_as=billing.member)
    result = punch_as(billing.owner)("schedule", "run", "--json")
    assert result.exit_code == 0, result.output
    by_schedule = {r["schedule_id"]: r["periods"] for r in json.loads(result.output)}
    assert by_schedule[failing.pk][0]["status"] == RunStatus.FAILED
    assert "Max Member may no longer issue invoices" in by_schedule[failing.pk][0]["message"]
    draft = Invoice.objects.get()
    assert by_schedule[drafting.pk][0]["invoice_id"] == draft.pk
    assert by_schedule[drafting.pk][0]["invoice_number"] is None
    text = punch_as(billing.owner)("schedule", "run", "--dry-run")
    assert text.output == "Nothing is due.\n"


def test_failures_and_drafts_in_words(billing, punch_as):
    failing = schedule(billing, starts_on=date(2026, 10, 1), project=billing.project)
    worked(billing.member, billing.project, date(2026, 10, 5))
    BillingSchedule.objects.filter(pk=failing.pk).update(run_as=billing.member)
    failed = punch_as(billing.owner)("schedule", "run", str(failing.pk))
    assert failed.exit_code == 0, failed.output
    assert failed.output.splitlines()[1].startswith(
        "  2026-10-01 – 2026-10-31  failed: Max Member may no longer issue invoices"
    )
    drafting = schedule(billing, starts_on=date(2026, 10, 1), action=Action.DRAFT)
    drafted = punch_as(billing.owner)("schedule", "run", str(drafting.pk))
    draft = Invoice.objects.get()
    assert drafted.output.splitlines()[1] == (
        f"  2026-10-01 – 2026-10-31  drafted draft {draft.pk}  238.00 EUR"
    )


def test_mistakes_get_a_message_and_an_exit_code(billing, outsider, punch_as):
    paused = schedule(billing, is_active=False)
    punch = punch_as(billing.owner)
    cases = [
        (punch("schedule", "run", "999999"), 1, "No such billing schedule."),
        (punch("schedule", "run", "0"), 2, "0"),
        (punch("schedule", "run", "10000000000000000000"), 2, "10000000000000000000"),
        (punch("schedule", "run", "soon"), 2, "soon"),
        (punch("schedule", "run", str(paused.pk)), 1, "This schedule is paused"),
        (punch_as(billing.member)("schedule", "list"), 4, "does not allow"),
        (punch_as(billing.manager)("schedule", "run", "--dry-run"), 4, "does not allow"),
        (punch_as(outsider)("schedule", "run", str(paused.pk)), 1, "No such billing schedule."),
    ]
    for result, code, message in cases:
        assert result.exit_code == code, (result.output, message)
        assert message in result.output
        assert "Traceback" not in result.output
    assert not ScheduleRun.objects.exists()
    assert punch_as(outsider)("schedule", "list").output.startswith("No billing schedules")
