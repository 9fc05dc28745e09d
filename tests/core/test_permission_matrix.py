"""The permission matrix in code and the one in docs/permissions.md say the same."""

from pathlib import Path

import pytest

from punchclock.accounts.models import Role
from punchclock.accounts.permissions import MANAGED_PROJECT_ACTIONS, MATRIX, can
from tests.factories import make_membership, make_organization

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
ROLES = [Role.OWNER, Role.ADMIN, Role.MANAGER, Role.MEMBER]


def _doc_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and "." in cells[0] and not cells[0].startswith("-"):
            rows[cells[0]] = cells[1:5]
    return rows


def test_every_action_in_code_is_documented_and_the_reverse():
    assert set(_doc_rows()) == set(MATRIX)


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_documented_roles_match_the_code(action):
    cells = _doc_rows()[action]
    for role, cell in zip(ROLES, cells, strict=True):
        assert (cell == "✓") == (role in MATRIX[action]), (action, role)
        if cell == "managed":
            assert action in MANAGED_PROJECT_ACTIONS


def test_an_inactive_member_can_do_nothing(db):
    membership = make_membership(make_organization(), Role.OWNER, is_active=False)
    assert not any(can(membership, action) for action in MATRIX)


def test_an_unknown_action_is_a_programming_error(db):
    membership = make_membership(make_organization(), Role.OWNER)
    with pytest.raises(KeyError):
        can(membership, "invoices.print_money")


def test_a_manager_manages_only_projects_they_manage(agency):
    assert can(agency.manager, "projects.manage", agency.project)
    assert can(agency.manager, "rates.manage", agency.project)
    assert not can(agency.manager, "projects.manage", agency.other_project)
    assert not can(agency.manager, "rates.manage")
    # Being assigned without the manager flag gives nothing extra.
    assert not can(agency.member, "projects.manage", agency.project)
