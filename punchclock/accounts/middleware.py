"""Attach the organization the signed-in user works in to every request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from punchclock.accounts.models import Membership

SESSION_KEY = "organization_id"


def active_membership(request: HttpRequest) -> Membership | None:
    """The membership chosen in this session, else the user's first active one."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organization", "user").filter(
        user=user, is_active=True
    )
    chosen = request.session.get(SESSION_KEY)
    membership = memberships.filter(organization_id=chosen).first() if chosen else None
    if membership is None:
        membership = memberships.order_by("joined_at").first()
        if membership is not None:
            request.session[SESSION_KEY] = membership.organization_id
    return membership


class ActiveOrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = None
        if not request.path.startswith(("/api/", "/static/")):
            membership = active_membership(request)
        if request.user.is_authenticated:
            # The person's language for the interface (English is the only one so far).
            translation.activate(request.user.locale)
        request.membership = membership  # type: ignore[attr-defined]
        request.organization = membership.organization if membership else None  # type: ignore[attr-defined]
        return self.get_response(request)
