"""No accounts page answers 500, whatever is sent, by whoever sends it."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, get_resolver, reverse

from punchclock.accounts.services import create_api_token, invite_member
from tests.conftest import login

GARBAGE = [
    {},
    {
        "email": "\x00@\u202e.test",
        "password": "x" * 5000,
        "name": "<script>alert(1)</script>",
        "role": ["owner", "admin"],
        "weekly_capacity_hours": "1e400",
        "timezone": "../../etc/passwd",
        "locale": "'; DROP TABLE",
        "currency": "€",
        "default_currency": "",
        "organization": "NaN",
        "brand_colour": "#zzzzzz",
        "country": "☃",
        "vat_id": "DE" + "9" * 200,
        "iban": "!" * 40,
        "scope": "root",
        "page": "-1",
        "next": "https://evil.test",
        "logo": "not a file",
    },
]


def _accounts_urls(objects: dict[str, object]) -> list[str]:
    resolver = get_resolver()
    accounts = next(p for p in resolver.url_patterns if getattr(p, "namespace", None) == "accounts")
    urls = []
    for pattern in accounts.url_patterns:
        assert isinstance(pattern, URLPattern)
        kwargs = {key: objects[f"{pattern.name}:{key}"] for key in pattern.pattern.converters}
        urls.append(reverse(f"accounts:{pattern.name}", kwargs=kwargs))
    return urls


@pytest.fixture
def urls(agency, django_capture_on_commit_callbacks) -> list[str]:
    invitation, raw = invite_member(
        agency.organization, email="new@acme.test", role="member", by=agency.owner
    )
    token, _ = create_api_token(membership=agency.member, name="cli", scope="read")
    return _accounts_urls(
        {
            "password_reset_confirm:uidb64": "MQ",
            "password_reset_confirm:token": "set-password",
            "logo:pk": agency.organization.pk,
            "invitation_revoke:pk": invitation.pk,
            "member_update:pk": agency.member.pk,
            "member_deactivate:pk": agency.member.pk,
            "token_revoke:pk": token.pk,
            "accept_invitation:token": raw,
        }
    )


@pytest.mark.parametrize("who", ["anonymous", "owner", "admin", "manager", "member"])
def test_no_accounts_url_answers_500(agency, urls, who):
    for url in urls:
        if url.endswith(("/logout/", "/leave/", "/deactivate/")):
            continue  # these would end the session or the membership the loop relies on
        for data in GARBAGE:
            http = HttpClient() if who == "anonymous" else login(getattr(agency, who))
            for response in (http.get(url, data), http.post(url, data)):
                assert response.status_code < 500, (who, url, response.status_code)
                assert response.status_code != 200 or response.get("Content-Type", "").startswith(
                    ("text/html", "image/")
                )


def test_out_of_range_ids_are_404(as_owner):
    for name in ("member_update", "member_deactivate", "invitation_revoke", "token_revoke"):
        url = reverse(f"accounts:{name}", args=[10**30])
        assert as_owner.post(url).status_code == 404, name
    assert as_owner.get(reverse("accounts:logo", args=[10**30])).status_code == 404
