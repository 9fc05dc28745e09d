"""In a real browser: import a statement, record the proposed payment, ignore a line."""

from __future__ import annotations

import pytest

from punchclock.payments.models import BankLine, Payment
from tests.browser.conftest import screenshot
from tests.browser.test_expense_with_receipt import sign_in
from tests.invoicing.conftest import billing, wipe_invoices_after  # noqa: F401 - fixtures
from tests.payments.conftest import frozen_today, issued  # noqa: F401 - fixture
from tests.payments.test_bank_samples import Entry, camt

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("frozen_today")]


@pytest.mark.django_db(transaction=True)
def test_import_record_and_ignore_in_the_browser(
    page,
    live_server,
    billing,  # noqa: F811 - the fixture imported above
    tmp_path,
    wipe_invoices_after,  # noqa: F811 - the fixture imported above
):
    invoice = issued(billing)
    statement = tmp_path / "november.xml"
    statement.write_bytes(
        camt(
            Entry("119.00", f"Rechnung {invoice.number}", bank_id="TX1"),
            Entry("12.00", "Zinsen", payer="Bank"),
        )
    )
    sign_in(page, live_server, billing.owner)

    page.goto("/payments/bank/")
    page.set_input_files("#id_file", str(statement))
    page.click("summary:has-text('For CSV exports')")
    screenshot(page, "bank-upload")
    page.click("button:has-text('Import statement')")
    page.locator("h1:has-text('november.xml')").wait_for()
    row = page.locator("tr.bank-line:has-text('Globex Corporation')")
    assert f"Proposed: {invoice.number}" in row.inner_text()
    screenshot(page, "bank-statement")

    interest = page.locator("tr.bank-line:has-text('Zinsen')")
    interest.locator("button:has-text('Ignore')").click()
    page.locator("tr.bank-line:has-text('Zinsen') .badge:has-text('Ignored')").wait_for()

    row.locator("input[type=checkbox]").check()
    page.click("button:has-text('Record selected payments')")
    page.locator("text=1 payment recorded.").wait_for()
    page.click("a:has-text('All lines (2)')")
    page.locator("tr.bank-line:has-text('Globex Corporation') a:has-text('2026-0001')").wait_for()
    screenshot(page, "bank-recorded")

    payment = Payment.objects.get()
    assert (payment.amount, payment.bank_line.status) == (119, BankLine.Status.MATCHED)
    assert BankLine.objects.get(reference="Zinsen").status == BankLine.Status.IGNORED
