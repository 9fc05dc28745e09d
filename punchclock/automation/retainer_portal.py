"""What a client reads about its retainers in the portal, in the client's language."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_date

from punchclock.automation.models import RetainerFrequency, RetainerKind
from punchclock.automation.retainers import Balance, client_balances, from_units
from punchclock.clients.models import Client
from punchclock.payments.portal_text import Text


@dataclass(frozen=True)
class RetainerLine:
    name: str
    text: str
    used_percent: int
    over: bool


def _figure(text: Text, balance: Balance, units: int) -> str:
    retainer = balance.retainer
    value = from_units(retainer, units)
    if retainer.kind == RetainerKind.HOURS:
        shown = value.quantize(Decimal("0.01"))  # as the team's pages round it
        return f"{text.formats(retainer.client.currency).number(shown)} h"
    return text.formats(retainer.client.currency).money(value)


def _period(text: Text, balance: Balance) -> str:
    start = balance.period.start
    if balance.retainer.frequency == RetainerFrequency.QUARTERLY:
        return balance.label
    return format_date(start, "LLLL y", locale=text.lang)


def lines(text: Text, client: Client) -> list[RetainerLine]:
    """One sentence per active retainer: what is left this period, or how far beyond."""
    found = []
    for balance in client_balances(client):
        allowance = _figure(text, balance, balance.settlement.allowance)
        period = _period(text, balance)
        if balance.over:
            over = _figure(text, balance, -balance.left)
            sentence = text.say("retainer_over", over=over, allowance=allowance, period=period)
        else:
            left = _figure(text, balance, balance.left)
            sentence = text.say("retainer_left", left=left, allowance=allowance, period=period)
        found.append(
            RetainerLine(balance.retainer.name, sentence, balance.used_percent, balance.over)
        )
    return found
