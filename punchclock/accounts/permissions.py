"""Who may do what: the one place where roles are turned into permissions.

The matrix below is the source of truth; docs/permissions.md shows the same table and a test
checks that the two agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from punchclock.accounts.models import Membership, Role

if TYPE_CHECKING:
    from punchclock.clients.models import Client
    from punchclock.projects.models import Project

OWNER, ADMIN, MANAGER, MEMBER = Role.OWNER, Role.ADMIN, Role.MANAGER, Role.MEMBER

# action -> roles allowed everywhere in the organization. "Managed" actions are also allowed
# to a project's managers on that project alone (see can()).
MATRIX: dict[str, frozenset[str]] = {
    "organization.view": frozenset({OWNER, ADMIN, MANAGER, MEMBER}),
    "organization.edit_profile": frozenset({OWNER, ADMIN}),
    "organization.edit_billing": frozenset({OWNER}),
    "members.view": frozenset({OWNER, ADMIN, MANAGER}),
    "members.manage": frozenset({OWNER, ADMIN}),
    "members.manage_owners": frozenset({OWNER}),
    "clients.view_all": frozenset({OWNER, ADMIN, MANAGER}),
    "clients.manage": frozenset({OWNER, ADMIN}),
    "projects.view_all": frozenset({OWNER, ADMIN, MANAGER}),
    "projects.create": frozenset({OWNER, ADMIN}),
    "projects.manage": frozenset({OWNER, ADMIN}),
    "rates.view": frozenset({OWNER, ADMIN}),
    "rates.manage": frozenset({OWNER, ADMIN}),
    "cost_rates.view": frozenset({OWNER, ADMIN}),
    "cost_rates.manage": frozenset({OWNER, ADMIN}),
    "tokens.own": frozenset({OWNER, ADMIN, MANAGER, MEMBER}),
    "time.track": frozenset({OWNER, ADMIN, MANAGER, MEMBER}),
    "time.view_all": frozenset({OWNER, ADMIN}),
    "time.manage_all": frozenset({OWNER, ADMIN}),
    "expenses.record": frozenset({OWNER, ADMIN, MANAGER, MEMBER}),
    "expenses.view_all": frozenset({OWNER, ADMIN}),
    "expenses.manage_all": frozenset({OWNER, ADMIN}),
    "expenses.categories": frozenset({OWNER, ADMIN}),
    "invoices.manage": frozenset({OWNER, ADMIN}),
    "payments.manage": frozenset({OWNER, ADMIN}),
}

# Actions a manager may also take on the projects they manage.
MANAGED_PROJECT_ACTIONS = frozenset({"projects.manage", "rates.view", "rates.manage"})


def can(membership: Membership | None, action: str, project: Project | None = None) -> bool:
    if membership is None or not membership.is_active:
        return False
    if action not in MATRIX:
        raise KeyError(f"unknown action {action!r}")
    if membership.role in MATRIX[action]:
        return True
    if project is not None and action in MANAGED_PROJECT_ACTIONS:
        return is_project_manager(membership, project)
    return False


def require(membership: Membership | None, action: str, project: Project | None = None) -> None:
    if not can(membership, action, project):
        raise PermissionDenied(f"Your role does not allow this ({action}).")


def is_project_manager(membership: Membership, project: Project) -> bool:
    if project.organization_id != membership.organization_id:
        return False
    return (
        membership.role == MANAGER
        and project.assignments.filter(membership=membership, is_manager=True).exists()
    )


def visible_projects(membership: Membership) -> QuerySet[Project]:
    """Projects a member may see: all for managers and up, assigned ones for members."""
    from punchclock.projects.models import Project

    projects = Project.objects.filter(organization_id=membership.organization_id)
    if can(membership, "projects.view_all"):
        return projects
    return projects.filter(assignments__membership=membership).distinct()


def visible_clients(membership: Membership) -> QuerySet[Client]:
    from punchclock.clients.models import Client

    clients = Client.objects.filter(organization_id=membership.organization_id)
    if can(membership, "clients.view_all"):
        return clients
    return clients.filter(projects__assignments__membership=membership).distinct()


def grantable_roles(membership: Membership) -> list[str]:
    """Roles this member may hand out: only owners make owners."""
    if can(membership, "members.manage_owners"):
        return list(Role.values)
    if can(membership, "members.manage"):
        return [ADMIN, MANAGER, MEMBER]
    return []
