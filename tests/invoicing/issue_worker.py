"""One OS process issuing drafts, driven by tests/invoicing/test_issuing_processes.py.

Run as ``python -m tests.invoicing.issue_worker`` with DJANGO_SETTINGS_MODULE=tests.settings
and PUNCHCLOCK_TEST_DATABASE_URL naming the test database the test already created. It prints
``ready``, waits for a line on stdin (the wall time at which --date applies), tries every
draft in a shuffled order and prints one JSON line: the drafts it issued, how many others
issued first, and every error.

With PUNCHCLOCK_TEST_CRASH_AT=<point> the process SIGKILLs itself at that point inside the
issuing transaction; the wrappers exist only in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import django

CRASH_ENV = "PUNCHCLOCK_TEST_CRASH_AT"
CRASH_POINTS = ("counter", "chain", "invoice", "pdf", "commit")
ISSUED_ELSEWHERE = "is issued and can no longer change"
BACKWARDS = "issue dates cannot go backwards"
MAX_ATTEMPTS = 50


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_after(owner: Any, name: str, when: Callable[..., bool]) -> None:
    """Replace owner.name by a version that kills the process once a call matching when ran."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when(*args, **kwargs):
            _die()
        return result

    setattr(owner, name, wrapper)


def arm_crash(point: str) -> None:
    """Kill this process at point: after that write of the issuing transaction, or at commit."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    from punchclock.invoicing import services
    from punchclock.invoicing.models import (
        EventKind,
        Invoice,
        InvoiceChain,
        InvoiceStatus,
        SeriesCounter,
    )

    match point:
        case "counter":
            _kill_after(SeriesCounter, "save", lambda _self, **kw: bool(kw.get("update_fields")))
        case "chain":
            _kill_after(InvoiceChain, "save", lambda _self, **kw: bool(kw.get("update_fields")))
        case "invoice":
            _kill_after(
                Invoice, "save", lambda self, *_a, **_kw: self.status == InvoiceStatus.ISSUED
            )
        case "pdf":
            _kill_after(services, "_store_pdf", lambda _invoice: True)
        case "commit":
            event, commit = services._event, BaseDatabaseWrapper.commit
            events: list[str] = []

            def event_then_arm(invoice: Invoice, kind: str, by: Any, **detail: Any) -> None:
                event(invoice, kind, by, **detail)
                events.append(kind)

            def commit_or_die(self: BaseDatabaseWrapper) -> None:
                if EventKind.ISSUED in events:
                    _die()
                commit(self)

            services._event = event_then_arm
            BaseDatabaseWrapper.commit = commit_or_die  # type: ignore[method-assign]
        case _:
            raise SystemExit(f"unknown crash point {point!r}; use one of {CRASH_POINTS}")


def _issue_date(args: argparse.Namespace, epoch: float) -> date:
    """The fixed date, or one moving on with the wall clock all workers share from epoch."""
    days = int((time.time() - epoch) * args.days_per_second)
    return args.date + timedelta(days=max(days, 0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--by", type=int, required=True, help="pk of the issuing membership")
    parser.add_argument("--series", type=int, required=True)
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument("--days-per-second", type=float, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pause", type=float, default=0, help="seconds after each own issue")
    parser.add_argument("drafts", type=int, nargs="+")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.core.exceptions import ValidationError

    from punchclock.accounts.models import Membership
    from punchclock.invoicing import services
    from punchclock.invoicing.documents.pdf import render_pdf
    from punchclock.invoicing.models import Invoice, InvoiceStatus, NumberSeries

    if point := os.environ.get(CRASH_ENV):
        arm_crash(point)
    by = Membership.objects.select_related("organization", "user").get(pk=args.by)
    series = NumberSeries.objects.get(pk=args.series)
    drafts = list(Invoice.objects.filter(pk__in=args.drafts).order_by("pk"))
    random.Random(args.seed).shuffle(drafts)
    render_pdf(drafts[0])  # the first render in a process is slow; not while racing

    print("ready", flush=True)
    go = sys.stdin.readline().strip()
    epoch = float(go) if go else time.time()
    issued: list[int] = []
    seen = lost = retried = 0
    errors: list[str] = []
    for draft in drafts:
        if not Invoice.objects.filter(pk=draft.pk, status=InvoiceStatus.DRAFT).exists():
            seen += 1
            continue
        for _attempt in range(MAX_ATTEMPTS):
            try:
                day = _issue_date(args, epoch)
                services.issue_invoice(draft, by=by, issue_date=day, series=series)
            except ValidationError as exc:
                message = " ".join(exc.messages)
                if ISSUED_ELSEWHERE in message:
                    lost += 1
                elif BACKWARDS in message:
                    retried += 1
                    continue
                else:
                    errors.append(f"draft {draft.pk}: {exc!r}")
            except Exception as exc:  # every other failure is what the test looks for
                errors.append(f"draft {draft.pk}: {exc!r}")
            else:
                issued.append(draft.pk)
                time.sleep(args.pause)
            break
        else:
            errors.append(f"draft {draft.pk}: date refused {MAX_ATTEMPTS} times")
    result = {
        "issued": issued,
        "seen_issued": seen,
        "lost_race": lost,
        "retried": retried,
        "errors": errors,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
