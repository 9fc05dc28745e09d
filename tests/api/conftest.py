"""An API client per persona, each holding a write token for its membership."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from punchclock.accounts.models import Membership
from tests.api.helpers import Api, token_for
from tests.conftest import Agency


@pytest.fixture
def api_as() -> Callable[..., Api]:
    """api_as(membership, scope="write") -> Api"""

    def make(membership: Membership, scope: str = "write") -> Api:
        return Api(token_for(membership, scope))

    return make


@pytest.fixture
def owner_api(agency: Agency) -> Api:
    return Api(token_for(agency.owner))


@pytest.fixture
def admin_api(agency: Agency) -> Api:
    return Api(token_for(agency.admin))


@pytest.fixture
def manager_api(agency: Agency) -> Api:
    return Api(token_for(agency.manager))


@pytest.fixture
def member_api(agency: Agency) -> Api:
    return Api(token_for(agency.member))


@pytest.fixture
def outsider_api(outsider: Membership) -> Api:
    return Api(token_for(outsider))
