"""Another organization's projects, tasks and rates answer 404 on every URL."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from punchclock.projects.models import Rate
from tests.factories import make_rate

PROJECT_URLS = [
    "projects:detail",
    "projects:edit",
    "projects:status",
    "projects:task_add",
    "projects:member_assign",
    "projects:rate_add",
]
TASK_URLS = ["projects:task_edit", "projects:task_archive"]
PAYLOAD = {"name": "Hijack", "status": "archived", "amount": "1", "applies_to": "project"}


@pytest.mark.parametrize("name", PROJECT_URLS)
def test_outsider_gets_404_on_project_urls(agency, as_outsider, name):
    url = reverse(name, args=[agency.project.pk])
    assert as_outsider.post(url, PAYLOAD).status_code == 404
    if name in ("projects:detail", "projects:edit"):
        assert as_outsider.get(url).status_code == 404
    agency.project.refresh_from_db()
    assert agency.project.status == "active"
    assert agency.project.tasks.count() == 1


@pytest.mark.parametrize("name", ["projects:member_manager", "projects:member_unassign"])
def test_outsider_gets_404_on_people_urls(agency, as_outsider, name):
    url = reverse(name, args=[agency.project.pk, agency.member.pk])
    assert as_outsider.post(url, {"is_manager": "1"}).status_code == 404
    assert agency.project.assignments.filter(membership=agency.member).exists()


@pytest.mark.parametrize("name", TASK_URLS)
def test_outsider_gets_404_on_task_urls(agency, as_outsider, name):
    url = reverse(name, args=[agency.task.pk])
    assert as_outsider.post(url, PAYLOAD).status_code == 404
    agency.task.refresh_from_db()
    assert agency.task.name == "Development"


def test_outsider_gets_404_on_rate_delete(agency, as_outsider):
    rate = make_rate(
        agency.organization, "90", project=agency.project, effective_from=date(2999, 1, 1)
    )
    assert as_outsider.post(reverse("projects:rate_delete", args=[rate.pk])).status_code == 404
    assert Rate.objects.filter(pk=rate.pk).exists()


def test_outsiders_rates_page_shows_only_their_own_organization(agency, as_outsider):
    # A dotted amount: a bare "123" can appear by chance in a CSRF token or an id.
    make_rate(agency.organization, "123.45")
    html = as_outsider.get(reverse("projects:rates")).content.decode()
    assert "123.45" not in html


def test_outsider_does_not_see_the_agencys_projects(agency, as_outsider):
    html = as_outsider.get(reverse("projects:list")).content.decode()
    assert "globex" not in html
    new = as_outsider.get(reverse("projects:new")).content.decode()
    assert "Globex" not in new


def test_outsider_cannot_create_a_project_for_the_agencys_client(agency, as_outsider):
    data = {"client": agency.client.pk, "name": "Hijack", "billing_method": "hourly_project"}
    response = as_outsider.post(reverse("projects:new"), data)
    assert response.status_code == 400
    assert not agency.client.projects.filter(name="Hijack").exists()
