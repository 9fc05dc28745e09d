"""API tokens: created with the raw value shown once, stored as a hash, revoked by their owner."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from punchclock.accounts.models import ApiToken
from punchclock.accounts.services import authenticate_token, create_api_token
from tests.conftest import login

URL = reverse("accounts:tokens")


def _revoke(pk: int) -> str:
    return reverse("accounts:token_revoke", args=[pk])


def test_the_empty_page_explains_tokens(as_member):
    html = as_member.get(URL).content.decode()
    assert "No tokens yet" in html
    assert "Create a token" in html


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "member"])
def test_every_role_may_have_tokens(agency, role):
    assert login(getattr(agency, role)).get(URL).status_code == 200


def test_creating_shows_the_raw_token_once_and_stores_only_its_hash(as_member, agency):
    response = as_member.post(URL, {"name": "laptop CLI", "scope": "write"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    raw = re.search(r'<code class="secret" id="new-token">(pc_[^<]+)</code>', html).group(1)
    assert "shown only this once" in html
    token = ApiToken.objects.get()
    assert (token.name, token.scope, token.user_id) == (
        "laptop CLI",
        "write",
        agency.member.user_id,
    )
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.token_hash, token.prefix, token.name}
    assert authenticate_token(raw) is not None
    # Listed again later by its prefix only.
    later = as_member.get(URL).content.decode()
    assert raw not in later
    assert f"{token.prefix}…" in later


def test_a_nameless_or_unknown_scope_token_names_the_fields(as_member):
    response = as_member.post(URL, {"name": "  ", "scope": "admin"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scope"}
    assert not ApiToken.objects.exists()


def test_the_list_shows_only_ones_own_tokens_of_this_organization(agency, outsider):
    create_api_token(membership=agency.member, name="mine", scope="read")
    create_api_token(membership=agency.owner, name="the owners", scope="read")
    create_api_token(membership=outsider, name="rivals", scope="read")
    tokens = login(agency.member).get(URL).context["tokens"]
    assert [t.name for t in tokens] == ["mine"]


def test_revoking_works_and_the_token_stops_working(as_member, agency):
    token, raw = create_api_token(membership=agency.member, name="cli", scope="read")
    response = as_member.post(_revoke(token.pk), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="token-{token.pk}"')
    assert "Revoked" in html
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert authenticate_token(raw) is None


def test_revoking_without_htmx_redirects(as_member, agency):
    token, _ = create_api_token(membership=agency.member, name="cli", scope="read")
    response = as_member.post(_revoke(token.pk))
    assert response.status_code == 302
    assert response.url == URL


def test_someone_elses_token_cannot_be_revoked(as_owner, agency, as_outsider):
    token, raw = create_api_token(membership=agency.member, name="cli", scope="read")
    assert as_owner.post(_revoke(token.pk)).status_code == 404
    assert as_outsider.post(_revoke(token.pk)).status_code == 404
    assert as_owner.post(_revoke(999999999)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert authenticate_token(raw) is not None


def test_revoke_is_post_only(as_member, agency):
    token, _ = create_api_token(membership=agency.member, name="cli", scope="read")
    assert as_member.get(_revoke(token.pk)).status_code == 405
