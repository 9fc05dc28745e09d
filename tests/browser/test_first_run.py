"""Journey 1 in a real browser: sign up, create a client and a project, set its rate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from punchclock.accounts.models import Membership, Role
from punchclock.clients.models import Client
from punchclock.projects.models import Project, Rate, RateScope
from tests.browser.conftest import screenshot


@pytest.mark.django_db(transaction=True)
def test_sign_up_then_client_project_and_rate(page, live_server):
    page.goto("/accounts/signup/")
    page.fill("input[name=name]", "Lena Schmidt")
    page.fill("input[name=email]", "lena@example.com")
    page.fill("input[name=password]", "a long and unusual passphrase")
    page.fill("input[name=organization_name]", "Lena Codes")
    page.select_option("select[name=timezone]", "Europe/Berlin")
    page.select_option("select[name=currency]", "EUR")
    screenshot(page, "signup")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server.url}/")
    assert Membership.objects.get(user__email="lena@example.com").role == Role.OWNER

    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("link", name="New client").first.click()
    page.fill("input[name=name]", "Acme Logistics GmbH")
    page.select_option("select[name=country]", "DE")
    page.fill("input[name=vat_id]", "DE 812 345 673")
    page.get_by_role("button", name="Create client").click()
    page.wait_for_url("**/clients/*/")
    client = Client.objects.get(name="Acme Logistics GmbH")
    assert client.vat_id == "DE812345673"
    assert client.currency == "EUR"
    screenshot(page, "client-detail")

    page.goto("/projects/new/")
    page.select_option("select[name=client]", str(client.pk))
    page.fill("input[name=name]", "Shipment API")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/projects/*/")
    project = Project.objects.get(name="Shipment API")

    page.get_by_text("Add a rate").click()
    page.fill("details[open] input[name=amount]", "95.50")
    page.get_by_role("button", name="Add rate").click()
    page.get_by_text("95.50").first.wait_for()
    rate = Rate.objects.get(project=project, scope=RateScope.PROJECT)
    assert rate.amount == Decimal("95.50")
    screenshot(page, "project-detail")
