"""Bearer-token authentication and token scopes.

Only tokens are accepted, never the session cookie: a browser cannot be tricked into
sending a bearer header, so the API needs no CSRF protection at all.
"""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from punchclock.accounts.models import ApiToken, Membership, TokenScope
from punchclock.accounts.services import authenticate_token

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """Authorization: Bearer <token>; puts the token and its membership on the request."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = authenticate_token(token.strip())
        if found is None:
            return None
        api_token, membership = found
        if api_token.scope != TokenScope.WRITE and request.method not in READ_METHODS:
            raise AuthorizationError(
                message="This token is read-only: create a token with the write scope "
                "to change data."
            )
        request.membership = membership  # type: ignore[attr-defined]
        return api_token


def acting(request: HttpRequest) -> Membership:
    """The membership the request's token acts as (set by TokenAuth)."""
    return cast(Membership, request.membership)  # type: ignore[attr-defined]


def token_of(request: HttpRequest) -> ApiToken:
    return cast(ApiToken, request.auth)  # type: ignore[attr-defined]
