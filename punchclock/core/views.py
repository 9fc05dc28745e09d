"""Home page, health check and friendly error pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from punchclock.core.timeutil import local_date, now

if TYPE_CHECKING:
    from punchclock.accounts.models import Membership
    from punchclock.payments.receivables import Aging


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    if membership is None:
        return redirect("accounts:organization_new")
    from punchclock.accounts.permissions import visible_clients, visible_projects

    projects = visible_projects(membership).filter(status="active").select_related("client")
    context = {
        "project_count": projects.count(),
        "client_count": visible_clients(membership).filter(is_archived=False).count(),
        "member_count": membership.organization.memberships.filter(is_active=True).count(),
        "recent_projects": projects.order_by("-created_at")[:6],
        "owed": _owed(membership),
        "board": _board(membership),
    }
    return render(request, "core/home.html", context)


def _owed(membership: Membership) -> list[Aging] | None:
    """Outstanding and overdue per currency for those who handle payments; None for others."""
    from punchclock.accounts.permissions import can
    from punchclock.payments.receivables import owed_totals

    if not can(membership, "payments.manage"):
        return None
    today = local_date(now(), membership.organization.timezone)
    return owed_totals(membership.organization_id, today=today)


def _board(membership: Membership) -> object:
    """The role's dashboard figures (reports.dashboard) and its week chart."""
    from punchclock.reports.dashboard import dashboard, week_chart

    board = dashboard(membership, cards=False)
    if not board.has_cards:
        board.chart = week_chart(board)
    return board


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(
        request,
        "error.html",
        {"title": title, "message": message, "status": status},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "Bad request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "You may not open this page."
    return _error(request, 403, "Not allowed", message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "Not found", "There is nothing at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "Something went wrong", "The error was logged.")
