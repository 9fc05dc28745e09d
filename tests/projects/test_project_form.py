"""Creating and editing projects: roles, field errors, nothing written on bad input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from punchclock.projects.models import Project
from tests.conftest import login
from tests.factories import make_client

NEW = reverse("projects:new")


def _data(agency, **overrides):
    data = {
        "client": agency.client.pk,
        "name": "Mobile app",
        "code": "",
        "description": "",
        "billing_method": "hourly_project",
        "fixed_fee": "",
        "budget_kind": "none",
        "budget_hours": "",
        "budget_amount": "",
        "budget_alert_percent": "80",
        "billable_default": "on",
        "rounding_minutes": "15",
        "rounding_direction": "up",
    }
    return data | overrides


def test_owner_creates_a_project(agency, as_owner):
    response = as_owner.post(NEW, _data(agency))
    project = Project.objects.get(name="Mobile app")
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:detail", args=[project.pk])
    assert (project.code, project.rounding_minutes) == ("mobile-app", 15)


def test_the_client_can_be_preselected(agency, as_owner):
    html = as_owner.get(NEW, {"client": agency.client.pk}).content.decode()
    assert f'<option value="{agency.client.pk}" selected>' in html


def test_rounding_help_says_tracked_time_is_never_changed(agency, as_owner):
    html = as_owner.get(NEW).content.decode()
    assert "applies when invoicing; tracked time is never changed" in html
    assert '<option value="0" selected>No rounding</option>' in html


def test_archived_clients_are_not_offered(agency, as_owner):
    old = make_client(agency.organization, "Old Corp", is_archived=True)
    html = as_owner.get(NEW).content.decode()
    assert "Old Corp" not in html
    response = as_owner.post(NEW, _data(agency, client=old.pk))
    assert response.status_code == 400
    assert "client" in response.context["form"].errors


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"billing_method": "fixed_fee"}, "fixed_fee", "needs its fee"),
        ({"billing_method": "fixed_fee", "fixed_fee": "-5"}, "fixed_fee", "greater than"),
        ({"budget_kind": "hours"}, "budget_hours", "needs the number of hours"),
        ({"budget_kind": "money", "budget_amount": "0"}, "budget_amount", "greater than"),
        ({"budget_kind": "money"}, "budget_amount", "needs an amount"),
        ({"budget_alert_percent": "150"}, "budget_alert_percent", "less than or equal"),
        ({"code": "api"}, "code", "already has a project with the code"),
        ({"code": "not a slug"}, "code", "slug"),
        ({"rounding_minutes": "7"}, "rounding_minutes", "Select a valid choice"),
        ({"rounding_direction": "sideways"}, "rounding_direction", "Select a valid choice"),
        ({"client": "999999"}, "client", "Select a valid choice"),
        ({"client": "abc"}, "client", "Select a valid choice"),
        ({"fixed_fee": "1.234", "billing_method": "fixed_fee"}, "fixed_fee", "decimal places"),
    ],
)
def test_bad_input_is_refused_on_its_field(agency, as_owner, overrides, field, message):
    before = Project.objects.count()
    response = as_owner.post(NEW, _data(agency, **overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert Project.objects.count() == before


def test_an_empty_post_is_a_400(agency, as_owner):
    assert as_owner.post(NEW, {}).status_code == 400


@pytest.mark.parametrize("role", ["manager", "member"])
def test_only_owners_and_admins_create_projects(agency, role):
    http = login(getattr(agency, role))
    assert http.get(NEW).status_code == 403
    assert http.post(NEW, _data(agency)).status_code == 403
    assert not Project.objects.filter(name="Mobile app").exists()


def test_owner_edits_a_project(agency, as_owner):
    url = reverse("projects:edit", args=[agency.project.pk])
    assert as_owner.get(url).status_code == 200
    data = _data(
        agency, name="Public API", code="api", billing_method="fixed_fee", fixed_fee="9000"
    )
    response = as_owner.post(url, data)
    assert response.status_code == 302
    agency.project.refresh_from_db()
    assert agency.project.name == "Public API"
    assert agency.project.fixed_fee == 9000
    assert agency.project.client == agency.client


def test_edit_refuses_a_duplicate_code_and_changes_nothing(agency, as_owner):
    url = reverse("projects:edit", args=[agency.project.pk])
    response = as_owner.post(url, _data(agency, name="Renamed", code="web"))
    assert response.status_code == 400
    assert "code" in response.context["form"].errors
    agency.project.refresh_from_db()
    assert (agency.project.name, agency.project.code) == ("API", "api")


def test_manager_edits_the_project_they_manage(agency):
    http = login(agency.manager)
    url = reverse("projects:edit", args=[agency.project.pk])
    assert http.get(url).status_code == 200
    assert http.post(url, _data(agency, name="API v2", code="api")).status_code == 302
    agency.project.refresh_from_db()
    assert agency.project.name == "API v2"


def test_manager_cannot_edit_a_project_they_do_not_manage(agency):
    url = reverse("projects:edit", args=[agency.other_project.pk])
    http = login(agency.manager)
    assert http.get(url).status_code == 403
    assert http.post(url, _data(agency, name="Hijacked", code="web")).status_code == 403
    agency.other_project.refresh_from_db()
    assert agency.other_project.name == "Website"


def test_member_cannot_edit_even_their_own_project(agency, as_member):
    url = reverse("projects:edit", args=[agency.project.pk])
    assert as_member.get(url).status_code == 403
    assert as_member.post(url, _data(agency, code="api")).status_code == 403


def test_a_project_with_an_unusual_rounding_keeps_it_on_edit(agency, as_owner):
    agency.project.rounding_minutes = 45
    agency.project.save()
    html = as_owner.get(reverse("projects:edit", args=[agency.project.pk])).content.decode()
    assert '<option value="45" selected>45 minutes</option>' in html


def test_archiving_and_restoring_a_project(agency, as_owner):
    url = reverse("projects:status", args=[agency.project.pk])
    assert as_owner.post(url, {"status": "archived"}).status_code == 302
    agency.project.refresh_from_db()
    assert agency.project.status == "archived"
    assert as_owner.post(url, {"status": "active"}).status_code == 302
    agency.project.refresh_from_db()
    assert agency.project.status == "active"


def test_an_unknown_status_is_refused_clearly(agency, as_owner):
    url = reverse("projects:status", args=[agency.project.pk])
    response = as_owner.post(url, {"status": "deleted"})
    assert response.status_code == 400
    assert "is not a project status" in response.content.decode()


def test_a_project_of_an_archived_client_cannot_be_restored(agency, as_owner):
    as_owner.post(reverse("clients:archive", args=[agency.client.pk]))
    response = as_owner.post(
        reverse("projects:status", args=[agency.project.pk]), {"status": "active"}
    )
    assert response.status_code == 400
    assert "restore the client first" in response.content.decode()
    agency.project.refresh_from_db()
    assert agency.project.status == "archived"


def test_member_cannot_change_the_status(agency, as_member):
    url = reverse("projects:status", args=[agency.project.pk])
    assert as_member.post(url, {"status": "archived"}).status_code == 403
