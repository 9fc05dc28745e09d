"""What each role may do over the API: the permission matrix, enforced by the services."""

from __future__ import annotations

from punchclock.clients.models import Client
from punchclock.projects.models import Rate, Task
from tests import factories
from tests.api.helpers import assert_error

FUTURE = "2099-01-01"


def test_a_member_cannot_create_clients(member_api):
    assert_error(member_api.post("/clients", {"name": "Initech"}), 403)
    assert not Client.objects.filter(name="Initech").exists()


def test_a_member_cannot_change_a_client_they_can_see(member_api, agency):
    assert_error(member_api.patch(f"/clients/{agency.client.pk}", {"name": "Mine"}), 403)


def test_a_member_cannot_list_rates(member_api):
    assert_error(member_api.get("/rates"), 403)


def test_a_member_cannot_create_projects(member_api, agency):
    assert_error(member_api.post("/projects", {"client_id": agency.client.pk, "name": "X"}), 403)


def test_a_member_cannot_add_tasks_to_their_project(member_api, agency):
    assert_error(member_api.post(f"/projects/{agency.project.pk}/tasks", {"name": "Ops"}), 403)


def test_a_manager_adds_a_task_on_the_managed_project_only(manager_api, agency):
    created = manager_api.post(f"/projects/{agency.project.pk}/tasks", {"name": "Ops"})
    assert created.status_code == 201
    refused = manager_api.post(f"/projects/{agency.other_project.pk}/tasks", {"name": "Ops"})
    assert_error(refused, 403)
    assert list(Task.objects.filter(name="Ops").values_list("project_id", flat=True)) == [
        agency.project.pk
    ]


def test_a_manager_adds_a_rate_on_the_managed_project_only(manager_api, agency):
    rate = {"kind": "bill", "amount": "100", "effective_from": FUTURE}
    created = manager_api.post("/rates", {**rate, "project_id": agency.project.pk})
    assert created.status_code == 201
    refused = manager_api.post("/rates", {**rate, "project_id": agency.other_project.pk})
    assert_error(refused, 403)
    task_rate = manager_api.post("/rates", {**rate, "task_id": agency.task.pk})
    assert task_rate.json()["scope"] == "task"


def test_a_manager_cannot_set_organization_or_cost_rates(manager_api, agency):
    assert_error(
        manager_api.post("/rates", {"kind": "bill", "amount": "1", "effective_from": FUTURE}), 403
    )
    cost = {
        "kind": "cost",
        "amount": "1",
        "effective_from": FUTURE,
        "membership_id": agency.member.pk,
    }
    assert_error(manager_api.post("/rates", cost), 403)
    assert not Rate.objects.exists()


def test_a_manager_lists_only_the_bill_rates_of_managed_projects(manager_api, agency):
    org = agency.organization
    mine = factories.make_rate(org, "95", project=agency.project)
    factories.make_rate(org, "90", project=agency.other_project)
    factories.make_rate(org, "80")
    factories.make_rate(org, "40", kind="cost", membership=agency.member)
    body = manager_api.get("/rates").json()
    assert [r["id"] for r in body["items"]] == [mine.pk]


def test_a_manager_cannot_read_a_rate_of_another_project(manager_api, agency):
    rate = factories.make_rate(agency.organization, "90", project=agency.other_project)
    assert_error(manager_api.get(f"/rates/{rate.pk}"), 404)


def test_a_manager_may_edit_the_managed_project_but_not_another(manager_api, agency):
    assert (
        manager_api.patch(f"/projects/{agency.project.pk}", {"description": "x"}).status_code == 200
    )
    assert_error(
        manager_api.patch(f"/projects/{agency.other_project.pk}", {"description": "x"}), 403
    )


def test_an_admin_may_not_change_billing_identity(admin_api):
    assert_error(admin_api.patch("/organization", {"iban": "DE89370400440532013000"}), 403)
