"""Emailing notifications from the worker: each at most once, retried while refused.

A notification's email is claimed by a conditional UPDATE (pending -> sending) that commits
before the mail server is called, so two workers never send the same one: the second finds
it no longer pending. A refused or unreachable server puts it back to pending with a later
`email_next_at` (5, 10, 20, 40 minutes), and after EMAIL_ATTEMPTS tries it stays failed with
the server's answer, visible on the notifications page. A worker that dies between the
claim and the answer leaves it "sending"; after SENDING_TIMEOUT it is marked failed rather
than sent again, because the server may have taken it: never an email twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q, QuerySet

from punchclock.automation.models import EmailState, Notification
from punchclock.core.timeutil import now

log = logging.getLogger(__name__)

EMAIL_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=5)
SENDING_TIMEOUT = timedelta(hours=1)
BATCH = 200  # per run; the next minute's run takes the rest


def retry_delay(attempts: int) -> timedelta:
    """Wait after the n-th refused try: 5, 10, 20, 40 minutes."""
    return FIRST_RETRY * 2 ** max(attempts - 1, 0)


def _due(at: datetime) -> QuerySet[Notification]:
    return Notification.objects.filter(email_state=EmailState.PENDING).filter(
        Q(email_next_at__isnull=True) | Q(email_next_at__lte=at)
    )


def _stuck(at: datetime) -> QuerySet[Notification]:
    return Notification.objects.filter(
        email_state=EmailState.SENDING, email_next_at__lt=at - SENDING_TIMEOUT
    )


def anything_due(*, at: datetime) -> bool:
    """Whether an email waits to go out (or a send was interrupted): the tick's question."""
    return _due(at).exists() or _stuck(at).exists()


def deliver(
    *, organization_id: int | None = None, only: Q | None = None, at: datetime | None = None
) -> dict[str, int]:
    """Send the emails that are due; returns counts by outcome (sent, retry, failed)."""
    at = at or now()
    counts: Counter[str] = Counter()
    due, stuck = _due(at), _stuck(at)
    if organization_id is not None:
        due = due.filter(organization_id=organization_id)
        stuck = stuck.filter(organization_id=organization_id)
    if only is not None:
        due = due.filter(only)
    counts["interrupted"] = stuck.update(
        email_state=EmailState.FAILED,
        email_error="Interrupted while sending; it may or may not have arrived.",
    )
    for pk in list(due.order_by("pk").values_list("pk", flat=True)[:BATCH]):
        counts[_deliver_one(pk, at=at)] += 1
    return {outcome: n for outcome, n in counts.items() if n}


def _deliver_one(pk: int, *, at: datetime) -> str:
    # The claim: only one UPDATE finds it pending. It commits on its own (autocommit), so a
    # crash after it leaves "sending", never a second email.
    claimed = Notification.objects.filter(pk=pk, email_state=EmailState.PENDING).update(
        email_state=EmailState.SENDING,
        email_attempts=F("email_attempts") + 1,
        email_next_at=at,
    )
    if not claimed:
        return "taken"
    notification = Notification.objects.select_related("recipient__user", "organization").get(pk=pk)
    try:
        send_mail(
            f"[{notification.organization.name}] {notification.title}",
            _body(notification),
            None,
            [notification.recipient.user.email],
        )
    except OSError as exc:  # refused, unreachable, timed out (smtplib errors are OSErrors)
        failed = notification.email_attempts >= EMAIL_ATTEMPTS
        Notification.objects.filter(pk=pk).update(
            email_state=EmailState.FAILED if failed else EmailState.PENDING,
            email_next_at=None if failed else at + retry_delay(notification.email_attempts),
            email_error=str(exc)[:300] or exc.__class__.__name__,
        )
        log.warning("Notification %s, email try %s: %s", pk, notification.email_attempts, exc)
        return "failed" if failed else "retry"
    Notification.objects.filter(pk=pk).update(
        email_state=EmailState.SENT, emailed_at=now(), email_error=""
    )
    return "sent"


def _body(notification: Notification) -> str:
    site = settings.SITE_URL
    lines = [notification.title, "", notification.text]
    if notification.link:
        lines += ["", f"Open it: {site}{notification.link}"]
    lines += [
        "",
        "--",
        f"Punchclock, {notification.organization.name}. "
        f"Choose what you get by email: {site}/notifications/preferences/",
    ]
    return "\n".join(lines) + "\n"


def deliver_draft_news(invoice_id: int) -> dict[str, int]:
    """Email the "draft ready" news of one invoice now: the worker drafted it anyway, so the
    team hears at once rather than on the next minute's delivery."""
    from punchclock.automation.models import NotificationKind

    return deliver(only=Q(kind=NotificationKind.DRAFT_READY, key=f"invoice:{invoice_id}"))
