"""What every statement format reads into: signed lines with stable fingerprints.

Fingerprints make a re-import idempotent: the database keeps (organization, fingerprint)
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

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import NamedTuple


class StatementError(ValueError):
    """A statement that cannot be read, explained for the person who uploaded it."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    booking_date: date
    value_date: date | None
    amount: Decimal  # positive was received, negative was paid out
    currency: str
    reference: str
    counterparty: str
    counterparty_iban: str
    bank_reference: str
    fingerprint: str
    source_line: int


class Draft(NamedTuple):
    line: StatementLine  # without its fingerprint yet
    account: str = ""  # IBAN of the statement's own account, when the file says
    bank_id: str = ""  # the bank's stable id for the entry
    batch_index: int = 0


def check_count(count: int, limit: int) -> None:
    if count > limit:
        raise StatementError(
            f"The statement has more than {limit:,} lines. Export a shorter period."
        )


def collapse(text: str) -> str:
    return " ".join(text.split())


def clean_reference(text: str) -> str:
    text = collapse(text)
    # "NONREF" is ISO 20022's way to say "no reference"; it is the same on every entry.
    return "" if text.upper() == "NONREF" else text


def account_number(text: str) -> str:
    return "".join(text.split()).upper()


def fingerprinted(drafts: list[Draft]) -> list[StatementLine]:
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
