"""Propose which open invoice a received payment settles: by its number, else by its amount.

Proposals are suggestions that a person confirms; nothing here writes.

Invoice numbers are compared as runs of letters and runs of digits, ignoring case and the
separators people type, so "RE 2026 0012", "re20260012" and "RE/2026/0012" all name
RE-2026-0012. A number must start and end on run boundaries of the text, which keeps
RE-2026-0012 out of "RE-2026-00123" and "XRE-2026-0012".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from punchclock.core.money import Money, MoneyError
from punchclock.payments.statements import StatementLine


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    id: int
    number: str
    client_name: str
    currency: str
    balance: Decimal


@dataclass(frozen=True, slots=True)
class Proposal:
    line: StatementLine
    invoice: OpenInvoice
    reason: Literal["number", "amount"]
    explanation: str


def propose(
    lines: Sequence[StatementLine], invoices: Iterable[OpenInvoice]
) -> list[Proposal | None]:
    """One proposal or None per line, in the lines' order; only money received is matched."""
    invoices = list(invoices)
    by_number: dict[str, list[OpenInvoice]] = {}
    for invoice in invoices:
        if key := "".join(_runs(invoice.number)):
            by_number.setdefault(key, []).append(invoice)
    longest = max(map(len, by_number), default=0)
    proposals = [
        _by_number(line, by_number, longest) if line.amount > 0 else None for line in lines
    ]

    # An invoice already named by a payment is not offered again on the amount alone, and
    # an amount match goes to the first line only: the same invoice is rarely paid twice.
    claimed = {proposal.invoice for proposal in proposals if proposal is not None}
    by_amount: dict[tuple[str, Decimal], list[OpenInvoice]] = {}
    for invoice in invoices:
        by_amount.setdefault((invoice.currency.upper(), invoice.balance), []).append(invoice)
    for index, line in enumerate(lines):
        if proposals[index] is None and line.amount > 0:
            candidates = by_amount.get((line.currency.upper(), line.amount), [])
            proposal = _by_amount(line, candidates)
            if proposal is not None and proposal.invoice not in claimed:
                claimed.add(proposal.invoice)
                proposals[index] = proposal
    return proposals


_RUN = re.compile(r"\d+|[^\W\d_]+")


def _runs(text: str) -> list[str]:
    """ "RE-2026/0012b" → ["re", "2026", "0012", "b"]: letter and digit runs, casefolded."""
    return [run.casefold() for run in _RUN.findall(text)]


def _numbers_in(
    text: str, by_number: dict[str, list[OpenInvoice]], longest: int
) -> list[OpenInvoice]:
    """Invoices whose number the text names, in the order they appear."""
    runs = _runs(text)
    found: dict[OpenInvoice, None] = {}
    for start in range(len(runs)):
        joined = ""
        for run in runs[start:]:
            joined += run
            if len(joined) > longest:
                break
            found.update(dict.fromkeys(by_number.get(joined, ())))
    return list(found)


def _by_number(
    line: StatementLine, by_number: dict[str, list[OpenInvoice]], longest: int
) -> Proposal | None:
    named = [
        invoice
        for invoice in _numbers_in(line.reference, by_number, longest)
        if invoice.currency.upper() == line.currency.upper()
    ]
    if not named:
        return None
    exact = [invoice for invoice in named if invoice.balance == line.amount]
    invoice = (exact or named)[0]
    explanation = f"The payment text names invoice {invoice.number}"
    if invoice.balance == line.amount:
        explanation += " and the amount equals its open balance."
    else:
        # A partial payment or an overpayment still names its invoice; the user decides.
        explanation += (
            f"; the amount {_money(line.amount, line.currency)} differs from its open "
            f"balance {_money(invoice.balance, invoice.currency)}."
        )
    return Proposal(line, invoice, "number", explanation)


def _by_amount(line: StatementLine, candidates: list[OpenInvoice]) -> Proposal | None:
    by_name = False
    if len(candidates) > 1:
        payer = _runs(line.counterparty)
        candidates = [inv for inv in candidates if _contains(payer, _runs(inv.client_name))]
        by_name = True
    if len(candidates) != 1:
        return None
    invoice = candidates[0]
    explanation = (
        f"The amount {_money(line.amount, line.currency)} equals the open balance of invoice "
        f"{invoice.number} ({invoice.client_name})"
    )
    if by_name:
        explanation += f", and the payer’s name contains “{invoice.client_name}”"
    return Proposal(line, invoice, "amount", explanation + ".")


def _contains(haystack: list[str], needle: list[str]) -> bool:
    width = len(needle)
    return width > 0 and any(
        haystack[start : start + width] == needle for start in range(len(haystack) - width + 1)
    )


def _money(amount: Decimal, currency: str) -> str:
    try:
        return Money(amount, currency.upper()).format("en")
    except MoneyError:
        return f"{amount} {currency}"
