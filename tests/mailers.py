"""Mail backends for tests that need a mail server to refuse."""

from __future__ import annotations

from typing import Any

REFUSING = {"default": {"BACKEND": "tests.mailers.RefusingBackend"}}


class RefusingBackend:
    """A mail server that is down: every send fails as a refused connection does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Takes the options Django passes to a backend; it needs none."""

    def send_messages(self, messages: Any) -> int:
        raise OSError("connection refused")
