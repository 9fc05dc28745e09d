"""The project page: facts, and who sees and may change what on it."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from tests.conftest import login
from tests.factories import make_rate

HTMX = {"HX-Request": "true"}


def _url(project):
    return reverse("projects:detail", args=[project.pk])


def test_owner_sees_facts_tasks_people_and_rates(agency, as_owner):
    response = as_owner.get(_url(agency.project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "punch start globex/api" in html
    assert 'id="tasks"' in html
    assert 'id="members"' in html
    assert 'id="rates"' in html
    assert "Development" in html
    assert "Mia Manager" in html


def test_member_sees_the_project_without_rates_or_controls(agency, as_member):
    make_rate(agency.organization, "90", project=agency.project)
    html = as_member.get(_url(agency.project)).content.decode()
    assert 'id="rates"' not in html
    assert "€90" not in html
    assert "Add task" not in html
    assert reverse("projects:edit", args=[agency.project.pk]) not in html


def test_member_cannot_open_a_project_they_are_not_on(agency, as_member):
    assert as_member.get(_url(agency.other_project)).status_code == 404


def test_manager_sees_rates_and_controls_only_on_the_managed_project(agency):
    http = login(agency.manager)
    managed = http.get(_url(agency.project)).content.decode()
    other = http.get(_url(agency.other_project)).content.decode()
    assert 'id="rates"' in managed
    assert "Add task" in managed
    assert 'id="rates"' not in other
    assert "Add task" not in other


def test_rate_check_shows_the_rate_each_person_is_billed_today(agency, as_owner):
    make_rate(agency.organization, "80", project=agency.project)
    make_rate(agency.organization, "95", project=agency.project, membership=agency.member)
    response = as_owner.get(_url(agency.project))
    checks = {c["assignment"].membership: c for c in response.context["rate_checks"]}
    assert checks[agency.member]["quote"].bill.amount == Decimal("95")
    assert checks[agency.member]["scope_label"] == "Person on project"
    assert checks[agency.manager]["scope_label"] == "Project"
    assert "€95.00" in response.content.decode()


def test_rate_check_warns_when_nothing_applies(agency, as_owner):
    html = as_owner.get(_url(agency.project)).content.decode()
    assert "No rate" in html


def test_only_those_who_see_costs_see_cost_rates(agency):
    make_rate(agency.organization, "40", kind="cost", membership=agency.member)
    assert "€40.00" in login(agency.owner).get(_url(agency.project)).content.decode()
    assert "€40.00" not in login(agency.manager).get(_url(agency.project)).content.decode()


def test_archived_project_is_marked(agency, as_owner):
    agency.project.status = "archived"
    agency.project.save()
    html = as_owner.get(_url(agency.project)).content.decode()
    assert "This project is archived" in html
    assert "Add task" not in html
