"""Two workers at once, each running ten times a day, against a real SMTP server: one email
and one late fee per step."""

from __future__ import annotations

import pytest

from punchclock.automation import reminders
from punchclock.automation.models import ReminderSent
from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice, InvoiceStatus
from tests.automation import test_reminders as base
from tests.concurrency import at_once
from tests.invoicing import test_sending

# The dunning fixtures of the domain tests and the SMTP server of the sending tests.
clock, dunning, after = base.clock, base.dunning, base.after
smtp_server = test_sending.smtp_server


def workers_at_once(count: int, runs: int) -> list[str]:
    """`count` workers start together, each running `runs` times; the errors they met."""

    def worker() -> None:
        for _ in range(runs):
            reminders.send_due()

    return at_once(worker, count)[1]


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_ten_times_send_each_step_once_through_smtp(
    dunning,
    clock,
    smtp_server,
    settings,
    wipe_invoices_after,
):
    inbox, port = smtp_server
    settings.MAILERS = test_sending._smtp_mailer(port)
    settings.DEFAULT_FROM_EMAIL = "bills@punch.test"
    for days in (7, 21, 35):
        clock.day(after(days))
        assert workers_at_once(2, runs=10) == []

    subjects = [message["Subject"] for _sender, _to, message in inbox.messages]
    assert subjects == [
        "Friendly reminder: invoice 2026-0001",
        "Second reminder: invoice 2026-0001 is overdue",
        "Final notice: invoice 2026-0001",
    ]
    assert all(to == ["ap@globex.test"] for _sender, to, _message in inbox.messages)
    second = inbox.messages[1][2]
    assert [a.get_filename() for a in second.iter_attachments()] == [
        "2026-0001.pdf",
        "2026-0002.pdf",
    ]
    rows = ReminderSent.objects.order_by("level")
    assert [(r.level, reminders.state_of(r)) for r in rows] == [
        (1, "sent"),
        (2, "sent"),
        (3, "sent"),
    ]
    assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == 3  # two late fees
    assert not Invoice.objects.filter(status=InvoiceStatus.DRAFT).exists()
    assert services.verify_chain(dunning.organization) is None
