"""Each kind of notification fires when it should, to whom it should, and only then."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from punchclock.accounts.models import Role
from punchclock.automation import notifications
from punchclock.automation.models import EmailState, Notification, NotificationKind
from punchclock.automation.notification_prefs import save_preferences, save_timer_limit
from punchclock.invoicing import services as invoicing
from punchclock.payments import services as payments
from punchclock.payments.services import PaymentInput
from punchclock.projects.models import BudgetKind
from punchclock.tracking.models import TimeEntry
from tests.automation.test_reminders import ISSUED, clock  # noqa: F401 - fixture
from tests.invoicing.conftest import free_draft, track

Kind = NotificationKind
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def told(kind: str, key: str | None = None) -> list[tuple[str, str]]:
    """(recipient email, email state) of each notification of a kind, sorted."""
    found = Notification.objects.filter(kind=kind)
    if key is not None:
        found = found.filter(key=key)
    return sorted(found.values_list("recipient__user__email", "email_state"))


def issued(agency, on: date = ISSUED):
    agency.client.payment_terms_days = 14
    agency.client.save()
    draft = free_draft(agency, ("Consulting", "3", "120.00"))
    return invoicing.issue_invoice(draft, by=agency.owner, issue_date=on)


# Payments -----------------------------------------------------------------------------------


def test_a_payment_recorded_by_hand_tells_the_other_billing_people(billing, clock):  # noqa: F811
    invoice = issued(billing)
    payment = payments.record_payment(
        invoice, PaymentInput(Decimal("100.00"), ISSUED), by=billing.admin
    )
    # The admin recorded it and knows; the owner hears of it (by email: owners' default).
    assert told(Kind.PAYMENT) == [("owner@acme.test", EmailState.PENDING)]
    notification = Notification.objects.get()
    assert notification.key == f"payment:{payment.pk}"
    assert notification.title == "Globex paid €100.00"
    assert notification.link == f"/invoices/{invoice.pk}/"


def test_a_payment_from_stripe_or_the_bank_tells_owners_and_admins_only(billing, clock):  # noqa: F811
    invoice = issued(billing)
    payments.record_payment(invoice, PaymentInput(Decimal("50.00"), ISSUED), by=None)
    # Admins get payments in the app only by default; managers and members never.
    assert told(Kind.PAYMENT) == [
        ("admin@acme.test", EmailState.OFF),
        ("owner@acme.test", EmailState.PENDING),
    ]


def test_a_payment_matched_from_the_bank_says_so(billing, clock):  # noqa: F811
    from tests.factories import make_bank_line

    invoice = issued(billing)
    line = make_bank_line(billing.organization)
    payments.record_payment(
        invoice, PaymentInput(Decimal("119.00"), ISSUED), by=billing.admin, bank_line=line
    )
    told_owner = Notification.objects.get(recipient=billing.owner)
    assert told_owner.text.endswith("(matched from the bank statement).")


def test_a_refused_payment_tells_nobody(billing, clock):  # noqa: F811
    invoice = issued(billing)
    with pytest.raises(ValidationError):
        payments.record_payment(invoice, PaymentInput(Decimal("-5"), ISSUED), by=billing.owner)
    assert not Notification.objects.exists()


# Overdue --------------------------------------------------------------------------------------


def test_an_invoice_past_due_with_a_balance_is_told_once(billing, clock):  # noqa: F811
    invoice = issued(billing)  # due 16 Nov
    notifications.check(at=datetime(2026, 11, 16, 12, tzinfo=UTC))
    assert told(Kind.OVERDUE) == []  # due today is not overdue
    for _ in range(10):
        notifications.check(at=datetime(2026, 11, 17, 12, tzinfo=UTC))
    assert told(Kind.OVERDUE, f"invoice:{invoice.pk}") == [
        ("admin@acme.test", EmailState.PENDING),
        ("owner@acme.test", EmailState.PENDING),
    ]
    assert Notification.objects.get(recipient=billing.owner).title == (
        f"{invoice.number} to Globex is overdue"
    )


def test_paid_and_long_overdue_invoices_are_no_news(billing, clock):  # noqa: F811
    issued(billing, on=date(2026, 8, 1))  # due 15 Aug: overdue for months when first seen
    paid = issued(billing)
    payments.record_payment(paid, PaymentInput(paid.gross_total, ISSUED), by=billing.owner)
    notifications.check(at=NOW)
    assert told(Kind.OVERDUE) == []
    assert Notification.objects.filter(kind=Kind.PAYMENT).count() == 1  # the admin's


# Budgets ------------------------------------------------------------------------------------


def budget(agency, hours: str | None = None, amount: str | None = None, alert: int = 80):
    project = agency.project
    project.budget_kind = BudgetKind.HOURS if hours else BudgetKind.MONEY
    project.budget_hours = Decimal(hours) if hours else None
    project.budget_amount = Decimal(amount) if amount else None
    project.budget_alert_percent = alert
    project.save()
    return project


def worked(agency, hours: float, day: int = 2) -> None:
    track(agency.member, agency.project, datetime(2026, 11, day, 8, tzinfo=UTC), int(hours * 60))


def test_an_hours_budget_tells_its_managers_and_billing_people_at_the_threshold(billing):
    budget(billing, hours="10")
    worked(billing, 7.5)
    notifications.check(at=NOW)
    assert told(Kind.BUDGET) == []
    worked(billing, 0.5, day=3)  # 8 of 10 hours: 80 %
    notifications.check(at=NOW)
    key = f"project:{billing.project.pk}:hours:10.00:80"
    assert [email for email, _ in told(Kind.BUDGET, key)] == [
        "admin@acme.test",
        "manager@acme.test",
        "owner@acme.test",
    ]
    assert Notification.objects.filter(kind=Kind.BUDGET).first().title == (
        "globex/api has used 80 % of its budget"
    )
    worked(billing, 2, day=4)  # 10 of 10: the whole budget
    notifications.check(at=NOW)
    assert len(told(Kind.BUDGET, f"project:{billing.project.pk}:hours:10.00:100")) == 3
    assert len(told(Kind.BUDGET)) == 6


def test_jumping_past_the_whole_budget_tells_only_the_highest_threshold(billing):
    budget(billing, hours="10")
    worked(billing, 12)
    for _ in range(10):
        notifications.check(at=NOW)
    assert set(Notification.objects.values_list("key", flat=True)) == {
        f"project:{billing.project.pk}:hours:10.00:100"
    }


def test_a_raised_budget_crossed_again_tells_again(billing):
    project = budget(billing, hours="10")
    worked(billing, 9)
    notifications.check(at=NOW)
    project.budget_hours = Decimal("20")
    project.save()
    notifications.check(at=NOW)  # 9 of 20 h: nothing new
    assert Notification.objects.filter(recipient=billing.owner).count() == 1
    worked(billing, 7, day=5)  # 16 of 20 h
    notifications.check(at=NOW)
    keys = set(Notification.objects.filter(recipient=billing.owner).values_list("key", flat=True))
    assert keys == {
        f"project:{project.pk}:hours:10.00:80",
        f"project:{project.pk}:hours:20.00:80",
    }


def test_a_money_budget_counts_the_time_at_its_rates(billing):
    budget(billing, amount="1000", alert=75)  # the project bills 100 EUR an hour
    worked(billing, 7)
    notifications.check(at=NOW)
    assert told(Kind.BUDGET) == []
    worked(billing, 0.5, day=3)  # 750 EUR
    notifications.check(at=NOW)
    found = Notification.objects.filter(kind=Kind.BUDGET, recipient=billing.manager).get()
    assert found.key == f"project:{billing.project.pk}:money:1000.00:75"
    assert "€750.00 of €1,000.00" in found.text


def test_members_never_hear_of_budgets_and_archived_projects_are_quiet(billing):
    project = budget(billing, hours="1")
    worked(billing, 2)
    project.status = "archived"
    project.save()
    notifications.check(at=NOW)
    assert not Notification.objects.exists()
    project.status = "active"
    project.save()
    notifications.check(at=NOW)
    assert not Notification.objects.filter(recipient=billing.member).exists()
    assert Notification.objects.count() == 3


# Long timers ------------------------------------------------------------------------------


def running(membership, project, hours: float) -> TimeEntry:
    return TimeEntry.objects.create(
        organization=membership.organization,
        membership=membership,
        project=project,
        start=NOW - timedelta(hours=hours),
        description="fix login",
    )


def test_a_timer_running_past_the_limit_tells_whoever_runs_it(agency):
    short = running(agency.member, agency.project, 9.5)
    notifications.check(at=NOW)
    assert told(Kind.LONG_TIMER) == []
    for _ in range(10):
        notifications.check(at=NOW + timedelta(hours=1))
    assert told(Kind.LONG_TIMER, f"entry:{short.pk}") == [("member@acme.test", EmailState.PENDING)]
    found = Notification.objects.get()
    assert found.title == "Your timer on globex/api has run for 10 hours"
    assert found.link == "/time/"


def test_the_organization_sets_the_limit(agency):
    save_timer_limit(agency.owner, hours=12)
    running(agency.member, agency.project, 11)
    notifications.check(at=NOW)
    assert not Notification.objects.exists()
    notifications.check(at=NOW + timedelta(hours=1))
    assert Notification.objects.count() == 1
    with pytest.raises(ValidationError):
        save_timer_limit(agency.owner, hours=0)
    with pytest.raises(Exception, match="Your role does not allow"):
        save_timer_limit(agency.member, hours=3)


def test_watchers_hear_of_others_long_timers_managers_only_on_their_projects(agency):
    save_preferences(agency.admin, email=[], watch_team_timers=True)
    save_preferences(agency.manager, email=[], watch_team_timers=True)
    on_managed = running(agency.member, agency.project, 11)
    on_other = running(agency.owner, agency.other_project, 11)
    notifications.check(at=NOW)
    assert told(Kind.LONG_TIMER, f"entry:{on_managed.pk}") == [
        ("admin@acme.test", EmailState.OFF),
        ("manager@acme.test", EmailState.OFF),
        ("member@acme.test", EmailState.PENDING),
    ]
    assert [e for e, _ in told(Kind.LONG_TIMER, f"entry:{on_other.pk}")] == [
        "admin@acme.test",
        "owner@acme.test",
    ]
    theirs = Notification.objects.get(recipient=agency.admin, key=f"entry:{on_managed.pk}")
    assert theirs.title == "Max Member's timer on globex/api has run for 11 hours"


def test_members_cannot_watch_others_or_choose_money_by_email(agency):
    with pytest.raises(ValidationError):
        save_preferences(agency.member, email=[], watch_team_timers=True)
    with pytest.raises(ValidationError):
        save_preferences(agency.member, email=[Kind.PAYMENT])
    assert save_preferences(agency.member, email=[]).email == frozenset()


def test_a_member_who_turned_email_off_is_told_in_the_app_only(agency):
    save_preferences(agency.member, email=[])
    running(agency.member, agency.project, 11)
    notifications.check(at=NOW)
    assert told(Kind.LONG_TIMER) == [("member@acme.test", EmailState.OFF)]


def test_the_check_can_be_limited_to_one_organization(agency, outsider):
    from tests import factories

    running(agency.member, agency.project, 11)
    rival_project = factories.make_project(
        factories.make_client(outsider.organization, "Rival", code="rival"), "Site", code="site"
    )
    running(outsider, rival_project, 11)
    found = notifications.check(organization_id=outsider.organization_id, at=NOW)
    assert found.long_timer == 1
    assert list(Notification.objects.values_list("recipient", flat=True)) == [outsider.pk]


def test_inactive_people_are_not_told(agency):
    agency.member.is_active = False
    agency.member.save()
    running(agency.member, agency.project, 11)
    notifications.check(at=NOW)
    assert not Notification.objects.exists()
    assert agency.member.role == Role.MEMBER
