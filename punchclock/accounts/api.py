"""API for the caller, their organization, its members and invitations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status

from punchclock.accounts import services
from punchclock.accounts.models import Invitation, Membership, Organization, Role
from punchclock.accounts.permissions import require
from punchclock.api.auth import acting, token_of
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import InputSchema, amount_text

router = Router()

ME = ["Me"]
ORGANIZATION = ["Organization"]
MEMBERS = ["Members"]
INVITATIONS = ["Invitations"]


# Schemas -------------------------------------------------------------------------------


class UserOut(Schema):
    email: str
    name: str
    timezone: str
    locale: str


class OrganizationBriefOut(Schema):
    id: int
    name: str
    default_currency: str
    timezone: str


class TokenOut(Schema):
    name: str
    prefix: str
    scope: str


class MeOut(Schema):
    user: UserOut
    organization: OrganizationBriefOut
    role: str
    token: TokenOut


class OrganizationOut(Schema):
    id: int
    name: str
    legal_name: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    country: str
    vat_id: str
    tax_number: str
    registration_number: str
    iban: str
    bic: str
    email: str
    phone: str
    website: str
    electronic_address: str
    electronic_address_scheme: str
    brand_colour: str
    default_currency: str
    locale: str
    timezone: str
    lock_date: date | None
    created_at: datetime


class OrganizationPatch(InputSchema):
    """Profile fields need organization.edit_profile; billing fields need edit_billing."""

    name: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    brand_colour: str | None = None
    locale: str | None = None
    timezone: str | None = None
    legal_name: str | None = None
    vat_id: str | None = None
    tax_number: str | None = None
    registration_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    default_currency: str | None = None
    electronic_address: str | None = None
    electronic_address_scheme: str | None = None


class MemberOut(Schema):
    id: int
    email: str
    name: str
    role: str
    weekly_capacity_hours: str
    is_active: bool
    joined_at: datetime

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_name(obj: Membership) -> str:
        return obj.user.name

    @staticmethod
    def resolve_weekly_capacity_hours(obj: Membership) -> str:
        return amount_text(obj.weekly_capacity_hours) or "0.00"


class MemberQuery(PageQuery):
    role: Role | None = None
    search: str | None = None
    is_active: bool | None = None


class MemberPatch(InputSchema):
    role: Role | None = None
    weekly_capacity_hours: Decimal | None = None


class InvitationIn(InputSchema):
    email: str
    role: Role = Role.MEMBER


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    invited_by: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_invited_by(obj: Invitation) -> str | None:
        return obj.invited_by.email if obj.invited_by else None


# Me and organization -------------------------------------------------------------------


@router.get("/me", response=responses(MeOut), tags=ME, summary="Who the token acts as")
def get_me(request: HttpRequest) -> dict[str, Any]:
    membership = acting(request)
    return {
        "user": membership.user,
        "organization": membership.organization,
        "role": membership.role,
        "token": token_of(request),
    }


@router.get(
    "/organization",
    response=responses(OrganizationOut),
    tags=ORGANIZATION,
    summary="The token's organization",
)
def get_organization(request: HttpRequest) -> Organization:
    return acting(request).organization


@router.patch(
    "/organization",
    response=responses(OrganizationOut),
    tags=ORGANIZATION,
    summary="Change the organization's profile or billing identity",
)
def update_organization(request: HttpRequest, payload: OrganizationPatch) -> Organization:
    """Billing identity (legal name, VAT ID, tax number, IBAN, BIC, currency) is owner-only."""
    by = acting(request)
    organization = by.organization
    fields = payload.model_dump(exclude_unset=True)
    profile = {k: v for k, v in fields.items() if k in services.PROFILE_FIELDS}
    billing = {k: v for k, v in fields.items() if k in services.BILLING_FIELDS}
    # One transaction: a refused billing change must not leave the profile half-saved.
    with transaction.atomic():
        if billing:
            services.update_billing_identity(organization, by=by, **billing)
        if profile:
            services.update_organization_profile(organization, by=by, **profile)
    return organization


# Members -------------------------------------------------------------------------------


def _members(by: Membership) -> QuerySet[Membership]:
    require(by, "members.view")
    return Membership.objects.select_related("user").filter(organization_id=by.organization_id)


@router.get(
    "/members",
    response=responses(page_of(MemberOut)),
    tags=MEMBERS,
    summary="List members (filter by role, active, name or email)",
)
def list_members(request: HttpRequest, query: Query[MemberQuery]) -> dict[str, Any]:
    members = _members(acting(request))
    if query.role:
        members = members.filter(role=query.role)
    if query.is_active is not None:
        members = members.filter(is_active=query.is_active)
    if query.search:
        members = members.filter(
            Q(user__email__icontains=query.search) | Q(user__name__icontains=query.search)
        )
    return paginate(members.order_by("user__email", "pk"), query)


@router.get(
    "/members/{id:member_id}", response=responses(MemberOut), tags=MEMBERS, summary="Get a member"
)
def get_member(request: HttpRequest, member_id: int) -> Membership:
    return services.get_membership_for(acting(request), member_id)


@router.patch(
    "/members/{id:member_id}",
    response=responses(MemberOut),
    tags=MEMBERS,
    summary="Change a member's role or weekly capacity",
)
def update_member(request: HttpRequest, member_id: int, payload: MemberPatch) -> Membership:
    by = acting(request)
    membership = services.get_membership_for(by, member_id)
    return services.update_membership(
        membership,
        by=by,
        role=payload.role,
        weekly_capacity_hours=payload.weekly_capacity_hours,
    )


@router.delete(
    "/members/{id:member_id}",
    response=responses(None, 204),
    tags=MEMBERS,
    summary="Remove a member from the organization (their history stays)",
)
def delete_member(request: HttpRequest, member_id: int) -> Status[None]:
    by = acting(request)
    services.deactivate_member(services.get_membership_for(by, member_id), by=by)
    return Status(204, None)


# Invitations ---------------------------------------------------------------------------


def _invitations(by: Membership) -> QuerySet[Invitation]:
    require(by, "members.manage")
    return Invitation.objects.select_related("invited_by").filter(
        organization_id=by.organization_id
    )


@router.get(
    "/invitations",
    response=responses(page_of(InvitationOut)),
    tags=INVITATIONS,
    summary="List invitations, newest first",
)
def list_invitations(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    return paginate(_invitations(acting(request)).order_by("-created_at", "-pk"), query)


@router.post(
    "/invitations",
    response=responses(InvitationOut, 201),
    tags=INVITATIONS,
    summary="Invite someone by email (the link goes to their inbox, never to the API)",
)
def create_invitation(request: HttpRequest, payload: InvitationIn) -> Status[Invitation]:
    by = acting(request)
    invitation, _raw = services.invite_member(
        by.organization, email=payload.email, role=payload.role, by=by
    )
    return Status(201, invitation)


@router.delete(
    "/invitations/{id:invitation_id}",
    response=responses(None, 204),
    tags=INVITATIONS,
    summary="Revoke an invitation",
)
def delete_invitation(request: HttpRequest, invitation_id: int) -> Status[None]:
    by = acting(request)
    invitation = _invitations(by).filter(pk=invitation_id).first()
    if invitation is None:
        raise Http404("No such invitation.")
    services.revoke_invitation(invitation, by=by)
    return Status(204, None)
