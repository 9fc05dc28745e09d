# ruff: noqa: S608 - fixed DDL text, no values.
"""Triggers that mark what the month totals (reports.models) must rebuild, per vendor.

Every insert, delete, or change of what a report sums (start, duration, billable, invoiced,
project, task, person, organization) of a time entry marks the entry's UTC day, old and new, in
reports_dirtyday; a change of a project's rounding rule marks every month it has totals in.
The report maps a UTC day to the one or two local months it can touch. Marks are cheap and
idempotent (one row per organization and day), so bulk writes stay bulk.
"""

from __future__ import annotations

from typing import Any

CHANGED = (
    "start",
    "duration_seconds",
    "billable",
    "invoiced",
    "project_id",
    "task_id",
    "membership_id",
)
MARK = "INSERT OR IGNORE INTO reports_dirtyday (organization_id, day) VALUES"

SQLITE_CREATE = [
    f"""CREATE TRIGGER reports_entry_inserted AFTER INSERT ON tracking_timeentry
    BEGIN {MARK} (NEW.organization_id, date(NEW.start)); END""",
    f"""CREATE TRIGGER reports_entry_deleted AFTER DELETE ON tracking_timeentry
    BEGIN {MARK} (OLD.organization_id, date(OLD.start)); END""",
    f"""CREATE TRIGGER reports_entry_changed AFTER UPDATE ON tracking_timeentry
    WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in (*CHANGED, "organization_id"))}
    BEGIN
        {MARK} (OLD.organization_id, date(OLD.start));
        {MARK} (NEW.organization_id, date(NEW.start));
    END""",
    """CREATE TRIGGER reports_project_rounding AFTER UPDATE ON projects_project
    WHEN OLD.rounding_minutes IS NOT NEW.rounding_minutes
        OR OLD.rounding_direction IS NOT NEW.rounding_direction
        OR OLD.rounding_scope IS NOT NEW.rounding_scope
    BEGIN
        INSERT OR IGNORE INTO reports_dirtyday (organization_id, day)
        SELECT DISTINCT organization_id, month FROM reports_monthtotal WHERE project_id = NEW.id;
    END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "reports_entry_inserted",
        "reports_entry_deleted",
        "reports_entry_changed",
        "reports_project_rounding",
    )
]

_PG_MARK = (
    "INSERT INTO reports_dirtyday (organization_id, day) "
    "SELECT DISTINCT organization_id, CAST(start AT TIME ZONE 'UTC' AS date) FROM {rows} "
    "ON CONFLICT DO NOTHING"
)
_PG_DIFFERS = (
    "(o.organization_id, "
    + ", ".join(f"o.{c}" for c in CHANGED)
    + ") IS DISTINCT FROM (n.organization_id, "
    + ", ".join(f"n.{c}" for c in CHANGED)
    + ")"
)
_PG_CHANGED = (
    "(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
    + _PG_DIFFERS.replace("{", "{{").replace("}", "}}")
    + ") AS changed"
)
# Statement-level triggers with transition tables: a COPY of a million rows runs one
# INSERT ... SELECT DISTINCT, not a million.
POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION reports_mark_inserted() RETURNS trigger AS $$
    BEGIN {_PG_MARK.format(rows="new_rows")}; RETURN NULL; END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION reports_mark_deleted() RETURNS trigger AS $$
    BEGIN {_PG_MARK.format(rows="old_rows")}; RETURN NULL; END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION reports_mark_changed() RETURNS trigger AS $$
    BEGIN
        {_PG_MARK.format(rows=_PG_CHANGED.format(side="o"))};
        {_PG_MARK.format(rows=_PG_CHANGED.format(side="n"))};
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION reports_mark_project() RETURNS trigger AS $$
    BEGIN
        INSERT INTO reports_dirtyday (organization_id, day)
        SELECT DISTINCT organization_id, month FROM reports_monthtotal WHERE project_id = NEW.id
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER reports_entry_inserted AFTER INSERT ON tracking_timeentry
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_mark_inserted()""",
    """CREATE TRIGGER reports_entry_deleted AFTER DELETE ON tracking_timeentry
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_mark_deleted()""",
    """CREATE TRIGGER reports_entry_changed AFTER UPDATE ON tracking_timeentry
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_mark_changed()""",
    """CREATE TRIGGER reports_project_rounding AFTER UPDATE ON projects_project
    FOR EACH ROW WHEN (OLD.rounding_minutes IS DISTINCT FROM NEW.rounding_minutes
        OR OLD.rounding_direction IS DISTINCT FROM NEW.rounding_direction
        OR OLD.rounding_scope IS DISTINCT FROM NEW.rounding_scope)
    EXECUTE FUNCTION reports_mark_project()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS reports_entry_inserted ON tracking_timeentry",
    "DROP TRIGGER IF EXISTS reports_entry_deleted ON tracking_timeentry",
    "DROP TRIGGER IF EXISTS reports_entry_changed ON tracking_timeentry",
    "DROP TRIGGER IF EXISTS reports_project_rounding ON projects_project",
    "DROP FUNCTION IF EXISTS reports_mark_inserted()",
    "DROP FUNCTION IF EXISTS reports_mark_deleted()",
    "DROP FUNCTION IF EXISTS reports_mark_changed()",
    "DROP FUNCTION IF EXISTS reports_mark_project()",
]


def _run(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _for_vendor(connection: Any, *, postgresql: list[str], sqlite: list[str]) -> None:
    if connection.vendor == "postgresql":
        _run(connection, postgresql)
    elif connection.vendor == "sqlite":
        _run(connection, sqlite)
    else:  # pragma: no cover - the two databases we support
        raise NotImplementedError(f"no report triggers for {connection.vendor}")


def create_month_triggers(connection: Any) -> None:
    _for_vendor(connection, postgresql=POSTGRESQL_CREATE, sqlite=SQLITE_CREATE)


def drop_month_triggers(connection: Any) -> None:
    _for_vendor(connection, postgresql=POSTGRESQL_DROP, sqlite=SQLITE_DROP)


# Kept documents (reports.models.KeptDocument, decision 0023) hold amounts converted with
# the rate found on or up to RATE_MAX_AGE before their issue day. A rate written, changed or
# deleted on day D can change the documents issued from D to D + that age in a currency
# other than the organization's: the triggers forget them, and the next report keeps them
# again. (Changing expenses.services.RATE_MAX_AGE needs a migration that remakes these.)
RATE_WINDOW_DAYS = 14
_KEPT = ("reports_keptdocument", "reports_kepttax")


def _forget(side: str, until: str) -> str:
    return "; ".join(
        f"DELETE FROM {table} WHERE organization_id = {side}.organization_id "
        f'AND currency <> home AND issue_date >= {side}."on" AND issue_date <= {until}'
        for table in _KEPT
    )


def _sqlite_until(side: str) -> str:
    return f"date({side}.\"on\", '+{RATE_WINDOW_DAYS} days')"


SQLITE_RATE_CREATE = [
    f"""CREATE TRIGGER reports_rate_inserted AFTER INSERT ON expenses_exchangerate
    BEGIN {_forget("NEW", _sqlite_until("NEW"))}; END""",
    f"""CREATE TRIGGER reports_rate_deleted AFTER DELETE ON expenses_exchangerate
    BEGIN {_forget("OLD", _sqlite_until("OLD"))}; END""",
    f"""CREATE TRIGGER reports_rate_changed AFTER UPDATE ON expenses_exchangerate
    BEGIN
        {_forget("OLD", _sqlite_until("OLD"))};
        {_forget("NEW", _sqlite_until("NEW"))};
    END""",
]
SQLITE_RATE_DROP = [
    f"DROP TRIGGER IF EXISTS reports_rate_{name}" for name in ("inserted", "deleted", "changed")
]
POSTGRESQL_RATE_CREATE = [
    f"""CREATE OR REPLACE FUNCTION reports_forget_conversions() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            {_forget("OLD", f'OLD."on" + {RATE_WINDOW_DAYS}')};
        END IF;
        IF TG_OP <> 'DELETE' THEN
            {_forget("NEW", f'NEW."on" + {RATE_WINDOW_DAYS}')};
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER reports_rate_changed AFTER INSERT OR UPDATE OR DELETE
    ON expenses_exchangerate FOR EACH ROW EXECUTE FUNCTION reports_forget_conversions()""",
]
POSTGRESQL_RATE_DROP = [
    "DROP TRIGGER IF EXISTS reports_rate_changed ON expenses_exchangerate",
    "DROP FUNCTION IF EXISTS reports_forget_conversions()",
]


def create_rate_triggers(connection: Any) -> None:
    _for_vendor(connection, postgresql=POSTGRESQL_RATE_CREATE, sqlite=SQLITE_RATE_CREATE)


def drop_rate_triggers(connection: Any) -> None:
    _for_vendor(connection, postgresql=POSTGRESQL_RATE_DROP, sqlite=SQLITE_RATE_DROP)
