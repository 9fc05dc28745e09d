"""A retainer period's settlement: pure integer arithmetic, so no hour is lost or made up.

Units are whole numbers: seconds for an hours retainer, minor units (cents) of the client's
currency for an amount retainer. Conversions to Decimal hours or money happen only for
display and for the invoice's lines, each rounded once there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

BILL, CARRY = "bill", "carry"
EXPIRE, ROLL_OVER = "expire", "roll_over"
HOUR = 3600


@dataclass(frozen=True, slots=True)
class Terms:
    included: int
    overage: str = BILL  # what happens to use beyond the allowance
    unused: str = EXPIRE  # what happens to allowance left unused
    cap: int | None = None  # roll over at most this much; None: all of it


@dataclass(frozen=True, slots=True)
class Settlement:
    included: int
    carried_in: int  # + unused rolled over, − overage carried, from the period before
    used: int
    overage: int  # billed at this close
    carried_out: int  # into the next period's carried_in
    expired: int  # unused allowance that lapses

    @property
    def allowance(self) -> int:
        return self.included + self.carried_in

    @property
    def left(self) -> int:
        """What is left to use this period; negative once the allowance is exceeded."""
        return self.allowance - self.used


def settle(terms: Terms, *, carried_in: int, used: int) -> Settlement:
    """Close a period: split its balance into billed, carried and expired parts.

    Always included + carried_in − used == expired + carried_out − overage."""
    if used < 0:
        raise ValueError("used cannot be negative")
    balance = terms.included + carried_in - used
    overage = carried_out = expired = 0
    if balance < 0:
        if terms.overage == CARRY:
            carried_out = balance  # deducted from the next period's allowance
        else:
            overage = -balance
    elif balance > 0:
        if terms.unused == ROLL_OVER:
            carried_out = balance if terms.cap is None else min(balance, terms.cap)
        expired = balance - carried_out
    return Settlement(terms.included, carried_in, used, overage, carried_out, expired)


def hours(seconds: int) -> Decimal:
    """Seconds as hours to 0.0001 h, as invoice lines state hours."""
    return (Decimal(seconds) / HOUR).quantize(Decimal("0.0001"))


def money_units(amount: Decimal, places: int) -> int:
    """An amount already rounded to the currency as whole minor units."""
    return int(amount.scaleb(places).to_integral_exact())


def units_money(units: int, places: int) -> Decimal:
    return Decimal(units).scaleb(-places)
