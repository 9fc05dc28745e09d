"""Shared personas: an agency with an owner, admin, manager and member, and an outsider."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient

from punchclock.accounts.models import Membership, Organization, Role
from punchclock.clients.models import Client
from punchclock.projects.models import Project, ProjectMember, Task
from tests import factories


@dataclass
class Agency:
    organization: Organization
    owner: Membership
    admin: Membership
    manager: Membership
    member: Membership
    client: Client
    project: Project
    task: Task
    other_project: Project


@pytest.fixture
def agency(db) -> Agency:
    organization = factories.make_organization("Acme Agency", default_currency="EUR")
    owner = factories.make_membership(
        organization, Role.OWNER, factories.make_user("owner@acme.test", name="Olivia Owner")
    )
    admin = factories.make_membership(
        organization, Role.ADMIN, factories.make_user("admin@acme.test", name="Adam Admin")
    )
    manager = factories.make_membership(
        organization, Role.MANAGER, factories.make_user("manager@acme.test", name="Mia Manager")
    )
    member = factories.make_membership(
        organization, Role.MEMBER, factories.make_user("member@acme.test", name="Max Member")
    )
    client = factories.make_client(organization, "Globex", code="globex")
    project = factories.make_project(client, "API", code="api")
    other_project = factories.make_project(client, "Website", code="web")
    ProjectMember.objects.create(project=project, membership=manager, is_manager=True)
    ProjectMember.objects.create(project=project, membership=member)
    task = factories.make_task(project, "Development")
    return Agency(organization, owner, admin, manager, member, client, project, task, other_project)


@pytest.fixture
def outsider(db) -> Membership:
    """The owner of another organization: must never see or change the agency's data."""
    organization = factories.make_organization("Rival Studio")
    return factories.make_membership(
        organization, Role.OWNER, factories.make_user("outsider@rival.test", name="Otto Outsider")
    )


def login(membership: Membership) -> HttpClient:
    http = HttpClient()
    http.force_login(membership.user)
    session = http.session
    session["organization_id"] = membership.organization_id
    session.save()
    return http


@pytest.fixture
def as_owner(agency: Agency) -> HttpClient:
    return login(agency.owner)


@pytest.fixture
def as_member(agency: Agency) -> HttpClient:
    return login(agency.member)


@pytest.fixture
def as_outsider(outsider: Membership) -> HttpClient:
    return login(outsider)


@pytest.fixture
def punch_as(live_server, tmp_path):
    """punch_as(membership)(*args): `punch` against the live server with a write token."""
    from click.testing import CliRunner

    from punchclock.accounts.services import create_api_token
    from punchclock.cli.main import main

    def make(membership):
        _, raw = create_api_token(membership=membership, name="cli", scope="write")
        env = {
            "PUNCH_CONFIG": str(tmp_path / f"config-{membership.pk}.json"),
            "PUNCH_URL": live_server.url,
            "PUNCH_TOKEN": raw,
        }
        return lambda *args: CliRunner().invoke(main, list(args), env=env)

    return make
