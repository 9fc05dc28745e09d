"""Every list endpoint runs a fixed number of queries, however many rows it returns."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from punchclock.accounts.models import Invitation, Role
from punchclock.automation.recurring import LineSpec, run_now, save_recurring
from punchclock.automation.services import run_schedule, save_schedule
from punchclock.clients.models import Contact
from punchclock.core.timeutil import now
from punchclock.projects.models import ProjectMember, Task
from tests import factories
from tests.api.openapi_walk import routes

ROWS = 25
# Token and membership lookups, the parent object, the page and its count.
MAX_QUERIES = 6


@pytest.fixture
def crowded(agency):
    """An agency with ROWS of everything a list can show."""
    org = agency.organization
    for i in range(ROWS):
        client = factories.make_client(org, f"Client {i}")
        project = factories.make_project(client, f"Project {i}")
        member = factories.make_membership(org, Role.MEMBER)
        ProjectMember.objects.create(project=agency.project, membership=member)
        ProjectMember.objects.create(project=project, membership=agency.member)
        Task.objects.create(project=agency.project, name=f"Task {i}")
        Contact.objects.create(client=agency.client, name=f"Contact {i}")
        factories.make_rate(org, "90", project=project)
        factories.make_rate(org, "40", kind="cost", membership=member)
        Invitation.objects.create(
            organization=org,
            email=f"invitee{i}@example.com",
            token_hash=f"{i:064}",
            invited_by=agency.owner.user,
            expires_at=now() + timedelta(days=14),
        )
    return agency


def list_routes():
    for route in routes():
        ok = route.operation["responses"].get("200", {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if route.method == "get" and schema.get("$ref", "").endswith("Page"):
            yield route


def test_every_list_endpoint_has_a_fixed_number_of_queries(
    crowded, api_as, django_assert_max_num_queries
):
    schedule = save_schedule(
        crowded.owner, client=crowded.client, frequency="monthly", starts_on=date(2026, 1, 1)
    )
    run_schedule(schedule, by=crowded.owner, today=date(2026, 7, 1))
    recurring = save_recurring(
        crowded.owner,
        client=crowded.client,
        name="Hosting",
        starts_on=date(2026, 1, 1),
        lines=[LineSpec("Hosting {month}", Decimal(1), Decimal(49))],
    )
    run_now(recurring, by=crowded.owner, today=date(2026, 7, 1))
    ids = {
        "client_id": crowded.client.pk,
        "project_id": crowded.project.pk,
        "schedule_id": schedule.pk,
        "notification_id": factories.make_notification(crowded.member).pk,
        "recurring_id": recurring.pk,
    }
    checked = 0
    for membership in (crowded.owner, crowded.member):
        api = api_as(membership)
        api.get("/me")  # the first request stamps the token's last use
        for route in list_routes():
            with django_assert_max_num_queries(MAX_QUERIES):
                response = api.get(route.fill(ids), {"limit": 200})
            if response.status_code == 200:
                checked += 1
    assert checked >= 8
    assert api_as(crowded.owner).get("/clients", {"limit": 200}).json()["count"] > ROWS


def test_the_rate_list_of_a_manager_stays_fixed_too(crowded, api_as, django_assert_max_num_queries):
    for i in range(ROWS):
        day = date(2020, 1, 1) + timedelta(days=i)
        factories.make_rate(crowded.organization, "95", project=crowded.project, effective_from=day)
    api = api_as(crowded.manager)
    api.get("/me")
    with django_assert_max_num_queries(MAX_QUERIES + 1):
        body = api.get("/rates", {"limit": 200}).json()
    assert body["count"] == ROWS
