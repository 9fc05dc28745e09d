"""ISO 20022 CAMT.053 account statements as signed lines (see statement_lines.py).

Only booked entries count: pending and information-only ones may still change. Elements are
matched by local name, so every camt.053.001.xx version (and none) reads alike.
"""

from __future__ import annotations

import codecs
import re
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

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

# Other ISO 20022 messages people download from online banking by mistake.
_OTHER_MESSAGES = {
    "BkToCstmrAcctRpt": "a CAMT.052 intraday account report",
    "BkToCstmrDbtCdtNtfctn": "a CAMT.054 debit/credit notification",
    "CstmrCdtTrfInitn": "a pain.001 payment order",
    "CstmrDrctDbtInitn": "a pain.008 direct debit order",
}


def read_camt053(data: bytes, *, max_lines: int) -> list[StatementLine]:
    """Booked entries of an ISO 20022 CAMT.053 statement, any version from .001.02 on."""
    data = data.lstrip(codecs.BOM_UTF8 + b" \t\r\n")  # expat wants the declaration first
    # defusedxml's ElementTree rather than lxml: defusedxml.lxml is deprecated, while this
    # wrapper runs the standard library's expat with handlers that raise on any DTD
    # (forbid_dtd), entity declaration or external reference, so neither entity expansion
    # (billion laughs) nor XXE can happen. Expat never opens the network, the size limit
    # (statements.MAX_BYTES) bounds the tree, and we need neither XPath nor schema
    # validation from lxml.
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
    drafts: list[Draft] = []
    entry_no = 0
    for stmt in _children(message, "Stmt"):
        account = _account_id(_find(stmt, "Acct", "Id"))
        for entry in _children(stmt, "Ntry"):
            entry_no += 1
            bank_id = clean_reference(_text(entry, "AcctSvcrRef"))
            for index, line in enumerate(_entry(entry, entry_no)):
                drafts.append(Draft(line, account, bank_id, index))
            check_count(len(drafts), max_lines)
    return fingerprinted(drafts)


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
    bank_reference = clean_reference(_text(entry, "AcctSvcrRef"))
    bank_reference = bank_reference or clean_reference(_text(entry, "NtryRef"))
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
    reference = collapse(" ".join(parts)) or _text(tx, "AddtlTxInf")
    return reference, name, iban


def _party_name(parties: Element | None, role: str) -> str:
    # Up to .07 the name is Dbtr/Nm; from .08 on the party is wrapped: Dbtr/Pty/Nm.
    return _text(parties, role, "Nm") or _text(parties, role, "Pty", "Nm")


def _account_id(account_id: Element | None) -> str:
    return account_number(_text(account_id, "IBAN") or _text(account_id, "Othr", "Id"))


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
    return collapse(found.text or "") if found is not None else ""


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
