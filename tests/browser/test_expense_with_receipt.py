"""In a real browser: record an expense with a PNG receipt, find it listed, see the thumbnail."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from punchclock.expenses.services import create_starter_categories
from tests.browser.conftest import screenshot
from tests.expenses.conftest import png_bytes

pytestmark = pytest.mark.browser


def sign_in(page, live_server, membership) -> None:
    """The session of a force-logged-in test client, handed to the browser."""
    http = HttpClient()
    http.force_login(membership.user)
    session = http.session
    session["organization_id"] = membership.organization_id
    session.save()
    page.context.add_cookies(
        [{"name": "sessionid", "value": http.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.mark.django_db(transaction=True)
def test_an_expense_with_a_receipt_is_listed_and_its_thumbnail_loads(
    page, live_server, agency, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    create_starter_categories(agency.organization)
    receipt = tmp_path / "taxi-receipt.png"
    receipt.write_bytes(png_bytes())
    sign_in(page, live_server, agency.member)

    page.goto("/expenses/new/")
    page.select_option("#id_client", label="Globex")
    page.select_option("#id_category", label="Travel")
    page.fill("#id_description", "Taxi to the client")
    page.fill("#id_vendor", "City Cabs")
    page.fill("#id_amount", "23.80")
    page.fill("#id_tax_rate", "19")
    # The live preview computes the net without saving anything.
    page.locator("#expense-preview dd:has-text('€20.00')").first.wait_for()
    page.set_input_files("#id_receipts", str(receipt))
    screenshot(page, "expense-form")
    page.click("button:has-text('Record expense')")
    page.locator("h1:has-text('Taxi to the client')").wait_for()

    page.goto("/expenses/")
    row = page.locator("#expense-results tr:has-text('Taxi to the client')")
    assert "City Cabs" in row.inner_text()
    assert "€23.80" in row.inner_text()
    screenshot(page, "expense-list")

    row.locator("a:has-text('Taxi to the client')").click()
    image = page.locator(".receipts img")
    image.wait_for()
    page.wait_for_function("document.querySelector('.receipts img').complete")
    assert page.evaluate("document.querySelector('.receipts img').naturalWidth") > 0
    screenshot(page, "expense-detail")
