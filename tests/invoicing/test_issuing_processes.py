"""Issuing from separate OS processes: gapless numbers under a race, nothing left by a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection

from punchclock.accounts.models import Membership
from punchclock.invoicing import services
from punchclock.invoicing.models import (
    EventKind,
    Invoice,
    InvoiceChain,
    InvoiceDocument,
    InvoiceEvent,
    InvoiceStatus,
    NumberSeries,
    SeriesCounter,
)
from tests.invoicing.conftest import free_draft
from tests.invoicing.issue_worker import CRASH_ENV, CRASH_POINTS

ROOT = Path(__file__).resolve().parents[2]
DRAFTS = 200
PROCESSES = {"postgresql": 8, "sqlite": 4}
FIRST_DAY = date(2026, 1, 5)
# The workers' issue date moves on with the clock, so the race also crosses day boundaries.
DAYS_PER_SECOND = 2.0
TIMEOUT = 120
# A short rest after each own issue, so SQLite's busy handler lets the other processes in.
PAUSE = 0.01


def _test_database_url() -> str:
    """The test database this test runs on (with any xdist suffix), as a DATABASE_URL."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    url = urlsplit(os.environ["PUNCHCLOCK_TEST_DATABASE_URL"])
    return url._replace(path=f"/{quote(str(name))}").geturl()


def _start_worker(
    membership: Membership,
    series: NumberSeries,
    drafts: list[Invoice],
    *,
    stderr: Path,
    options: tuple[str, ...] = (),
    crash_at: str | None = None,
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PUNCHCLOCK_TEST_DATABASE_URL": _test_database_url(),
    }
    env.pop(CRASH_ENV, None)
    if crash_at:
        env[CRASH_ENV] = crash_at
    command = [
        sys.executable,
        "-m",
        "tests.invoicing.issue_worker",
        f"--by={membership.pk}",
        f"--series={series.pk}",
        *options,
        *(str(draft.pk) for draft in drafts),
    ]
    with stderr.open("w") as errors:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )


def _finish(worker: subprocess.Popen[str], stderr: Path, go: str = "") -> tuple[int, str]:
    """Wait for the worker; its return code and what it printed after ``ready``."""
    try:
        out, _ = worker.communicate(go, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        pytest.fail(f"worker {worker.pid} hung:\n{stderr.read_text()}")
    return worker.returncode, out.removeprefix("ready\n")


def _plain_series(billing: Any) -> NumberSeries:
    return services.create_series(
        billing.organization, by=billing.owner, name="plain", pattern="{seq}", yearly_reset=False
    )


@pytest.mark.django_db(transaction=True)
def test_drafts_raced_by_processes_get_every_number_once(billing, wipe_invoices_after, tmp_path):
    series = _plain_series(billing)
    drafts = [free_draft(billing, (f"Work {n}", "1", "100")) for n in range(DRAFTS)]
    count = PROCESSES[connection.vendor]
    logs = [tmp_path / f"worker{n}.err" for n in range(count)]
    workers = [
        _start_worker(
            billing.owner,
            series,
            drafts,
            stderr=logs[n],
            options=(
                f"--seed={n}",
                f"--date={FIRST_DAY}",
                f"--days-per-second={DAYS_PER_SECOND}",
                f"--pause={PAUSE}",
            ),
        )
        for n in range(count)
    ]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n", log.read_text()
    go = f"{time.time()}\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(go)
        worker.stdin.flush()
    finished = [_finish(worker, log) for worker, log in zip(workers, logs, strict=True)]

    assert [code for code, _ in finished] == [0] * count, [log.read_text() for log in logs]
    reports = [json.loads(out) for _, out in finished]
    assert [report["errors"] for report in reports] == [[]] * count
    issued_by_workers = sorted(pk for report in reports for pk in report["issued"])
    assert issued_by_workers == sorted(draft.pk for draft in drafts)
    skipped = sum(report["seen_issued"] + report["lost_race"] for report in reports)
    assert skipped == (count - 1) * DRAFTS

    documents = Invoice.objects.filter(organization=billing.organization)
    assert set(documents.values_list("status", "series")) == {(InvoiceStatus.ISSUED, series.pk)}
    numbered = sorted(
        (
            (int(number), position, issue_date)
            for number, position, issue_date in documents.values_list(
                "number", "chain_position", "issue_date"
            )
            if number and issue_date
        ),
        key=lambda row: row[0],
    )
    assert [number for number, _, _ in numbered] == list(range(1, DRAFTS + 1))
    assert [position for _, position, _ in numbered] == list(range(1, DRAFTS + 1))
    dates = [issue_date for _, _, issue_date in numbered]
    assert dates == sorted(dates)
    assert len(set(dates)) > 1
    assert SeriesCounter.objects.get(series=series).last == DRAFTS
    assert NumberSeries.objects.get(pk=series.pk).last_issue_date == dates[-1]
    assert InvoiceDocument.objects.filter(invoice__in=drafts).count() == DRAFTS
    assert InvoiceEvent.objects.filter(invoice__in=drafts, kind=EventKind.ISSUED).count() == DRAFTS
    assert services.verify_chain(billing.organization) is None


def _numbering_state(series: NumberSeries) -> tuple[Any, ...]:
    chain = InvoiceChain.objects.get(organization=series.organization)
    return (
        SeriesCounter.objects.get(series=series).last,
        NumberSeries.objects.get(pk=series.pk).last_issue_date,
        chain.length,
        chain.last_hash,
    )


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.django_db(transaction=True)
def test_a_process_killed_while_issuing_leaves_no_trace(
    billing, wipe_invoices_after, tmp_path, point
):
    series = _plain_series(billing)
    services.issue_invoice(
        free_draft(billing, ("First", "1", "100")),
        by=billing.owner,
        issue_date=FIRST_DAY,
        series=series,
    )
    draft = free_draft(billing, ("Second", "2", "100"))
    before = _numbering_state(series)
    log = tmp_path / "worker.err"
    later = date(2026, 2, 1)

    worker = _start_worker(
        billing.owner, series, [draft], stderr=log, options=(f"--date={later}",), crash_at=point
    )
    code, out = _finish(worker, log, go="\n")

    assert code == -signal.SIGKILL, f"{out}\n{log.read_text()}"
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.chain_position, draft.issue_date) == (
        InvoiceStatus.DRAFT,
        None,
        None,
        None,
    )
    assert _numbering_state(series) == before
    assert not InvoiceDocument.objects.filter(invoice=draft).exists()
    assert not InvoiceEvent.objects.filter(invoice=draft, kind=EventKind.ISSUED).exists()

    issued = services.issue_invoice(draft, by=billing.owner, issue_date=later, series=series)
    assert (issued.number, issued.chain_position) == ("2", 2)
    assert _numbering_state(series)[:3] == (2, later, 2)
    assert InvoiceDocument.objects.filter(invoice=draft).count() == 1
    assert services.verify_chain(billing.organization) is None
