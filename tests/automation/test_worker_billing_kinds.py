"""The tick finds organizations whose only due work is a recurring invoice or a retainer's
close, and their organization's job bills it once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from punchclock.automation import recurring, retainers, tasks
from punchclock.automation.models import RecurringRun, RetainerPeriod
from punchclock.invoicing.models import Invoice, InvoiceStatus
from tests.automation.test_recurring import hosting
from tests.automation.test_retainers import make, worked
from tests.automation.test_worker import APRIL_FIRST, drain


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch):
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


def issued() -> int:
    return Invoice.objects.filter(status=InvoiceStatus.ISSUED).count()


def test_a_recurring_invoice_alone_gets_its_organization_a_job(billing, monkeypatch):
    hosting(billing)  # monthly from 1 January, in advance: January to April are due
    monkeypatch.setattr(recurring, "now", lambda: APRIL_FIRST)
    job = f"run_schedules:{billing.organization.pk}"
    assert job in tasks.tick(at=APRIL_FIRST)
    drain()
    (result,) = DBTaskResult.objects.filter(task_path__endswith="run_schedules")
    assert result.return_value == {"recurring issued": 4}
    assert RecurringRun.objects.count() == 4
    assert issued() == 4
    # Billed: the next minute finds nothing due for it.
    assert job not in tasks.tick(at=APRIL_FIRST + timedelta(minutes=1))
    assert issued() == 4


def test_a_retainer_alone_gets_its_organization_a_job(billing, monkeypatch):
    make(billing)  # monthly from 1 January: January to March have ended
    worked(billing, APRIL_FIRST.date() - timedelta(days=40))
    monkeypatch.setattr(retainers, "now", lambda: APRIL_FIRST)
    job = f"run_schedules:{billing.organization.pk}"
    assert job in tasks.tick(at=APRIL_FIRST)
    drain()
    (result,) = DBTaskResult.objects.filter(task_path__endswith="run_schedules")
    assert result.return_value == {"retainer issued": 3}
    assert RetainerPeriod.objects.count() == 3
    assert issued() == 3
    assert job not in tasks.tick(at=APRIL_FIRST + timedelta(minutes=1))


def test_an_organization_with_nothing_due_gets_no_job(billing, monkeypatch):
    make(billing, starts_on=APRIL_FIRST.date().replace(day=1))  # its first month runs still
    hosting(billing, starts_on=APRIL_FIRST.date().replace(month=5, day=1))
    monkeypatch.setattr(retainers, "now", lambda: APRIL_FIRST)
    monkeypatch.setattr(recurring, "now", lambda: APRIL_FIRST)
    queued = tasks.tick(at=APRIL_FIRST)
    assert not [name for name in queued if name.startswith("run_schedules")]
