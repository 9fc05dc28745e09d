"""Drafts: unbilled billable time and approved expenses become lines, linked once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from punchclock.invoicing import services
from punchclock.invoicing.models import BilledEntry, BilledExpense, Invoice, InvoiceLine
from punchclock.projects.models import BillingMethod, RoundingDirection, RoundingScope
from tests.factories import make_rate
from tests.invoicing.conftest import NOVEMBER, approved_expense, at, track


def draft(agency, **kwargs):
    return services.create_draft(
        agency.client, by=agency.owner, period_start=NOVEMBER[0], period_end=NOVEMBER[1], **kwargs
    )


def test_time_per_project_becomes_one_line_per_project_and_rate(billing):
    track(billing.member, billing.project, at(2), 90)
    track(billing.member, billing.project, at(3), 30)
    track(billing.member, billing.other_project, at(4), 60)
    invoice = draft(billing)
    lines = list(invoice.lines.all())
    assert [
        (line.description, line.quantity, line.unit_price, line.net_amount) for line in lines
    ] == [
        ("API", Decimal("2.0000"), Decimal("100.0000"), Decimal("200.0000")),
        ("Website", Decimal("1.0000"), Decimal("80.0000"), Decimal("80.0000")),
    ]
    assert lines[0].tax_category == "S"
    assert lines[0].tax_rate == Decimal(19)  # the organization is in Germany
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        Decimal("280.0000"),
        Decimal("53.2000"),
        Decimal("333.2000"),
    )
    assert BilledEntry.objects.filter(line__invoice=invoice).count() == 3
    assert invoice.number is None
    assert invoice.events.get().kind == "created"


def test_a_rate_change_mid_month_splits_the_line_by_price(billing):
    make_rate(billing.organization, "120", project=billing.project, effective_from=at(15).date())
    track(billing.member, billing.project, at(2), 60)
    track(billing.member, billing.project, at(20), 60)
    prices = [line.unit_price for line in draft(billing).lines.all()]
    assert prices == [Decimal("100.0000"), Decimal("120.0000")]


@pytest.mark.parametrize(
    ("group_by", "descriptions"),
    [
        ("task", ["API: Other work", "API: Development"]),
        ("person", ["API: Max Member", "API: Olivia Owner"]),
        ("day", ["2026-11-02 API", "2026-11-03 API"]),
        (
            "entry",
            ["2026-11-02 API: fix login", "2026-11-03 API: Development", "2026-11-03 API: API"],
        ),
        ("summary", ["Services"]),
    ],
)
def test_time_can_be_grouped_by_task_person_day_entry_or_summary(billing, group_by, descriptions):
    track(billing.member, billing.project, at(2), 60, description="fix login")
    track(billing.member, billing.project, at(3, 9), 60, task=billing.task)
    track(billing.owner, billing.project, at(3, 12), 60)
    invoice = draft(billing, group_by=group_by)
    assert [line.description for line in invoice.lines.all()] == descriptions
    assert sum(line.quantity for line in invoice.lines.all()) == 3


def test_the_rounding_rule_bills_rounded_hours_and_leaves_tracked_time_alone(billing):
    billing.project.rounding_minutes = 15
    billing.project.rounding_direction = RoundingDirection.UP
    billing.project.save()
    entry = track(billing.member, billing.project, at(2), 61)
    track(billing.member, billing.project, at(3), 30)
    line = draft(billing).lines.get()
    assert line.quantity == Decimal("1.7500")  # 1:15 + 0:30
    assert line.raw_hours == Decimal("1.5167")  # 1:31 as tracked
    entry.refresh_from_db()
    assert entry.duration_seconds == 61 * 60
    assert entry.billing.billed_seconds == 75 * 60


@pytest.mark.parametrize(
    ("direction", "billed_minutes", "per_entry"),
    [
        # 10 + 10 + 7 = 27 minutes that day: once rounded up to 30, not 15 + 15 + 15.
        (RoundingDirection.UP, 30, [10, 10, 10]),
        # Rounded down to 15: the last entries give up the difference.
        (RoundingDirection.DOWN, 15, [10, 5, 0]),
        (RoundingDirection.NEAREST, 30, [10, 10, 10]),
    ],
)
def test_rounding_per_day_and_task_rounds_the_days_sum_once(
    billing, direction, billed_minutes, per_entry
):
    billing.project.rounding_minutes = 15
    billing.project.rounding_direction = direction
    billing.project.rounding_scope = RoundingScope.DAY_TASK
    billing.project.save()
    day = [
        track(billing.member, billing.project, at(2, 8), 10, task=billing.task),
        track(billing.member, billing.project, at(2, 10), 10, task=billing.task),
        track(billing.member, billing.project, at(2, 12), 7, task=billing.task),
    ]
    # Another day, and another task the same day, are rounded on their own.
    lone = [
        track(billing.member, billing.project, at(3), 7, task=billing.task),
        track(billing.member, billing.project, at(2, 14), 7),
    ]
    invoice = draft(billing, group_by="entry")
    billed = {
        link.entry_id: link.billed_seconds
        for link in BilledEntry.objects.filter(line__invoice=invoice)
    }
    assert [billed[e.pk] // 60 for e in day] == per_entry
    assert sum(billed[e.pk] for e in day) == billed_minutes * 60
    alone = {RoundingDirection.UP: 15, RoundingDirection.DOWN: 0, RoundingDirection.NEAREST: 0}
    assert [billed[e.pk] for e in lone] == [alone[direction] * 60] * 2
    for entry in day:
        entry.refresh_from_db()
        assert entry.duration_seconds in (600, 420), "tracked time is never rewritten"


def test_non_billable_running_and_out_of_period_time_stays_out(billing):
    track(billing.member, billing.project, at(2), 60, billable=False)
    track(billing.member, billing.project, at(30, 23) + (at(2) - at(1)), 60)  # 1 December
    billing.project.billing_method = BillingMethod.NON_BILLABLE
    billing.project.save()
    track(billing.member, billing.project, at(5), 60)
    with pytest.raises(ValidationError, match="no unbilled work"):
        draft(billing)
    assert not Invoice.objects.exists()


def test_a_fixed_fee_project_contributes_its_fee_once(billing):
    billing.other_project.billing_method = BillingMethod.FIXED_FEE
    billing.other_project.fixed_fee = Decimal("5000.00")
    billing.other_project.save()
    track(billing.member, billing.other_project, at(2), 120)
    first = draft(billing)
    line = first.lines.get()
    assert (line.description, line.quantity, line.unit, line.unit_price) == (
        "Website (fixed fee)",
        Decimal("1.0000"),
        "C62",
        Decimal("5000.0000"),
    )
    assert line.raw_hours == Decimal("2.0000")
    track(billing.member, billing.other_project, at(3), 60)
    with pytest.raises(ValidationError, match="no unbilled work"):
        draft(billing)


def test_approved_billable_expenses_become_lines_once(billing):
    expense = approved_expense(billing.member, "42.50")
    approved_expense(billing.member, "10.00", billable=False)
    approved_expense(billing.member, "11.00", status="submitted")
    invoice = draft(billing)
    line = invoice.lines.get()
    assert (line.quantity, line.unit_price, line.net_amount) == (
        Decimal("1.0000"),
        Decimal("42.5000"),
        Decimal("42.5000"),
    )
    assert BilledExpense.objects.get(expense=expense).line == line
    with pytest.raises(ValidationError, match="no unbilled work"):
        draft(billing)


def test_work_on_one_draft_is_not_taken_by_the_next(billing):
    track(billing.member, billing.project, at(2), 60)
    draft(billing)
    track(billing.member, billing.project, at(3), 30)
    second = draft(billing)
    assert second.lines.get().quantity == Decimal("0.5000")


def test_the_database_refuses_to_link_an_entry_twice(billing):
    entry = track(billing.member, billing.project, at(2), 60)
    invoice = draft(billing)
    other = InvoiceLine.objects.create(
        invoice=invoice, position=9, description="x", quantity=1, unit_price=1
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        BilledEntry.objects.create(entry=entry, line=other, billed_seconds=3600)


def test_deleting_a_draft_releases_its_work(billing):
    track(billing.member, billing.project, at(2), 60)
    approved_expense(billing.member, "42.50")
    services.delete_draft(draft(billing), by=billing.owner)
    assert not BilledEntry.objects.exists()
    assert not BilledExpense.objects.exists()
    assert draft(billing).lines.count() == 2


def test_a_missing_rate_names_the_person_project_and_day(billing):
    no_rate = billing.project.client.projects.create(
        organization=billing.organization, name="Support", code="support"
    )
    track(billing.member, no_rate, at(2), 60)
    with pytest.raises(ValidationError, match="No bill rate for Max Member on globex/support"):
        draft(billing)
    assert not Invoice.objects.exists()


def test_members_and_outsiders_cannot_create_drafts(billing, outsider):
    track(billing.member, billing.project, at(2), 60)
    for who in (billing.member, billing.manager, outsider):
        with pytest.raises(PermissionDenied):
            services.create_draft(
                billing.client, by=who, period_start=NOVEMBER[0], period_end=NOVEMBER[1]
            )
