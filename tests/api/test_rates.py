"""Rates over the API: list with filters, add from a date, delete future ones, resolve."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from punchclock.projects.models import Rate
from tests import factories
from tests.api.helpers import assert_error

FUTURE = "2099-01-01"


def test_a_rate_given_as_text_is_stored_exactly_and_answered_as_text(owner_api, agency):
    response = owner_api.post(
        "/rates",
        {
            "kind": "bill",
            "amount": "95.1250",
            "effective_from": FUTURE,
            "project_id": agency.project.pk,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["scope"] == "project"
    assert body["amount"] == "95.125"
    assert body["currency"] == "EUR"
    assert body["effective_from"] == FUTURE
    assert Rate.objects.get(pk=body["id"]).amount == Decimal("95.1250")


def test_a_rate_given_as_a_json_number_is_not_rounded_through_float(owner_api, agency):
    raw = '{"kind": "bill", "amount": 95.10, "effective_from": "2099-01-01"}'
    body = owner_api.post("/rates", raw=raw).json()
    assert body["amount"] == "95.10"
    assert body["scope"] == "organization"
    assert Rate.objects.get(pk=body["id"]).amount == Decimal("95.1")


def test_whole_amounts_read_with_the_currency_decimals(owner_api, agency):
    body = owner_api.post("/rates", {"kind": "bill", "amount": 95, "effective_from": FUTURE}).json()
    assert body["amount"] == "95.00"


def test_a_cost_rate_belongs_to_a_person(owner_api, agency):
    response = owner_api.post(
        "/rates",
        {
            "kind": "cost",
            "amount": "45",
            "effective_from": FUTURE,
            "membership_id": agency.member.pk,
        },
    )
    assert response.json()["scope"] == "member"
    assert response.json()["membership_id"] == agency.member.pk


def test_a_negative_rate_names_the_amount(owner_api):
    response = owner_api.post("/rates", {"kind": "bill", "amount": "-1", "effective_from": FUTURE})
    assert_error(response, 422, "amount")


def test_a_second_rate_on_the_same_day_names_the_effective_date(owner_api, agency):
    body = {"kind": "bill", "amount": "90", "effective_from": FUTURE, "client_id": agency.client.pk}
    assert owner_api.post("/rates", body).status_code == 201
    assert_error(owner_api.post("/rates", body), 422, "effective_from")


def test_an_unknown_currency_names_the_field(owner_api):
    response = owner_api.post(
        "/rates", {"kind": "bill", "amount": "90", "effective_from": FUTURE, "currency": "XYZ"}
    )
    assert_error(response, 422, "currency")


def test_a_missing_amount_names_the_field(owner_api):
    assert_error(
        owner_api.post("/rates", {"kind": "bill", "effective_from": FUTURE}), 422, "amount"
    )


def test_list_filters_by_kind_scope_project_client_and_person(owner_api, agency):
    org = agency.organization
    project_rate = factories.make_rate(org, "95", project=agency.project)
    client_rate = factories.make_rate(org, "90", client=agency.client)
    cost_rate = factories.make_rate(org, "40", kind="cost", membership=agency.member)
    other_rate = factories.make_rate(org, "80", project=agency.other_project)

    def ids(**query):
        return {r["id"] for r in owner_api.get("/rates", query).json()["items"]}

    assert ids() == {project_rate.pk, client_rate.pk, cost_rate.pk, other_rate.pk}
    assert ids(kind="cost") == {cost_rate.pk}
    assert ids(scope="client") == {client_rate.pk}
    assert ids(project_id=agency.project.pk) == {project_rate.pk}
    assert ids(client_id=agency.client.pk) == {project_rate.pk, client_rate.pk, other_rate.pk}
    assert ids(membership_id=agency.member.pk) == {cost_rate.pk}


def test_a_future_rate_can_be_read_and_deleted(owner_api, agency):
    rate = factories.make_rate(agency.organization, "99", effective_from=date(2099, 1, 1))
    assert owner_api.get(f"/rates/{rate.pk}").json()["amount"] == "99.00"
    assert owner_api.delete(f"/rates/{rate.pk}").status_code == 204
    assert not Rate.objects.filter(pk=rate.pk).exists()


def test_a_rate_in_force_cannot_be_deleted(owner_api, agency):
    rate = factories.make_rate(agency.organization, "99", effective_from=date(2020, 1, 1))
    assert_error(owner_api.delete(f"/rates/{rate.pk}"), 422, "effective_from")
    assert Rate.objects.filter(pk=rate.pk).exists()
