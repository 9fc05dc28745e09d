"""Projects, their people and tasks over the API."""

from __future__ import annotations

from punchclock.projects.models import Project, ProjectMember, Task
from tests import factories
from tests.api.helpers import assert_error


def test_create_a_fixed_fee_project_with_money_as_text(owner_api, agency):
    response = owner_api.post(
        "/projects",
        {
            "client_id": agency.client.pk,
            "name": "Mobile App",
            "billing_method": "fixed_fee",
            "fixed_fee": "12500.5",
            "budget_kind": "hours",
            "budget_hours": 120,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["code"] == "mobile-app"
    assert body["full_code"] == "globex/mobile-app"
    assert body["fixed_fee"] == "12500.50"
    assert body["budget_hours"] == "120.00"
    assert body["currency"] == "EUR"
    assert Project.objects.get(pk=body["id"]).fixed_fee == 12500.5


def test_get_and_patch_a_project(owner_api, agency):
    assert owner_api.get(f"/projects/{agency.project.pk}").json()["name"] == "API"
    response = owner_api.patch(
        f"/projects/{agency.project.pk}", {"description": "REST", "rounding_minutes": 15}
    )
    assert response.status_code == 200
    agency.project.refresh_from_db()
    assert agency.project.rounding_minutes == 15
    assert agency.project.name == "API"


def test_list_filters_by_client_status_method_and_search(owner_api, agency):
    other = factories.make_client(agency.organization, "Initech", code="initech")
    factories.make_project(other, "Intranet", code="intranet", billing_method="non_billable")
    agency.other_project.status = "archived"
    agency.other_project.save()
    names = lambda **q: [p["name"] for p in owner_api.get("/projects", q).json()["items"]]  # noqa: E731
    assert names() == ["API", "Website", "Intranet"]
    assert names(client_id=other.pk) == ["Intranet"]
    assert names(status="archived") == ["Website"]
    assert names(billing_method="non_billable") == ["Intranet"]
    assert names(search="web") == ["Website"]


def test_a_member_sees_only_assigned_projects(member_api, agency):
    body = member_api.get("/projects").json()
    assert [p["id"] for p in body["items"]] == [agency.project.pk]
    assert_error(member_api.get(f"/projects/{agency.other_project.pk}"), 404)


def test_status_change_archives_and_reactivates(owner_api, agency):
    archived = owner_api.post(f"/projects/{agency.project.pk}/status", {"status": "archived"})
    assert archived.json()["status"] == "archived"
    active = owner_api.post(f"/projects/{agency.project.pk}/status", {"status": "active"})
    assert active.json()["status"] == "active"


def test_an_unknown_status_names_the_field(owner_api, agency):
    response = owner_api.post(f"/projects/{agency.project.pk}/status", {"status": "paused"})
    assert_error(response, 422, "status")


def test_a_fixed_fee_project_without_a_fee_names_the_field(owner_api, agency):
    response = owner_api.post(
        "/projects", {"client_id": agency.client.pk, "name": "X", "billing_method": "fixed_fee"}
    )
    assert_error(response, 422, "fixed_fee")


def test_an_unknown_client_id_names_the_field(owner_api, outsider):
    rival = factories.make_client(outsider.organization, "Rival Client", code="rival")
    for client_id in (987654321, rival.pk):
        response = owner_api.post("/projects", {"client_id": client_id, "name": "X"})
        assert_error(response, 422, "client_id")


def test_project_members_are_listed_assigned_and_unassigned(owner_api, agency):
    listed = owner_api.get(f"/projects/{agency.project.pk}/members").json()
    assert [(m["email"], m["is_manager"]) for m in listed["items"]] == [
        ("manager@acme.test", True),
        ("member@acme.test", False),
    ]
    assigned = owner_api.post(
        f"/projects/{agency.other_project.pk}/members", {"membership_id": agency.member.pk}
    )
    assert assigned.status_code == 201
    assert assigned.json()["role"] == "member"
    assert ProjectMember.objects.filter(
        project=agency.other_project, membership=agency.member
    ).exists()
    removed = owner_api.delete(f"/projects/{agency.other_project.pk}/members/{agency.member.pk}")
    assert removed.status_code == 204
    assert not agency.other_project.assignments.filter(membership=agency.member).exists()


def test_unassigning_someone_not_on_the_project_is_404(owner_api, agency):
    path = f"/projects/{agency.other_project.pk}/members/{agency.member.pk}"
    assert_error(owner_api.delete(path), 404)


def test_tasks_are_listed_created_and_changed(owner_api, agency):
    created = owner_api.post(f"/projects/{agency.project.pk}/tasks", {"name": "Design"})
    assert created.status_code == 201
    task_id = created.json()["id"]
    listed = owner_api.get(f"/projects/{agency.project.pk}/tasks").json()
    assert [t["name"] for t in listed["items"]] == ["Design", "Development"]
    changed = owner_api.patch(f"/tasks/{task_id}", {"is_archived": True, "name": "UX design"})
    assert changed.json() == {
        "id": task_id,
        "project_id": agency.project.pk,
        "name": "UX design",
        "billable_default": True,
        "is_archived": True,
    }
    active = owner_api.get(f"/projects/{agency.project.pk}/tasks", {"archived": "false"}).json()
    assert [t["name"] for t in active["items"]] == ["Development"]
    assert owner_api.get(f"/tasks/{task_id}").json()["name"] == "UX design"
    assert Task.objects.get(pk=task_id).is_archived


def test_a_duplicate_task_name_names_the_field(owner_api, agency):
    response = owner_api.post(f"/projects/{agency.project.pk}/tasks", {"name": "Development"})
    assert_error(response, 422, "name")
