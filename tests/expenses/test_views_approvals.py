"""Approvals: submitted expenses for those who may decide them, decided inline with htmx."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from punchclock.expenses import services
from punchclock.expenses.models import ExpenseStatus
from punchclock.expenses.services import ExpenseInput
from tests.conftest import login


def submitted(agency, categories, project, description):
    expense = services.record_expense(
        agency.member,
        by=agency.member,
        data=ExpenseInput(
            client=agency.client,
            project=project,
            category=categories["Travel"],
            spent_on=date(2026, 11, 2),
            description=description,
            amount="20.00",
        ),
    )
    services.submit_expenses(agency.member, expenses=[expense])
    return expense


@pytest.fixture
def expenses(agency, categories):
    from punchclock.projects.models import ProjectMember

    ProjectMember.objects.create(project=agency.other_project, membership=agency.member)
    return (
        submitted(agency, categories, agency.project, "On the managed project"),
        submitted(agency, categories, agency.other_project, "On another project"),
    )


def shown(http):
    return {e.description for e in http.get(reverse("expenses:approvals")).context["pending"]}


def test_a_manager_sees_the_expenses_on_projects_they_manage(agency, expenses):
    assert shown(login(agency.manager)) == {"On the managed project"}


def test_admins_and_owners_see_all(agency, expenses):
    assert shown(login(agency.admin)) == {"On the managed project", "On another project"}
    assert shown(login(agency.owner)) == {"On the managed project", "On another project"}


def test_members_and_outsiders_see_none(agency, expenses, as_outsider):
    assert shown(login(agency.member)) == set()
    assert shown(as_outsider) == set()


def test_the_manager_approves_inline(agency, expenses):
    managed = expenses[0]
    response = login(agency.manager).post(
        reverse("expenses:decide", args=[managed.pk]),
        {"decision": "approve"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="approval-{managed.pk}"')
    assert "Approved" in body
    managed.refresh_from_db()
    assert managed.status == ExpenseStatus.APPROVED
    assert managed.decided_by == agency.manager.user


def test_a_rejection_without_comment_stays_in_the_row_with_the_message(agency, expenses):
    response = login(agency.manager).post(
        reverse("expenses:decide", args=[expenses[0].pk]),
        {"decision": "reject"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "Say why the expense is rejected." in response.content.decode()


def test_the_manager_cannot_decide_on_a_project_they_do_not_manage(agency, expenses):
    response = login(agency.manager).post(
        reverse("expenses:decide", args=[expenses[1].pk]), {"decision": "approve"}
    )
    assert response.status_code == 404  # they cannot even see it
