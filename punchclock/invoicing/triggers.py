"""Database triggers that keep issued invoices, their lines and billed time unchangeable.

The services already refuse such changes; the triggers stop everything else (a raw SQL
console, a script, a bug in another app). Both raise an integrity error.
"""

from __future__ import annotations

from typing import Any

SQLITE_CREATE = [
    """CREATE TRIGGER invoicing_issued_invoice_no_update BEFORE UPDATE ON invoicing_invoice
    FOR EACH ROW WHEN OLD.status = 'issued'
    BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END""",
    """CREATE TRIGGER invoicing_issued_invoice_no_delete BEFORE DELETE ON invoicing_invoice
    FOR EACH ROW WHEN OLD.status = 'issued'
    BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END""",
    """CREATE TRIGGER invoicing_issued_line_no_insert BEFORE INSERT ON invoicing_invoiceline
    FOR EACH ROW WHEN (SELECT status FROM invoicing_invoice WHERE id = NEW.invoice_id) = 'issued'
    BEGIN SELECT RAISE(ABORT, 'lines of issued invoices are immutable'); END""",
    """CREATE TRIGGER invoicing_issued_line_no_update BEFORE UPDATE ON invoicing_invoiceline
    FOR EACH ROW WHEN (SELECT status FROM invoicing_invoice WHERE id = OLD.invoice_id) = 'issued'
        OR (SELECT status FROM invoicing_invoice WHERE id = NEW.invoice_id) = 'issued'
    BEGIN SELECT RAISE(ABORT, 'lines of issued invoices are immutable'); END""",
    """CREATE TRIGGER invoicing_issued_line_no_delete BEFORE DELETE ON invoicing_invoiceline
    FOR EACH ROW WHEN (SELECT status FROM invoicing_invoice WHERE id = OLD.invoice_id) = 'issued'
    BEGIN SELECT RAISE(ABORT, 'lines of issued invoices are immutable'); END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "invoicing_issued_invoice_no_update",
        "invoicing_issued_invoice_no_delete",
        "invoicing_issued_line_no_insert",
        "invoicing_issued_line_no_update",
        "invoicing_issued_line_no_delete",
    )
]

# SQLSTATE 23000 (integrity_constraint_violation) so drivers raise IntegrityError.
POSTGRESQL_CREATE = [
    """CREATE OR REPLACE FUNCTION invoicing_refuse_issued_invoice() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'issued invoice % is immutable', OLD.id USING ERRCODE = '23000';
    END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION invoicing_refuse_issued_line() RETURNS trigger AS $$
    BEGIN
        IF (TG_OP <> 'INSERT' AND EXISTS (
                SELECT 1 FROM invoicing_invoice WHERE id = OLD.invoice_id AND status = 'issued'))
           OR (TG_OP <> 'DELETE' AND EXISTS (
                SELECT 1 FROM invoicing_invoice WHERE id = NEW.invoice_id AND status = 'issued'))
        THEN
            RAISE EXCEPTION 'lines of issued invoices are immutable' USING ERRCODE = '23000';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER invoicing_issued_invoice_immutable
    BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW WHEN (OLD.status = 'issued') EXECUTE FUNCTION invoicing_refuse_issued_invoice()""",
    """CREATE TRIGGER invoicing_issued_line_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON invoicing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION invoicing_refuse_issued_line()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS invoicing_issued_invoice_immutable ON invoicing_invoice",
    "DROP TRIGGER IF EXISTS invoicing_issued_line_immutable ON invoicing_invoiceline",
    "DROP FUNCTION IF EXISTS invoicing_refuse_issued_invoice()",
    "DROP FUNCTION IF EXISTS invoicing_refuse_issued_line()",
]


# Stored documents (the issued PDF) never change once written.
DOCUMENT_SQLITE_CREATE = [
    """CREATE TRIGGER invoicing_document_no_update BEFORE UPDATE ON invoicing_invoicedocument
    BEGIN SELECT RAISE(ABORT, 'stored invoice documents are immutable'); END""",
    """CREATE TRIGGER invoicing_document_no_delete BEFORE DELETE ON invoicing_invoicedocument
    BEGIN SELECT RAISE(ABORT, 'stored invoice documents are immutable'); END""",
]
DOCUMENT_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS invoicing_document_no_update",
    "DROP TRIGGER IF EXISTS invoicing_document_no_delete",
]
DOCUMENT_POSTGRESQL_CREATE = [
    """CREATE OR REPLACE FUNCTION invoicing_refuse_document_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'stored invoice documents are immutable' USING ERRCODE = '23000';
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER invoicing_document_immutable
    BEFORE UPDATE OR DELETE ON invoicing_invoicedocument
    FOR EACH ROW EXECUTE FUNCTION invoicing_refuse_document_change()""",
]
DOCUMENT_POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS invoicing_document_immutable ON invoicing_invoicedocument",
    "DROP FUNCTION IF EXISTS invoicing_refuse_document_change()",
]


# The time an issued line bills is kept summed in invoicing_billedwork (models.BilledWork), so
# it must not change under it: an entry on an issued invoice keeps its start, end, person,
# project and organization (the tracking services already refuse any edit of billed time);
# no billed row joins or leaves an issued line, except that a full credit note releases the
# rows once it has deleted the line's kept sums.
ENTRY_WORK = (
    "start",
    '"end"',
    "duration_seconds",
    "project_id",
    "membership_id",
    "organization_id",
)
_ISSUED_ENTRY = (
    "SELECT 1 FROM invoicing_billedentry be "
    "JOIN invoicing_invoiceline il ON il.id = be.line_id "
    "JOIN invoicing_invoice i ON i.id = il.invoice_id "
    "WHERE be.entry_id = OLD.id AND i.status = 'issued'"
)
_ISSUED_LINE = (
    "SELECT 1 FROM invoicing_invoiceline il JOIN invoicing_invoice i ON i.id = il.invoice_id "
    "WHERE il.id = NEW.line_id AND i.status = 'issued'"
)
_KEPT_LINE = "SELECT 1 FROM invoicing_billedwork w WHERE w.line_id = OLD.line_id"
WORK_SQLITE_CREATE = [
    f"""CREATE TRIGGER invoicing_issued_entry_no_update
    BEFORE UPDATE OF {", ".join(ENTRY_WORK)} ON tracking_timeentry
    FOR EACH ROW WHEN ({" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ENTRY_WORK)})
        AND EXISTS ({_ISSUED_ENTRY})
    BEGIN SELECT RAISE(ABORT, 'time on issued invoices is immutable'); END""",
    f"""CREATE TRIGGER invoicing_issued_billing_no_insert BEFORE INSERT ON invoicing_billedentry
    FOR EACH ROW WHEN EXISTS ({_ISSUED_LINE})
    BEGIN SELECT RAISE(ABORT, 'lines of issued invoices are immutable'); END""",
    f"""CREATE TRIGGER invoicing_issued_billing_no_update BEFORE UPDATE ON invoicing_billedentry
    FOR EACH ROW WHEN EXISTS ({_ISSUED_LINE}) OR EXISTS ({_KEPT_LINE})
    BEGIN SELECT RAISE(ABORT, 'lines of issued invoices are immutable'); END""",
    f"""CREATE TRIGGER invoicing_issued_billing_no_delete BEFORE DELETE ON invoicing_billedentry
    FOR EACH ROW WHEN EXISTS ({_KEPT_LINE})
    BEGIN SELECT RAISE(ABORT, 'billed rows of issued lines are immutable while kept'); END""",
]
WORK_SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "invoicing_issued_entry_no_update",
        "invoicing_issued_billing_no_insert",
        "invoicing_issued_billing_no_update",
        "invoicing_issued_billing_no_delete",
    )
]
WORK_POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION invoicing_refuse_issued_entry() RETURNS trigger AS $$
    BEGIN
        IF EXISTS ({_ISSUED_ENTRY}) THEN
            RAISE EXCEPTION 'time entry % on an issued invoice is immutable', OLD.id
                USING ERRCODE = '23000';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION invoicing_refuse_issued_billing() RETURNS trigger AS $$
    BEGIN
        IF (TG_OP <> 'DELETE' AND EXISTS ({_ISSUED_LINE}))
           OR (TG_OP <> 'INSERT' AND EXISTS ({_KEPT_LINE}))
        THEN
            RAISE EXCEPTION 'billed work of issued lines is immutable' USING ERRCODE = '23000';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER invoicing_issued_entry_immutable
    BEFORE UPDATE OF {", ".join(ENTRY_WORK)} ON tracking_timeentry
    FOR EACH ROW WHEN (({", ".join(f"OLD.{c}" for c in ENTRY_WORK)})
        IS DISTINCT FROM ({", ".join(f"NEW.{c}" for c in ENTRY_WORK)}))
    EXECUTE FUNCTION invoicing_refuse_issued_entry()""",
    """CREATE TRIGGER invoicing_issued_billing_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON invoicing_billedentry
    FOR EACH ROW EXECUTE FUNCTION invoicing_refuse_issued_billing()""",
]
WORK_POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS invoicing_issued_entry_immutable ON tracking_timeentry",
    "DROP TRIGGER IF EXISTS invoicing_issued_billing_immutable ON invoicing_billedentry",
    "DROP FUNCTION IF EXISTS invoicing_refuse_issued_entry()",
    "DROP FUNCTION IF EXISTS invoicing_refuse_issued_billing()",
]


def _statements(vendor: str, *, create: bool, documents: bool = False) -> list[str]:
    if vendor == "postgresql":
        if documents:
            return DOCUMENT_POSTGRESQL_CREATE if create else DOCUMENT_POSTGRESQL_DROP
        return POSTGRESQL_CREATE if create else POSTGRESQL_DROP
    if vendor == "sqlite":
        if documents:
            return DOCUMENT_SQLITE_CREATE if create else DOCUMENT_SQLITE_DROP
        return SQLITE_CREATE if create else SQLITE_DROP
    raise NotImplementedError(f"no immutability triggers for {vendor}")


def _work_statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "postgresql":
        return WORK_POSTGRESQL_CREATE if create else WORK_POSTGRESQL_DROP
    if vendor == "sqlite":
        return WORK_SQLITE_CREATE if create else WORK_SQLITE_DROP
    raise NotImplementedError(f"no billed work triggers for {vendor}")


def _run(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def create_invoice_triggers(connection: Any) -> None:
    _run(connection, _statements(connection.vendor, create=True))


def drop_invoice_triggers(connection: Any) -> None:
    _run(connection, _statements(connection.vendor, create=False))


def create_document_triggers(connection: Any) -> None:
    _run(connection, _statements(connection.vendor, create=True, documents=True))


def drop_document_triggers(connection: Any) -> None:
    _run(connection, _statements(connection.vendor, create=False, documents=True))


def create_work_triggers(connection: Any) -> None:
    _run(connection, _work_statements(connection.vendor, create=True))


def drop_work_triggers(connection: Any) -> None:
    _run(connection, _work_statements(connection.vendor, create=False))


def create_triggers(connection: Any) -> None:
    """Every immutability trigger (tests that wipe tables drop and restore them all)."""
    create_invoice_triggers(connection)
    create_document_triggers(connection)
    create_work_triggers(connection)


def drop_triggers(connection: Any) -> None:
    drop_invoice_triggers(connection)
    drop_document_triggers(connection)
    drop_work_triggers(connection)
