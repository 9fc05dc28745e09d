"""Every change to users, organizations, memberships, invitations and tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from punchclock.accounts.models import (
    ApiToken,
    Invitation,
    LoginFailure,
    Membership,
    Organization,
    Role,
    TokenScope,
    User,
)
from punchclock.accounts.permissions import grantable_roles, require
from punchclock.core.services import apply_fields, clean_and_save, field_error
from punchclock.core.timeutil import now
from punchclock.core.validators import (
    check_electronic_address,
    check_logo,
    normalize_bic,
    normalize_iban,
    normalize_vat_id,
)

INVITATION_DAYS = 14
TOKEN_PREFIX = "pc_"  # noqa: S105 - a public marker, not a secret

PROFILE_FIELDS = {
    "name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "email",
    "phone",
    "website",
    "brand_colour",
    "locale",
    "timezone",
}
BILLING_FIELDS = {
    "legal_name",
    "vat_id",
    "tax_number",
    "iban",
    "bic",
    "default_currency",
    "electronic_address",
    "electronic_address_scheme",
    "registration_number",
}


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# Users ---------------------------------------------------------------------------------


@transaction.atomic
def sign_up(
    *,
    email: str,
    password: str,
    name: str = "",
    organization_name: str,
    timezone: str = "UTC",
    locale: str = "en",
    currency: str = "EUR",
) -> tuple[User, Organization]:
    """Create a user and their own organization, with the user as owner."""
    user = create_user(email=email, password=password, name=name, timezone=timezone, locale=locale)
    organization = create_organization(
        owner=user,
        name=organization_name,
        default_currency=currency,
        timezone=timezone,
        locale=locale,
    )
    return user, organization


@transaction.atomic
def create_user(
    *, email: str, password: str, name: str = "", timezone: str = "UTC", locale: str = "en"
) -> User:
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise field_error("email", "An account with this email address already exists.")
    user = User(email=email, name=name.strip(), timezone=timezone, locale=locale)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    clean_and_save(user, exclude=["password"])
    return user


@transaction.atomic
def update_preferences(user: User, **fields: Any) -> User:
    apply_fields(user, fields, {"name", "timezone", "locale"})
    clean_and_save(user, exclude=["password"])
    return user


# Failures from all addresses together may reach this multiple of the per-address limit.
ACCOUNT_FAILURE_FACTOR = 4


def login_throttled(*, email: str, address: str) -> bool:
    """True once an account has seen too many failed sign-ins within the window.

    Counted per (account, address), so a stranger who knows someone's email cannot lock
    them out from elsewhere with a few tries; and per account across all addresses with a
    higher limit, so guessing from many addresses is bounded too.
    """
    since = now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    failures = LoginFailure.objects.filter(email=email.strip().lower(), at__gte=since)
    limit = settings.LOGIN_MAX_FAILURES
    if failures.filter(address=address[:64]).count() >= limit:
        return True
    return failures.count() >= limit * ACCOUNT_FAILURE_FACTOR


def record_login_failure(*, email: str, address: str) -> None:
    LoginFailure.objects.create(email=email.strip().lower()[:254], address=address[:64])
    # Old rows are pruned as we go so the table never grows without bound.
    cutoff = now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS * 4)
    LoginFailure.objects.filter(at__lt=cutoff).delete()


def clear_login_failures(*, email: str) -> None:
    LoginFailure.objects.filter(email=email.strip().lower()).delete()


# Organizations -------------------------------------------------------------------------


@transaction.atomic
def create_organization(*, owner: User, name: str, **fields: Any) -> Organization:
    organization = Organization(name=name.strip())
    apply_fields(organization, fields, PROFILE_FIELDS | BILLING_FIELDS)
    _normalize_identity(organization)
    clean_and_save(organization)
    Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    from punchclock.expenses.services import create_starter_categories

    create_starter_categories(organization)
    return organization


def _normalize_identity(organization: Organization) -> None:
    errors: dict[str, list[str]] = {}
    for field, normalize in (
        ("vat_id", normalize_vat_id),
        ("iban", normalize_iban),
        ("bic", normalize_bic),
    ):
        try:
            setattr(organization, field, normalize(getattr(organization, field) or ""))
        except ValidationError as exc:
            errors[field] = exc.messages
    organization.country = (organization.country or "").upper()
    try:
        organization.electronic_address, organization.electronic_address_scheme = (
            check_electronic_address(
                organization.electronic_address or "", organization.electronic_address_scheme or ""
            )
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def update_organization_profile(
    organization: Organization, *, by: Membership, **fields: Any
) -> Organization:
    require(by, "organization.edit_profile")
    apply_fields(organization, fields, PROFILE_FIELDS)
    _normalize_identity(organization)
    clean_and_save(organization)
    return organization


@transaction.atomic
def update_billing_identity(
    organization: Organization, *, by: Membership, **fields: Any
) -> Organization:
    require(by, "organization.edit_billing")
    apply_fields(organization, fields, BILLING_FIELDS)
    _normalize_identity(organization)
    clean_and_save(organization)
    return organization


@transaction.atomic
def set_logo(organization: Organization, *, data: bytes, filename: str, by: Membership) -> None:
    require(by, "organization.edit_profile")
    try:
        kind = check_logo(data, filename)
    except ValidationError as exc:
        raise ValidationError({"logo": exc.messages}) from exc
    old = organization.logo.name if organization.logo else None
    organization.logo.save(
        f"org{organization.pk}-{secrets.token_hex(6)}.{kind}", ContentFile(data), save=True
    )
    if old:
        # Removing the old file only after commit keeps it if the transaction rolls back.
        storage = organization.logo.storage
        transaction.on_commit(lambda: storage.delete(old))


@transaction.atomic
def remove_logo(organization: Organization, *, by: Membership) -> None:
    require(by, "organization.edit_profile")
    if organization.logo:
        old, storage = organization.logo.name or "", organization.logo.storage
        organization.logo = ""
        organization.save(update_fields=["logo"])
        transaction.on_commit(lambda: storage.delete(old))


# Members and invitations ---------------------------------------------------------------


@transaction.atomic
def invite_member(
    organization: Organization, *, email: str, role: str, by: Membership
) -> tuple[Invitation, str]:
    """Create an invitation and email its link; returns the invitation and the raw token."""
    require(by, "members.manage")
    email = User.objects.normalize_email(email.strip()).lower()
    if role not in Role.values:
        raise field_error("role", f"“{role}” is not a role.")
    if role not in grantable_roles(by):
        raise field_error("role", "Only an owner can invite another owner.")
    members = Membership.objects.filter(organization=organization, user__email__iexact=email)
    if members.filter(is_active=True).exists():
        raise field_error("email", f"{email} is already a member of {organization}.")
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        token_hash=_hash(raw),
        invited_by=by.user,
        expires_at=now() + timedelta(days=INVITATION_DAYS),
    )
    clean_and_save(invitation, exclude=["token_hash"])
    link = settings.SITE_URL + reverse("accounts:accept_invitation", args=[raw])
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{by.user.display_name} invited you to {organization.name} on Punchclock",
            message=(
                f"{by.user.display_name} invited you to join {organization.name} on Punchclock as "
                f"{Role(role).label.lower()}.\n\nAccept the invitation: {link}\n\n"
                f"The link is valid for {INVITATION_DAYS} days."
            ),
            from_email=None,
            recipient_list=[email],
            fail_silently=False,
        )
    )
    return invitation, raw


def find_invitation(raw: str) -> Invitation | None:
    """An open invitation for a raw token, or None if unknown, used, revoked or expired."""
    invitation = (
        Invitation.objects.select_related("organization").filter(token_hash=_hash(raw)).first()
    )
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return None
    if invitation.expires_at < now():
        return None
    return invitation


@transaction.atomic
def accept_invitation(*, raw_token: str, user: User) -> Membership:
    invitation = find_invitation(raw_token)
    if invitation is None:
        raise field_error("token", "This invitation link is invalid, used or expired.")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise field_error("token", "This invitation has already been accepted.")
    membership, created = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.role = invitation.role
        membership.save(update_fields=["is_active", "role"])
    invitation.accepted_at = now()
    invitation.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, by: Membership) -> None:
    require(by, "members.manage")
    _same_org(invitation.organization_id, by)
    invitation.revoked_at = now()
    invitation.save(update_fields=["revoked_at"])


def _same_org(organization_id: int, by: Membership) -> None:
    if organization_id != by.organization_id:
        raise PermissionDenied("That belongs to another organization.")


def _owners_left(organization_id: int, excluding: Membership) -> int:
    return (
        Membership.objects.filter(organization_id=organization_id, role=Role.OWNER, is_active=True)
        .exclude(pk=excluding.pk)
        .count()
    )


@transaction.atomic
def update_membership(
    membership: Membership,
    *,
    by: Membership,
    role: str | None = None,
    weekly_capacity_hours: Any = None,
) -> Membership:
    require(by, "members.manage")
    _same_org(membership.organization_id, by)
    if role is not None and role != membership.role:
        if role not in Role.values:
            raise field_error("role", f"“{role}” is not a role.")
        if Role.OWNER in (role, membership.role) and by.role != Role.OWNER:
            raise field_error("role", "Only an owner can grant or take away the owner role.")
        if (
            membership.role == Role.OWNER
            and _owners_left(membership.organization_id, membership) == 0
        ):
            raise field_error("role", "An organization needs at least one owner.")
        membership.role = role
    if weekly_capacity_hours is not None:
        # Checked here for a message naming the field; the database constraint would not.
        if isinstance(weekly_capacity_hours, int | Decimal) and not (
            0 <= weekly_capacity_hours <= 168
        ):
            raise field_error("weekly_capacity_hours", "Weekly capacity is 0 to 168 hours.")
        membership.weekly_capacity_hours = weekly_capacity_hours
    clean_and_save(membership)
    return membership


@transaction.atomic
def deactivate_member(membership: Membership, *, by: Membership) -> None:
    """Remove someone from the organization; their history stays."""
    require(by, "members.manage")
    _same_org(membership.organization_id, by)
    if membership.role == Role.OWNER and by.role != Role.OWNER:
        raise field_error("role", "Only an owner can remove an owner.")
    if membership.role == Role.OWNER and _owners_left(membership.organization_id, membership) == 0:
        raise field_error("role", "An organization needs at least one owner.")
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    ApiToken.objects.filter(
        user_id=membership.user_id,
        organization_id=membership.organization_id,
        revoked_at__isnull=True,
    ).update(revoked_at=now())


# API tokens ----------------------------------------------------------------------------


@transaction.atomic
def create_api_token(*, membership: Membership, name: str, scope: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and only its hash is stored."""
    require(membership, "tokens.own")
    if scope not in TokenScope.values:
        raise field_error("scope", f"“{scope}” is not a scope (read or write).")
    if not name.strip():
        raise field_error("name", "Give the token a name so you can recognise it later.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=membership.user,
        organization=membership.organization,
        name=name.strip(),
        prefix=raw[:10],
        token_hash=_hash(raw),
        scope=scope,
    )
    clean_and_save(token)
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, by: Membership) -> None:
    if token.user_id != by.user_id or token.organization_id != by.organization_id:
        raise PermissionDenied("You can only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = now()
        token.save(update_fields=["revoked_at"])


def authenticate_token(raw: str) -> tuple[ApiToken, Membership] | None:
    """The token and the membership it acts as, or None; records when it was last used."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "organization")
        .filter(token_hash=_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    membership = (
        Membership.objects.select_related("user", "organization")
        .filter(user_id=token.user_id, organization_id=token.organization_id, is_active=True)
        .first()
    )
    if membership is None:
        return None
    stamp = now()
    # Writing on every request would serialise API traffic on SQLite; a minute is precise enough.
    if token.last_used_at is None or stamp - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=stamp)
        token.last_used_at = stamp
    return token, membership


# Lookups -------------------------------------------------------------------------------


def get_membership_for(membership: Membership, pk: int) -> Membership:
    """A membership of the same organization, visible to people who may see the team."""
    from django.http import Http404

    from punchclock.accounts.permissions import can

    if not can(membership, "members.view"):
        raise Http404("No such person.")
    found = (
        Membership.objects.select_related("user", "organization")
        .filter(organization_id=membership.organization_id, pk=pk)
        .first()
    )
    if found is None:
        raise Http404("No such person.")
    return found


# Added for the web pages ---------------------------------------------------------------


def login_retry_minutes(*, email: str) -> int:
    """Whole minutes until a throttled account may try to sign in again (at least 1)."""
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    stamp = now()
    recent = list(
        LoginFailure.objects.filter(email=email.strip().lower(), at__gte=stamp - window)
        .order_by("at")
        .values_list("at", flat=True)
    )
    # Sign-in opens again once enough of the oldest failures have left the window.
    must_expire = len(recent) - settings.LOGIN_MAX_FAILURES + 1
    if must_expire <= 0:
        return 1
    wait = recent[must_expire - 1] + window - stamp
    return max(1, -(-int(wait.total_seconds()) // 60))


@transaction.atomic
def change_password(user: User, *, password: str) -> None:
    """Set a new password (checked by the configured validators) and forget failed sign-ins."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    clear_login_failures(email=user.email)


@transaction.atomic
def sign_up_with_invitation(*, raw_token: str, password: str, name: str = "") -> Membership:
    """Create an account for an invitation's address and join its organization."""
    invitation = find_invitation(raw_token)
    if invitation is None:
        raise field_error("token", "This invitation link is invalid, used or expired.")
    organization = invitation.organization
    user = create_user(
        email=invitation.email,
        password=password,
        name=name,
        timezone=organization.timezone,
        locale=organization.locale,
    )
    return accept_invitation(raw_token=raw_token, user=user)


@transaction.atomic
def leave_organization(membership: Membership) -> None:
    """Leave an organization of one's own accord; the last owner has to stay."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.is_active:
        return
    if membership.role == Role.OWNER and _owners_left(membership.organization_id, membership) == 0:
        raise field_error(
            "role",
            "You are the only owner: make someone else an owner before you leave.",
        )
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    ApiToken.objects.filter(
        user_id=membership.user_id,
        organization_id=membership.organization_id,
        revoked_at__isnull=True,
    ).update(revoked_at=now())


def get_invitation_for(membership: Membership, pk: int) -> Invitation:
    """An invitation of the member's own organization, else 404."""
    from django.http import Http404

    found = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(organization_id=membership.organization_id, pk=pk)
        .first()
    )
    if found is None:
        raise Http404("No such invitation.")
    return found


def get_token_for(membership: Membership, pk: int) -> ApiToken:
    """One of the member's own API tokens for this organization, else 404."""
    from django.http import Http404

    found = ApiToken.objects.filter(
        pk=pk, user_id=membership.user_id, organization_id=membership.organization_id
    ).first()
    if found is None:
        raise Http404("No such token.")
    return found
