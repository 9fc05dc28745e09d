from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import MATRIX, can


class _Perms:
    """Lets templates ask {% if perms_org.clients__manage %} without custom tags."""

    def __init__(self, membership: Membership | None) -> None:
        self._membership = membership

    def __getattr__(self, name: str) -> bool:
        action = name.replace("__", ".")
        if action not in MATRIX:
            raise AttributeError(name)
        return can(self._membership, action)


def organization(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    other: list[Membership] = []
    if membership is not None:
        other = list(
            Membership.objects.select_related("organization")
            .filter(user_id=membership.user_id, is_active=True)
            .exclude(pk=membership.pk)
        )
    return {
        "membership": membership,
        "organization": membership.organization if membership else None,
        "other_memberships": other,
        "can": _Perms(membership),
    }
