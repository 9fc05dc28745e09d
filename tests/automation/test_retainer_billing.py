"""Retainer time is billed once: schedules, manual drafts and unbilled views leave it alone;
the arithmetic keeps every hour; two schedulers close each period once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from punchclock.automation import retainer_runs as runs
from punchclock.automation import retainers
from punchclock.automation import services as schedules
from punchclock.automation.models import Action, RetainerPeriod, ScheduleRun
from punchclock.automation.retainer_math import Terms, settle
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import BilledEntry, Invoice
from punchclock.invoicing.unbilled import client_unbilled
from tests.automation.test_retainers import closed, make, worked
from tests.concurrency import at_once


def test_a_schedule_for_the_same_client_bills_only_what_the_retainer_does_not_cover(billing):
    make(billing, project=billing.project)  # the API project only
    schedules.save_schedule(
        billing.owner,
        client=billing.client,
        frequency="monthly",
        starts_on=date(2026, 1, 1),
        action=Action.ISSUE,
    )
    covered = worked(billing, date(2026, 1, 5), 120)
    other = worked(billing, date(2026, 1, 6), 60, project=billing.other_project)
    schedules.run_due(today=date(2026, 2, 1))
    runs.run_due(today=date(2026, 2, 1))
    run = ScheduleRun.objects.get()
    assert run.invoice.net_total == Decimal("80.00")  # 1 h website at 80
    assert BilledEntry.objects.get(entry=other).line.invoice == run.invoice
    (january,) = closed()
    assert BilledEntry.objects.get(entry=covered).line.invoice == january.invoice
    assert january.used == 2 * 3600
    assert BilledEntry.objects.count() == 2  # each entry on exactly one invoice


def test_unbilled_work_and_manual_drafts_never_offer_covered_time(billing):
    make(billing)
    worked(billing, date(2026, 1, 5), 120)
    worked(billing, date(2025, 12, 20), 60)  # before the retainer: billable as usual
    work = client_unbilled(billing.client)
    assert work.billed_seconds == 3600
    draft = invoicing.create_draft(
        billing.client,
        by=billing.owner,
        period_start=date(2025, 12, 1),
        period_end=date(2026, 1, 31),
    )
    assert draft.net_total == Decimal("100.00")
    runs.run_due(today=date(2026, 2, 1))
    assert closed()[0].used == 2 * 3600


def test_an_ended_retainer_leaves_later_work_to_the_schedules(billing):
    make(billing, ends_on=date(2026, 1, 31))
    worked(billing, date(2026, 2, 5), 60)
    assert client_unbilled(billing.client).billed_seconds == 3600
    runs.run_due(today=date(2026, 4, 1))
    assert [p.period_start for p in closed()] == [date(2026, 1, 1)]


def test_a_full_credit_note_gives_the_time_back_to_the_next_close(billing):
    retainer = make(billing)
    worked(billing, date(2026, 1, 5), 120)
    runs.run_due(today=date(2026, 2, 1))
    invoicing.credit_invoice(closed()[0].invoice, by=billing.owner)
    # Drafts from now on: the credit note is dated by the real clock, issues cannot go back.
    retainers.save_retainer(billing.owner, retainer=retainer, action=Action.DRAFT)
    runs.run_due(today=date(2026, 3, 1))
    assert [p.used for p in closed()] == [2 * 3600, 2 * 3600]


policies = st.tuples(st.sampled_from(["bill", "carry"]), st.sampled_from(["expire", "roll_over"]))


@settings(max_examples=300, deadline=None)
@given(
    included=st.integers(min_value=1, max_value=200 * 3600),
    policy=policies,
    cap=st.one_of(st.none(), st.integers(min_value=0, max_value=100 * 3600)),
    used=st.lists(st.integers(min_value=0, max_value=400 * 3600), min_size=1, max_size=24),
)
def test_a_chain_of_periods_loses_and_makes_up_no_second(included, policy, cap, used):
    terms = Terms(included, policy[0], policy[1], cap)
    carried = 0
    chain = []
    for amount in used:
        step = settle(terms, carried_in=carried, used=amount)
        assert step.carried_in == carried
        # Each period: what was available either was used, or left as billed/carried/expired.
        assert step.included + step.carried_in - step.used == (
            step.expired + step.carried_out - step.overage
        )
        assert min(step.overage, step.expired) >= 0
        assert step.overage == 0 or step.carried_out == 0
        if cap is not None and step.carried_out > 0:
            assert step.carried_out <= cap
        carried = step.carried_out
        chain.append(step)
    total_used = sum(s.used for s in chain)
    assert total_used == (
        len(chain) * included
        + sum(s.overage for s in chain)
        - sum(s.expired for s in chain)
        - chain[-1].carried_out
    )


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_close_each_period_once(billing, wipe_invoices_after):
    make(billing)
    for month in (1, 2, 3):
        worked(billing, date(2026, month, 10), 11 * 60)
    _, failures = at_once(lambda: runs.run_due(today=date(2026, 4, 1)))
    assert failures == []
    assert RetainerPeriod.objects.count() == 3
    assert Invoice.objects.count() == 3
    assert [p.overage for p in closed()] == [3600] * 3


@pytest.mark.django_db(transaction=True)
def test_a_crash_mid_close_leaves_nothing_half_done(billing, wipe_invoices_after, monkeypatch):
    make(billing)
    worked(billing, date(2026, 1, 10), 11 * 60)
    real_issue = invoicing.issue_invoice

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(invoicing, "issue_invoice", crash)
    with pytest.raises(SystemExit):
        runs.run_due(today=date(2026, 2, 1))
    assert (RetainerPeriod.objects.count(), Invoice.objects.count()) == (0, 0)
    assert BilledEntry.objects.count() == 0
    monkeypatch.setattr(invoicing, "issue_invoice", real_issue)
    runs.run_due(today=date(2026, 2, 1))
    assert (RetainerPeriod.objects.count(), Invoice.objects.count()) == (1, 1)
