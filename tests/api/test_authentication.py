"""Bearer tokens: who gets in, and what a read-only token may do."""

from __future__ import annotations

from django.test import Client as HttpClient

from punchclock.accounts.models import ApiToken
from punchclock.accounts.services import deactivate_member, revoke_api_token
from tests.api.helpers import PREFIX, Api, assert_error, token_for


def test_a_request_without_a_token_is_401_with_the_error_body(agency):
    body = assert_error(Api(None).get("/clients"), 401)
    assert "Bearer" in body["detail"]


def test_401_responses_announce_the_bearer_scheme(agency):
    response = Api(None).get("/me")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(agency):
    assert_error(Api("pc_not-a-real-token").get("/me"), 401)


def test_a_token_without_the_prefix_is_401(agency):
    assert_error(Api("garbage").get("/me"), 401)


def test_another_scheme_than_bearer_is_401(agency):
    raw = token_for(agency.owner)
    response = HttpClient().get(f"{PREFIX}/me", HTTP_AUTHORIZATION=f"Token {raw}")
    assert_error(response, 401)


def test_a_revoked_token_is_401(agency):
    raw = token_for(agency.owner)
    token = ApiToken.objects.get(user=agency.owner.user)
    revoke_api_token(token, by=agency.owner)
    assert_error(Api(raw).get("/me"), 401)


def test_a_removed_members_token_is_401(agency):
    raw = token_for(agency.member)
    deactivate_member(agency.member, by=agency.owner)
    assert_error(Api(raw).get("/me"), 401)


def test_a_signed_in_browser_session_is_not_enough(as_owner):
    assert_error(as_owner.get(f"{PREFIX}/me"), 401)


def test_a_read_token_may_read(agency):
    api = Api(token_for(agency.owner, "read"))
    assert api.get("/clients").status_code == 200
    assert api.head("/clients").status_code == 200


def test_a_read_token_may_not_write_and_is_told_why(agency):
    api = Api(token_for(agency.owner, "read"))
    for response in (
        api.post("/clients", {"name": "Initech"}),
        api.patch(f"/clients/{agency.client.pk}", {"name": "Globex Corp"}),
        api.delete(f"/clients/{agency.client.pk}"),
        api.post(f"/clients/{agency.client.pk}/archive"),
    ):
        body = assert_error(response, 403)
        assert "read-only" in body["detail"]
    agency.client.refresh_from_db()
    assert agency.client.name == "Globex"
    assert not agency.client.is_archived


def test_writes_need_no_csrf_token_because_only_bearer_tokens_are_accepted(agency):
    http = HttpClient(enforce_csrf_checks=True)
    api = Api(token_for(agency.owner), http=http)
    assert api.post("/clients", {"name": "Initech"}).status_code == 201


def test_head_answers_like_get_without_a_body(owner_api):
    response = owner_api.head("/me")
    assert response.status_code == 200
    assert response.content == b""
