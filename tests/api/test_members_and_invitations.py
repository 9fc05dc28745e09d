"""The team over the API: list, read, change, remove members; invite people."""

from __future__ import annotations

from django.core import mail

from punchclock.accounts.models import ApiToken, Invitation
from tests.api.helpers import assert_error


def test_the_owner_lists_all_members(owner_api):
    body = owner_api.get("/members").json()
    assert body["count"] == 4
    emails = [m["email"] for m in body["items"]]
    assert emails == sorted(emails)
    assert body["items"][0]["weekly_capacity_hours"] == "40.00"


def test_members_filter_by_role_and_search(owner_api):
    managers = owner_api.get("/members", {"role": "manager"}).json()
    assert [m["name"] for m in managers["items"]] == ["Mia Manager"]
    found = owner_api.get("/members", {"search": "ADAM"}).json()
    assert [m["email"] for m in found["items"]] == ["admin@acme.test"]


def test_a_member_may_not_list_the_team(member_api):
    assert_error(member_api.get("/members"), 403)


def test_get_one_member(manager_api, agency):
    body = manager_api.get(f"/members/{agency.member.pk}").json()
    assert body["role"] == "member"
    assert body["email"] == "member@acme.test"


def test_an_admin_changes_role_and_capacity(admin_api, agency):
    response = admin_api.patch(
        f"/members/{agency.member.pk}", {"role": "manager", "weekly_capacity_hours": "32.5"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "manager"
    assert response.json()["weekly_capacity_hours"] == "32.50"


def test_an_admin_cannot_make_an_owner(admin_api, agency):
    assert_error(admin_api.patch(f"/members/{agency.member.pk}", {"role": "owner"}), 422, "role")


def test_a_capacity_beyond_a_week_names_the_field(owner_api, agency):
    response = owner_api.patch(f"/members/{agency.member.pk}", {"weekly_capacity_hours": 200})
    assert_error(response, 422, "weekly_capacity_hours")


def test_an_unknown_role_names_the_field(owner_api, agency):
    assert_error(owner_api.patch(f"/members/{agency.member.pk}", {"role": "boss"}), 422, "role")


def test_a_manager_may_see_but_not_change_members(manager_api, agency):
    assert_error(manager_api.patch(f"/members/{agency.member.pk}", {"role": "admin"}), 403)


def test_removing_a_member_deactivates_them_and_revokes_their_tokens(owner_api, api_as, agency):
    api_as(agency.member)
    response = owner_api.delete(f"/members/{agency.member.pk}")
    assert response.status_code == 204
    agency.member.refresh_from_db()
    assert not agency.member.is_active
    assert not ApiToken.objects.filter(user=agency.member.user, revoked_at=None).exists()


def test_the_last_owner_cannot_be_removed(owner_api, agency):
    assert_error(owner_api.delete(f"/members/{agency.owner.pk}"), 422, "role")


def test_an_invitation_is_created_and_emailed_but_its_token_never_returned(
    admin_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(
            "/invitations", {"email": "New.Person@Example.com", "role": "member"}
        )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["invited_by"] == "admin@acme.test"
    assert "token" not in body
    assert "token_hash" not in body
    assert len(mail.outbox) == 1
    assert "new.person@example.com" in mail.outbox[0].to


def test_invitations_are_listed_newest_first(owner_api):
    owner_api.post("/invitations", {"email": "one@example.com"})
    owner_api.post("/invitations", {"email": "two@example.com", "role": "manager"})
    body = owner_api.get("/invitations").json()
    assert body["count"] == 2
    assert [i["email"] for i in body["items"]] == ["two@example.com", "one@example.com"]


def test_inviting_an_existing_member_names_the_email(owner_api):
    assert_error(owner_api.post("/invitations", {"email": "member@acme.test"}), 422, "email")


def test_an_invalid_email_names_the_field(owner_api):
    assert_error(owner_api.post("/invitations", {"email": "not an address"}), 422, "email")


def test_an_invitation_can_be_revoked(owner_api):
    invitation = owner_api.post("/invitations", {"email": "one@example.com"}).json()
    assert owner_api.delete(f"/invitations/{invitation['id']}").status_code == 204
    assert Invitation.objects.get(pk=invitation["id"]).revoked_at is not None


def test_a_member_cannot_invite(member_api):
    assert_error(member_api.post("/invitations", {"email": "one@example.com"}), 403)
