"""Banks' CSV exports as signed lines (see statement_lines.py), read through a column mapping.

Every bank names and formats its columns differently, so the person importing says which
column holds what (CsvMapping); amounts are read as banks write them, exactly, or refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from punchclock.core.money import is_currency
from punchclock.payments.statement_lines import (
    Draft,
    StatementError,
    StatementLine,
    account_number,
    check_count,
    clean_reference,
    collapse,
    fingerprinted,
)


@dataclass(frozen=True)
class CsvMapping:
    """Which columns of a bank's CSV export hold what, named by their header text."""

    date: str
    reference: tuple[str, ...] = ()  # several columns are joined with a space
    amount: str | None = None  # one signed amount, or …
    credit: str | None = None  # … money received and
    debit: str | None = None  # money paid out in two columns
    counterparty: str | None = None
    iban: str | None = None
    currency: str | None = None
    default_currency: str = "EUR"
    value_date: str | None = None
    bank_reference: str | None = None
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False  # 1.234,56 rather than 1,234.56
    delimiter: str | None = None  # None: the most frequent of ; , and tab in the header
    encoding: str | None = None  # None: UTF-8 (with or without BOM), else Windows-1252
    skip_rows: int = 0  # lines before the header (account number, period, …)

    def __post_init__(self) -> None:
        if isinstance(self.reference, str):  # ("Text") is a string, not a 1-tuple
            object.__setattr__(self, "reference", (self.reference,))
        # A blank column name (an empty form field) names no column.
        object.__setattr__(self, "reference", tuple(c for c in self.reference if c.strip()))
        for name in _OPTIONAL_COLUMNS:
            if not (getattr(self, name) or "").strip():
                object.__setattr__(self, name, None)
        if not self.date.strip():
            raise StatementError("Name the column that holds the booking date.")
        object.__setattr__(self, "default_currency", self.default_currency.strip().upper())
        if self.amount is not None and (self.credit is not None or self.debit is not None):
            raise StatementError("Choose either an amount column or credit and debit columns.")
        if self.amount is None and (self.credit is None or self.debit is None):
            raise StatementError("Choose an amount column, or both a credit and a debit column.")
        if not is_currency(self.default_currency):
            raise StatementError(f"“{self.default_currency}” is not a currency code.")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise StatementError("The column separator must be a single character.")
        if self.skip_rows < 0:
            raise StatementError("The number of lines to skip cannot be negative.")

    def as_json(self) -> dict[str, Any]:
        """The mapping as JSON-ready data, to be remembered for the next import."""
        return {**asdict(self), "reference": list(self.reference)}

    @classmethod
    def from_json(cls, data: object) -> CsvMapping | None:
        """A remembered mapping, or None when there is none or it no longer makes sense."""
        if not isinstance(data, dict) or not data:
            return None
        try:
            return cls(**{**data, "reference": tuple(data.get("reference") or ())})
        except (TypeError, ValueError, AttributeError):  # StatementError is a ValueError
            return None


_OPTIONAL_COLUMNS = (
    "amount",
    "credit",
    "debit",
    "counterparty",
    "iban",
    "currency",
    "value_date",
    "bank_reference",
)


def read_csv(data: bytes, mapping: CsvMapping, *, max_lines: int) -> list[StatementLine]:
    """Rows of a bank's CSV export, read through the columns the mapping names."""
    lines = io.StringIO(_decode(data, mapping.encoding), newline="").readlines()
    row_no = mapping.skip_rows
    while row_no < len(lines) and not lines[row_no].strip():
        row_no += 1  # blank lines between a bank's preamble and the header
    if row_no >= len(lines):
        raise StatementError(f"The file has no header row after skipping {row_no} lines.")
    delimiter = mapping.delimiter or _sniff_delimiter(lines[row_no])
    reader = csv.reader(lines[row_no:], delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise StatementError(f"Row {row_no + 1} cannot be read as CSV ({exc}).") from exc
    columns = _column_positions(header, mapping, row_no + 1)
    drafts: list[Draft] = []
    while True:
        first_line = row_no + reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise StatementError(f"Row {first_line} cannot be read as CSV ({exc}).") from exc
        if any(cell.strip() for cell in cells):
            line = _Row(cells, columns, first_line, mapping).line()
            drafts.append(Draft(line, bank_id=line.bank_reference))
            check_count(len(drafts), max_lines)
    return fingerprinted(drafts)


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except LookupError as exc:
            raise StatementError(f"“{encoding}” is not a text encoding we know.") from exc
        except UnicodeDecodeError as exc:
            raise StatementError(f"The file is not {encoding} text ({exc.reason}).") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise StatementError(
            "The file is neither UTF-8 nor Windows-1252 text; choose its encoding."
        ) from exc


def _sniff_delimiter(header: str) -> str:
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {candidate: unquoted.count(candidate) for candidate in (";", ",", "\t")}
    best = max(counts, key=counts.__getitem__)  # a tie goes to ";", as in German exports
    return best if counts[best] else ","


def _header_key(name: str) -> str:
    return collapse(name.replace("\ufeff", "")).casefold()


def _column_positions(header: list[str], mapping: CsvMapping, row_no: int) -> dict[str, int]:
    """The position of every column the mapping names, keyed by the mapping's spelling."""
    wanted = [mapping.date, mapping.amount, mapping.credit, mapping.debit, *mapping.reference]
    wanted += [mapping.counterparty, mapping.iban, mapping.currency, mapping.value_date]
    wanted += [mapping.bank_reference]
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(header):
        positions.setdefault(_header_key(name), []).append(position)
    found, missing = {}, []
    for name in filter(None, wanted):
        matches = positions.get(_header_key(name), [])
        if len(matches) > 1:
            raise StatementError(f"The column “{name}” appears more than once in row {row_no}.")
        if matches:
            found[name] = matches[0]
        elif name not in missing:
            missing.append(name)
    if missing:
        shown = ", ".join(f"“{name.strip()}”" for name in header[:40] if name.strip())
        raise StatementError(
            f"Column{'s' if len(missing) > 1 else ''} "
            f"{' and '.join(f'“{name}”' for name in missing)} not found in the header "
            f"(row {row_no}). The columns there are: {shown or 'none'}. Check the column names "
            "and the number of lines to skip before the header."
        )
    return found


_FORMAT_WORDS = {"%d": "DD", "%m": "MM", "%Y": "YYYY", "%y": "YY", "%b": "Mon", "%B": "Month"}


class _Row:
    def __init__(
        self, cells: list[str], columns: dict[str, int], no: int, mapping: CsvMapping
    ) -> None:
        self.cells, self.columns, self.no, self.mapping = cells, columns, no, mapping

    def text(self, column: str | None) -> str:
        if column is None or self.columns[column] >= len(self.cells):
            return ""
        return collapse(self.cells[self.columns[column]])

    def day(self, column: str, what: str) -> date | None:
        text = self.text(column)
        if not text:
            return None
        try:
            # A calendar day, not an instant: no time zone applies.
            return datetime.strptime(text, self.mapping.date_format).date()  # noqa: DTZ007
        except ValueError as exc:
            shown = re.sub(r"%.", lambda m: _FORMAT_WORDS.get(m[0], m[0]), self.mapping.date_format)
            raise StatementError(
                f"Row {self.no}: the {what} “{text}” in column “{column}” is not a date "
                f"like {shown}."
            ) from exc

    def amount(self, column: str) -> tuple[Decimal, str | None] | None:
        text = self.text(column)
        if not text:
            return None
        parsed = _amount_and_currency(text, decimal_comma=self.mapping.decimal_comma)
        if parsed is None:
            hint = ""
            if _amount_and_currency(text, decimal_comma=not self.mapping.decimal_comma):
                style = "1,234.56" if self.mapping.decimal_comma else "1.234,56"
                hint = f" It looks like the {style} style: is the decimal comma setting right?"
            raise StatementError(
                f"Row {self.no}: the amount “{text}” in column “{column}” is not a number.{hint}"
            )
        return parsed

    def line(self) -> StatementLine:
        mapping = self.mapping
        booked = self.day(mapping.date, "date")
        if booked is None:
            raise StatementError(f"Row {self.no}: the date column “{mapping.date}” is empty.")
        if mapping.amount is not None:
            parsed = self.amount(mapping.amount)
            if parsed is None:
                raise StatementError(
                    f"Row {self.no}: the amount column “{mapping.amount}” is empty."
                )
            amount, written_currency = parsed
        else:
            amount, written_currency = self._credit_or_debit(mapping.credit, mapping.debit)
        currency = self.text(mapping.currency).upper()
        if currency and not is_currency(currency):
            raise StatementError(f"Row {self.no}: “{currency}” is not a currency code.")
        if currency and written_currency and currency != written_currency:
            raise StatementError(
                f"Row {self.no}: the amount is in {written_currency} but the currency column "
                f"says {currency}."
            )
        value_date = self.day(mapping.value_date, "value date") if mapping.value_date else None
        return StatementLine(
            booking_date=booked,
            value_date=value_date,
            amount=amount,
            currency=currency or written_currency or mapping.default_currency,
            reference=collapse(" ".join(self.text(column) for column in mapping.reference)),
            counterparty=self.text(mapping.counterparty),
            counterparty_iban=account_number(self.text(mapping.iban)),
            bank_reference=clean_reference(self.text(mapping.bank_reference)),
            fingerprint="",
            source_line=self.no,
        )

    def _credit_or_debit(self, credit: str | None, debit: str | None) -> tuple[Decimal, str | None]:
        assert credit is not None  # CsvMapping makes sure of both
        assert debit is not None
        received, paid = self.amount(credit), self.amount(debit)
        if received and paid and received[0] and paid[0]:
            raise StatementError(
                f"Row {self.no}: both “{credit}” and “{debit}” hold an amount; only one may."
            )
        # Some banks sign the debit column and some do not; some fill the other with 0,00.
        if received and received[0]:
            return abs(received[0]), received[1]
        if paid and paid[0]:
            return -abs(paid[0]), paid[1]
        if zero := received or paid:
            return abs(zero[0]), zero[1]
        raise StatementError(f"Row {self.no}: neither “{credit}” nor “{debit}” holds an amount.")


# Amounts as banks write them ------------------------------------------------------------

_SYMBOLS = {"€": "EUR", "£": "GBP", "$": None, "¥": None}
_AMOUNT = re.compile(
    r"(?P<sign>[+-])?\s*(?P<before>[A-Za-z]{3}|[€£$¥])?\s*(?P<sign2>[+-])?\s*"
    r"(?P<number>[0-9][0-9.,' \u00a0\u202f]*?)\s*(?P<minus>-)?\s*"
    r"(?P<after>[A-Za-z]{3}|[€£$¥])?\s*(?P<minus2>-)?"
)


def parse_bank_amount(text: str, *, decimal_comma: bool = False) -> Decimal:
    """An exact Decimal from "1.234,56", "-12,50 €", "(12.50)", "USD 1,234.56", …"""
    parsed = _amount_and_currency(text, decimal_comma=decimal_comma)
    if parsed is None:
        raise StatementError(f"“{text}” is not a number.")
    return parsed[0]


def _amount_and_currency(text: str, *, decimal_comma: bool) -> tuple[Decimal, str | None] | None:
    """The amount and any ISO currency code written with it, or None for anything unclear."""
    text = text.strip().replace("\u2212", "-")  # a typographic minus sign
    if len(text) > 40:
        return None  # no amount is this long; and it keeps the regex's backtracking short
    negative = text.startswith("(") and text.endswith(")")  # accountants' negative
    match = _AMOUNT.fullmatch(text[1:-1].strip() if negative else text)
    if match is None or (match["before"] and match["after"]):
        return None
    signs = [match[name] for name in ("sign", "sign2", "minus", "minus2") if match[name]]
    if len(signs) > 1 or (negative and signs):
        return None
    digits = _plain_digits(match["number"], decimal_comma=decimal_comma)
    if digits is None:
        return None
    code = (match["before"] or match["after"] or "").upper()
    currency = _SYMBOLS.get(code, code) or None
    if currency is not None and not is_currency(currency):
        return None
    negative = negative or signs == ["-"]
    return Decimal(f"-{digits}" if negative else digits), currency


def _plain_digits(number: str, *, decimal_comma: bool) -> str | None:
    """ "1.234,56" → "1234.56" when the separators are used consistently, else None."""
    decimal_mark, grouping = (",", ".") if decimal_comma else (".", ",")
    whole, _, fraction = number.partition(decimal_mark)
    if decimal_mark in number and not fraction.isdigit():
        return None  # "12,", "1,2,3"
    separators = set(whole) - set("0123456789")
    if separators:
        if len(separators) > 1 or separators - {grouping, " ", "'", "\u00a0", "\u202f"}:
            return None
        groups = whole.split(separators.pop())
        if not 1 <= len(groups[0]) <= 3 or any(len(group) != 3 for group in groups[1:]):
            return None  # "12,50" read with a decimal point is not a thousands grouping
        whole = "".join(groups)
    return f"{whole}.{fraction}" if fraction else whole
