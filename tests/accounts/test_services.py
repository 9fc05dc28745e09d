"""The accounts services that the pages rely on, called directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from punchclock.accounts import services
from punchclock.accounts.models import ApiToken, LoginFailure, Membership, Role, User
from punchclock.core.timeutil import now
from tests.factories import make_membership, make_user

# API tokens ----------------------------------------------------------------------------


def test_a_revoked_token_authenticates_as_nobody(agency):
    token, raw = services.create_api_token(membership=agency.member, name="cli", scope="read")
    services.revoke_api_token(token, by=agency.member)
    assert services.authenticate_token(raw) is None


def test_an_unknown_or_malformed_token_authenticates_as_nobody(agency):
    assert services.authenticate_token("pc_nothing") is None
    assert services.authenticate_token("Bearer nonsense") is None
    assert services.authenticate_token("") is None


def test_authenticating_records_when_the_token_was_last_used(agency):
    token, raw = services.create_api_token(membership=agency.member, name="cli", scope="read")
    assert token.last_used_at is None
    _found, membership = services.authenticate_token(raw)
    assert membership == agency.member
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert abs(token.last_used_at - now()) < timedelta(seconds=5)


def test_a_token_of_a_former_member_authenticates_as_nobody(agency):
    _token, raw = services.create_api_token(membership=agency.member, name="cli", scope="read")
    Membership.objects.filter(pk=agency.member.pk).update(is_active=False)
    assert services.authenticate_token(raw) is None


def test_only_the_tokens_owner_may_revoke_it(agency):
    token, _ = services.create_api_token(membership=agency.member, name="cli", scope="read")
    with pytest.raises(PermissionDenied):
        services.revoke_api_token(token, by=agency.owner)


def test_get_token_for_finds_only_ones_own(agency):
    token, _ = services.create_api_token(membership=agency.member, name="cli", scope="read")
    assert services.get_token_for(agency.member, token.pk) == token
    with pytest.raises(Http404):
        services.get_token_for(agency.owner, token.pk)


# Members -------------------------------------------------------------------------------


def test_deactivating_a_member_revokes_their_tokens_in_that_organization_only(agency, outsider):
    make_membership(outsider.organization, Role.MEMBER, agency.member.user)
    elsewhere = Membership.objects.get(organization=outsider.organization, user=agency.member.user)
    services.create_api_token(membership=agency.member, name="here", scope="read")
    _, other_raw = services.create_api_token(membership=elsewhere, name="there", scope="read")
    services.deactivate_member(agency.member, by=agency.admin)
    assert not ApiToken.objects.filter(name="here", revoked_at=None).exists()
    assert services.authenticate_token(other_raw) is not None


def test_the_last_owner_cannot_be_demoted(agency):
    with pytest.raises(ValidationError) as caught:
        services.update_membership(agency.owner, by=agency.owner, role=Role.ADMIN)
    assert "role" in caught.value.message_dict
    assert Membership.objects.get(pk=agency.owner.pk).role == Role.OWNER


def test_the_last_owner_cannot_be_removed(agency):
    with pytest.raises(ValidationError):
        services.deactivate_member(agency.owner, by=agency.owner)
    assert Membership.objects.get(pk=agency.owner.pk).is_active


def test_with_a_second_owner_the_first_may_step_down(agency):
    services.update_membership(agency.admin, by=agency.owner, role=Role.OWNER)
    services.update_membership(agency.owner, by=agency.owner, role=Role.ADMIN)
    assert Membership.objects.get(pk=agency.owner.pk).role == Role.ADMIN


def test_leaving_revokes_tokens_and_keeps_the_last_owner(agency):
    services.create_api_token(membership=agency.member, name="cli", scope="read")
    services.leave_organization(agency.member)
    assert not Membership.objects.get(pk=agency.member.pk).is_active
    assert not ApiToken.objects.filter(revoked_at=None).exists()
    with pytest.raises(ValidationError):
        services.leave_organization(agency.owner)
    assert Membership.objects.get(pk=agency.owner.pk).is_active


def test_get_invitation_for_stays_inside_the_organization(agency, outsider):
    invitation, _ = services.invite_member(
        agency.organization, email="x@new.test", role="member", by=agency.owner
    )
    assert services.get_invitation_for(agency.manager, invitation.pk) == invitation
    with pytest.raises(Http404):
        services.get_invitation_for(outsider, invitation.pk)


# Users and passwords -------------------------------------------------------------------


def test_signing_up_through_an_invitation_creates_the_account_and_membership(agency):
    agency.organization.timezone = "Europe/Berlin"
    agency.organization.save()
    _, raw = services.invite_member(
        agency.organization, email="Nina@New.test", role="admin", by=agency.owner
    )
    membership = services.sign_up_with_invitation(
        raw_token=raw, name="Nina", password="a long fresh passphrase"
    )
    assert membership.role == Role.ADMIN
    assert membership.user.email == "nina@new.test"
    assert membership.user.timezone == "Europe/Berlin"
    assert services.find_invitation(raw) is None


def test_a_bad_invitation_sign_up_writes_nothing(agency):
    _, raw = services.invite_member(
        agency.organization, email="nina@new.test", role="member", by=agency.owner
    )
    with pytest.raises(ValidationError) as caught:
        services.sign_up_with_invitation(raw_token=raw, name="Nina", password="short")
    assert "password" in caught.value.message_dict
    assert not User.objects.filter(email="nina@new.test").exists()
    assert services.find_invitation(raw) is not None
    with pytest.raises(ValidationError) as caught:
        services.sign_up_with_invitation(raw_token="bogus", password="a long fresh passphrase")
    assert "token" in caught.value.message_dict


def test_change_password_validates_and_clears_failures(agency):
    user = agency.member.user
    LoginFailure.objects.create(email=user.email, address="1.2.3.4")
    with pytest.raises(ValidationError) as caught:
        services.change_password(user, password="password")
    assert "password" in caught.value.message_dict
    services.change_password(user, password="a long fresh passphrase")
    assert User.objects.get(pk=user.pk).check_password("a long fresh passphrase")
    assert not LoginFailure.objects.exists()


def test_retry_minutes_count_down_from_the_oldest_failure_that_matters(db, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    for minutes_ago in (9, 4, 1):
        failure = LoginFailure.objects.create(email="a@b.test", address="x")
        LoginFailure.objects.filter(pk=failure.pk).update(at=now() - timedelta(minutes=minutes_ago))
    # Three failures, two allowed: two must leave the window; the second oldest (4 min ago)
    # leaves in 6 minutes.
    assert services.login_retry_minutes(email="A@b.test") == 6
    assert services.login_throttled(email="a@b.test", address="x")


def test_retry_minutes_are_at_least_one(db):
    assert services.login_retry_minutes(email="nobody@b.test") == 1


def test_users_are_created_with_lowercase_unique_emails(db):
    make_user("dup@example.com")
    with pytest.raises(ValidationError) as caught:
        services.create_user(email=" DUP@Example.com ", password="a long fresh passphrase")
    assert "email" in caught.value.message_dict


def test_failures_from_one_address_do_not_lock_the_account_out_elsewhere(db, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        services.record_login_failure(email="lena@example.com", address="203.0.113.9")
    assert services.login_throttled(email="lena@example.com", address="203.0.113.9")
    assert not services.login_throttled(email="lena@example.com", address="198.51.100.1")
    for n in range(3 * services.ACCOUNT_FAILURE_FACTOR):
        services.record_login_failure(email="lena@example.com", address=f"192.0.2.{n}")
    # Guessing from many addresses is bounded by the account-wide limit.
    assert services.login_throttled(email="lena@example.com", address="198.51.100.1")


def test_a_removed_member_can_be_invited_again(agency):
    services.deactivate_member(agency.member, by=agency.owner)
    _invitation, raw = services.invite_member(
        agency.organization, email=agency.member.user.email, role="member", by=agency.owner
    )
    membership = services.accept_invitation(raw_token=raw, user=agency.member.user)
    assert membership.pk == agency.member.pk
    assert membership.is_active
