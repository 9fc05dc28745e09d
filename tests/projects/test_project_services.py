"""The project services: validation with named fields, tenancy, tasks and assignments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from punchclock.projects import services
from punchclock.projects.models import BillingMethod, BudgetKind, Project, ProjectStatus


def _errors(caught) -> set[str]:
    return set(caught.value.message_dict)


def test_a_project_gets_a_code_from_its_name(agency):
    project = services.create_project(by=agency.owner, client=agency.client, name="Data Lake")
    assert project.code == "data-lake"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"billing_method": BillingMethod.FIXED_FEE}, "fixed_fee"),
        ({"billing_method": BillingMethod.FIXED_FEE, "fixed_fee": Decimal(-1)}, "fixed_fee"),
        ({"budget_kind": BudgetKind.HOURS}, "budget_hours"),
        ({"budget_kind": BudgetKind.HOURS, "budget_hours": Decimal(-3)}, "budget_hours"),
        ({"budget_kind": BudgetKind.MONEY, "budget_amount": Decimal(0)}, "budget_amount"),
        ({"budget_alert_percent": 0}, "budget_alert_percent"),
        ({"budget_alert_percent": 101}, "budget_alert_percent"),
        ({"rounding_minutes": 7}, "rounding_minutes"),
        ({"code": "api"}, "code"),
    ],
)
def test_invalid_projects_are_refused_naming_the_field(agency, fields, field):
    with pytest.raises(ValidationError) as caught:
        services.create_project(by=agency.owner, client=agency.client, name="New", **fields)
    assert field in _errors(caught)
    assert not Project.objects.filter(name="New").exists()


def test_values_of_another_billing_method_or_budget_are_dropped(agency):
    project = services.create_project(
        by=agency.owner,
        client=agency.client,
        name="New",
        fixed_fee=Decimal(500),
        budget_hours=Decimal(10),
        billing_method=BillingMethod.NON_BILLABLE,
    )
    assert (project.fixed_fee, project.budget_hours, project.billable_default) == (
        None,
        None,
        False,
    )


def test_no_project_for_an_archived_client(agency):
    agency.client.is_archived = True
    agency.client.save()
    with pytest.raises(ValidationError) as caught:
        services.create_project(by=agency.owner, client=agency.client, name="New")
    assert _errors(caught) == {"client"}


def test_another_organization_cannot_change_a_project(agency, outsider):
    with pytest.raises(PermissionDenied):
        services.update_project(agency.project, by=outsider, name="Hijacked")
    with pytest.raises(PermissionDenied):
        services.set_project_status(agency.project, by=outsider, status="archived")
    with pytest.raises(PermissionDenied):
        services.create_task(agency.project, by=outsider, name="Hijack")
    with pytest.raises(PermissionDenied):
        services.update_task(agency.task, by=outsider, name="Hijack")
    with pytest.raises(PermissionDenied):
        services.unassign_member(agency.project, by=outsider, membership=agency.member)
    agency.project.refresh_from_db()
    assert agency.project.name == "API"


def test_managers_update_only_managed_projects(agency):
    services.update_project(agency.project, by=agency.manager, name="API v2")
    with pytest.raises(PermissionDenied):
        services.update_project(agency.other_project, by=agency.manager, name="Nope")


def test_an_archived_project_takes_no_new_tasks(agency):
    services.set_project_status(agency.project, by=agency.owner, status=ProjectStatus.ARCHIVED)
    with pytest.raises(ValidationError, match="archived") as caught:
        services.create_task(agency.project, by=agency.owner, name="Late")
    assert _errors(caught) == {"project"}


def test_task_names_are_unique_per_project_ignoring_case(agency):
    with pytest.raises(ValidationError) as caught:
        services.create_task(agency.project, by=agency.owner, name=" development ")
    assert _errors(caught) == {"name"}
    other = services.create_task(agency.project, by=agency.owner, name="Review")
    with pytest.raises(ValidationError):
        services.update_task(other, by=agency.owner, name="Development")
    # The same name on another project is fine.
    services.create_task(agency.other_project, by=agency.owner, name="Development")


def test_tasks_of_a_non_billable_project_are_not_billable(agency):
    agency.project.billing_method = BillingMethod.NON_BILLABLE
    agency.project.save()
    task = services.create_task(agency.project, by=agency.owner, name="Meetings")
    assert task.billable_default is False


def test_a_manager_reassigning_a_project_manager_keeps_the_flag(agency):
    services.assign_member(agency.project, by=agency.manager, membership=agency.manager)
    assert agency.project.assignments.get(membership=agency.manager).is_manager


def test_only_admins_and_owners_make_project_managers(agency):
    with pytest.raises(ValidationError) as caught:
        services.assign_member(
            agency.project, by=agency.manager, membership=agency.member, is_manager=True
        )
    assert _errors(caught) == {"is_manager"}
    services.assign_member(
        agency.project, by=agency.admin, membership=agency.member, is_manager=True
    )
    assert agency.project.assignments.get(membership=agency.member).is_manager


def test_a_manager_cannot_remove_a_project_manager(agency):
    with pytest.raises(ValidationError):
        services.unassign_member(agency.project, by=agency.manager, membership=agency.manager)
    services.unassign_member(agency.project, by=agency.owner, membership=agency.manager)
    assert not agency.project.assignments.filter(membership=agency.manager).exists()


def test_an_inactive_person_cannot_be_assigned(agency):
    agency.admin.is_active = False
    agency.admin.save()
    with pytest.raises(ValidationError) as caught:
        services.assign_member(agency.project, by=agency.owner, membership=agency.admin)
    assert _errors(caught) == {"membership"}
