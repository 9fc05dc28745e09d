"""Creating another organization, switching between them, and leaving one."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from punchclock.accounts.models import ApiToken, Membership, Organization, Role
from punchclock.accounts.services import create_api_token
from tests.conftest import login
from tests.factories import make_membership, make_user

NEW = reverse("accounts:organization_new")
SWITCH = reverse("accounts:switch_organization")
LEAVE = reverse("accounts:leave_organization")


def test_any_member_creates_another_organization_and_is_switched_into_it(as_member, agency):
    response = as_member.post(
        NEW, {"name": "Side Gig", "country": "FR", "default_currency": "EUR", "timezone": "UTC"}
    )
    assert response.status_code == 302
    organization = Organization.objects.get(name="Side Gig")
    assert organization.country == "FR"
    membership = Membership.objects.get(organization=organization)
    assert (membership.user_id, membership.role) == (agency.member.user_id, Role.OWNER)
    assert as_member.session["organization_id"] == organization.pk
    assert as_member.get(reverse("accounts:organization_settings")).status_code == 200


def test_a_user_without_organization_lands_on_the_new_organization_page(db):
    http = HttpClient()
    http.force_login(make_user("loner@example.com"))
    home = http.get(reverse("core:home"))
    assert home.status_code == 302
    assert home.url == NEW
    page = http.get(NEW)
    assert page.status_code == 200
    assert "Set up your organization" in page.content.decode()
    assert http.get(reverse("accounts:team")).url == NEW


def test_a_nameless_organization_is_refused(as_member):
    count = Organization.objects.count()
    response = as_member.post(NEW, {"name": " ", "default_currency": "EUR", "timezone": "UTC"})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert Organization.objects.count() == count


def test_switching_to_an_organization_one_belongs_to(agency, outsider):
    make_membership(outsider.organization, Role.MEMBER, agency.member.user)
    http = login(agency.member)
    response = http.post(SWITCH, {"organization": outsider.organization_id})
    assert response.status_code == 302
    assert http.session["organization_id"] == outsider.organization_id
    assert "Rival Studio" in http.get(reverse("core:home")).content.decode()


def test_switching_to_an_organization_one_is_not_in_is_404(as_member, agency, outsider):
    response = as_member.post(SWITCH, {"organization": outsider.organization_id})
    assert response.status_code == 404
    assert as_member.session["organization_id"] == agency.organization.pk


def test_switching_to_an_organization_one_left_is_404(agency, outsider):
    make_membership(outsider.organization, Role.MEMBER, agency.member.user, is_active=False)
    response = login(agency.member).post(SWITCH, {"organization": outsider.organization_id})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "value", ["", "abc", "-1", "99999999999999999999999", "1.5", "²", "9" * 5000]
)
def test_garbage_switches_are_404(as_member, value):
    assert as_member.post(SWITCH, {"organization": value}).status_code == 404


def test_switch_is_post_only(as_member):
    assert as_member.get(SWITCH).status_code == 405


def test_leaving_an_organization_revokes_ones_tokens(agency):
    create_api_token(membership=agency.member, name="cli", scope="read")
    http = login(agency.member)
    response = http.post(LEAVE)
    assert response.status_code == 302
    agency.member.refresh_from_db()
    assert not agency.member.is_active
    assert not ApiToken.objects.filter(user=agency.member.user, revoked_at=None).exists()
    # With no organization left, home leads to creating one.
    assert http.get(reverse("core:home")).url == NEW


def test_the_last_owner_cannot_leave(as_owner, agency):
    response = as_owner.post(LEAVE)
    assert response.status_code == 400
    assert "only owner" in response.content.decode()
    agency.owner.refresh_from_db()
    assert agency.owner.is_active
