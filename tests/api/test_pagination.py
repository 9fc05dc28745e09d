"""Lists page with limit and offset, answer the total count, and cap the page size."""

from __future__ import annotations

from punchclock.clients.models import Client
from tests.api.helpers import assert_error


def make_clients(agency, n: int) -> None:
    Client.objects.bulk_create(
        Client(
            organization=agency.organization,
            name=f"Client {i:03}",
            code=f"c{i:03}",
            country="DE",
            currency="EUR",
        )
        for i in range(n)
    )


def test_limit_and_offset_pick_a_slice_and_count_tells_the_total(owner_api, agency):
    make_clients(agency, 7)
    body = owner_api.get("/clients", {"limit": 3, "offset": 2}).json()
    assert body["count"] == 8
    assert [c["name"] for c in body["items"]] == ["Client 002", "Client 003", "Client 004"]


def test_the_default_page_holds_fifty(owner_api, agency):
    make_clients(agency, 60)
    body = owner_api.get("/clients").json()
    assert len(body["items"]) == 50
    assert body["count"] == 61


def test_a_limit_above_the_maximum_is_reduced_to_200(owner_api, agency):
    make_clients(agency, 250)
    body = owner_api.get("/clients", {"limit": 1000}).json()
    assert len(body["items"]) == 200
    assert body["count"] == 251


def test_an_offset_past_the_end_gives_an_empty_page(owner_api, agency):
    body = owner_api.get("/clients", {"offset": 10}).json()
    assert body == {"items": [], "count": 1}


def test_a_zero_limit_or_negative_offset_names_the_parameter(owner_api):
    assert_error(owner_api.get("/clients", {"limit": 0}), 422, "limit")
    assert_error(owner_api.get("/clients", {"offset": -1}), 422, "offset")
    assert_error(owner_api.get("/clients", {"offset": 10**30}), 422, "offset")


def test_filters_and_paging_combine(owner_api, agency):
    make_clients(agency, 12)
    body = owner_api.get("/clients", {"search": "client 01", "limit": 1, "offset": 1}).json()
    assert body["count"] == 2
    assert [c["name"] for c in body["items"]] == ["Client 011"]
