"""Closing retainer periods: one invoice per period, exactly once, nothing half done.

A close inserts its `RetainerPeriod` (unique on retainer and period start) first and then,
in the same transaction, measures the drawn-down time, makes the invoice (the fee line and
any overage line) and links every drawn-down entry to it. A second scheduler blocks on the
unique index until the first commits and then finds the period taken; a crash rolls all of
it back. Sending leaves the transaction, as for billing schedules (decision 0010).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, require
from punchclock.automation import notification_mail, notifications
from punchclock.automation.models import (
    Action,
    Retainer,
    RetainerKind,
    RetainerPeriod,
    RetainerPeriodStatus,
)
from punchclock.automation.periods import Period
from punchclock.automation.retainer_math import Settlement, hours, settle, units_money
from punchclock.automation.retainers import (
    RetainerError,
    drawable,
    due,
    label,
    last_closed,
    measure,
    period_of,
    periods_from,
    places,
    project_chain,
    show,
    terms,
    today_for,
)
from punchclock.core.services import field_error
from punchclock.invoicing import sending
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import BilledEntry, EventKind, Invoice, Unit
from punchclock.invoicing.totals import line_net
from punchclock.projects.models import RateKind
from punchclock.projects.ratebook import RateBook

log = logging.getLogger(__name__)
SEND_ATTEMPTS = 5
FAILED = "failed"
ZERO = Decimal(0)


@dataclass
class Outcome:
    retainer: Retainer
    period: Period
    status: str  # a RetainerPeriodStatus, or "failed"
    closed: RetainerPeriod | None = None
    message: str = ""

    @property
    def invoice(self) -> Invoice | None:
        return self.closed.invoice if self.closed else None


# The overage's price --------------------------------------------------------------------------


def overage_rate(retainer: Retainer, period: Period) -> Decimal:
    """The retainer's overage rate, else the project's or client's (then the organization's)
    bill rate in the client's currency on the period's last day."""
    if retainer.overage_rate is not None:
        return retainer.overage_rate
    currency = retainer.client.currency
    keys = [f"client:{retainer.client_id}", f"organization:{currency}"]
    if retainer.project_id is not None:
        keys.insert(0, f"project:{retainer.project_id}")
    book = RateBook.load(retainer.organization, keys)
    for key in keys:
        rate = book.at(RateKind.BILL, key, period.end)
        if rate is not None and rate.currency == currency:
            return rate.amount
    raise RetainerError(
        f"No overage rate: set one on the retainer, or a {currency} bill rate for "
        f"{retainer.project or retainer.client}."
    )


def overage_amount(retainer: Retainer, settled: Settlement, rate: Decimal | None) -> Decimal:
    if not settled.overage:
        return ZERO
    if retainer.kind == RetainerKind.AMOUNT:
        return units_money(settled.overage, places(retainer))
    assert rate is not None
    return line_net(hours(settled.overage), rate, ZERO, retainer.client.currency)


# Closing ------------------------------------------------------------------------------------


def close_period(
    retainer: Retainer, period: Period, *, today: date | None = None
) -> Outcome | None:
    """Close one ended period: its figures, its invoice, its entries; None when taken."""
    today = today or today_for(retainer)
    try:
        with transaction.atomic():
            closed = _close(retainer, period, today=today)
    except IntegrityError:
        return None  # another scheduler closed this period at the same moment
    except (RetainerError, ValidationError, PermissionDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        Retainer.objects.filter(pk=retainer.pk).update(message=text, failed_on=today)
        retainer.message, retainer.failed_on = text, today
        log.warning("Retainer %s, period %s: %s", retainer.pk, period, text)
        return Outcome(retainer, period, FAILED, None, text)
    if closed is None:
        return None
    if retainer.message:
        Retainer.objects.filter(pk=retainer.pk).update(message="", failed_on=None)
        retainer.message, retainer.failed_on = "", None
    if closed.status == RetainerPeriodStatus.ISSUED and retainer.action == Action.SEND:
        _send(closed)
        closed.refresh_from_db()
    if closed.status == RetainerPeriodStatus.DRAFTED and closed.invoice_id is not None:
        # The worker is the one closing anyway: mail the news now, not a minute on.
        notification_mail.deliver_draft_news(closed.invoice_id)
    return Outcome(retainer, period, closed.status, closed, closed.message)


def _close(retainer: Retainer, period: Period, *, today: date) -> RetainerPeriod | None:
    by = retainer.run_as
    if not by.is_active or not can(by, "invoices.manage"):
        raise RetainerError(
            f"{by.user.display_name} may no longer issue invoices for this organization; "
            "save the retainer again as an owner or admin."
        )
    last = last_closed(retainer)
    if last is not None and last.period_start >= period.start:
        return None  # closed already
    expected = last.period_end if last else None
    if (expected is None and period.start != retainer.starts_on) or (
        expected is not None and (period.start - expected).days != 1
    ):
        raise RetainerError("Close the periods before this one first.")
    # The claim: a concurrent close of the same period waits here, then fails on the index.
    row = RetainerPeriod.objects.create(
        retainer=retainer,
        period_start=period.start,
        period_end=period.end,
        included=0,
        status=RetainerPeriodStatus.DRAFTED,
        closed_on=today,
    )
    entries = list(drawable(retainer, before=period.run_on).select_for_update(of=("self",)))
    used, billed = measure(retainer, entries)
    settled = settle(terms(retainer), carried_in=last.carried_out if last else 0, used=used)
    rate = None
    if settled.overage and retainer.kind == RetainerKind.HOURS:
        rate = overage_rate(retainer, period)
    invoice = _invoice(retainer, period, settled, rate, entries, billed)
    status = RetainerPeriodStatus.DRAFTED
    if retainer.action != Action.DRAFT:
        invoice = invoicing.issue_invoice(invoice, by=by, issue_date=today)
        status = RetainerPeriodStatus.ISSUED
    for name in ("included", "carried_in", "used", "overage", "carried_out", "expired"):
        setattr(row, name, getattr(settled, name))
    row.overage_rate, row.invoice, row.status = rate, invoice, status
    row.save()
    if status == RetainerPeriodStatus.DRAFTED:
        # Told in the close's transaction: a draft is announced once, with its period.
        source = f"The retainer “{retainer.name}”"
        notifications.draft_ready(invoice, period=label(retainer, period), source=source)
    return row


def _invoice(
    retainer: Retainer,
    period: Period,
    settled: Settlement,
    rate: Decimal | None,
    entries: list,
    billed: dict[int, int],
) -> Invoice:
    """The period's invoice: the fee, any overage, and every drawn-down entry linked to it."""
    by = retainer.run_as
    draft = invoicing.start_draft(retainer.client, by=by)
    Invoice.objects.filter(pk=draft.pk).update(period_start=period.start, period_end=period.end)
    fee_text = f"Retainer {label(retainer, period)}: {show(retainer, settled.included)} included"
    if settled.carried_in:
        word = "rolled over" if settled.carried_in > 0 else "overage carried"
        fee_text += f" ({show(retainer, abs(settled.carried_in))} {word})"
    fee_line = invoicing.add_line(
        draft, by=by, description=fee_text, quantity=Decimal(1), unit_price=retainer.fee
    )
    if settled.overage:
        if retainer.kind == RetainerKind.HOURS:
            assert rate is not None
            quantity = hours(settled.overage)
            invoicing.add_line(
                draft,
                by=by,
                description=f"Overage {quantity.normalize():f} h at {rate:.2f}",
                quantity=quantity,
                unit=Unit.HOUR,
                unit_price=rate,
            )
        else:
            amount = units_money(settled.overage, places(retainer))
            invoicing.add_line(
                draft,
                by=by,
                description=f"Work beyond the retainer's {show(retainer, settled.included)}",
                quantity=Decimal(1),
                unit_price=amount,
            )
    # Linked, the entries count as billed: schedules and manual drafts never take them.
    BilledEntry.objects.bulk_create(
        BilledEntry(entry=e, line=fee_line, billed_seconds=billed[e.pk]) for e in entries
    )
    draft.refresh_from_db()
    return draft


def _send(closed: RetainerPeriod) -> None:
    """Send an issued period's invoice once: the row is locked, the sent event checked."""
    with transaction.atomic():
        locked = (
            RetainerPeriod.objects.select_for_update(of=("self",))
            .select_related("retainer__run_as__user", "invoice")
            .get(pk=closed.pk)
        )
        if locked.status != RetainerPeriodStatus.ISSUED or locked.invoice is None:
            return
        if locked.invoice.events.filter(kind=EventKind.SENT).exists():
            locked.status = RetainerPeriodStatus.SENT
            locked.save(update_fields=["status", "updated_at"])
            return
        try:
            sending.send_invoice(locked.invoice, by=locked.retainer.run_as)
        except (ValidationError, OSError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            locked.attempts += 1
            locked.message = f"Issued, but sending failed: {text}"
            locked.save(update_fields=["attempts", "message", "updated_at"])
            log.warning("Retainer period %s: %s", locked.pk, locked.message)
            return
        locked.status, locked.message = RetainerPeriodStatus.SENT, ""
        locked.save(update_fields=["status", "message", "updated_at"])


def retry_sends(organization_id: int | None = None) -> None:
    waiting = RetainerPeriod.objects.filter(
        status=RetainerPeriodStatus.ISSUED,
        retainer__action=Action.SEND,
        invoice__isnull=False,
        attempts__lt=SEND_ATTEMPTS,
    )
    if organization_id is not None:
        waiting = waiting.filter(retainer__organization_id=organization_id)
    for closed in waiting:
        _send(closed)


# Running ------------------------------------------------------------------------------------


def close_due(retainer: Retainer, *, today: date | None = None) -> list[Outcome]:
    """Close the retainer's ended periods in order; stop at the first that fails."""
    outcomes = []
    for period in due(retainer, today=today):
        outcome = close_period(retainer, period, today=today)
        if outcome is None:
            continue  # another scheduler closed it
        outcomes.append(outcome)
        if outcome.status == FAILED:
            break  # later periods carry on from this one
    return outcomes


def run_due(*, today: date | None = None, organization_id: int | None = None) -> list[Outcome]:
    """Close every active retainer's ended periods (of one organization, if given); a
    retainer that failed today is tried again tomorrow, not every minute."""
    retainers = Retainer.objects.filter(is_active=True).select_related(
        "organization", "client__organization", "project", "run_as__user", "run_as__organization"
    )
    if organization_id is not None:
        retainers = retainers.filter(organization_id=organization_id)
    outcomes: list[Outcome] = []
    for retainer in retainers:
        day = today or today_for(retainer)
        if retainer.failed_on is not None and retainer.failed_on >= day:
            continue
        outcomes += close_due(retainer, today=day)
    retry_sends(organization_id)
    return outcomes


def run_retainer(retainer: Retainer, *, by: Membership, today: date | None = None) -> list[Outcome]:
    """ "Close now": close the retainer's ended periods at once, each exactly once."""
    require(by, "invoices.manage")
    if retainer.organization_id != by.organization_id:
        raise PermissionDenied("This retainer belongs to another organization.")
    if not retainer.is_active:
        raise field_error("is_active", "This retainer is paused: resume it to close periods.")
    return close_due(retainer, today=today)


# Dry run and preview -------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """A period as a close would settle it now: figures, invoice total (net), or why not."""

    period: Period
    settlement: Settlement | None
    status: str
    fee: Decimal
    overage_amount: Decimal
    overage_rate: Decimal | None
    message: str = ""

    @property
    def net(self) -> Decimal:
        return self.fee + self.overage_amount


WOULD = {
    Action.DRAFT: RetainerPeriodStatus.DRAFTED,
    Action.ISSUE: RetainerPeriodStatus.ISSUED,
    Action.SEND: RetainerPeriodStatus.SENT,
}


def _plan(retainer: Retainer, period: Period, settled: Settlement) -> Planned:
    status = WOULD[Action(retainer.action)]
    rate = None
    try:
        if settled.overage and retainer.kind == RetainerKind.HOURS:
            rate = overage_rate(retainer, period)
    except RetainerError as exc:
        return Planned(period, settled, FAILED, retainer.fee, ZERO, None, str(exc))
    amount = overage_amount(retainer, settled, rate)
    return Planned(period, settled, status, retainer.fee, amount, rate)


def _failing(retainer: Retainer, today: date, text: str) -> list[Planned]:
    return [Planned(p, None, FAILED, ZERO, ZERO, None, text) for p in due(retainer, today=today)]


def dry_run(retainer: Retainer, *, today: date | None = None) -> list[Planned]:
    """What closing the ended periods now would do, in order; writes nothing."""
    today = today or today_for(retainer)
    by = retainer.run_as
    if not by.is_active or not can(by, "invoices.manage"):
        text = f"{by.user.display_name} may no longer issue invoices; save the retainer again."
        return [
            Planned(p, None, FAILED, ZERO, ZERO, None, text) for p in due(retainer, today=today)
        ]
    try:
        chain = project_chain(retainer, today=today)
    except RetainerError as exc:
        return [
            Planned(p, None, FAILED, ZERO, ZERO, None, str(exc)) for p in due(retainer, today=today)
        ]
    return [_plan(retainer, step.period, step.settlement) for step in chain]


def preview(retainer: Retainer, *, today: date | None = None) -> Planned | None:
    """The next close if the current period ended now; None after the retainer's last day."""
    today = today or today_for(retainer)
    current = period_of(retainer, today)
    if current is None:
        return None
    try:
        chain = project_chain(retainer, today=today, through=current)
    except RetainerError as exc:
        return Planned(current, None, FAILED, ZERO, ZERO, None, str(exc))
    return _plan(retainer, current, chain[-1].settlement) if chain else None


def preview_text(retainer: Retainer, planned: Planned) -> str:
    """ "on 1 Dec: fee 2,000.00 + overage 3.5 h × 120.00 ≈ 2,420.00 EUR net"."""
    day = planned.period.run_on.strftime("%-d %b")
    if planned.status == FAILED:
        return f"on {day}: {planned.message}"
    currency = retainer.client.currency
    text = f"on {day}: fee {planned.fee:,.2f}"
    settled = planned.settlement
    if settled is not None and settled.overage:
        if planned.overage_rate is not None:
            text += f" + overage {show(retainer, settled.overage)} × {planned.overage_rate:,.2f}"
        else:
            text += f" + overage {planned.overage_amount:,.2f}"
    elif settled is not None and settled.carried_out < 0:
        text += f" ({show(retainer, -settled.carried_out)} overage carried to the next period)"
    return f"{text} ≈ {planned.net:,.2f} {currency} net"


def organizations_due(*, today: date | None = None) -> set[int]:
    """Organizations with a retainer period ended and not closed (or a close to send): the
    tick's question, two queries however many retainers (the last close of each is read with
    the retainers, not one by one)."""
    active = Retainer.objects.filter(is_active=True).select_related("organization")
    active = active.annotate(last_end=Max("periods__period_end"))
    found: set[int] = set()
    for retainer in active:
        if retainer.organization_id in found:
            continue
        day = today or today_for(retainer)
        if retainer.failed_on is not None and retainer.failed_on >= day:
            continue  # tried again tomorrow
        last_end = retainer.last_end
        start = last_end + timedelta(days=1) if last_end else retainer.starts_on
        if next(periods_from(retainer, start, ended_by=day), None) is not None:
            found.add(retainer.organization_id)
    unsent = RetainerPeriod.objects.filter(
        status=RetainerPeriodStatus.ISSUED,
        retainer__action=Action.SEND,
        invoice__isnull=False,
        attempts__lt=SEND_ATTEMPTS,
    )
    return found | set(unsent.values_list("retainer__organization_id", flat=True).distinct())
