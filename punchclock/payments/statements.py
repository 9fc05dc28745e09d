"""Bank statements (CAMT.053 XML or a bank's CSV export) as signed lines to reconcile.

The public entry point: it recognises the format by content and applies the size limits;
camt.py and csv_statements.py read the formats, statement_lines.py says what a line and its
fingerprint are. Pure Python without Django, so the web import, the CLI and tests share it.
Amounts are signed Decimals: positive was received, negative was paid out. Only booked
entries count.
"""

from __future__ import annotations

import codecs

from punchclock.payments.camt import read_camt053
from punchclock.payments.csv_statements import CsvMapping, parse_bank_amount, read_csv
from punchclock.payments.statement_lines import StatementError, StatementLine

__all__ = [
    "MAX_BYTES",
    "MAX_LINES",
    "CsvMapping",
    "StatementError",
    "StatementLine",
    "check_size",
    "is_xml",
    "parse_bank_amount",
    "parse_camt053",
    "parse_csv",
    "parse_statement",
]

MAX_BYTES = 10 * 1024 * 1024
MAX_LINES = 50_000


def parse_statement(
    data: bytes, filename: str, mapping: CsvMapping | None = None
) -> list[StatementLine]:
    """Read a CAMT.053 or CSV statement, recognised by its content rather than its name."""
    _check_bytes(data)
    if is_xml(data):
        return parse_camt053(data)
    head = data[:1024].lstrip(codecs.BOM_UTF8 + b" \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        raise StatementError(
            f"“{filename}” is a ZIP archive or an Excel workbook: unpack it, or export the "
            "statement as CAMT.053 (XML) or CSV."
        )
    if head.startswith(b"%PDF"):
        raise StatementError(
            "PDF statements cannot be read: export the statement from your online banking "
            "as CAMT.053 (XML) or CSV."
        )
    if mapping is None:
        raise StatementError(
            f"“{filename}” is not a CAMT.053 XML statement. To import it as CSV, first say "
            "which columns hold the date, the amount and the payment text."
        )
    return parse_csv(data, mapping)


def is_xml(data: bytes) -> bool:
    """Whether the file will be read as CAMT.053 (and a CSV mapping would not be used)."""
    return data[:1024].lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"<")


def parse_camt053(data: bytes) -> list[StatementLine]:
    _check_bytes(data)
    return read_camt053(data, max_lines=MAX_LINES)


def parse_csv(data: bytes, mapping: CsvMapping) -> list[StatementLine]:
    _check_bytes(data)
    return read_csv(data, mapping, max_lines=MAX_LINES)


def check_size(size: int) -> None:
    """Refuse a file by its size alone, so an upload is checked before it is read."""
    if size > MAX_BYTES:
        raise StatementError(
            f"The file is {size / 2**20:.1f} MB; statements of up to "
            f"{MAX_BYTES // 2**20} MB can be imported. Export a shorter period."
        )


def _check_bytes(data: bytes) -> None:
    if not data.strip():
        raise StatementError("The file is empty.")
    check_size(len(data))
