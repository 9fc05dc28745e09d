"""TimeEntry.invoiced says exactly "billed on a line of an issued invoice", after anything.

The definition the reports used before the flag is computed here from the billed rows, in
the ORM, and compared with the flag for every entry after each operation.
"""

from __future__ import annotations

import importlib
import random
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from punchclock.automation import retainer_runs as runs
from punchclock.automation.models import Action, RetainerPeriod
from punchclock.invoicing import services
from punchclock.invoicing.models import BilledEntry, Invoice, InvoiceStatus
from punchclock.tracking import services as tracking
from punchclock.tracking.models import TimeEntry
from tests.automation.test_retainers import make, worked
from tests.invoicing.conftest import NOVEMBER, at, track

DAY = date(2026, 11, 30)


def on_issued_invoices() -> set[int]:
    """The old definition: entries with a billed row on a line of an issued invoice."""
    return set(
        BilledEntry.objects.filter(line__invoice__status=InvoiceStatus.ISSUED).values_list(
            "entry_id", flat=True
        )
    )


def flagged() -> set[int]:
    return set(TimeEntry.objects.filter(invoiced=True).values_list("pk", flat=True))


def assert_flag_matches() -> None:
    assert TimeEntry.objects.exists()
    assert flagged() == on_issued_invoices()


def november_draft(agency, **kw) -> Invoice:
    return services.create_draft(
        agency.client, by=agency.owner, period_start=NOVEMBER[0], period_end=NOVEMBER[1], **kw
    )


def test_issuing_flags_exactly_the_entries_on_the_invoice_and_a_draft_flags_none(billing):
    api = track(billing.member, billing.project, at(2), 90)
    web = track(billing.member, billing.other_project, at(3), 60)
    free = track(billing.member, billing.project, at(4), 30, billable=False)
    later = track(billing.member, billing.project, at(2) + timedelta(days=40), 45)
    draft = november_draft(billing, project=billing.project)
    assert set(BilledEntry.objects.values_list("entry_id", flat=True)) == {api.pk}
    assert flagged() == set()
    services.issue_invoice(draft, by=billing.owner, issue_date=DAY)
    assert flagged() == {api.pk}  # not the website's, the unbillable or December's
    assert {web.pk, free.pk, later.pk}.isdisjoint(flagged())
    assert_flag_matches()


def test_deleting_a_draft_or_one_of_its_lines_leaves_the_work_unflagged(billing):
    track(billing.member, billing.project, at(2), 90)
    track(billing.member, billing.other_project, at(3), 60)
    draft = november_draft(billing)
    services.delete_line(draft.lines.get(position=1), by=billing.owner)
    assert_flag_matches()
    assert flagged() == set()
    services.delete_draft(draft, by=billing.owner)
    assert not BilledEntry.objects.exists()
    assert flagged() == set()


def test_a_full_credit_unflags_the_work_and_billing_it_again_flags_it_again(billing):
    entry = track(billing.member, billing.project, at(2), 90)
    invoice = services.issue_invoice(november_draft(billing), by=billing.owner, issue_date=DAY)
    assert flagged() == {entry.pk}
    services.credit_invoice(invoice, by=billing.owner, issue_date=DAY)
    assert flagged() == set()
    assert_flag_matches()
    again = november_draft(billing)
    assert flagged() == set()
    services.issue_invoice(again, by=billing.owner, issue_date=DAY)
    assert flagged() == {entry.pk}


def test_a_partial_credit_keeps_the_work_invoiced_until_the_rest_is_credited(billing):
    api = track(billing.member, billing.project, at(2), 90)
    web = track(billing.member, billing.other_project, at(3), 60)
    invoice = services.issue_invoice(november_draft(billing), by=billing.owner, issue_date=DAY)
    services.credit_invoice(
        invoice, by=billing.owner, lines=[invoice.lines.get(position=1)], issue_date=DAY
    )
    # A partial credit corrects money, not work: its billed rows stay.
    assert flagged() == {api.pk, web.pk}
    assert_flag_matches()
    services.credit_invoice(invoice, by=billing.owner, issue_date=DAY)
    assert flagged() == set()
    assert_flag_matches()


def test_a_retainer_close_that_issues_flags_its_entries(billing):
    make(billing)
    covered = worked(billing, date(2026, 1, 5), 120)
    runs.run_due(today=date(2026, 2, 1))
    assert RetainerPeriod.objects.get().invoice.status == InvoiceStatus.ISSUED
    assert flagged() == {covered.pk}
    assert_flag_matches()


def test_a_retainer_close_that_drafts_flags_nothing_until_the_draft_is_issued(billing):
    make(billing, action=Action.DRAFT)
    covered = worked(billing, date(2026, 1, 5), 120)
    runs.run_due(today=date(2026, 2, 1))
    period = RetainerPeriod.objects.get()
    assert BilledEntry.objects.get().entry == covered
    assert flagged() == set()
    services.issue_invoice(period.invoice, by=billing.owner, issue_date=date(2026, 2, 1))
    assert flagged() == {covered.pk}


def test_a_fixed_fee_line_flags_the_work_it_bills(billing):
    billing.other_project.billing_method = "fixed_fee"
    billing.other_project.fixed_fee = 5000
    billing.other_project.save()
    web = track(billing.member, billing.other_project, at(3), 60)
    invoice = services.issue_invoice(
        november_draft(billing, project=billing.other_project),
        by=billing.owner,
        issue_date=DAY,
    )
    assert invoice.lines.get().billed_fee is not None
    assert flagged() == {web.pk}
    assert_flag_matches()


def test_a_copy_loaded_before_issuing_cannot_write_the_flag_back(billing):
    entry = track(billing.member, billing.project, at(2), 90)
    stale = TimeEntry.objects.get(pk=entry.pk)
    services.issue_invoice(november_draft(billing), by=billing.owner, issue_date=DAY)
    stale.description = "a save that raced the issue"
    stale.save()
    fresh = TimeEntry.objects.get(pk=entry.pk)
    assert fresh.invoiced
    assert fresh.description == "a save that raced the issue"  # everything else is written


def test_invoiced_work_still_refuses_edits_and_deletion(billing):
    entry = track(billing.member, billing.project, at(2), 90)
    services.issue_invoice(november_draft(billing), by=billing.owner, issue_date=DAY)
    entry.refresh_from_db()
    with pytest.raises(ValidationError, match="billed on 2026-0001"):
        tracking.update_entry(entry, by=billing.owner, description="changed")
    with pytest.raises(ValidationError, match="billed on 2026-0001"):
        tracking.delete_entry(entry, by=billing.owner)
    entry.refresh_from_db()
    assert entry.description == ""
    assert entry.invoiced


def test_the_migration_backfills_the_flag_from_the_billed_rows(billing):
    track(billing.member, billing.project, at(2), 90)
    track(billing.member, billing.other_project, at(3), 60)
    track(billing.member, billing.project, at(20), 30)
    issued = services.issue_invoice(
        november_draft(billing, project=billing.project), by=billing.owner, issue_date=DAY
    )
    november_draft(billing)  # the website's hour sits on a draft: not invoiced
    expected = on_issued_invoices()
    assert len(expected) == issued.lines.get().billed_entries.count() == 2
    TimeEntry.objects.update(invoiced=False)  # as tracking 0004 leaves an existing database
    migration = importlib.import_module(
        "punchclock.invoicing.migrations.0010_backfill_entry_invoiced"
    )
    migration.backfill(apps, None)
    assert flagged() == expected


@pytest.mark.parametrize("seed", range(4))
def test_after_any_sequence_of_invoicing_the_flag_equals_the_billed_rows(billing, seed):
    """Random drafts, issues, line and draft deletions, partial and full credits."""
    rng = random.Random(seed)
    projects = [billing.project, billing.other_project]
    for _ in range(12):
        track(
            billing.member,
            rng.choice(projects),
            at(rng.randrange(1, 29), rng.randrange(7, 18)),
            rng.randrange(15, 180),
            billable=rng.random() < 0.8,
        )
    issue_day = DAY
    for _step in range(8):
        drafts = list(Invoice.objects.filter(status=InvoiceStatus.DRAFT, kind="invoice"))
        issued = list(Invoice.objects.filter(status=InvoiceStatus.ISSUED, kind="invoice"))
        action = rng.choice(["draft", "draft", "issue", "issue", "line", "delete", "credit"])
        try:
            if action == "draft":
                first = rng.randrange(1, 29)
                services.create_draft(
                    billing.client,
                    by=billing.owner,
                    period_start=date(2026, 11, first),
                    period_end=date(2026, 11, rng.randrange(first, 31)),
                    project=rng.choice([None, *projects]),
                )
            elif action == "issue" and drafts:
                services.issue_invoice(rng.choice(drafts), by=billing.owner, issue_date=issue_day)
            elif action == "line" and drafts:
                lines = list(rng.choice(drafts).lines.all())
                if lines:
                    services.delete_line(rng.choice(lines), by=billing.owner)
            elif action == "delete" and drafts:
                services.delete_draft(rng.choice(drafts), by=billing.owner)
            elif action == "credit" and issued:
                invoice = rng.choice(issued)
                open_lines = list(invoice.lines.filter(credited_by__isnull=True))
                partial = len(open_lines) > 1 and rng.random() < 0.5
                services.credit_invoice(
                    invoice,
                    by=billing.owner,
                    lines=[rng.choice(open_lines)] if partial else None,
                    issue_date=issue_day,
                )
        except ValidationError:
            pass  # nothing left to draft, a draft with no lines, …: refused, nothing written
        assert flagged() == on_issued_invoices(), (seed, _step, action)
    assert_flag_matches()
