"""The team page: list, filters, pagination, role and capacity changes, removing people."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from punchclock.accounts.models import ApiToken, Membership, Role
from punchclock.accounts.services import create_api_token, invite_member
from tests.conftest import login
from tests.factories import make_membership, make_user

URL = reverse("accounts:team")
HTMX = {"HX-Request": "true"}


def _update(pk: int) -> str:
    return reverse("accounts:member_update", args=[pk])


def _deactivate(pk: int) -> str:
    return reverse("accounts:member_deactivate", args=[pk])


def test_the_team_lists_active_members_with_role_and_capacity(as_owner, agency):
    agency.member.weekly_capacity_hours = Decimal("32.5")
    agency.member.save()
    html = as_owner.get(URL).content.decode()
    for name in ("Olivia Owner", "Adam Admin", "Mia Manager", "Max Member"):
        assert name in html
    assert 'value="32.50"' in html


def test_former_members_are_not_listed(as_owner, agency):
    agency.member.is_active = False
    agency.member.save()
    assert "Max Member" not in as_owner.get(URL).content.decode()


@pytest.mark.parametrize("role", ["owner", "admin", "manager"])
def test_owners_admins_and_managers_see_the_team(agency, role):
    assert login(getattr(agency, role)).get(URL).status_code == 200


def test_members_may_not_see_the_team(as_member):
    assert as_member.get(URL).status_code == 403


def test_a_manager_sees_no_controls(agency):
    html = login(agency.manager).get(URL).content.decode()
    assert "Send invitation" not in html
    assert 'name="weekly_capacity_hours"' not in html
    assert "Remove" not in html


def test_filter_by_role_and_search(as_owner):
    managers = as_owner.get(URL, {"role": "manager"}).context["page"].object_list
    assert [m.user.name for m in managers] == ["Mia Manager"]
    found = as_owner.get(URL, {"q": "ADAM"}).context["page"].object_list
    assert [m.user.email for m in found] == ["admin@acme.test"]
    by_email = as_owner.get(URL, {"q": "member@acme"}).context["page"].object_list
    assert [m.user.name for m in by_email] == ["Max Member"]


def test_a_filter_without_matches_says_so(as_owner):
    html = as_owner.get(URL, {"q": "zzz"}).content.decode()
    assert "No one matches these filters" in html


def test_garbage_filters_are_ignored(as_owner):
    response = as_owner.get(URL, {"role": "king", "page": "x"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 4


def test_the_list_is_paginated_by_fifty(as_owner, agency):
    for n in range(52):
        make_membership(agency.organization, Role.MEMBER, make_user(f"p{n:02}@acme.test"))
    first = as_owner.get(URL)
    assert len(first.context["page"].object_list) == 50
    assert "1–50 of 56 people" in first.content.decode()
    second = as_owner.get(URL, {"page": 2})
    assert len(second.context["page"].object_list) == 6


def test_htmx_filtering_gets_only_the_results(as_owner):
    response = as_owner.get(URL, {"q": "mia"}, headers=HTMX)
    html = response.content.decode()
    assert html.strip().startswith('<div id="team-results"')
    assert "Mia Manager" in html
    assert "<html" not in html


def test_the_team_list_takes_a_flat_number_of_queries(
    as_owner, agency, django_assert_max_num_queries
):
    """About nine queries (session, user, membership, sidebar, header timer, count, page,
    invitations); more people or invitations must not add any."""
    as_owner.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as few:
        as_owner.get(URL)
    for n in range(40):
        user = make_user(f"p{n:02}@acme.test")
        make_membership(agency.organization, Role.MEMBER, user)
        invite_member(agency.organization, email=f"i{n}@new.test", role="member", by=agency.owner)
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as many:
        response = as_owner.get(URL)
    assert len(response.context["page"].object_list) == 44
    assert len(many) == len(few)


def test_an_admin_changes_role_and_capacity(agency):
    http = login(agency.admin)
    response = http.post(
        _update(agency.member.pk), {"role": "manager", "weekly_capacity_hours": "32.5"}
    )
    assert response.status_code == 302
    agency.member.refresh_from_db()
    assert agency.member.role == Role.MANAGER
    assert agency.member.weekly_capacity_hours == Decimal("32.50")


def test_an_htmx_change_returns_the_updated_row(as_owner, agency):
    response = as_owner.post(
        _update(agency.member.pk), {"role": "admin", "weekly_capacity_hours": "20"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="member-{agency.member.pk}"')
    assert '<option value="admin" selected>' in html
    assert "is saved" in html


def test_a_capacity_beyond_a_week_names_the_field(as_owner, agency):
    response = as_owner.post(
        _update(agency.member.pk), {"role": "member", "weekly_capacity_hours": "200"}, headers=HTMX
    )
    assert response.status_code == 400
    assert "Weekly capacity is 0 to 168 hours." in response.content.decode()
    agency.member.refresh_from_db()
    assert agency.member.weekly_capacity_hours == Decimal("40.00")


@pytest.mark.parametrize(
    "data",
    [{"role": "king"}, {"weekly_capacity_hours": "lots"}, {"weekly_capacity_hours": "-1"}, {}],
)
def test_garbage_changes_write_nothing(as_owner, agency, data):
    response = as_owner.post(_update(agency.member.pk), data)
    assert response.status_code in (200, 302, 400)
    agency.member.refresh_from_db()
    assert (agency.member.role, agency.member.weekly_capacity_hours) == (
        Role.MEMBER,
        Decimal("40.00"),
    )


def test_an_admin_cannot_make_an_owner(agency):
    response = login(agency.admin).post(_update(agency.member.pk), {"role": "owner"}, headers=HTMX)
    assert response.status_code == 400
    assert "Only an owner can grant" in response.content.decode()
    agency.member.refresh_from_db()
    assert agency.member.role == Role.MEMBER


def test_an_admin_sees_owners_read_only(agency):
    html = login(agency.admin).get(URL).content.decode()
    assert "Only owners can change an owner" in html
    assert _update(agency.owner.pk) not in html
    assert _update(agency.member.pk) in html


def test_the_last_owner_cannot_be_demoted(as_owner, agency):
    response = as_owner.post(_update(agency.owner.pk), {"role": "admin"}, headers=HTMX)
    assert response.status_code == 400
    assert "at least one owner" in response.content.decode()
    agency.owner.refresh_from_db()
    assert agency.owner.role == Role.OWNER


def test_a_manager_cannot_change_members(agency):
    response = login(agency.manager).post(_update(agency.member.pk), {"role": "admin"})
    assert response.status_code == 403
    agency.member.refresh_from_db()
    assert agency.member.role == Role.MEMBER


def test_removing_a_member_deactivates_them_and_revokes_tokens(as_owner, agency):
    create_api_token(membership=agency.member, name="cli", scope="write")
    response = as_owner.post(_deactivate(agency.member.pk), headers=HTMX)
    assert response.status_code == 200
    assert response.content == b""
    agency.member.refresh_from_db()
    assert not agency.member.is_active
    assert not ApiToken.objects.filter(user=agency.member.user, revoked_at=None).exists()


def test_removing_without_htmx_redirects_with_a_message(as_owner, agency):
    response = as_owner.post(_deactivate(agency.member.pk), follow=True)
    assert "was removed from the team" in response.content.decode()


def test_an_admin_cannot_remove_an_owner(agency):
    response = login(agency.admin).post(_deactivate(agency.owner.pk), headers=HTMX)
    assert response.status_code == 400
    assert "Only an owner can remove an owner." in response.content.decode()
    assert Membership.objects.get(pk=agency.owner.pk).is_active


def test_a_manager_cannot_remove_anyone(agency):
    assert login(agency.manager).post(_deactivate(agency.member.pk)).status_code == 403
    assert Membership.objects.get(pk=agency.member.pk).is_active


def test_members_of_other_organizations_are_not_found(as_owner, outsider):
    assert as_owner.post(_update(outsider.pk), {"role": "member"}).status_code == 404
    assert as_owner.post(_deactivate(outsider.pk)).status_code == 404
    assert as_owner.post(_update(999999999), {"role": "member"}).status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active
    assert outsider.role == Role.OWNER


def test_the_change_urls_are_post_only(as_owner, agency):
    assert as_owner.get(_update(agency.member.pk)).status_code == 405
    assert as_owner.get(_deactivate(agency.member.pk)).status_code == 405
