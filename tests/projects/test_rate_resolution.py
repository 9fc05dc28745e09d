"""The rate resolver: task > person on project > project > client > person > organization."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from punchclock.projects.models import BillingMethod, RateKind, RateScope
from punchclock.projects.services import resolve_rates
from tests.factories import make_rate, make_task

AT = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)

# Each case: which scopes carry a rate (scope -> amount); the expected winner.
CASES = [
    ({"organization": "50"}, "organization", "50"),
    ({"organization": "50", "member": "60"}, "member", "60"),
    ({"organization": "50", "member": "60", "client": "70"}, "client", "70"),
    ({"member": "60", "client": "70", "project": "80"}, "project", "80"),
    ({"client": "70", "project": "80", "project_member": "90"}, "project_member", "90"),
    ({"project": "80", "project_member": "90", "task": "100"}, "task", "100"),
    ({"organization": "50", "task": "100"}, "task", "100"),
    ({"organization": "50", "project_member": "90"}, "project_member", "90"),
    (
        {
            "member": "60",
            "organization": "50",
            "client": "70",
            "project": "80",
            "project_member": "90",
            "task": "100",
        },
        "task",
        "100",
    ),
    ({}, None, None),
]


def _rates(agency, scopes: dict[str, str]) -> None:
    org, member = agency.organization, agency.member
    targets = {
        "organization": {},
        "member": {"membership": member},
        "client": {"client": agency.client},
        "project": {"project": agency.project},
        "project_member": {"project": agency.project, "membership": member},
        "task": {"task": agency.task},
    }
    for scope, amount in scopes.items():
        make_rate(org, amount, **targets[scope])


@pytest.mark.parametrize(("scopes", "winner", "amount"), CASES)
def test_most_specific_rate_wins(agency, scopes, winner, amount):
    _rates(agency, scopes)
    quote = resolve_rates(membership=agency.member, project=agency.project, task=agency.task, at=AT)
    assert quote.bill_scope == winner
    assert (quote.bill.amount if quote.bill else None) == (Decimal(amount) if amount else None)


def test_task_rate_ignored_when_entry_has_no_task(agency):
    _rates(agency, {"project": "80", "task": "100"})
    quote = resolve_rates(membership=agency.member, project=agency.project, at=AT)
    assert quote.bill_scope == RateScope.PROJECT


def test_person_rate_on_project_applies_to_that_person_only(agency):
    _rates(agency, {"project": "80", "project_member": "90"})
    mine = resolve_rates(membership=agency.member, project=agency.project, at=AT)
    theirs = resolve_rates(membership=agency.manager, project=agency.project, at=AT)
    assert mine.bill.amount == Decimal("90")
    assert theirs.bill.amount == Decimal("80")


def test_a_new_rate_applies_from_its_date_and_not_before(agency):
    org = agency.organization
    make_rate(org, "80", project=agency.project, effective_from=date(2026, 1, 1))
    make_rate(org, "95", project=agency.project, effective_from=date(2026, 7, 1))
    before = resolve_rates(
        membership=agency.member,
        project=agency.project,
        at=datetime(2026, 6, 30, 21, 59, tzinfo=UTC),
    )
    after = resolve_rates(
        membership=agency.member,
        project=agency.project,
        at=datetime(2026, 6, 30, 22, 0, tzinfo=UTC),
    )
    # Berlin is UTC+2 in summer: 22:00 UTC on 30 June is already 1 July there.
    assert before.bill.amount == Decimal("80")
    assert after.bill.amount == Decimal("95")


def test_a_rate_from_the_future_does_not_apply_yet(agency):
    make_rate(agency.organization, "120", project=agency.project, effective_from=date(2027, 1, 1))
    quote = resolve_rates(membership=agency.member, project=agency.project, at=AT)
    assert quote.bill is None
    assert quote.billable is True


def test_defaults_in_another_currency_do_not_apply_to_a_usd_client(agency):
    agency.client.currency = "USD"
    agency.client.save()
    make_rate(agency.organization, "90", currency="EUR")
    make_rate(agency.organization, "110", currency="USD")
    quote = resolve_rates(membership=agency.member, project=agency.project, at=AT)
    assert quote.bill.amount == Decimal("110")
    assert quote.bill.currency == "USD"


def test_cost_rate_is_the_persons_versioned_cost(agency):
    org = agency.organization
    make_rate(
        org, "40", kind=RateKind.COST, membership=agency.member, effective_from=date(2025, 1, 1)
    )
    make_rate(
        org, "45", kind=RateKind.COST, membership=agency.member, effective_from=date(2026, 6, 1)
    )
    make_rate(org, "60", membership=agency.member)  # a bill default does not leak into cost
    quote = resolve_rates(membership=agency.member, project=agency.project, at=AT)
    assert quote.cost.amount == Decimal("45")
    old = resolve_rates(
        membership=agency.member, project=agency.project, at=datetime(2025, 12, 1, tzinfo=UTC)
    )
    assert old.cost.amount == Decimal("40")


@pytest.mark.parametrize("method", [BillingMethod.FIXED_FEE, BillingMethod.NON_BILLABLE])
def test_projects_that_are_not_hourly_have_no_bill_rate(agency, method):
    agency.project.billing_method = method
    agency.project.fixed_fee = Decimal("5000") if method == BillingMethod.FIXED_FEE else None
    agency.project.save()
    _rates(agency, {"project": "80", "organization": "50"})
    make_rate(agency.organization, "40", kind=RateKind.COST, membership=agency.member)
    quote = resolve_rates(membership=agency.member, project=agency.project, at=AT)
    assert quote.bill is None
    assert quote.billable is False
    assert quote.cost.amount == Decimal("40")


def test_resolution_is_one_query(agency, django_assert_num_queries):
    _rates(agency, {"project": "80", "task": "100", "organization": "50"})
    task = make_task(agency.project, "Review")
    project = (
        type(agency.project)
        .objects.select_related("organization", "client")
        .get(pk=agency.project.pk)
    )
    with django_assert_num_queries(1):
        resolve_rates(membership=agency.member, project=project, task=task, at=AT)


@pytest.mark.parametrize(("scopes", "winner", "amount"), CASES)
def test_the_reports_rate_book_picks_the_same_rate_as_the_resolver(agency, scopes, winner, amount):
    """RateBook.bill_chain (the reports' fast path) agrees with resolve_rates, with another
    person, a task-less entry and a second currency's defaults around to tempt it."""
    from punchclock.projects.ratebook import RateBook

    _rates(agency, scopes)
    make_rate(agency.organization, "33", currency="USD")
    make_rate(agency.organization, "34", membership=agency.manager)
    make_rate(agency.organization, "35", project=agency.project, membership=agency.manager)
    book = RateBook.load(agency.organization)
    project = agency.project
    for membership in (agency.member, agency.manager):
        for task in (agency.task, None):
            chain = book.bill_chain(
                membership_id=membership.pk,
                project_id=project.pk,
                client_id=project.client_id,
                currency=project.client.currency,
                task_id=task.pk if task else None,
            )
            found = book.first_at(RateKind.BILL, chain, AT.date())
            quote = resolve_rates(membership=membership, project=project, task=task, at=AT)
            assert (found.amount if found else None) == (
                quote.bill.amount if quote.bill else None
            ), (membership, task)
