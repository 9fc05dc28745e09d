"""The budget, utilisation and dashboard endpoints: same figures as the pages, role limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from punchclock.accounts.services import create_api_token
from punchclock.core.timeutil import now
from punchclock.projects.models import BudgetKind
from tests.invoicing.conftest import track


def _get(client, membership, url, **headers):
    _, secret = create_api_token(membership=membership, name="reports", scope="read")
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}", **headers)


def test_budgets_json_and_csv_with_a_formula_client(billing, client):
    agency = billing
    agency.client.name = "=HYPERLINK(1)"
    agency.client.save()
    agency.project.budget_kind = BudgetKind.HOURS
    agency.project.budget_hours = Decimal(4)
    agency.project.save()
    track(agency.member, agency.project, now() - timedelta(days=2), 180)
    body = _get(client, agency.owner, "/api/v1/reports/budgets").json()
    (row,) = body["projects"]
    assert (row["used"], row["percent"], row["state"]) == ("3.00", "75", "ok")
    csv = _get(client, agency.owner, "/api/v1/reports/budgets?format=csv&bom=0").content.decode()
    assert "'=HYPERLINK(1)" in csv
    assert _get(client, agency.member, "/api/v1/reports/budgets").status_code == 403
    assert _get(client, agency.manager, "/api/v1/reports/budgets?format=xls").status_code in (
        400,
        422,
    )


def test_member_dashboard_and_utilisation_show_only_their_own(billing, client):
    agency = billing
    start = datetime.combine(now().date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
    track(agency.member, agency.project, start, 30)
    track(agency.owner, agency.project, start, 240)
    board = _get(client, agency.member, "/api/v1/reports/dashboard").json()
    assert board["week_hours"] == "0.50"
    assert board["unbilled"] is None
    assert board["revenue"] is None
    owner_board = _get(client, agency.owner, "/api/v1/reports/dashboard").json()
    assert owner_board["unbilled_totals"] == {"EUR": "450.00"}  # 4.5 h at 100
    mine = _get(client, agency.member, "/api/v1/reports/utilisation?period=week").json()
    assert [p["name"] for p in mine["people"]] == ["Max Member"]
    assert mine["people"][0]["hours"] == "0.50"
