"""Running one call from several threads at the same instant, for the tests of locks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def at_once(call: Callable[[], Any], count: int = 2) -> tuple[list[Any], list[str]]:
    """Run `call` in `count` threads released together; each closes its own database
    connection. Returns what the calls returned and the errors they raised (repr)."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    failures: list[str] = []

    def run() -> None:
        from django.db import connection

        try:
            barrier.wait()
            results.append(call())
        except Exception as exc:  # any error is a failure the caller looks for
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures
