"""Payments recorded at the same moment never allocate more than an invoice owes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from punchclock.payments import services
from punchclock.payments.balances import balance_of, client_credit
from punchclock.payments.models import Allocation, Payment
from tests.concurrency import at_once
from tests.payments.conftest import TODAY, issued, paid

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_six_payments_at_once_pay_the_invoice_once_and_the_rest_is_credit(
    billing, frozen_today, wipe_invoices_after
):
    invoice = issued(billing)  # 119.00
    _, failures = at_once(
        lambda: services.record_payment(invoice, paid("50.00"), by=billing.owner), THREADS
    )
    assert failures == []
    assert Payment.objects.count() == THREADS
    allocated = sorted(a.amount for a in Allocation.objects.all())
    assert sum(allocated) == Decimal("119.00")
    assert allocated == [Decimal("19.00"), Decimal("50.00"), Decimal("50.00")]
    assert balance_of(invoice, TODAY).balance == 0
    assert client_credit(billing.client.pk) == {"EUR": Decimal("181.00")}
