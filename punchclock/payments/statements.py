"""Bank statements (CAMT.053 XML or a bank's CSV export) as signed lines to reconcile.

Pure Python without Django, so the web import, the CLI and tests share it. Amounts are
signed Decimals: positive was received, negative was paid out. Only booked entries count.

Fingerprints make a re-import idempotent: the database keeps (bank account, fingerprint)
unique, and a line whose fingerprint is already stored is a duplicate. A fingerprint is the
SHA-256 of a canonical JSON list made of either

- the bank's own id for the entry, when it gives one (CAMT AcctSvcrRef, a CSV bank-reference
  column; "NONREF" counts as none): statement account IBAN, that id, the transaction's index
  inside a batch entry, booking date, amount and currency. The id is unique by the bank's
  promise and, unlike the texts, survives changes in how the bank words an export; date and
  amount of a booked entry never change, and keeping them guards against banks that reuse
  one id (per day, per batch) for different entries; or
- the normalized content: account IBAN (CAMT only; a CSV does not say), booking date,
  amount, currency, reference, counterparty and counterparty IBAN. A CAMT NtryRef is shown
  as bank_reference but left out here: many banks number entries per statement with it, so
  the same entry has another NtryRef in a daily and in a monthly export;

followed in both cases by how many earlier lines of the same file had the same list. So two
genuinely identical payments (two transfers of 50.00 with the same text on one day) get
different fingerprints, and importing the same file again gives the same ones. The one case
this cannot tell apart: a file that starts between two such twins of one day holds only the
second, which then looks like the first. Banks cut exports at day boundaries, so it is rare.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from punchclock.core.money import is_currency

MAX_BYTES = 10 * 1024 * 1024
MAX_LINES = 50_000


class StatementError(ValueError):
    """A statement that cannot be read, explained for the person who uploaded it."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    reference: str
    counterparty: str
    counterparty_iban: str
    bank_reference: str
    fingerprint: str
    source_line: int


def parse_statement(
    data: bytes, filename: str, mapping: CsvMapping | None = None
) -> list[StatementLine]:
    """Read a CAMT.053 or CSV statement, recognised by its content rather than its name."""
    _check_size(data)
    head = data[:1024].lstrip(codecs.BOM_UTF8 + b" \t\r\n")
    if head.startswith(b"<"):
        return parse_camt053(data)
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


def _check_size(data: bytes) -> None:
    if not data.strip():
        raise StatementError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise StatementError(
            f"The file is {len(data) / 2**20:.1f} MB; statements of up to "
            f"{MAX_BYTES // 2**20} MB can be imported. Export a shorter period."
        )


def _check_count(count: int) -> None:
    if count > MAX_LINES:
        raise StatementError(
            f"The statement has more than {MAX_LINES:,} lines. Export a shorter period."
        )


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _bank_reference(text: str) -> str:
    text = _collapse(text)
    # "NONREF" is ISO 20022's way to say "no reference"; it is the same on every entry.
    return "" if text.upper() == "NONREF" else text


def _account_number(text: str) -> str:
    return "".join(text.split()).upper()


# Fingerprints ---------------------------------------------------------------------------


class _Draft(NamedTuple):
    line: StatementLine  # without its fingerprint yet
    account: str = ""  # IBAN of the statement's own account, when the file says
    bank_id: str = ""  # the bank's stable id for the entry
    batch_index: int = 0


def _fingerprinted(drafts: list[_Draft]) -> list[StatementLine]:
    """The lines with their fingerprints, as the module docstring describes them."""
    seen: Counter[tuple[str, ...]] = Counter()
    lines = []
    for line, account, bank_id, batch_index in drafts:
        amount = "0" if line.amount == 0 else f"{line.amount.normalize():f}"
        key: tuple[str, ...]
        if bank_id:
            key = ("bank", account, bank_id, str(batch_index))
            key += (line.booking_date.isoformat(), amount, line.currency)
        else:
            key = ("content", account, line.booking_date.isoformat(), amount, line.currency)
            key += (line.reference.casefold(), line.counterparty.casefold())
            key += (line.counterparty_iban,)
        canonical = json.dumps(["punchclock-statement-v1", *key, seen[key]], ensure_ascii=False)
        seen[key] += 1
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        lines.append(replace(line, fingerprint=digest))
    return lines


# CAMT.053 -------------------------------------------------------------------------------

# Other ISO 20022 messages people download from online banking by mistake.
_OTHER_MESSAGES = {
    "BkToCstmrAcctRpt": "a CAMT.052 intraday account report",
    "BkToCstmrDbtCdtNtfctn": "a CAMT.054 debit/credit notification",
    "CstmrCdtTrfInitn": "a pain.001 payment order",
    "CstmrDrctDbtInitn": "a pain.008 direct debit order",
}


def parse_camt053(data: bytes) -> list[StatementLine]:
    """Booked entries of an ISO 20022 CAMT.053 statement, any version from .001.02 on."""
    _check_size(data)
    data = data.lstrip(codecs.BOM_UTF8 + b" \t\r\n")  # expat wants the declaration first
    # defusedxml's ElementTree rather than lxml: defusedxml.lxml is deprecated, while this
    # wrapper runs the standard library's expat with handlers that raise on any DTD
    # (forbid_dtd), entity declaration or external reference, so neither entity expansion
    # (billion laughs) nor XXE can happen. Expat never opens the network, MAX_BYTES bounds
    # the tree, and we need neither XPath nor schema validation from lxml.
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StatementError(
            "The file declares a DTD or entities, which bank statements never do; it was "
            "refused for safety."
        ) from exc
    except (ParseError, LookupError, ValueError) as exc:
        raise StatementError(
            f"The file is not valid XML ({exc}); it may be damaged or cut off."
        ) from exc
    message = _find(root, "BkToCstmrStmt") if _local(root.tag) == "Document" else None
    if message is None:
        first = next(iter(root), None) if _local(root.tag) == "Document" else None
        kind = _OTHER_MESSAGES.get(_local(first.tag)) if first is not None else None
        raise StatementError(
            f"This is not a CAMT.053 bank statement{f' but {kind}' if kind else ''}. "
            "Export the account statement (camt.053) from your online banking."
        )
    drafts: list[_Draft] = []
    entry_no = 0
    for stmt in _children(message, "Stmt"):
        account = _account_id(_find(stmt, "Acct", "Id"))
        for entry in _children(stmt, "Ntry"):
            entry_no += 1
            bank_id = _bank_reference(_text(entry, "AcctSvcrRef"))
            for index, line in enumerate(_entry(entry, entry_no)):
                drafts.append(_Draft(line, account, bank_id, index))
            _check_count(len(drafts))
    return _fingerprinted(drafts)


def _entry(entry: Element, no: int) -> list[StatementLine]:
    where = f"Entry {no}"
    status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")  # .08 on wraps it in <Cd>
    if not status:
        raise StatementError(f"{where}: the status (Sts) is missing.")
    if status != "BOOK":
        return []  # pending (PDNG) and information-only (INFO) entries may still change
    amount, currency = _xml_amount(_find(entry, "Amt"), where)
    sign = _sign(_text(entry, "CdtDbtInd"), where)
    value_date = _xml_date(_find(entry, "ValDt"), f"{where}: the value date (ValDt)")
    booked = _xml_date(_find(entry, "BookgDt"), f"{where}: the booking date (BookgDt)")
    booked = booked or value_date  # a few banks leave BookgDt out of booked entries
    if booked is None:
        raise StatementError(f"{where}: the booking date (BookgDt) is missing.")
    bank_reference = _bank_reference(_text(entry, "AcctSvcrRef"))
    bank_reference = bank_reference or _bank_reference(_text(entry, "NtryRef"))
    entry_text = _text(entry, "AddtlNtryInf")
    transactions = [tx for d in _children(entry, "NtryDtls") for tx in _children(d, "TxDtls")]

    def line(tx: Element | None, amount: Decimal, currency: str, sign: int) -> StatementLine:
        reference, counterparty, iban = _transaction_details(tx, incoming=sign > 0)
        return StatementLine(
            booking_date=booked,
            value_date=value_date,
            amount=sign * amount,
            currency=currency,
            reference=reference or entry_text,
            counterparty=counterparty,
            counterparty_iban=iban,
            bank_reference=bank_reference,
            fingerprint="",
            source_line=no,
        )

    if len(transactions) <= 1:
        # One transaction: the entry's amount is what reached the account, even when the
        # transaction details also give the instructed amount in another currency.
        return [line(transactions[0] if transactions else None, amount, currency, sign)]
    lines = []
    for index, tx in enumerate(transactions, start=1):
        tx_where = f"{where}, transaction {index} of {len(transactions)}"
        tx_amount = _find(tx, "Amt")
        if tx_amount is None:
            tx_amount = _find(tx, "AmtDtls", "TxAmt", "Amt")
        tx_sign = _sign(_text(tx, "CdtDbtInd"), tx_where) if _text(tx, "CdtDbtInd") else sign
        lines.append(line(tx, *_xml_amount(tx_amount, tx_where), tx_sign))
    return lines


def _transaction_details(tx: Element | None, *, incoming: bool) -> tuple[str, str, str]:
    """Reference, name and account of the other party: the debtor of money received."""
    role = "Dbtr" if incoming else "Cdtr"
    parties = _find(tx, "RltdPties")
    name = _party_name(parties, role) or _party_name(parties, f"Ultmt{role}")
    iban = _account_id(_find(parties, f"{role}Acct", "Id"))
    remittance = _find(tx, "RmtInf")
    parts = [_text(text) for text in _children(remittance, "Ustrd")]
    for structured in _children(remittance, "Strd"):
        parts.extend(_text(doc, "Nb") for doc in _children(structured, "RfrdDocInf"))
        parts.append(_text(structured, "CdtrRefInf", "Ref"))
    reference = _collapse(" ".join(parts)) or _text(tx, "AddtlTxInf")
    return reference, name, iban


def _party_name(parties: Element | None, role: str) -> str:
    # Up to .07 the name is Dbtr/Nm; from .08 on the party is wrapped: Dbtr/Pty/Nm.
    return _text(parties, role, "Nm") or _text(parties, role, "Pty", "Nm")


def _account_id(account_id: Element | None) -> str:
    return _account_number(_text(account_id, "IBAN") or _text(account_id, "Othr", "Id"))


def _local(tag: object) -> str:
    # Matching local names makes every camt.053.001.xx namespace (and none) work alike.
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(parent: Element | None, name: str) -> list[Element]:
    return [] if parent is None else [child for child in parent if _local(child.tag) == name]


def _find(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((child for child in element if _local(child.tag) == name), None)
    return element


def _text(element: Element | None, *path: str) -> str:
    found = _find(element, *path)
    return _collapse(found.text or "") if found is not None else ""


def _xml_amount(element: Element | None, where: str) -> tuple[Decimal, str]:
    if element is None:
        raise StatementError(f"{where}: the amount (Amt) is missing.")
    text = (element.text or "").strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        raise StatementError(f"{where}: the amount (Amt) “{text}” is not a number.")
    currency = element.get("Ccy", "").strip().upper()
    if not is_currency(currency):
        raise StatementError(f"{where}: “{currency}” (Ccy of Amt) is not a currency code.")
    return Decimal(text), currency


def _sign(indicator: str, where: str) -> int:
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(
            f"{where}: the credit/debit indicator (CdtDbtInd) is “{indicator}”, not CRDT or DBIT."
        )
    return 1 if indicator == "CRDT" else -1


def _xml_date(element: Element | None, what: str) -> date | None:
    text = _text(element, "Dt") or _text(element, "DtTm")
    if not text:
        return None
    try:
        # A DtTm is the bank's local date and time; its date part is the booking day.
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise StatementError(f"{what} “{text}” is not a date.") from exc


# CSV ------------------------------------------------------------------------------------


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


def parse_csv(data: bytes, mapping: CsvMapping) -> list[StatementLine]:
    """Rows of a bank's CSV export, read through the columns the mapping names."""
    _check_size(data)
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
    drafts: list[_Draft] = []
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
            drafts.append(_Draft(line, bank_id=line.bank_reference))
            _check_count(len(drafts))
    return _fingerprinted(drafts)


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
    return _collapse(name.replace("\ufeff", "")).casefold()


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
        return _collapse(self.cells[self.columns[column]])

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
            reference=_collapse(" ".join(self.text(column) for column in mapping.reference)),
            counterparty=self.text(mapping.counterparty),
            counterparty_iban=_account_number(self.text(mapping.iban)),
            bank_reference=_bank_reference(self.text(mapping.bank_reference)),
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
