"""Retainers through their faces: the pages, the REST API and `punch retainer`."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from punchclock.automation import retainers
from punchclock.automation.models import Retainer, RetainerPeriod
from punchclock.invoicing.models import Invoice
from tests.api.helpers import Api, assert_error, token_for
from tests.automation.test_retainers import make, worked


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Balances and due periods count from today: these tests live on 20 November 2026."""
    monkeypatch.setattr(retainers, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))


def test_list_page_shows_this_periods_bar(billing, as_owner):
    make(billing, starts_on=date(2026, 11, 1), included=Decimal(20))
    worked(billing, date(2026, 11, 3), 150)
    page = as_owner.get("/retainers/").content.decode()
    assert "Support" in page
    assert "17.5 h left" in page
    assert "2.5 h of 20 h used in November 2026" in page


def test_detail_page_closes_ended_periods_once(billing, as_owner):
    retainer = make(billing, starts_on=date(2026, 9, 1))
    worked(billing, date(2026, 9, 3), 11 * 60)
    page = as_owner.get(f"/retainers/{retainer.pk}/").content.decode()
    assert "fee 900.00 + overage 1 h × 120.00 ≈ 1,020.00 EUR net" in page  # September's dry run
    assert RetainerPeriod.objects.count() == 0
    for _ in range(2):
        response = as_owner.post(f"/retainers/{retainer.pk}/run/")
        assert response.status_code == 302
    assert RetainerPeriod.objects.count() == 2  # September and October
    page = as_owner.get(f"/retainers/{retainer.pk}/").content.decode()
    assert "Closed periods" in page
    assert "Sep 2026" in page


def test_the_form_creates_and_reports_bad_input_by_field(billing, as_owner):
    data = {
        "client": billing.client.pk,
        "name": "Care plan",
        "kind": "hours",
        "included": "20",
        "fee": "2000",
        "frequency": "monthly",
        "starts_on": "2026-11-02",
        "overage": "bill",
        "overage_rate": "120",
        "unused": "expire",
        "action": "draft",
    }
    response = as_owner.post("/retainers/new/", data)
    assert response.status_code == 400
    assert "first day of a month" in response.content.decode()
    assert Retainer.objects.count() == 0
    response = as_owner.post("/retainers/new/", {**data, "starts_on": "2026-11-01"})
    assert response.status_code == 302
    assert Retainer.objects.get().name == "Care plan"


def test_members_do_not_see_retainers(billing, as_member):
    assert as_member.get("/retainers/").status_code == 403


def test_client_page_shows_hours_left(billing, as_owner):
    make(billing, starts_on=date(2026, 11, 1))
    worked(billing, date(2026, 11, 3), 60)
    page = as_owner.get(f"/clients/{billing.client.pk}/").content.decode()
    assert "9 h left" in page


def test_api_create_balance_preview_and_dry_run(billing):
    api = Api(token_for(billing.owner))
    body = {
        "client_id": billing.client.pk,
        "name": "Support",
        "included": "10",
        "fee": "900",
        "starts_on": "2026-10-01",
        "overage_rate": "120",
        "action": "issue",
    }
    created = api.post("/retainers", body)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    worked(billing, date(2026, 10, 5), 12 * 60)
    worked(billing, date(2026, 11, 5), 4 * 60)
    balance = api.get(f"/retainers/{pk}/balance").json()
    assert balance["figures"]["left"] == "6.0000"
    assert balance["text"] == "6 h left of 10 h"
    dry = api.post(f"/retainers/{pk}/run", {"dry_run": True}).json()
    assert [p["net"] for p in dry["planned"]] == ["1140.00"]
    assert RetainerPeriod.objects.count() == 0
    preview = api.get(f"/retainers/{pk}/preview").json()["next_close"]
    assert preview["close_on"] == "2026-12-01"
    ran = api.post(f"/retainers/{pk}/run", {}).json()
    assert [c["figures"]["overage"] for c in ran["closed"]] == ["2.0000"]
    assert Invoice.objects.get().net_total == Decimal("1140.00")
    assert api.post(f"/retainers/{pk}/run", {}).json()["closed"] == []
    listed = api.get("/retainers").json()
    assert [r["id"] for r in listed["items"]] == [pk]
    assert api.delete(f"/retainers/{pk}").status_code == 422  # it has history


def test_api_refuses_bad_input_and_writes_nothing(billing):
    api = Api(token_for(billing.owner))
    body = {"client_id": billing.client.pk, "included": "10", "fee": "900"}
    response = api.post("/retainers", {**body, "starts_on": "2026-10-15"})
    assert response.status_code == 422
    assert_error(response, 422)
    assert "starts_on" in response.content.decode()
    assert Retainer.objects.count() == 0


def test_the_client_half_imports_no_django():
    code = "import sys, punchclock.cli.retainers; print('django' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("wipe_invoices_after")
def test_cli_lists_hours_left_and_runs(billing, punch_as):
    retainer = make(billing, starts_on=date(2026, 10, 1))
    worked(billing, date(2026, 10, 5), 11 * 60)
    worked(billing, date(2026, 11, 5), 90)
    punch = punch_as(billing.owner)
    listed = punch("retainer", "list")
    assert listed.exit_code == 0, listed.output
    assert "November 2026: 8.5 h left of 10 h" in listed.output
    dry = punch("retainer", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would issue: on 1 Nov: fee 900.00 + overage 1 h × 120.00" in dry.output
    assert RetainerPeriod.objects.count() == 0
    ran = punch("retainer", "run", str(retainer.pk))
    assert ran.exit_code == 0, ran.output
    assert "2026-10-01 – 2026-10-31  issued" in ran.output
    assert punch("retainer", "run").output.strip() == "Nothing is due."
    missing = punch("retainer", "run", "999999")
    assert missing.exit_code != 0
