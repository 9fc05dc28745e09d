"""Fifty drafts issued from eight threads at once get exactly the numbers 1..50."""

from __future__ import annotations

import queue
from datetime import date

import pytest

from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice, NumberSeries
from tests.concurrency import at_once
from tests.invoicing.conftest import free_draft

DRAFTS = 50
THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_fifty_drafts_from_eight_threads_are_numbered_1_to_50(billing, wipe_invoices_after):
    series = services.create_series(
        billing.organization, by=billing.owner, name="plain", pattern="{seq}", yearly_reset=False
    )
    todo: queue.Queue[Invoice] = queue.Queue()
    for n in range(DRAFTS):
        todo.put(free_draft(billing, (f"Work {n}", "1", "100")))

    def issue_all() -> None:
        while True:
            try:
                draft = todo.get_nowait()
            except queue.Empty:
                return
            services.issue_invoice(
                draft, by=billing.owner, issue_date=date(2026, 11, 30), series=series
            )

    _, failures = at_once(issue_all, THREADS)
    assert failures == []
    numbers = sorted(int(n) for n in Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, DRAFTS + 1))
    assert NumberSeries.objects.get(pk=series.pk).counters.get().last == DRAFTS
    assert services.verify_chain(billing.organization) is None
