"""Tasks inline on the project page: add, rename, archive; archived projects take none."""

from __future__ import annotations

from django.urls import reverse

from punchclock.projects.models import Task
from tests.conftest import login

HTMX = {"HX-Request": "true"}


def _add(project):
    return reverse("projects:task_add", args=[project.pk])


def test_a_task_is_added_inline_and_the_other_sections_follow_out_of_band(agency, as_owner):
    response = as_owner.post(_add(agency.project), {"name": "Testing"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<section class="card" id="tasks"')
    assert 'id="members" hx-target="this" hx-swap="outerHTML" hx-swap-oob="true"' in html
    # The new task is offered in the rate form at once.
    assert "Task: Testing" in html
    task = Task.objects.get(name="Testing")
    assert task.billable_default is False  # an unchecked box means not billable


def test_without_htmx_a_task_add_redirects_back(agency, as_owner):
    response = as_owner.post(_add(agency.project), {"name": "Testing", "billable_default": "on"})
    assert response.status_code == 302
    assert Task.objects.get(name="Testing").billable_default


def test_a_duplicate_task_name_is_refused_on_the_name(agency, as_owner):
    response = as_owner.post(_add(agency.project), {"name": "development"}, headers=HTMX)
    assert response.status_code == 400
    assert "already has a task called" in response.content.decode()
    assert agency.project.tasks.count() == 1


def test_an_empty_task_name_is_refused(agency, as_owner):
    response = as_owner.post(_add(agency.project), {"name": "   "}, headers=HTMX)
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_an_archived_project_takes_no_new_tasks(agency, as_owner):
    agency.project.status = "archived"
    agency.project.save()
    response = as_owner.post(_add(agency.project), {"name": "Late work"})
    assert response.status_code == 400
    assert "The project is archived; restore it before adding tasks." in response.content.decode()
    assert not Task.objects.filter(name="Late work").exists()


def test_a_task_is_renamed_inline(agency, as_owner):
    url = reverse("projects:task_edit", args=[agency.task.pk])
    form = as_owner.get(url, headers=HTMX)
    assert form.status_code == 200
    assert 'value="Development"' in form.content.decode()
    response = as_owner.post(url, {"name": "Engineering", "billable_default": "on"}, headers=HTMX)
    assert response.status_code == 200
    agency.task.refresh_from_db()
    assert agency.task.name == "Engineering"


def test_a_task_is_archived_and_restored(agency, as_owner):
    url = reverse("projects:task_archive", args=[agency.task.pk])
    assert as_owner.post(url, {"archived": "1"}, headers=HTMX).status_code == 200
    agency.task.refresh_from_db()
    assert agency.task.is_archived
    assert as_owner.post(url, {"archived": "0"}).status_code == 302
    agency.task.refresh_from_db()
    assert not agency.task.is_archived


def test_manager_adds_a_task_to_the_managed_project_only(agency):
    http = login(agency.manager)
    assert http.post(_add(agency.project), {"name": "Review"}).status_code == 302
    assert http.post(_add(agency.other_project), {"name": "Review"}).status_code == 403
    assert not agency.other_project.tasks.exists()


def test_member_cannot_add_or_change_tasks(agency, as_member):
    assert as_member.post(_add(agency.project), {"name": "Mine"}).status_code == 403
    edit = reverse("projects:task_edit", args=[agency.task.pk])
    assert as_member.post(edit, {"name": "Mine"}).status_code == 403
    archive = reverse("projects:task_archive", args=[agency.task.pk])
    assert as_member.post(archive).status_code == 403
    agency.task.refresh_from_db()
    assert agency.task.name == "Development"
    assert not agency.task.is_archived
