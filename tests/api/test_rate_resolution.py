"""GET /rates/resolve: the bill and cost rate of a person on a project at an instant."""

from __future__ import annotations

from datetime import date

import pytest

from tests import factories
from tests.api.helpers import assert_error


@pytest.fixture
def rates(agency):
    org = agency.organization
    factories.make_rate(org, "80", effective_from=date(2020, 1, 1))
    factories.make_rate(org, "95", project=agency.project, effective_from=date(2024, 7, 1))
    factories.make_rate(org, "120.5", task=agency.task, effective_from=date(2025, 1, 1))
    factories.make_rate(org, "50", kind="cost", membership=agency.member)
    return agency


def resolve(api, agency, at, **extra):
    query = {"project_id": agency.project.pk, "membership_id": agency.member.pk, "at": at, **extra}
    return api.get("/rates/resolve", query)


def test_the_organization_default_applies_before_the_project_rate_starts(owner_api, rates):
    body = resolve(owner_api, rates, "2024-06-30T12:00:00+02:00").json()
    assert body["bill"] == {"amount": "80.00", "currency": "EUR", "scope": "organization"}
    assert body["billable"] is True
    assert body["membership_id"] == rates.member.pk


def test_the_project_rate_starts_at_local_midnight_of_the_organization(owner_api, rates):
    # 22:30 UTC on 30 June is already 1 July in Berlin.
    body = resolve(owner_api, rates, "2024-06-30T22:30:00Z").json()
    assert body["bill"] == {"amount": "95.00", "currency": "EUR", "scope": "project"}


def test_a_task_rate_wins_over_the_project_rate(owner_api, rates):
    body = resolve(owner_api, rates, "2025-03-01T09:00:00+01:00", task_id=rates.task.pk).json()
    assert body["bill"] == {"amount": "120.50", "currency": "EUR", "scope": "task"}
    assert body["task_id"] == rates.task.pk
    assert body["at"].startswith("2025-03-01T08:00:00")


def test_owners_see_the_cost_and_managers_do_not(owner_api, manager_api, rates):
    at = "2025-03-01T09:00:00+01:00"
    assert resolve(owner_api, rates, at).json()["cost"] == {"amount": "50.00", "currency": "EUR"}
    manager_view = resolve(manager_api, rates, at)
    assert manager_view.status_code == 200
    assert manager_view.json()["cost"] is None


def test_without_a_person_the_callers_own_rate_is_resolved(owner_api, rates):
    body = owner_api.get("/rates/resolve", {"project_id": rates.project.pk}).json()
    assert body["membership_id"] == rates.owner.pk
    assert body["bill"]["scope"] == "project"


def test_a_non_billable_project_has_no_bill_rate(owner_api, rates):
    rates.project.billing_method = "non_billable"
    rates.project.save()
    body = resolve(owner_api, rates, "2025-03-01T09:00:00Z").json()
    assert body["billable"] is False
    assert body["bill"] is None


def test_an_instant_without_an_offset_names_the_field(owner_api, rates):
    assert_error(resolve(owner_api, rates, "2025-03-01T09:00:00"), 422, "at")


def test_an_instant_at_the_end_of_time_names_the_field(owner_api, rates):
    assert_error(resolve(owner_api, rates, "9999-12-31T23:59:59-05:00"), 422, "at")


def test_a_task_of_another_project_names_the_field(owner_api, rates):
    other_task = factories.make_task(rates.other_project, "Content")
    response = resolve(owner_api, rates, "2025-03-01T09:00:00Z", task_id=other_task.pk)
    assert_error(response, 422, "task_id")


def test_a_member_may_not_resolve_rates(member_api, rates):
    assert_error(resolve(member_api, rates, "2025-03-01T09:00:00Z"), 403)
