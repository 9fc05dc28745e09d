"""set_rate: scopes, currencies, validation and permissions of versioned rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from punchclock.projects.models import Rate, RateKind, RateScope
from punchclock.projects.services import delete_rate, set_rate
from tests.factories import make_client

DAY = date(2026, 1, 1)


def _set(agency, by=None, **kwargs):
    kwargs.setdefault("kind", RateKind.BILL)
    kwargs.setdefault("amount", Decimal("95"))
    kwargs.setdefault("effective_from", DAY)
    return set_rate(by=by or agency.owner, **kwargs)


def _field(caught) -> set[str]:
    return set(caught.value.message_dict)


@pytest.mark.parametrize(
    ("targets", "scope"),
    [
        ({}, RateScope.ORGANIZATION),
        ({"membership": "member"}, RateScope.MEMBER),
        ({"client": "client"}, RateScope.CLIENT),
        ({"project": "project"}, RateScope.PROJECT),
        ({"project": "project", "membership": "member"}, RateScope.PROJECT_MEMBER),
        ({"task": "task"}, RateScope.TASK),
    ],
)
def test_the_scope_follows_from_the_targets(agency, targets, scope):
    rate = _set(agency, **{key: getattr(agency, name) for key, name in targets.items()})
    assert rate.scope == scope
    assert rate.created_by == agency.owner.user


def test_a_task_rate_remembers_its_project(agency):
    rate = _set(agency, task=agency.task)
    assert rate.project == agency.project


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("-0.01"), "cannot be negative"),
        (Decimal("1.23456"), "at most 4 decimal places"),
        (Decimal("1000001"), "surely a typo"),
        (Decimal("NaN"), "must be a number"),
        (Decimal("Infinity"), "must be a number"),
    ],
)
def test_bad_amounts_are_refused_on_the_amount(agency, amount, message):
    with pytest.raises(ValidationError, match=message) as caught:
        _set(agency, project=agency.project, amount=amount)
    assert _field(caught) == {"amount"}
    assert not Rate.objects.exists()


def test_four_decimals_are_fine(agency):
    assert _set(agency, amount=Decimal("95.1234")).amount == Decimal("95.1234")


def test_a_rate_in_another_currency_than_the_clients_is_refused(agency):
    with pytest.raises(ValidationError, match="in its currency, EUR") as caught:
        _set(agency, project=agency.project, currency="USD")
    assert _field(caught) == {"currency"}


def test_an_unknown_currency_is_refused(agency):
    with pytest.raises(ValidationError) as caught:
        _set(agency, currency="ABC")
    assert _field(caught) == {"currency"}


def test_project_rates_take_the_clients_currency(agency):
    usd = make_client(agency.organization, "Yankee", currency="USD", country="US")
    project = usd.projects.create(organization=agency.organization, name="X", code="x")
    assert _set(agency, project=project).currency == "USD"


def test_cost_rates_are_in_the_organizations_currency(agency):
    rate = _set(agency, kind=RateKind.COST, membership=agency.member, currency="USD")
    assert rate.currency == "EUR"


def test_cost_rates_belong_to_one_person(agency):
    with pytest.raises(ValidationError) as caught:
        _set(agency, kind=RateKind.COST, project=agency.project)
    assert _field(caught) == {"membership"}


def test_an_unknown_kind_is_refused(agency):
    with pytest.raises(ValidationError) as caught:
        _set(agency, kind="tip")
    assert _field(caught) == {"kind"}


def test_one_rate_per_scope_and_day(agency):
    _set(agency, project=agency.project)
    with pytest.raises(ValidationError, match="already starts on") as caught:
        _set(agency, project=agency.project, amount=Decimal("100"))
    assert _field(caught) == {"effective_from"}
    assert Rate.objects.count() == 1


def test_defaults_are_kept_per_currency(agency):
    _set(agency, currency="EUR")
    _set(agency, currency="USD")
    assert Rate.objects.count() == 2


def test_managers_set_rates_on_managed_projects_only(agency):
    _set(agency, by=agency.manager, project=agency.project)
    _set(agency, by=agency.manager, task=agency.task, effective_from=date(2026, 2, 1))
    with pytest.raises(PermissionDenied):
        _set(agency, by=agency.manager, project=agency.other_project)
    with pytest.raises(PermissionDenied):
        _set(agency, by=agency.manager, client=agency.client)
    with pytest.raises(PermissionDenied):
        _set(agency, by=agency.manager, kind=RateKind.COST, membership=agency.member)


def test_members_set_no_rates(agency):
    with pytest.raises(PermissionDenied):
        _set(agency, by=agency.member, project=agency.project)


def test_rates_of_another_organization_cannot_be_set(agency, outsider):
    with pytest.raises(PermissionDenied):
        _set(agency, by=outsider, project=agency.project)


def test_a_rate_in_force_cannot_be_deleted(agency):
    rate = _set(agency, project=agency.project)
    with pytest.raises(ValidationError, match="already in force"):
        delete_rate(rate, by=agency.owner)
    assert Rate.objects.filter(pk=rate.pk).exists()


def test_a_scheduled_rate_can_be_deleted(agency):
    rate = _set(agency, project=agency.project, effective_from=date(2999, 1, 1))
    delete_rate(rate, by=agency.owner)
    assert not Rate.objects.exists()
