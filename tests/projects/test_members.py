"""Assigning people to a project; only admins and owners choose project managers."""

from __future__ import annotations

from django.urls import reverse

from punchclock.accounts.models import Role
from punchclock.projects.models import ProjectMember
from tests.conftest import login
from tests.factories import make_membership, make_organization

HTMX = {"HX-Request": "true"}


def _assign(project):
    return reverse("projects:member_assign", args=[project.pk])


def test_owner_assigns_a_project_manager(agency, as_owner):
    response = as_owner.post(
        _assign(agency.other_project),
        {"membership": agency.manager.pk, "is_manager": "on"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.content.decode().strip().startswith('<section class="card" id="members"')
    assert ProjectMember.objects.get(
        project=agency.other_project, membership=agency.manager
    ).is_manager


def test_people_already_on_the_project_are_not_offered_again(agency, as_owner):
    response = as_owner.get(reverse("projects:detail", args=[agency.project.pk]))
    offered = list(response.context["assign_form"].fields["membership"].queryset)
    assert agency.member not in offered
    assert agency.admin in offered


def test_manager_assigns_people_to_the_managed_project(agency):
    http = login(agency.manager)
    response = http.post(_assign(agency.project), {"membership": agency.admin.pk})
    assert response.status_code == 302
    assert agency.project.assignments.filter(membership=agency.admin, is_manager=False).exists()


def test_manager_cannot_make_project_managers(agency):
    http = login(agency.manager)
    response = http.post(
        _assign(agency.project), {"membership": agency.admin.pk, "is_manager": "on"}, headers=HTMX
    )
    assert response.status_code == 400
    assert "Only admins and owners choose project managers." in response.content.decode()
    assert not agency.project.assignments.filter(membership=agency.admin).exists()
    toggle = reverse("projects:member_manager", args=[agency.project.pk, agency.member.pk])
    assert http.post(toggle, {"is_manager": "1"}).status_code == 403


def test_manager_cannot_remove_a_project_manager(agency):
    http = login(agency.manager)
    url = reverse("projects:member_unassign", args=[agency.project.pk, agency.manager.pk])
    response = http.post(url, headers=HTMX)
    assert response.status_code == 400
    assert "Only admins and owners remove a project manager." in response.content.decode()
    assert agency.project.assignments.filter(membership=agency.manager).exists()


def test_manager_removes_a_member(agency):
    url = reverse("projects:member_unassign", args=[agency.project.pk, agency.member.pk])
    assert login(agency.manager).post(url).status_code == 302
    assert not agency.project.assignments.filter(membership=agency.member).exists()


def test_owner_toggles_the_manager_flag(agency, as_owner):
    url = reverse("projects:member_manager", args=[agency.project.pk, agency.member.pk])
    assert as_owner.post(url, {"is_manager": "1"}).status_code == 302
    assert agency.project.assignments.get(membership=agency.member).is_manager
    assert as_owner.post(url, {"is_manager": "0"}, headers=HTMX).status_code == 200
    assert not agency.project.assignments.get(membership=agency.member).is_manager


def test_a_person_of_another_organization_cannot_be_assigned(agency, as_owner):
    stranger = make_membership(make_organization("Elsewhere"), Role.MEMBER)
    response = as_owner.post(_assign(agency.project), {"membership": stranger.pk})
    assert response.status_code == 400
    assert "membership" in response.context["assign_form"].errors
    unassign = reverse("projects:member_unassign", args=[agency.project.pk, stranger.pk])
    assert as_owner.post(unassign).status_code == 404


def test_garbage_is_refused_without_a_crash(agency, as_owner):
    response = as_owner.post(_assign(agency.project), {"membership": "'; drop table"})
    assert response.status_code == 400


def test_member_cannot_assign_anyone(agency, as_member):
    assert (
        as_member.post(_assign(agency.project), {"membership": agency.admin.pk}).status_code == 403
    )
