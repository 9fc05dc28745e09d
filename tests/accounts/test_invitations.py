"""Inviting people: the email, the link, joining as a new or existing user, and its limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from punchclock.accounts.models import Invitation, Membership, Role, User
from punchclock.accounts.services import invite_member
from punchclock.core.timeutil import now
from tests.conftest import login
from tests.factories import PASSWORD, make_user

INVITE = reverse("accounts:invite")
NEW_PASSWORD = "a fresh and long passphrase"


def _link_in(body: str) -> str:
    found = re.search(re.escape(settings.SITE_URL) + r"(/accounts/invitations/\S+/)", body)
    assert found, body
    return found.group(1)


def test_invite_then_accept_as_a_new_user_end_to_end(
    as_owner, agency, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_owner.post(INVITE, {"email": "Nina@New.test", "role": "manager"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nina@new.test"]
    link = _link_in(mail.outbox[0].body)

    visitor = HttpClient()
    page = visitor.get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Agency" in html
    assert "manager" in html
    assert "nina@new.test" in html

    joined = visitor.post(link, {"name": "Nina New", "password": NEW_PASSWORD})
    assert joined.status_code == 302
    membership = Membership.objects.get(user__email="nina@new.test")
    assert membership.organization == agency.organization
    assert membership.role == Role.MANAGER
    assert membership.user.name == "Nina New"
    assert visitor.session["organization_id"] == agency.organization.pk
    assert visitor.get(reverse("accounts:team")).status_code == 200
    # The link is spent.
    assert HttpClient().get(link).status_code == 404


def test_an_invited_user_with_an_account_logs_in_and_accepts(agency, outsider):
    _invitation, raw = invite_member(
        agency.organization, email="outsider@rival.test", role="member", by=agency.owner
    )
    url = reverse("accounts:accept_invitation", args=[raw])
    visitor = HttpClient()
    page = visitor.get(url).content.decode()
    assert "Log in to accept" in page
    assert f"next={url}" in page
    assert visitor.post(url, {"name": "x", "password": NEW_PASSWORD}).status_code == 400
    assert not Membership.objects.filter(
        organization=agency.organization, user=outsider.user
    ).exists()

    logged_in = visitor.post(
        reverse("accounts:login"),
        {"email": "outsider@rival.test", "password": PASSWORD, "next": url},
    )
    assert logged_in.url == url
    assert "Accept and join" in visitor.get(url).content.decode()
    accepted = visitor.post(url)
    assert accepted.status_code == 302
    membership = Membership.objects.get(organization=agency.organization, user=outsider.user)
    assert membership.role == Role.MEMBER
    assert visitor.session["organization_id"] == agency.organization.pk


def test_another_signed_in_account_cannot_use_the_link(agency, outsider, as_outsider):
    _invitation, raw = invite_member(
        agency.organization, email="someone@else.test", role="admin", by=agency.owner
    )
    url = reverse("accounts:accept_invitation", args=[raw])
    page = as_outsider.get(url)
    assert page.status_code == 404
    assert "for someone else" in page.content.decode()
    assert "Acme Agency" not in page.content.decode()
    assert as_outsider.post(url).status_code == 404
    assert not Membership.objects.filter(
        organization=agency.organization, user=outsider.user
    ).exists()


def test_a_weak_password_on_the_invitation_form_names_the_field(agency):
    _invitation, raw = invite_member(
        agency.organization, email="nina@new.test", role="member", by=agency.owner
    )
    response = HttpClient().post(
        reverse("accounts:accept_invitation", args=[raw]), {"name": "Nina", "password": "123"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["password"]
    assert not User.objects.filter(email="nina@new.test").exists()


@pytest.mark.parametrize("state", ["expired", "used", "revoked", "unknown"])
def test_unusable_links_get_a_friendly_404(client, agency, state):
    invitation, raw = invite_member(
        agency.organization, email="late@new.test", role="member", by=agency.owner
    )
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=now() - timedelta(days=1))
    elif state == "used":
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=now())
    elif state == "revoked":
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=now())
    else:
        raw = "x" * 43
    url = reverse("accounts:accept_invitation", args=[raw])
    for response in (client.get(url), client.post(url, {"name": "Late", "password": NEW_PASSWORD})):
        assert response.status_code == 404
        assert "no longer works" in response.content.decode()
    assert not User.objects.filter(email="late@new.test").exists()


def test_a_manager_cannot_invite(agency):
    response = login(agency.manager).post(INVITE, {"email": "x@new.test", "role": "member"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner(agency):
    response = login(agency.admin).post(INVITE, {"email": "boss@new.test", "role": "owner"})
    assert response.status_code == 400
    assert response.context["invite_form"].errors["role"] == [
        "Only an owner can invite another owner."
    ]
    assert not Invitation.objects.exists()


def test_the_admins_role_menu_offers_no_owner(agency):
    html = login(agency.admin).get(reverse("accounts:team")).content.decode()
    invite_form = html.split('id="invitations"')[1].split("</form>")[0]
    assert 'value="admin"' in invite_form
    assert 'value="owner"' not in invite_form


def test_inviting_a_current_member_names_the_email(as_owner, agency):
    response = as_owner.post(INVITE, {"email": "member@acme.test", "role": "member"})
    assert response.status_code == 400
    assert "already a member" in response.context["invite_form"].errors["email"][0]


def test_garbage_invitations_name_the_fields(as_owner):
    response = as_owner.post(INVITE, {"email": "not-an-email", "role": "king"})
    assert response.status_code == 400
    assert set(response.context["invite_form"].errors) == {"email", "role"}
    assert not Invitation.objects.exists()


def test_an_htmx_invitation_returns_only_the_invitations_section(as_owner, agency):
    response = as_owner.post(
        INVITE, {"email": "nina@new.test", "role": "member"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<section class="card" id="invitations"')
    assert "Invitation sent to nina@new.test" in html
    assert "<html" not in html


def test_the_team_page_lists_pending_invitations(as_owner, agency):
    invite_member(agency.organization, email="nina@new.test", role="admin", by=agency.owner)
    html = as_owner.get(reverse("accounts:team")).content.decode()
    assert "nina@new.test" in html
    assert "Revoke" in html


def test_revoking_an_invitation_kills_the_link(as_owner, agency):
    invitation, raw = invite_member(
        agency.organization, email="nina@new.test", role="member", by=agency.owner
    )
    url = reverse("accounts:invitation_revoke", args=[invitation.pk])
    response = as_owner.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "nina@new.test is revoked" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert HttpClient().get(reverse("accounts:accept_invitation", args=[raw])).status_code == 404


def test_a_manager_sees_but_cannot_revoke_invitations(agency):
    invitation, _ = invite_member(
        agency.organization, email="nina@new.test", role="member", by=agency.owner
    )
    http = login(agency.manager)
    html = http.get(reverse("accounts:team")).content.decode()
    assert "nina@new.test" in html
    assert "Revoke" not in html
    url = reverse("accounts:invitation_revoke", args=[invitation.pk])
    assert http.post(url).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_another_organizations_invitation_is_not_found(agency, outsider, as_owner):
    invitation, _ = invite_member(
        outsider.organization, email="nina@new.test", role="member", by=outsider
    )
    response = as_owner.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_a_signed_in_user_with_the_right_email_accepts(agency):
    user = make_user("nina@new.test")
    _invitation, raw = invite_member(
        agency.organization, email="nina@new.test", role="admin", by=agency.owner
    )
    http = HttpClient()
    http.force_login(user)
    url = reverse("accounts:accept_invitation", args=[raw])
    assert http.get(url).status_code == 200
    assert http.post(url).status_code == 302
    assert Membership.objects.get(user=user).role == Role.ADMIN
