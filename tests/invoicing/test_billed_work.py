"""Issued lines keep their billed time (BilledWork), and nothing changes it underneath."""

from __future__ import annotations

import importlib
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from punchclock.invoicing import services
from punchclock.invoicing.models import BilledEntry, BilledWork, WorkUnit
from punchclock.tracking import services as tracking
from tests.invoicing.conftest import track

backfill_migration = importlib.import_module(
    "punchclock.invoicing.migrations.0013_backfill_billed_work"
)


def run(sql: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def kept_rows() -> set[tuple]:
    return set(
        BilledWork.objects.values_list(
            "line_id", "membership_id", "project_id", "unit", "day", "seconds", "line_seconds"
        )
    )


def expected_rows() -> set[tuple]:
    """The billed entries of issued lines summed in Python, per UTC day and month."""
    sums: dict[tuple, int] = defaultdict(int)
    totals: dict[int, int] = defaultdict(int)
    billed = BilledEntry.objects.filter(line__invoice__status="issued").select_related("entry")
    for row in billed:
        entry = row.entry
        day = entry.start.astimezone(UTC).date()
        totals[row.line_id] += entry.duration_seconds
        for unit, bucket in ((WorkUnit.DAY, day), (WorkUnit.MONTH, day.replace(day=1))):
            sums[row.line_id, entry.membership_id, entry.project_id, str(unit), bucket] += (
                entry.duration_seconds
            )
    return {(*key, seconds, totals[key[0]]) for key, seconds in sums.items()}


@pytest.fixture
def invoice(billing):
    agency = billing
    # Across a UTC midnight and a month end (Berlin's 1 Dec starts at 23:00 UTC on 30 Nov).
    for start, minutes, person in [
        (datetime(2026, 11, 3, 9, tzinfo=UTC), 120, agency.member),
        (datetime(2026, 11, 3, 23, 30, tzinfo=UTC), 45, agency.member),
        (datetime(2026, 11, 4, 0, 15, tzinfo=UTC), 30, agency.manager),
        (datetime(2026, 11, 30, 23, 20, tzinfo=UTC), 50, agency.member),
    ]:
        track(person, agency.project, start, minutes)
    track(agency.member, agency.other_project, datetime(2026, 11, 12, 8, tzinfo=UTC), 90)
    draft = services.create_draft(
        agency.client, by=agency.owner, period_start=date(2026, 11, 1), period_end=date(2026, 12, 1)
    )
    return services.issue_invoice(draft, by=agency.owner, issue_date=date(2026, 12, 2))


def test_issuing_keeps_the_lines_time_per_utc_day_and_month(invoice):
    assert kept_rows() == expected_rows()
    months = set(BilledWork.objects.filter(unit=WorkUnit.MONTH).values_list("day", flat=True))
    assert months == {date(2026, 11, 1)}  # 30 Nov 23:20 UTC is still November in UTC
    # The member's two entries of 3 Nov (UTC) share a row.
    days = BilledWork.objects.filter(unit=WorkUnit.DAY).values_list("day", "seconds")
    assert sorted(days) == [
        (date(2026, 11, 3), 9900),
        (date(2026, 11, 4), 1800),
        (date(2026, 11, 12), 5400),
        (date(2026, 11, 30), 3000),
    ]


def test_drafts_keep_nothing(billing):
    track(billing.member, billing.project, datetime(2026, 11, 3, 9, tzinfo=UTC), 60)
    services.create_draft(
        billing.client,
        by=billing.owner,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
    )
    assert not BilledWork.objects.exists()


def test_a_partial_credit_note_keeps_the_work_and_a_full_one_releases_it(invoice, billing):
    lines = list(invoice.lines.order_by("position"))
    services.credit_invoice(
        invoice, by=billing.owner, lines=lines[:1], issue_date=date(2026, 12, 3)
    )
    assert kept_rows() == expected_rows() != set()
    services.credit_invoice(invoice, by=billing.owner, issue_date=date(2026, 12, 4))
    assert not BilledWork.objects.exists()
    assert not BilledEntry.objects.exists()
    # Billed again on a new invoice: kept again, on the new lines.
    draft = services.create_draft(
        billing.client,
        by=billing.owner,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 12, 1),
    )
    services.issue_invoice(draft, by=billing.owner, issue_date=date(2026, 12, 5))
    assert kept_rows() == expected_rows()
    assert {row[0] for row in kept_rows()} == set(draft.lines.values_list("pk", flat=True))


def test_the_migration_keeps_what_issuing_keeps(invoice):
    issued = kept_rows()
    BilledWork.objects.all().delete()

    editor = SimpleNamespace(connection=connection)  # what the migration reads of it
    backfill_migration.backfill(django_apps, editor)
    assert kept_rows() == issued


def test_the_tracking_services_refuse_to_edit_billed_time(invoice, billing):
    entry = BilledEntry.objects.filter(line__invoice=invoice).first().entry
    with pytest.raises(ValidationError, match="billed on"):
        tracking.update_entry(entry, by=billing.owner, start=entry.start - timedelta(hours=1))
    with pytest.raises(ValidationError, match="billed on"):
        tracking.delete_entry(entry, by=billing.owner)


@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE tracking_timeentry SET start = start - interval, "end" = "end" - interval',
        "UPDATE tracking_timeentry SET duration_seconds = duration_seconds + 60",
        "UPDATE tracking_timeentry SET project_id = {other_project}",
        "UPDATE tracking_timeentry SET membership_id = {owner}",
    ],
)
def test_raw_sql_cannot_move_or_reassign_time_on_an_issued_invoice(invoice, billing, sql):
    interval = "INTERVAL '1 hour'" if connection.vendor == "postgresql" else None
    if interval is None:
        sql = sql.replace("start - interval", "datetime(start, '-1 hour')")
        sql = sql.replace('"end" - interval', "datetime(\"end\", '-1 hour')")
    else:
        sql = sql.replace("- interval", f"- {interval}")
    sql = sql.format(other_project=billing.other_project.pk, owner=billing.owner.pk)
    before = kept_rows()
    with pytest.raises(DatabaseError, match="immutable"):
        run(sql + " WHERE invoiced = %s", True)
    assert kept_rows() == before == expected_rows()


def test_raw_sql_may_still_change_what_the_report_does_not_keep(invoice):
    run("UPDATE tracking_timeentry SET description = 'reworded', billable = %s", True)
    entry = BilledEntry.objects.filter(line__invoice=invoice).first().entry
    entry.refresh_from_db()
    assert entry.description == "reworded"


def test_raw_sql_may_move_time_on_a_draft(billing):
    entry = track(billing.member, billing.project, datetime(2026, 11, 3, 9, tzinfo=UTC), 60)
    services.create_draft(
        billing.client,
        by=billing.owner,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
    )
    run("UPDATE tracking_timeentry SET duration_seconds = 120 WHERE id = %s", entry.pk)


def test_billed_rows_of_an_issued_line_stay(invoice, billing):
    line = invoice.lines.first()
    spare = track(billing.member, billing.project, datetime(2026, 11, 20, 9, tzinfo=UTC), 60)
    with pytest.raises(DatabaseError, match="immutable"):
        run(
            "INSERT INTO invoicing_billedentry (entry_id, line_id, billed_seconds) "
            "VALUES (%s, %s, 3600)",
            spare.pk,
            line.pk,
        )
    with pytest.raises(DatabaseError, match="immutable"):
        run("UPDATE invoicing_billedentry SET billed_seconds = 1 WHERE line_id = %s", line.pk)
    with pytest.raises(DatabaseError, match="immutable"):
        run("DELETE FROM invoicing_billedentry WHERE line_id = %s", line.pk)
    assert kept_rows() == expected_rows()


def test_the_triggers_are_in_place_after_every_migration(db):
    if connection.vendor == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        wanted = {
            "invoicing_issued_entry_no_update",
            "invoicing_issued_billing_no_insert",
            "invoicing_issued_billing_no_update",
            "invoicing_issued_billing_no_delete",
        }
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        wanted = {"invoicing_issued_entry_immutable", "invoicing_issued_billing_immutable"}
    with connection.cursor() as cursor:
        cursor.execute(query)
        names = {row[0] for row in cursor.fetchall()}
    assert wanted <= names
