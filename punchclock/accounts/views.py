"""Account pages: sign in and up, profile, organization settings, team, tokens, invitations."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    QueryDict,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from punchclock.accounts import services
from punchclock.accounts.decorators import member_required
from punchclock.accounts.forms import (
    BillingIdentityForm,
    ChangePasswordForm,
    InvitationForm,
    InvitationSignUpForm,
    LoginForm,
    LogoForm,
    MemberForm,
    NewOrganizationForm,
    OrganizationProfileForm,
    ProfileForm,
    ResetPasswordForm,
    SignUpForm,
    TeamFilterForm,
    TokenForm,
)
from punchclock.accounts.middleware import SESSION_KEY
from punchclock.accounts.models import ApiToken, Invitation, Membership, Role, User
from punchclock.accounts.permissions import can, grantable_roles, require
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx
from punchclock.core.timeutil import now

TEAM_PAGE_SIZE = 50
INVITE_IDS = "id_invite_%s"  # the team filters have a "role" field too
# Foreign-key lookups do not guard against ids beyond 64 bits as primary-key lookups do.
MAX_ID = 2**63 - 1
LOGO_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
# An SVG opened on its own must not run anything nor load anything.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data, even when empty: an empty POST must fail validation, not pass."""
    return request.POST if request.method == "POST" else None


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *bound: forms.BaseForm
) -> HttpResponse:
    """Render a page; 400 when one of the submitted forms has errors."""
    status = 400 if any(form.is_bound and form.errors for form in bound) else 200
    return render(request, template, context, status=status)


def _safe_next(request: HttpRequest) -> str | None:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _switch_to(request: HttpRequest, organization_id: int) -> None:
    request.session[SESSION_KEY] = organization_id


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """A service error with its field names mapped onto the form's."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(k, k): v for k, v in exc.error_dict.items()})


# Signing in, out and up ----------------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    if request.user.is_authenticated and request.method != "POST":
        return redirect(next_url or "core:home")
    form = LoginForm(_posted(request))
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        email, password = form.cleaned_data["email"], form.cleaned_data["password"]
        address = request.META.get("REMOTE_ADDR") or ""
        # Checked before the password: once throttled, even the right password is refused.
        if services.login_throttled(email=email, address=address):
            minutes = services.login_retry_minutes(email=email)
            unit = "minute" if minutes == 1 else "minutes"
            form.add_error(None, f"Too many failed attempts; try again in {minutes} {unit}.")
            status = 429
        elif (user := authenticate(request, email=email, password=password)) is None:
            services.record_login_failure(email=email, address=address)
            form.add_error(
                None, "That email address and password do not match. Check both and try again."
            )
        else:
            services.clear_login_failures(email=email)
            login(request, user)
            return redirect(next_url or "core:home")
    context = {"form": form, "next": next_url or ""}
    return render(request, "accounts/login.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are logged out. See you soon.")
    return redirect("accounts:login")


@sensitive_post_parameters("password")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    form = SignUpForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user, organization = services.sign_up(**form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, _renamed(exc, {"default_currency": "currency"}))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            _switch_to(request, organization.pk)
            messages.success(request, f"Welcome to Punchclock! {organization.name} is ready.")
            return redirect("core:home")
    return _render(request, "accounts/signup.html", {"form": form}, form)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    @property
    def extra_email_context(self) -> dict[str, Any]:  # type: ignore[override]
        # The configured address, not the request's Host header, which a caller controls.
        return {"site_url": settings.SITE_URL}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = ResetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# Profile -------------------------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ProfileForm(_posted(request), initial=ProfileForm.initial_for(user))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_preferences(user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            user.refresh_from_db()
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    return _profile_page(request, profile_form=form)


@login_required
@require_POST
@sensitive_post_parameters()
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ChangePasswordForm(user, request.POST)
    if form.is_valid():
        try:
            services.change_password(user, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            apply_service_errors(form, _renamed(exc, {"password": "new_password2"}))
        else:
            update_session_auth_hash(request, user)  # stay signed in on this device
            messages.success(request, "Your password is changed.")
            return redirect("accounts:profile")
    return _profile_page(request, password_form=form)


@member_required
@require_POST
def leave_organization(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    try:
        services.leave_organization(membership)
    except ValidationError as exc:
        return _profile_page(request, leave_error=" ".join(exc.messages), status=400)
    request.session.pop(SESSION_KEY, None)
    messages.success(request, f"You left {membership.organization.name}.")
    return redirect("core:home")


def _profile_page(
    request: HttpRequest, status: int | None = None, **overrides: Any
) -> HttpResponse:
    user = _user(request)
    context: dict[str, Any] = {
        "profile_form": ProfileForm(initial=ProfileForm.initial_for(user)),
        "password_form": ChangePasswordForm(user),
        "memberships": Membership.objects.filter(user=user, is_active=True)
        .select_related("organization")
        .order_by("organization__name"),
    } | overrides
    bound = [f for f in (context["profile_form"], context["password_form"]) if f.is_bound]
    if status is None:
        status = 400 if any(f.errors for f in bound) else 200
    return render(request, "accounts/profile.html", context, status=status)


# Organizations -------------------------------------------------------------------------


@login_required
def organization_new(request: HttpRequest) -> HttpResponse:
    form = NewOrganizationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.create_organization(owner=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            _switch_to(request, organization.pk)
            messages.success(request, f"{organization.name} is ready. You are its owner.")
            return redirect("core:home")
    return _render(request, "accounts/organization_new.html", {"form": form}, form)


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("organization", "")
    membership = None
    if re.fullmatch(r"[0-9]{1,19}", raw) and int(raw) <= MAX_ID:
        membership = (
            Membership.objects.select_related("organization")
            .filter(user_id=_user(request).pk, organization_id=int(raw), is_active=True)
            .first()
        )
    if membership is None:
        raise Http404("You are not a member of that organization.")
    _switch_to(request, membership.organization_id)
    messages.info(request, f"You are now working in {membership.organization.name}.")
    return redirect("core:home")


@member_required
def organization_settings(request: HttpRequest) -> HttpResponse:
    by = _membership(request)
    require(by, "organization.edit_profile")
    organization = by.organization
    initial = OrganizationProfileForm.initial_for(organization)
    form = OrganizationProfileForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organization_profile(organization, by=by, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            # The service set the refused values on this object; the page must show saved ones.
            organization.refresh_from_db()
        else:
            messages.success(request, "Profile and branding saved.")
            return redirect("accounts:organization_settings")
    return _settings_page(request, profile_form=form)


@member_required
@require_POST
def organization_billing(request: HttpRequest) -> HttpResponse:
    by = _membership(request)
    require(by, "organization.edit_billing")
    organization = by.organization
    form = BillingIdentityForm(request.POST)
    if form.is_valid():
        try:
            services.update_billing_identity(organization, by=by, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            organization.refresh_from_db()
        else:
            messages.success(request, "Billing and tax identity saved.")
            return redirect(reverse("accounts:organization_settings") + "#billing")
    return _settings_page(request, billing_form=form)


@member_required
@require_POST
def logo_upload(request: HttpRequest) -> HttpResponse:
    by = _membership(request)
    require(by, "organization.edit_profile")
    form = LogoForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["logo"]
        try:
            services.set_logo(by.organization, data=upload.read(), filename=upload.name, by=by)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            by.organization.refresh_from_db()
        else:
            messages.success(request, "The new logo is in place.")
            return redirect(reverse("accounts:organization_settings") + "#logo")
    return _settings_page(request, logo_form=form)


@member_required
@require_POST
def logo_remove(request: HttpRequest) -> HttpResponse:
    by = _membership(request)
    services.remove_logo(by.organization, by=by)
    messages.success(request, "The logo is removed.")
    return redirect(reverse("accounts:organization_settings") + "#logo")


def _settings_page(request: HttpRequest, **overrides: Any) -> HttpResponse:
    by = _membership(request)
    organization = by.organization
    may_edit_billing = can(by, "organization.edit_billing")
    context: dict[str, Any] = {
        "profile_form": OrganizationProfileForm(
            initial=OrganizationProfileForm.initial_for(organization)
        ),
        "billing_form": BillingIdentityForm(initial=BillingIdentityForm.initial_for(organization))
        if may_edit_billing
        else None,
        "logo_form": LogoForm(),
        "may_edit_billing": may_edit_billing,
    } | overrides
    bound = [f for f in (context[k] for k in ("profile_form", "billing_form", "logo_form")) if f]
    return _render(request, "accounts/organization_settings.html", context, *bound)


@login_required
def logo(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The logo of an organization, only for its own members."""
    if pk > MAX_ID:
        raise Http404("No logo.")
    membership = (
        Membership.objects.select_related("organization")
        .filter(user_id=_user(request).pk, organization_id=pk, is_active=True)
        .first()
    )
    if membership is None or not membership.organization.logo:
        raise Http404("No logo.")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    field = membership.organization.logo
    kind = (field.name or "").rsplit(".", 1)[-1].lower()
    if kind not in LOGO_TYPES:
        raise Http404("No logo.")
    try:
        handle = field.storage.open(field.name or "", "rb")
    except OSError as exc:
        raise Http404("The logo file is missing.") from exc
    response = FileResponse(handle, content_type=LOGO_TYPES[kind])
    response["Content-Security-Policy"] = LOGO_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


# Team ----------------------------------------------------------------------------------


@member_required
def team(request: HttpRequest) -> HttpResponse:
    by = _membership(request)
    require(by, "members.view")
    return _team_page(request, section="results")


def _team_page(
    request: HttpRequest, *, section: str | None = None, status: int = 200, **overrides: Any
) -> HttpResponse:
    """The team page, or with htmx one of its parts (results, invitations, a member row)."""
    context = _team_context(request) | overrides
    if section and is_htmx(request):
        return render(request, f"accounts/team.html#{section}", context, status=status)
    return render(request, "accounts/team.html", context, status=status)


def _team_context(request: HttpRequest) -> dict[str, Any]:
    by = _membership(request)
    filters = TeamFilterForm(request.GET)
    members = Membership.objects.select_related("user").filter(
        organization_id=by.organization_id, is_active=True
    )
    if query := (filters.value("q") or "").strip():
        members = members.filter(Q(user__name__icontains=query) | Q(user__email__icontains=query))
    if role := filters.value("role"):
        members = members.filter(role=role)
    # People without a name sort by their email address, as the list shows them.
    sort_name = Lower(Coalesce(NullIf(F("user__name"), Value("")), F("user__email")))
    members = members.order_by(sort_name, "pk")
    invitations = Invitation.objects.select_related("invited_by").filter(
        organization_id=by.organization_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now(),
    )
    may_manage = can(by, "members.manage")
    return {
        "filters": filters,
        "filtered": bool(query or role),
        "page": Paginator(members, TEAM_PAGE_SIZE).get_page(request.GET.get("page")),
        "invitations": invitations.order_by("-created_at", "-pk"),
        "may_manage": may_manage,
        "grantable": grantable_roles(by),
        "role_choices": _role_choices(by),
        "invitation_days": services.INVITATION_DAYS,
        "invite_form": InvitationForm(grantable=grantable_roles(by), auto_id=INVITE_IDS)
        if may_manage
        else None,
        "me": by,
    }


@member_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    by = _membership(request)
    require(by, "members.manage")
    form = InvitationForm(request.POST, grantable=grantable_roles(by), auto_id=INVITE_IDS)
    if form.is_valid():
        try:
            invitation, _raw = services.invite_member(by.organization, by=by, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _invitations_changed(request, f"Invitation sent to {invitation.email}.")
    return _team_page(request, section="invitations", status=400, invite_form=form)


@member_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    by = _membership(request)
    invitation = services.get_invitation_for(by, pk)
    services.revoke_invitation(invitation, by=by)
    return _invitations_changed(request, f"The invitation to {invitation.email} is revoked.")


def _invitations_changed(request: HttpRequest, message: str) -> HttpResponse:
    if is_htmx(request):
        return _team_page(request, section="invitations", invitations_message=message)
    messages.success(request, message)
    return redirect("accounts:team")


@member_required
@require_POST
def member_update(request: HttpRequest, pk: int) -> HttpResponse:
    by = _membership(request)
    member = services.get_membership_for(by, pk)
    require(by, "members.manage")
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.update_membership(
                member,
                by=by,
                role=form.cleaned_data["role"] or None,
                weekly_capacity_hours=form.cleaned_data["weekly_capacity_hours"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
            member.refresh_from_db()
        else:
            return _member_changed(request, member, f"{member.user.display_name} is saved.")
    errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    return _member_row(request, member, errors=errors, status=400)


@member_required
@require_POST
def member_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    by = _membership(request)
    member = services.get_membership_for(by, pk)
    try:
        services.deactivate_member(member, by=by)
    except ValidationError as exc:
        return _member_row(request, member, errors=exc.messages, status=400)
    message = f"{member.user.display_name} was removed from the team; their time stays."
    if member.pk == by.pk:
        request.session.pop(SESSION_KEY, None)
        messages.success(request, "You removed yourself from the organization.")
        return redirect("core:home")
    if is_htmx(request):
        return HttpResponse("")  # the row disappears
    messages.success(request, message)
    return redirect("accounts:team")


def _role_choices(by: Membership) -> list[tuple[str, str]]:
    grantable = grantable_roles(by)
    return [(value, label) for value, label in Role.choices if value in grantable]


def _member_changed(request: HttpRequest, member: Membership, message: str) -> HttpResponse:
    if is_htmx(request):
        return _member_row(request, member, notice=message)
    messages.success(request, message)
    return redirect("accounts:team")


def _member_row(
    request: HttpRequest,
    member: Membership,
    *,
    errors: list[str] | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    row: dict[str, Any] = {
        "edited_pk": member.pk,
        "row_errors": errors or [],
        "row_notice": notice,
    }
    if is_htmx(request):
        by = _membership(request)
        context = {"m": member, "may_manage": can(by, "members.manage"), "me": by} | row
        context |= {"grantable": grantable_roles(by), "role_choices": _role_choices(by)}
        return render(request, "accounts/team.html#member_row", context, status=status)
    return _team_page(request, status=status, **row)


# API tokens ----------------------------------------------------------------------------


@member_required
def tokens(request: HttpRequest) -> HttpResponse:
    by = _membership(request)
    require(by, "tokens.own")
    form = TokenForm(_posted(request))
    created: tuple[ApiToken, str] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_api_token(membership=by, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            form = TokenForm()
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(
            user_id=by.user_id, organization_id=by.organization_id
        ).order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk"),
        "created": created[0] if created else None,
        "raw_token": created[1] if created else "",
        "site_url": settings.SITE_URL,
    }
    response = _render(request, "accounts/tokens.html", context, form)
    if created:
        response["Cache-Control"] = "no-store"  # the raw token is on this page only once
    return response


@member_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    by = _membership(request)
    token = services.get_token_for(by, pk)
    services.revoke_api_token(token, by=by)
    if is_htmx(request):
        return render(request, "accounts/tokens.html#token_row", {"token": token})
    messages.success(request, f"The token “{token.name}” is revoked; it no longer works.")
    return redirect("accounts:tokens")


# Invitations ---------------------------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.find_invitation(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if request.user.is_authenticated:
        return _accept_signed_in(request, invitation, token)
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    form = InvitationSignUpForm(_posted(request))
    if request.method == "POST" and not has_account and form.is_valid():
        try:
            membership = services.sign_up_with_invitation(raw_token=token, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return _joined(request, membership)
    context = {"invitation": invitation, "form": form, "has_account": has_account}
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/invitation.html", context, status=status)


def _accept_signed_in(request: HttpRequest, invitation: Invitation, token: str) -> HttpResponse:
    user = _user(request)
    # The link works only for the address it was sent to: a forwarded or leaked link must
    # not let another account in, and other accounts learn nothing about the organization.
    if user.email.lower() != invitation.email.lower():
        context = {"wrong_account": True, "invited_email": invitation.email}
        return render(request, "accounts/invitation_invalid.html", context, status=404)
    if request.method == "POST":
        try:
            membership = services.accept_invitation(raw_token=token, user=user)
        except ValidationError:
            return render(request, "accounts/invitation_invalid.html", status=404)
        return _joined(request, membership)
    return render(request, "accounts/invitation.html", {"invitation": invitation})


def _joined(request: HttpRequest, membership: Membership) -> HttpResponse:
    _switch_to(request, membership.organization_id)
    messages.success(
        request,
        f"Welcome to {membership.organization.name}! You joined as "
        f"{membership.get_role_display().lower()}.",
    )
    return redirect("core:home")
