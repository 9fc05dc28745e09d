"""Notification pages: the list (newest first), marking read, and what comes by email.

Everyone sees only their own notifications. The long-timer limit is the organization's and
only owners and admins change it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, require
from punchclock.automation import notification_prefs as prefs
from punchclock.automation.models import EmailState, NotificationKind
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx

PAGE_SIZE = 50
KIND_HELP: dict[str, str] = {
    NotificationKind.DRAFT_READY: "A billing schedule made a draft invoice to review.",
    NotificationKind.OVERDUE: "An issued invoice passed its due date unpaid.",
    NotificationKind.PAYMENT: "Money arrived: recorded by someone else, paid online or matched "
    "from a bank statement.",
    NotificationKind.BUDGET: "A project reached its alert threshold or its whole budget.",
    NotificationKind.LONG_TIMER: "Your timer has been running for longer than the limit.",
}


class PreferencesForm(forms.Form):
    email = forms.MultipleChoiceField(
        label="Also by email",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    watch_team_timers = forms.BooleanField(
        label="Tell me about other people's long timers too",
        required=False,
        help_text="Managers: on the projects they manage.",
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = prefs.kinds_for(membership)
        field = self.fields["email"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(kind, prefs.KIND_LABELS[kind]) for kind in kinds]
        if membership.role not in prefs.WATCHING_ROLES:
            del self.fields["watch_team_timers"]


class SettingsForm(forms.Form):
    long_timer_hours = forms.IntegerField(
        label="A timer is running long after (hours)",
        min_value=1,
        max_value=prefs.LONGEST_TIMER_HOURS,
        help_text="Whoever runs it is told once; so are owners, admins and managers who asked.",
    )


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


@member_required
def notification_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    found = prefs.notifications_of(membership)
    unread_only = request.GET.get("show") == "unread"
    if unread_only:
        found = found.filter(read_at__isnull=True)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "unread_only": unread_only,
        "unread": prefs.unread_count(membership),
        "email_states": EmailState,
    }
    template = (
        "automation/notifications/list.html#results"
        if is_htmx(request)
        else "automation/notifications/list.html"
    )
    return render(request, template, context)


@member_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link; opening it marks it read."""
    notification = prefs.mark_read(_membership(request), pk)
    return redirect(notification.link or "notifications:list")


@member_required
@require_POST
def read_one(request: HttpRequest, pk: int) -> HttpResponse:
    prefs.mark_read(_membership(request), pk)
    return redirect(_back(request))


@member_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    marked = prefs.mark_all_read(_membership(request))
    messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} read.")
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    """Back to the list as it was shown (only our own page, never an outside address)."""
    show = request.POST.get("show")
    return "/notifications/?show=unread" if show == "unread" else "/notifications/"


def _preferences_page(
    request: HttpRequest,
    membership: Membership,
    *,
    form: PreferencesForm | None = None,
    settings_form: SettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    current = prefs.preferences_of(membership)
    may_set_limit = can(membership, "organization.edit_profile")
    context = {
        "form": form
        or PreferencesForm(
            membership=membership,
            initial={
                "email": sorted(current.email),
                "watch_team_timers": current.watch_team_timers,
            },
        ),
        "kinds": [(kind, prefs.KIND_LABELS[kind], KIND_HELP[kind]) for kind in current.kinds],
        "may_set_limit": may_set_limit,
        "limit": prefs.timer_limit(membership.organization),
        "settings_form": settings_form
        or (
            SettingsForm(initial={"long_timer_hours": prefs.timer_limit(membership.organization)})
            if may_set_limit
            else None
        ),
    }
    return render(request, "automation/notifications/preferences.html", context, status=status)


@member_required
def preferences(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if request.method != "POST":
        return _preferences_page(request, membership)
    form = PreferencesForm(request.POST, membership=membership)
    if form.is_valid():
        try:
            prefs.save_preferences(
                membership,
                email=form.cleaned_data["email"],
                watch_team_timers=form.cleaned_data.get("watch_team_timers", False),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Your notification choices are saved.")
            return redirect("notifications:preferences")
    return _preferences_page(request, membership, form=form, status=422)


@member_required
def organization_settings(request: HttpRequest) -> HttpResponse:
    """The organization's long-timer limit (owners and admins)."""
    membership = _membership(request)
    require(membership, "organization.edit_profile")
    if request.method != "POST":
        return _preferences_page(request, membership)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            prefs.save_timer_limit(membership, hours=form.cleaned_data["long_timer_hours"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "The long-timer limit is saved.")
            return redirect("notifications:preferences")
    return _preferences_page(request, membership, settings_form=form, status=422)
