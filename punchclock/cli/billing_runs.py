"""What the billing commands (`punch schedule`, `punch recurring`, `punch retainer`) share:
reading a whole list from the API page by page, and how a run's outcome reads.

Like every client command they talk to the REST API and never import Django.
"""

from __future__ import annotations

from typing import Any

from punchclock.cli.client import Env

PAGE = 200  # the API's largest page
LARGEST_ID = 10**18 - 1  # the API takes no longer id

# How a period's status reads after a run, and before one (a dry run).
DONE = {"drafted": "drafted", "issued": "issued", "sent": "issued and sent"}
WOULD = {"drafted": "would draft", "issued": "would issue", "sent": "would issue and send"}


def all_pages(env: Env, path: str, **query: Any) -> list[dict[str, Any]]:
    """Every item of a paged API list, page by page."""
    found: list[dict[str, Any]] = []
    while True:
        page = env.api().request("GET", path, query={**query, "limit": PAGE, "offset": len(found)})
        found += page["items"]
        if not page["items"] or len(found) >= page["count"]:
            return found
