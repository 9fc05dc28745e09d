"""Reminders stepped day by day: each level once on its day, each fee once, none once paid."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.utils import timezone

from punchclock.automation import reminder_settings, reminders
from punchclock.automation.models import ReminderLevel, ReminderSent, ReminderTemplate
from punchclock.automation.reminder_settings import LevelInput
from punchclock.invoicing import services
from punchclock.invoicing.models import Invoice, InvoiceDocument, InvoiceKind, InvoiceStatus
from punchclock.payments import services as payments
from punchclock.payments.balances import State, balance_of
from tests.invoicing.conftest import free_draft
from tests.mailers import REFUSING

BERLIN = ZoneInfo("Europe/Berlin")
ISSUED = date(2026, 11, 2)
DUE = ISSUED + timedelta(days=14)  # 16 Nov 2026


class Clock:
    """A frozen clock: every `now()` in Django and Punchclock reads this instant."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.instant = datetime(2026, 11, 2, 8, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: self.instant)

    def day(self, day: date, hour: int = 6) -> date:
        """A morning in Berlin, when the worker runs."""
        self.instant = datetime.combine(day, time(hour), tzinfo=BERLIN).astimezone(UTC)
        return day


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def level(number: int, days: int, **fields) -> LevelInput:
    return LevelInput(
        level=number,
        days_after_due=days,
        repeat_every_days=fields.pop("repeat", 14),
        late_fee=fields.pop("late_fee", "none"),
        late_fee_amount=Decimal(fields.pop("amount", "0")),
        late_fee_taxed=fields.pop("taxed", False),
        is_active=fields.pop("is_active", True),
    )


STANDARD = [
    level(1, 7),
    level(2, 21, late_fee="fixed", amount="5"),
    level(3, 35, late_fee="percent", amount="2", taxed=True),
    level(4, 49, repeat=14),
]


def issue(agency, *, on: date = ISSUED) -> Invoice:
    draft = free_draft(agency, ("Consulting", "3", "120.00"))
    return services.issue_invoice(draft, by=agency.owner, issue_date=on)


@pytest.fixture
def dunning(billing, clock):
    """Globex owes 428.40 EUR due 16 Nov 2026; reminders at +7, +21 (5 € fee), +35 (2 % + VAT),
    then every 14 days."""
    organization = billing.organization
    organization.registration_number = "HRB 12345 B"
    organization.save()
    billing.client.email = "ap@globex.test"
    billing.client.payment_terms_days = 14
    billing.client.save()
    reminder_settings.set_up(organization, by=billing.owner)
    reminder_settings.save_levels(organization, by=billing.owner, levels=STANDARD)
    clock.day(ISSUED)
    billing.invoice = issue(billing)
    return billing


def run_days(clock: Clock, first: date, last: date) -> list[tuple[int, str]]:
    """Run the worker once every morning; (days after the due date, subject) of each email."""
    sent = []
    day = first
    while day <= last:
        clock.day(day)
        before = len(mail.outbox)
        reminders.send_due()
        sent += [((day - DUE).days, m.subject) for m in mail.outbox[before:]]
        day += timedelta(days=1)
    return sent


def pay(agency, amount: str, on: date) -> None:
    payments.record_payment(
        agency.invoice,
        payments.PaymentInput(amount=Decimal(amount), received_on=on),
        by=agency.owner,
    )


def after(days: int) -> date:
    return DUE + timedelta(days=days)


def test_ninety_days_after_the_due_date_bring_each_level_once_on_its_day(dunning, clock):
    invoice = dunning.invoice

    sent = run_days(clock, ISSUED, after(90))

    assert sent == [
        (7, "Friendly reminder: invoice 2026-0001"),
        (21, "Second reminder: invoice 2026-0001 is overdue"),
        (35, "Final notice: invoice 2026-0001"),
        (49, "Invoice 2026-0001 is still unpaid"),
        (63, "Invoice 2026-0001 is still unpaid"),
        (77, "Invoice 2026-0001 is still unpaid"),
    ]
    rows = list(ReminderSent.objects.order_by("pk"))
    assert [(r.level, r.repetition) for r in rows] == [
        (1, 0),
        (2, 0),
        (3, 0),
        (4, 0),
        (4, 1),
        (4, 2),
    ]
    assert all(reminders.state_of(r) == reminders.State.SENT for r in rows)
    assert {r.invoice_id for r in rows} == {invoice.pk}, "late-fee documents are not dunned"
    assert all(m.to == ["ap@globex.test"] for m in mail.outbox)
    assert rows[0].recipients == ["ap@globex.test"]
    assert rows[0].sent_at == datetime(2026, 11, 23, 5, tzinfo=UTC)  # 06:00 in Berlin


def test_late_fees_are_separate_numbered_documents_and_the_invoice_never_changes(dunning, clock):
    invoice = dunning.invoice
    issued = (invoice.sha256, invoice.gross_total, list(invoice.lines.values()))
    pdf = bytes(InvoiceDocument.objects.get(invoice=invoice).content)

    run_days(clock, ISSUED, after(36))

    fixed, percent = (r.late_fee_invoice for r in ReminderSent.objects.order_by("level")[1:3])
    assert (fixed.number, percent.number) == ("2026-0002", "2026-0003")
    assert (fixed.kind, fixed.status, fixed.series_id) == (
        InvoiceKind.INVOICE,
        InvoiceStatus.ISSUED,
        invoice.series_id,
    )
    assert (fixed.issue_date, percent.issue_date) == (after(21), after(35))
    [line] = fixed.lines.all()
    assert line.description == "Late fee for invoice 2026-0001 (reminder 2)"
    assert (line.tax_category, fixed.net_total, fixed.gross_total) == ("O", 5, Decimal("5.00"))
    [line] = percent.lines.all()
    assert (line.tax_category, line.tax_rate) == ("S", 19)
    assert percent.net_total == Decimal("8.57")  # 2 % of 428.40 = 8.568, rounded half up
    assert percent.gross_total == Decimal("10.20")  # + 19 % VAT (1.63)

    second = mail.outbox[1]
    assert [name for name, _content, _type in second.attachments] == [
        "2026-0001.pdf",
        "2026-0002.pdf",
    ]
    assert second.attachments[0][1] == pdf
    assert second.attachments[1][1] == bytes(InvoiceDocument.objects.get(invoice=fixed).content)
    assert "A late fee of €5.00 is charged with invoice 2026-0002, attached." in second.body
    assert "late fee" not in mail.outbox[0].body.lower()
    assert "€10.20" in mail.outbox[2].body

    invoice.refresh_from_db()
    assert (invoice.sha256, invoice.gross_total, list(invoice.lines.values())) == issued
    assert bytes(InvoiceDocument.objects.get(invoice=invoice).content) == pdf
    assert services.document_hash(invoice, list(invoice.lines.all())) == invoice.sha256
    assert services.verify_chain(dunning.organization) is None


def test_ten_runs_a_day_send_each_step_once_and_charge_each_fee_once(dunning, clock):
    for days in (7, 21):
        clock.day(after(days))
        for _ in range(10):
            reminders.send_due()
    assert len(mail.outbox) == 2
    assert ReminderSent.objects.count() == 2
    assert Invoice.objects.count() == 2  # the invoice and one late fee


def test_a_payment_in_full_stops_the_rest(dunning, clock):
    assert len(run_days(clock, ISSUED, after(8))) == 1
    pay(dunning, "428.40", after(8))
    assert run_days(clock, after(9), after(90)) == []
    assert ReminderSent.objects.count() == 1
    assert Invoice.objects.count() == 1


def test_a_partial_payment_lowers_the_amount_named_and_the_percentage_fee(dunning, clock):
    run_days(clock, ISSUED, after(8))
    pay(dunning, "100.00", after(8))
    run_days(clock, after(9), after(36))
    first, second, third = mail.outbox
    assert "€428.40 is still open" in first.body
    assert "€328.40 is still open" in second.body
    assert "€328.40 is open" in third.body
    rows = list(ReminderSent.objects.order_by("level"))
    assert [r.balance for r in rows] == [Decimal("428.40"), Decimal("328.40"), Decimal("328.40")]
    assert rows[2].late_fee_invoice.net_total == Decimal("6.57")  # 2 % of 328.40 = 6.568


def test_a_credit_note_for_the_whole_invoice_stops_them(dunning, clock):
    run_days(clock, ISSUED, after(22))
    services.credit_invoice(dunning.invoice, by=dunning.owner, issue_date=after(22))
    assert run_days(clock, after(23), after(90)) == []
    assert ReminderSent.objects.count() == 2


LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def test_an_invoice_paid_between_claim_and_send_gets_no_reminder_and_no_fee(
    dunning, clock, settings
):
    run_days(clock, ISSUED, after(7))
    settings.MAILERS = REFUSING
    run_days(clock, after(21), after(21))  # claimed with its fee, but the mail server is down
    claimed = ReminderSent.objects.get(level=2)
    assert reminders.state_of(claimed) == reminders.State.WAITING
    pay(dunning, "428.40", after(21))
    settings.MAILERS = LOCMEM

    [outcome] = reminders.send_due()

    assert outcome.status == reminders.State.WITHDRAWN
    assert len(mail.outbox) == 1
    claimed.refresh_from_db()
    assert reminders.state_of(claimed) == reminders.State.WITHDRAWN
    fee = claimed.late_fee_invoice
    note = fee.credit_notes.get()
    assert f"Late fee {fee.number} cancelled by credit note {note.number}" in claimed.message
    assert balance_of(fee, after(21)).state == State.CREDITED
    assert services.verify_chain(dunning.organization) is None
    assert run_days(clock, after(22), after(90)) == []


def test_a_refused_email_waits_blocks_the_next_level_and_goes_once(dunning, clock, settings):
    settings.MAILERS = REFUSING
    run_days(clock, after(7), after(7))
    row = ReminderSent.objects.get()
    assert reminders.state_of(row) == reminders.State.WAITING
    assert "mail server did not take it" in row.message
    run_days(clock, after(8), after(22))  # level 2's day passes while level 1 waits
    assert ReminderSent.objects.count() == 1

    settings.MAILERS = LOCMEM
    sent = run_days(clock, after(23), after(23))
    assert sent == [(23, "Friendly reminder: invoice 2026-0001")]
    row.refresh_from_db()
    assert (reminders.state_of(row), row.message) == (reminders.State.SENT, "")
    # Level 2 keeps its 14 days' distance from level 1, which went out on day 23.
    assert run_days(clock, after(24), after(37)) == [
        (37, "Second reminder: invoice 2026-0001 is overdue")
    ]


def test_a_worker_killed_before_handing_over_leaves_nothing_and_charges_once(
    dunning, clock, monkeypatch
):
    run_days(clock, ISSUED, after(7))
    real = reminders._email

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reminders, "_email", killed)
    clock.day(after(21))
    with pytest.raises(KeyboardInterrupt):
        reminders.send_due()
    assert list(ReminderSent.objects.values_list("level", flat=True)) == [1]
    assert Invoice.objects.count() == 1, "the late fee went with the claim"
    monkeypatch.setattr(reminders, "_email", real)

    for _ in range(3):
        reminders.send_due()
    assert len(mail.outbox) == 2
    fee = ReminderSent.objects.get(level=2).late_fee_invoice
    assert mail.outbox[1].attachments[1][0] == f"{fee.number}.pdf"
    assert Invoice.objects.count() == 2


def test_a_worker_killed_while_handing_over_never_sends_twice_by_itself(
    dunning, clock, monkeypatch
):
    real = EmailMessage.send

    def killed(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(EmailMessage, "send", killed)
    clock.day(after(7))
    with pytest.raises(KeyboardInterrupt):
        reminders.send_due()
    monkeypatch.setattr(EmailMessage, "send", real)
    clock.day(after(8))
    row = ReminderSent.objects.get()
    assert reminders.state_of(row) == reminders.State.UNCONFIRMED
    assert row.recipients == ["ap@globex.test"]

    for _ in range(3):
        reminders.send_due()
    assert mail.outbox == []

    outcome = reminders.send_again(row, by=dunning.owner)
    assert outcome.status == reminders.State.SENT
    assert len(mail.outbox) == 1
    with pytest.raises(ValidationError, match="not confirmed"):
        reminders.send_again(row, by=dunning.owner)


def test_a_worker_killed_while_issuing_the_fee_leaves_nothing(dunning, clock, monkeypatch):
    run_days(clock, ISSUED, after(7))
    real = reminders.invoicing.issue_invoice

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reminders.invoicing, "issue_invoice", killed)
    clock.day(after(21))
    with pytest.raises(KeyboardInterrupt):
        reminders.send_due()
    assert ReminderSent.objects.count() == 1
    assert Invoice.objects.count() == 1, "the draft of the fee went with the claim"
    monkeypatch.setattr(reminders.invoicing, "issue_invoice", real)
    reminders.send_due()
    reminders.send_due()
    assert ReminderSent.objects.count() == 2
    assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == 2


def test_a_german_client_gets_german_reminders_and_a_german_fee(dunning, clock):
    dunning.client.language = "de"
    dunning.client.save()
    clock.day(ISSUED)
    invoice = issue(dunning)
    run_days(clock, ISSUED, after(21))
    german = [m for m in mail.outbox if invoice.number in m.subject]
    assert [m.subject for m in german] == [
        "Zahlungserinnerung: Rechnung 2026-0002",
        "Mahnung: Rechnung 2026-0002 ist überfällig",
    ]
    assert "Offen sind noch 428,40\N{NO-BREAK SPACE}€" in german[0].body
    assert "fällig am 16. November 2026" in german[0].body
    assert "Mahngebühr von 5,00\N{NO-BREAK SPACE}€" in german[1].body
    fee = ReminderSent.objects.get(invoice=invoice, level=2).late_fee_invoice
    assert fee.lines.get().description == "Mahngebühr für Rechnung 2026-0002 (2. Mahnung)"
    assert fee.language == "de"


def test_the_organizations_own_wording_is_used(dunning, clock):
    reminder_settings.save_template(
        dunning.organization,
        by=dunning.owner,
        level=1,
        language="en",
        subject="{client}: {amount} open on {number}",
        body="Dear {client},\n{days_overdue} days late: {link}\n{late_fee_text}\n\n{organization}",
    )
    run_days(clock, after(7), after(7))
    [message] = mail.outbox
    assert message.subject == "Globex: €428.40 open on 2026-0001"
    assert message.body.startswith("Dear Globex,\n7 days late: http://")
    assert "/portal/" in message.body
    assert message.body.endswith("\n\nAcme Agency\n")


@pytest.mark.parametrize(
    ("subject", "body", "field", "error"),
    [
        ("Invoice {number}", "Pay {amount_due}", "body", "“{amount_due}” is not a placeholder"),
        ("{number.__class__}", "Pay", "subject", "is not a placeholder"),
        ("Invoice {number!r}", "Pay", "subject", "is not a placeholder"),
        ("Invoice {", "Pay", "subject", "Unbalanced braces"),
        ("Two\nlines", "Pay", "subject", "single, non-empty line"),
        ("Invoice", "  ", "body", "Write the reminder's text"),
    ],
)
def test_bad_wording_is_refused_with_a_clear_message_and_nothing_written(
    dunning, subject, body, field, error
):
    with pytest.raises(ValidationError) as raised:
        reminder_settings.save_template(
            dunning.organization,
            by=dunning.owner,
            level=2,
            language="de",
            subject=subject,
            body=body,
        )
    assert error in " ".join(raised.value.message_dict[field])
    assert not ReminderTemplate.objects.exists()


def test_a_client_without_billing_email_is_skipped_until_it_has_one(dunning, clock):
    dunning.client.email = ""
    dunning.client.save()
    clock.day(after(7))
    [outcome] = reminders.send_due()
    assert outcome.status == "skipped"
    assert "Globex has no billing email" in outcome.message
    assert not ReminderSent.objects.exists()
    dunning.client.email = "ap@globex.test"
    dunning.client.save()
    assert run_days(clock, after(8), after(8)) == [(8, "Friendly reminder: invoice 2026-0001")]


def test_reminders_switched_on_late_walk_the_levels_at_their_pace(dunning, clock):
    ReminderLevel.objects.update(is_active=False)
    run_days(clock, ISSUED, after(39))
    ReminderLevel.objects.update(is_active=True)
    sent = run_days(clock, after(40), after(90))
    assert [days for days, _subject in sent] == [40, 54, 68, 82]


def test_days_turn_at_midnight_in_the_organizations_zone(dunning, clock):
    clock.instant = datetime(2026, 11, 22, 22, 59, tzinfo=UTC)  # 23:59 on the 22nd in Berlin
    reminders.send_due()
    assert mail.outbox == []
    clock.instant = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # midnight: the 23rd, day +7
    reminders.send_due()
    assert len(mail.outbox) == 1


def test_a_heads_up_before_the_due_date_but_never_on_the_issue_day(dunning, clock):
    reminder_settings.save_levels(
        dunning.organization,
        by=dunning.owner,
        levels=[level(1, -3), *STANDARD[1:]],
    )
    dunning.client.payment_terms_days = 2
    dunning.client.save()
    clock.day(after(-5))
    quick = issue(dunning, on=after(-5))  # due 13 Nov, a heads-up "3 days before" is 10 Nov
    sent = run_days(clock, after(-5), after(-3))
    assert sent == [
        (-4, f"Friendly reminder: invoice {quick.number}"),
        (-3, "Friendly reminder: invoice 2026-0001"),
    ]


def test_levels_must_come_in_order_and_an_untaxed_fee_needs_a_registration_number(dunning):
    before = list(ReminderLevel.objects.values())
    with pytest.raises(ValidationError, match="Level 3 must come after level 2"):
        reminder_settings.save_levels(
            dunning.organization, by=dunning.owner, levels=[level(2, 21), level(3, 20)]
        )
    with pytest.raises(ValidationError, match="repeat every 7 to 365 days"):
        reminder_settings.save_levels(
            dunning.organization, by=dunning.owner, levels=[level(4, 60, repeat=2)]
        )
    dunning.organization.registration_number = ""
    dunning.organization.save()
    with pytest.raises(ValidationError, match="registration number"):
        reminder_settings.save_levels(
            dunning.organization,
            by=dunning.owner,
            levels=[level(2, 21, late_fee="fixed", amount="5")],
        )
    assert list(ReminderLevel.objects.values()) == before
    with pytest.raises(PermissionDenied):
        reminder_settings.save_levels(dunning.organization, by=dunning.member, levels=STANDARD)


def test_nothing_is_sent_before_reminders_are_set_up(billing, clock):
    billing.client.email = "ap@globex.test"
    billing.client.save()
    clock.day(ISSUED)
    invoice = issue(billing)
    clock.day(invoice.due_date + timedelta(days=60))
    assert reminders.send_due() == []
    assert mail.outbox == []


def test_a_fee_that_cannot_be_issued_holds_the_step_back_and_says_why(dunning, clock):
    run_days(clock, ISSUED, after(7))
    dunning.organization.registration_number = ""  # removed after the levels were saved
    dunning.organization.save()
    clock.day(after(21))

    [outcome] = reminders.send_due()

    assert outcome.status == "failed"
    assert "registration number" in outcome.message
    assert ReminderSent.objects.count() == 1
    assert Invoice.objects.count() == 1
    assert len(mail.outbox) == 1
    dunning.organization.registration_number = "HRB 12345 B"
    dunning.organization.save()
    assert run_days(clock, after(22), after(22)) == [
        (22, "Second reminder: invoice 2026-0001 is overdue")
    ]


def test_a_percentage_fee_that_rounds_to_nothing_is_not_charged(dunning, clock):
    run_days(clock, ISSUED, after(22))
    pay(dunning, "428.20", after(22))  # 0.20 open: 2 % of it is 0.004
    run_days(clock, after(23), after(35))
    third = ReminderSent.objects.get(level=3)
    assert third.late_fee_invoice is None
    assert "€0.20 is open" in mail.outbox[-1].body
    assert "late fee" not in mail.outbox[-1].body.lower()
