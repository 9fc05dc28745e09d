"""GET /invoices/unbilled: what is left to bill, priced and rounded as a draft would bill it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from punchclock.expenses.models import ExpenseStatus
from punchclock.invoicing import services
from punchclock.projects.models import BillingMethod, RoundingDirection
from tests import factories
from tests.api.helpers import Api, assert_error, token_for
from tests.invoicing.conftest import NOVEMBER, approved_expense, at, track

NOVEMBER_QUERY = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def owner(billing) -> Api:
    return Api(token_for(billing.owner))


@pytest.fixture
def worked(billing):
    """Rounded hourly time across a rate change, a fixed fee, expenses and noise to ignore."""
    api = billing.project
    api.rounding_minutes, api.rounding_direction = 15, RoundingDirection.UP
    api.save()
    factories.make_rate(billing.organization, "120", project=api, effective_from=date(2026, 11, 15))
    track(billing.member, api, at(2), 50)  # billed 60 min at 100
    track(billing.member, api, at(3), 7)  # billed 15 min at 100
    track(billing.member, api, at(20), 61)  # billed 75 min at 120
    track(billing.member, api, at(4), 30, billable=False)
    support = factories.make_project(
        billing.client,
        "Support",
        code="sup",
        rounding_minutes=6,
        rounding_direction=RoundingDirection.NEAREST,
    )
    factories.make_rate(billing.organization, "87.33", project=support)
    track(billing.member, support, at(6), 20)  # 3.33 steps: billed 18 min
    track(billing.member, support, at(7), 33)  # 5.5 steps, half up: billed 36 min
    migration = factories.make_project(
        billing.client,
        "Migration",
        code="mig",
        billing_method=BillingMethod.FIXED_FEE,
        fixed_fee=Decimal("1200.00"),
    )
    track(billing.member, migration, at(5), 45)
    approved_expense(billing.owner, "42.00")
    approved_expense(billing.owner, "19.99", project=api, spent_on=date(2026, 11, 1))
    approved_expense(billing.owner, "500", status=ExpenseStatus.SUBMITTED)
    approved_expense(billing.owner, "7", billable=False)
    # October: outside the period asked for below.
    track(billing.member, api, at(2).replace(month=10), 30)
    return billing


def _figures(**fields):
    defaults = {
        "entries": 0,
        "seconds": 0,
        "billed_seconds": 0,
        "hours": "0.00",
        "billed_hours": "0.00",
        "missing_rate": False,
        "unpriced_entries": 0,
        "time_amount": "0.00",
        "expenses": 0,
        "expenses_amount": "0.00",
    }
    return defaults | fields


def test_figures_are_exact_per_project_and_per_client(owner, worked):
    response = owner.get("/invoices/unbilled", NOVEMBER_QUERY)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["period_start"], body["period_end"]) == ("2026-11-01", "2026-11-30")
    [globex] = body["clients"]
    assert (globex["client"], globex["code"], globex["currency"]) == ("Globex", "globex", "EUR")
    api, migration, support, loose = globex["projects"]
    assert api == _figures(
        project_id=worked.project.pk,
        project="globex/api",
        name="API",
        billing_method="hourly_project",
        entries=3,
        seconds=(50 + 7 + 61) * 60,
        billed_seconds=(60 + 15 + 75) * 60,
        hours="1.97",
        billed_hours="2.50",
        time_amount="275.00",  # 1.25 h at 100 + 1.25 h at 120
        fixed_fee=None,
        expenses=1,
        expenses_amount="19.99",
        amount="294.99",
        oldest="2026-11-01",
    )
    assert migration == _figures(
        project_id=migration["project_id"],
        project="globex/mig",
        name="Migration",
        billing_method="fixed_fee",
        entries=1,
        seconds=45 * 60,
        billed_seconds=45 * 60,
        hours="0.75",
        billed_hours="0.75",
        fixed_fee="1200.00",
        amount="1200.00",
        oldest="2026-11-05",
    )
    assert support == _figures(
        project_id=support["project_id"],
        project="globex/sup",
        name="Support",
        billing_method="hourly_project",
        entries=2,
        seconds=53 * 60,
        billed_seconds=54 * 60,
        hours="0.88",
        billed_hours="0.90",
        time_amount="78.60",  # 0.9 h at 87.33 = 78.597
        fixed_fee=None,
        amount="78.60",
        oldest="2026-11-06",
    )
    assert loose == _figures(
        project_id=None,
        project=None,
        name=None,
        billing_method=None,
        fixed_fee=None,
        expenses=1,
        expenses_amount="42.00",
        amount="42.00",
        oldest="2026-11-10",
    )
    assert globex["total"] == _figures(
        entries=6,
        seconds=12960,
        billed_seconds=14940,
        hours="3.60",
        billed_hours="4.15",
        time_amount="353.60",
        fixed_fees="1200.00",
        expenses=2,
        expenses_amount="61.99",
        amount="1615.59",
        oldest="2026-11-01",
    )


def test_the_total_is_what_a_draft_for_the_period_bills(owner, worked):
    expected = owner.get("/invoices/unbilled", NOVEMBER_QUERY).json()["clients"][0]["total"]
    draft = services.create_draft(
        worked.client, by=worked.owner, period_start=NOVEMBER[0], period_end=NOVEMBER[1]
    )
    assert str(draft.net_total) == expected["amount"]
    # Billed work is no longer unbilled; October's entry still is.
    left = owner.get("/invoices/unbilled").json()
    assert left["period_start"] is None
    [globex] = left["clients"]
    assert [(p["project"], p["entries"], p["amount"]) for p in globex["projects"]] == [
        ("globex/api", 1, "50.00")
    ]


def test_named_periods_and_the_client_filter(owner, worked):
    everything = owner.get("/invoices/unbilled").json()["clients"][0]["total"]
    assert everything["entries"] == 7
    assert everything["oldest"] == "2026-10-02"
    by_code = owner.get("/invoices/unbilled", {"client": "GLOBEX", **NOVEMBER_QUERY}).json()
    by_id = owner.get("/invoices/unbilled", {"client": worked.client.pk, **NOVEMBER_QUERY})
    assert by_code == by_id.json()
    assert by_code["clients"][0]["total"]["amount"] == "1615.59"
    assert owner.get("/invoices/unbilled", {"period": "today"}).json()["clients"] == []
    factories.make_client(worked.organization, "Initech", code="initech")
    assert owner.get("/invoices/unbilled", {"client": "initech"}).json()["clients"] == []


def test_time_without_a_rate_is_reported_not_priced(owner, billing):
    research = factories.make_project(billing.client, "Research", code="res")
    track(billing.member, research, at(2), 30)
    track(billing.member, billing.project, at(3), 60)
    response = owner.get("/invoices/unbilled")
    assert response.status_code == 200, response.content
    [globex] = response.json()["clients"]
    api, res = globex["projects"]
    assert (api["time_amount"], api["amount"], api["missing_rate"]) == ("100.00", "100.00", False)
    assert (res["missing_rate"], res["unpriced_entries"]) == (True, 1)
    assert (res["time_amount"], res["amount"], res["billed_hours"]) == (None, None, "0.50")
    total = globex["total"]
    assert (total["missing_rate"], total["time_amount"], total["amount"]) == (True, None, None)


def test_another_organizations_work_is_never_shown(billing, outsider):
    track(billing.member, billing.project, at(2), 60)
    api = Api(token_for(outsider))
    assert api.get("/invoices/unbilled").json()["clients"] == []
    assert_error(api.get("/invoices/unbilled", {"client": billing.client.pk}), 404)
    assert_error(api.get("/invoices/unbilled", {"client": "globex"}), 404)


@pytest.mark.parametrize("who", ["member", "manager"])
def test_members_and_managers_get_403(billing, who):
    api = Api(token_for(getattr(billing, who)))
    assert_error(api.get("/invoices/unbilled"), 403)


def test_read_tokens_may_look(billing):
    assert Api(token_for(billing.owner, scope="read")).get("/invoices/unbilled").status_code == 200


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"period": "someday"}, 422, "period"),
        ({"from": "yesterday"}, 422, "from"),
        ({"to": "2026-02-30"}, 422, "to"),
        ({"from": "0001-01-01"}, 422, "from"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, 422, "to"),
        ({"client": "x" * 101}, 422, "client"),
        ({"client": "nobody"}, 404, None),
        ({"client": "9" * 40}, 404, None),
        ({"client": "\x00"}, 422, "client"),
    ],
)
def test_garbage_queries_get_a_clear_4xx(owner, billing, params, status, field):
    fields = (field,) if field else ()
    body = assert_error(owner.get("/invoices/unbilled", params), status, *fields)
    assert "Traceback" not in body["detail"]
