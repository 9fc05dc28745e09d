"""Invoice totals exactly as EN 16931 computes them (BR-CO-10 to BR-CO-16).

Each line's net is rounded first. A document-level discount is an allowance per tax group
and a document-level surcharge a charge per tax group, each rounded per group. Tax is
rounded once per tax group; every total is a sum of rounded amounts. All rounding is
half-up to the currency's minor unit, through core.money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from punchclock.core.money import round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Tax:
    """One tax applied to a line's net: a VAT category and rate, or a named extra tax."""

    category: str
    rate: Decimal  # percent
    name: str = "VAT"


@dataclass(frozen=True, slots=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    taxes: tuple[Tax, ...]
    discount_percent: Decimal = Decimal(0)
    surcharge_percent: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class TaxGroup:
    tax: Tax
    basis: Decimal  # lines of the group less their document allowance plus their charge
    allowance: Decimal
    amount: Decimal
    charge: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Totals:
    line_nets: list[Decimal]
    line_total: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    net_total: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    gross_total: Decimal  # BT-112
    groups: list[TaxGroup] = field(default_factory=list)


def line_net(
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal,
    currency: str,
    surcharge_percent: Decimal = Decimal(0),
) -> Decimal:
    """A line's net (BT-131): quantity × price less its discount plus its surcharge.

    Both percentages apply to quantity × price (they do not compound), and the net is
    rounded once.
    """
    factor = (HUNDRED - discount_percent + surcharge_percent) / HUNDRED
    return round_money(quantity * unit_price * factor, currency)


def compute_totals(
    lines: Iterable[LineInput],
    *,
    currency: str,
    discount_percent: Decimal = Decimal(0),
    surcharge_percent: Decimal = Decimal(0),
) -> Totals:
    nets: list[Decimal] = []
    # Lines with the same taxes form one group for the document allowance, so a line that
    # carries two taxes has its allowance taken once and both taxes see the same basis.
    by_taxes: dict[tuple[Tax, ...], Decimal] = {}
    for line in lines:
        net = line_net(
            line.quantity,
            line.unit_price,
            line.discount_percent,
            currency,
            line.surcharge_percent,
        )
        nets.append(net)
        by_taxes[line.taxes] = by_taxes.get(line.taxes, Decimal(0)) + net

    bases: dict[Tax, Decimal] = {}
    allowances: dict[Tax, Decimal] = {}
    charges: dict[Tax, Decimal] = {}
    allowance_total = charge_total = Decimal(0)
    for taxes, group_net in by_taxes.items():
        # Discount and surcharge are both shares of the group's lines; they do not compound.
        allowance = round_money(group_net * discount_percent / HUNDRED, currency)
        charge = round_money(group_net * surcharge_percent / HUNDRED, currency)
        allowance_total += allowance
        charge_total += charge
        for tax in taxes:
            bases[tax] = bases.get(tax, Decimal(0)) + group_net - allowance + charge
            allowances[tax] = allowances.get(tax, Decimal(0)) + allowance
            charges[tax] = charges.get(tax, Decimal(0)) + charge

    groups = [
        TaxGroup(
            tax=tax,
            basis=basis,
            allowance=allowances[tax],
            amount=round_money(basis * tax.rate / HUNDRED, currency),
            charge=charges[tax],
        )
        for tax, basis in sorted(bases.items(), key=lambda item: _tax_order(item[0]))
    ]
    line_total = sum(nets, Decimal(0))
    net_total = line_total - allowance_total + charge_total
    tax_total = sum((group.amount for group in groups), Decimal(0))
    return Totals(
        line_nets=nets,
        line_total=round_money(line_total, currency),
        allowance_total=round_money(allowance_total, currency),
        charge_total=round_money(charge_total, currency),
        net_total=round_money(net_total, currency),
        tax_total=round_money(tax_total, currency),
        gross_total=round_money(net_total + tax_total, currency),
        groups=groups,
    )


def _tax_order(tax: Tax) -> tuple[bool, str, str, Decimal]:
    """VAT groups first, highest rate first, then any additional taxes."""
    return (tax.name != "VAT", tax.name, tax.category, -tax.rate)
