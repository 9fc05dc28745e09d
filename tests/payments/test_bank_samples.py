"""Statements for the bank import tests, built from a few facts per entry (no tests here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from punchclock.payments.statements import CsvMapping

BOOKED = date(2026, 11, 18)


@dataclass(frozen=True)
class Entry:
    amount: str  # negative: paid out
    text: str = ""
    payer: str = "Globex Corporation"
    bank_id: str = ""
    booked: date = BOOKED
    currency: str = "EUR"


def camt(*entries: Entry) -> bytes:
    """A camt.053.001.08 statement of the agency's account holding the entries."""
    parts = []
    for entry in entries:
        amount = Decimal(entry.amount)
        role = "Dbtr" if amount > 0 else "Cdtr"
        reference = f"<AcctSvcrRef>{entry.bank_id}</AcctSvcrRef>" if entry.bank_id else ""
        parts.append(
            f"""<Ntry>
  <Amt Ccy="{entry.currency}">{abs(amount)}</Amt>
  <CdtDbtInd>{"CRDT" if amount > 0 else "DBIT"}</CdtDbtInd>
  <Sts><Cd>BOOK</Cd></Sts>
  <BookgDt><Dt>{entry.booked.isoformat()}</Dt></BookgDt>
  <ValDt><Dt>{entry.booked.isoformat()}</Dt></ValDt>
  {reference}
  <NtryDtls><TxDtls>
    <RltdPties><{role}><Pty><Nm>{entry.payer}</Nm></Pty></{role}></RltdPties>
    <RmtInf><Ustrd>{entry.text}</Ustrd></RmtInf>
  </TxDtls></NtryDtls>
</Ntry>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-19T06:00:00+01:00</CreDtTm></GrpHdr>
  <Stmt>
    <Id>S1</Id>
    <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
    {"".join(parts)}
  </Stmt>
</BkToCstmrStmt>
</Document>""".encode()


# A German bank's CSV export: a preamble, semicolons, DD.MM.YYYY and decimal commas.
GERMAN = CsvMapping(
    date="Buchungstag",
    amount="Betrag",
    reference=("Verwendungszweck",),
    counterparty="Auftraggeber",
    date_format="%d.%m.%Y",
    decimal_comma=True,
    skip_rows=2,
)
GERMAN_FIELDS = {
    "date_column": "Buchungstag",
    "amount_column": "Betrag",
    "reference_columns": "Verwendungszweck",
    "counterparty_column": "Auftraggeber",
    "date_format": "%d.%m.%Y",
    "decimal_comma": "on",
    "skip_rows": "2",
    "default_currency": "EUR",
}


def german_csv(*rows: tuple[str, str, str, str]) -> bytes:
    """Rows of (DD.MM.YYYY, amount as 1.234,56, payer, text), in Windows-1252."""
    lines = ["Konto;DE89370400440532013000", "Zeitraum;01.11.2026 - 18.11.2026"]
    lines.append("Buchungstag;Auftraggeber;Verwendungszweck;Betrag")
    lines += [f"{day};{payer};{text};{amount}" for day, amount, payer, text in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")
