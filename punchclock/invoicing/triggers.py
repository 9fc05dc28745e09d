"""Database triggers that keep issued invoices and their lines unchangeable, per vendor.

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


def create_triggers(connection: Any) -> None:
    """Every immutability trigger (tests that wipe tables drop and restore them all)."""
    create_invoice_triggers(connection)
    create_document_triggers(connection)


def drop_triggers(connection: Any) -> None:
    drop_invoice_triggers(connection)
    drop_document_triggers(connection)
