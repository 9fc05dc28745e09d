"""Payments recorded at the same moment never allocate more than an invoice owes."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from punchclock.payments import services
from punchclock.payments.balances import balance_of, client_credit
from punchclock.payments.models import Allocation, Payment
from tests.payments.conftest import TODAY, issued, paid

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_six_payments_at_once_pay_the_invoice_once_and_the_rest_is_credit(
    billing, frozen_today, wipe_invoices_after
):
    invoice = issued(billing)  # 119.00
    barrier = threading.Barrier(THREADS)
    failures: list[str] = []

    def pay() -> None:
        try:
            barrier.wait()
            services.record_payment(invoice, paid("50.00"), by=billing.owner)
        except Exception as exc:  # any error is the failure this test looks for
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=pay) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert Payment.objects.count() == THREADS
    allocated = sorted(a.amount for a in Allocation.objects.all())
    assert sum(allocated) == Decimal("119.00")
    assert allocated == [Decimal("19.00"), Decimal("50.00"), Decimal("50.00")]
    assert balance_of(invoice, TODAY).balance == 0
    assert client_credit(billing.client.pk) == {"EUR": Decimal("181.00")}
