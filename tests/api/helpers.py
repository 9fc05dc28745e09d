"""Helpers for API tests: a JSON client with a bearer token, and the error-body check."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client as HttpClient

from punchclock.accounts.models import Membership
from punchclock.accounts.services import create_api_token

PREFIX = "/api/v1"
_UNSET = object()


class Api:
    """Talks JSON to /api/v1 with a bearer token; `raw` bodies are sent as they are."""

    def __init__(self, raw_token: str | None, http: HttpClient | None = None) -> None:
        self.http = http or HttpClient()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_token}"} if raw_token else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.get(PREFIX + path, params or {}, **self.headers)

    def head(self, path: str) -> Any:
        return self.http.head(PREFIX + path, **self.headers)

    def post(self, path: str, body: Any = _UNSET, *, raw: str | bytes | None = None) -> Any:
        return self._send("post", path, body, raw)

    def patch(self, path: str, body: Any = _UNSET, *, raw: str | bytes | None = None) -> Any:
        return self._send("patch", path, body, raw)

    def put(self, path: str, body: Any = _UNSET, *, raw: str | bytes | None = None) -> Any:
        return self._send("put", path, body, raw)

    def delete(self, path: str, body: Any = _UNSET, *, raw: str | bytes | None = None) -> Any:
        return self._send("delete", path, body, raw)

    def request(self, method: str, path: str, body: Any = _UNSET) -> Any:
        if method == "get":
            return self.get(path)
        return self._send(method, path, body, None)

    def _send(self, method: str, path: str, body: Any, raw: str | bytes | None) -> Any:
        if raw is not None:
            data: str | bytes = raw
        elif body is _UNSET:
            data = ""
        else:
            data = json.dumps(body)
        send = getattr(self.http, method)
        return send(PREFIX + path, data, content_type="application/json", **self.headers)


def token_for(membership: Membership, scope: str = "write") -> str:
    _token, raw = create_api_token(membership=membership, name=f"test {scope}", scope=scope)
    return raw


def assert_error(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The response is the API's error body with this status, naming these fields."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str)
    assert body["detail"]
    named = {error["field"] for error in body["errors"]}
    for field in fields:
        assert field in named, body
    return body
