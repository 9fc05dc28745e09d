"""What every time-tracking page shares: whose time, which day, bad input as a 400."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.core import timeutil
from punchclock.core.htmx import is_htmx
from punchclock.tracking import services
from punchclock.tracking.forms import in_range
from punchclock.tracking.templatetags.tracking import safe_next

View = Callable[..., HttpResponse]


class BadInput(Exception):
    """A parameter that cannot be used (a date that is no date, an id that is no number)."""


def page(view: View) -> View:
    """member_required, and BadInput answered with a 400 that names the problem."""

    @member_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except BadInput as exc:
            return refused(request, str(exc))

    return wrapper


def refused(request: HttpRequest, message: str, *, back: str = "") -> HttpResponse:
    if is_htmx(request):
        # Only a tampered request sends garbage in hidden fields: refuse, swap nothing.
        return HttpResponse(message, status=400, headers={"HX-Reswap": "none"})
    back = back or safe_next(request, request.POST.get("next") or request.GET.get("next"))
    return render(request, "tracking/refused.html", {"message": message, "back": back}, status=400)


def viewer_of(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def zone_of(request: HttpRequest) -> str:
    return str(request.user.timezone)  # type: ignore[union-attr]


def today_of(request: HttpRequest) -> date:
    return timeutil.local_date(timeutil.now(), zone_of(request))


def date_param(
    request: HttpRequest, source: Mapping[str, str], name: str, *, required: bool = False
) -> date:
    text = (source.get(name) or "").strip()
    if not text and required:
        raise BadInput(f"“{name}” is missing: give a date as YYYY-MM-DD.")
    if not text:
        return today_of(request)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"“{text[:40]}” is not a date; write it as YYYY-MM-DD.") from None
    if not in_range(day):
        raise BadInput(f"{day} is too far in the past or the future.")
    return day


def person_from(request: HttpRequest, source: Mapping[str, str]) -> Membership:
    """Whose time the page shows: the viewer, or someone they may see (?person=id)."""
    viewer = viewer_of(request)
    raw = (source.get("person") or "").strip()
    if not raw or raw == str(viewer.pk):
        return viewer
    if not raw.isdigit() or len(raw) > 12:
        raise BadInput("“person” must be the number of a person.")
    person = (
        services.visible_people(viewer)
        .select_related("user", "organization")
        .filter(pk=int(raw))
        .first()
    )
    if person is not None:
        return person
    if Membership.objects.filter(organization_id=viewer.organization_id, pk=int(raw)).exists():
        raise PermissionDenied("You may not see this person's time.")
    raise Http404("No such person.")


def text_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def page_url(name: str, **query: Any) -> str:
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return reverse(name) + (f"?{urlencode(params)}" if params else "")


def person_query(person: Membership, viewer: Membership) -> int | None:
    return None if person.pk == viewer.pk else person.pk


def day_url(person: Membership, viewer: Membership, day: date) -> str:
    return page_url("tracking:day", date=day.isoformat(), person=person_query(person, viewer))


def week_url(person: Membership, viewer: Membership, monday: date) -> str:
    return page_url("tracking:week", week=monday.isoformat(), person=person_query(person, viewer))
