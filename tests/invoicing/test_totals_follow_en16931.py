"""Totals: lines rounded half-up first, tax per rate group, totals as sums (BR-CO-10..16)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from punchclock.core.money import round_money
from punchclock.invoicing.totals import LineInput, Tax, compute_totals, line_net

VAT21 = Tax("S", Decimal(21))
VAT19 = Tax("S", Decimal(19))


def test_57_48_less_10_percent_plus_21_percent_vat_is_62_59():
    line = LineInput(Decimal(1), Decimal("57.48"), (VAT21,), discount_percent=Decimal(10))
    totals = compute_totals([line], currency="EUR")
    assert totals.net_total == Decimal("51.73")
    assert totals.tax_total == Decimal("10.86")
    assert totals.gross_total == Decimal("62.59")


def test_the_same_10_percent_as_a_document_discount_also_gives_62_59():
    line = LineInput(Decimal(1), Decimal("57.48"), (VAT21,))
    totals = compute_totals([line], currency="EUR", discount_percent=Decimal(10))
    assert totals.line_total == Decimal("57.48")
    assert totals.allowance_total == Decimal("5.75")
    assert totals.net_total == Decimal("51.73")
    assert totals.gross_total == Decimal("62.59")


def test_a_weekend_surcharge_and_a_discount_both_apply_to_quantity_times_price():
    # 8 h × 95.00 = 760.00; −10 % and +50 % do not compound: 760.00 × 1.40 = 1,064.00.
    line = LineInput(Decimal(8), Decimal("95.00"), (VAT19,), Decimal(10), Decimal(50))
    totals = compute_totals([line], currency="EUR", surcharge_percent=Decimal("12.5"))
    assert totals.line_total == Decimal("1064.00")
    assert totals.charge_total == Decimal("133.00")
    assert totals.net_total == Decimal("1197.00")
    assert totals.tax_total == Decimal("227.43")


def test_net_138_66_at_19_percent_is_26_35_vat_and_165_01_and_paying_it_leaves_zero():
    totals = compute_totals([LineInput(Decimal(1), Decimal("138.66"), (VAT19,))], currency="EUR")
    assert totals.tax_total == Decimal("26.35")
    assert totals.gross_total == Decimal("165.01")
    assert totals.gross_total - Decimal("165.01") == Decimal("0.00")


def test_140_with_5_and_9_975_percent_taxes_is_7_00_plus_13_97_making_160_97():
    gst, qst = Tax("S", Decimal(5), "GST"), Tax("S", Decimal("9.975"), "QST")
    totals = compute_totals([LineInput(Decimal(1), Decimal("140.00"), (gst, qst))], currency="CAD")
    assert [g.amount for g in totals.groups] == [Decimal("7.00"), Decimal("13.97")]
    assert totals.net_total == Decimal("140.00")
    assert totals.gross_total == Decimal("160.97")


def test_1393_50_at_21_percent_is_292_64():
    totals = compute_totals([LineInput(Decimal(1), Decimal("1393.50"), (VAT21,))], currency="EUR")
    assert totals.tax_total == Decimal("292.64")
    assert totals.gross_total == Decimal("1686.14")


def test_tax_is_rounded_once_per_group_not_per_line():
    # Per line, 0.05 × 21 % = 0.0105 would round to 0.01, ten times 0.10.
    lines = [LineInput(Decimal(1), Decimal("0.05"), (VAT21,)) for _ in range(10)]
    totals = compute_totals(lines, currency="EUR")
    assert totals.tax_total == Decimal("0.11")  # 0.50 × 21 % = 0.105, not 10 × 0.01


def test_each_rate_is_its_own_group():
    lines = [
        LineInput(Decimal(2), Decimal("50"), (VAT19,)),
        LineInput(Decimal(1), Decimal("10"), (Tax("S", Decimal(7)),)),
    ]
    totals = compute_totals(lines, currency="EUR")
    assert [(g.tax.rate, g.basis, g.amount) for g in totals.groups] == [
        (Decimal(19), Decimal("100.00"), Decimal("19.00")),
        (Decimal(7), Decimal("10.00"), Decimal("0.70")),
    ]
    assert totals.gross_total == Decimal("129.70")


def test_yen_rounds_to_whole_units_and_negative_amounts_round_away_from_zero():
    assert line_net(Decimal("1.5"), Decimal("333"), Decimal(0), "JPY") == Decimal("500")
    assert line_net(Decimal(-1), Decimal("1393.505"), Decimal(0), "EUR") == Decimal("-1393.51")


amounts = st.decimals(min_value=Decimal("-999.99"), max_value=Decimal("99999.99"), places=2)
quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999"), places=4)
percents = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)
taxes = st.sampled_from([Tax("S", Decimal(r)) for r in ("19", "7", "21", "9.975")])
surcharges = st.sampled_from([Decimal(0), Decimal(0), Decimal(50)]) | percents
lines = st.builds(LineInput, quantities, amounts, st.tuples(taxes), percents, surcharges)


@given(st.lists(lines, min_size=1, max_size=12), percents, surcharges)
def test_totals_are_sums_of_rounded_lines_and_rounded_tax_groups(items, discount, surcharge):
    totals = compute_totals(
        items, currency="EUR", discount_percent=discount, surcharge_percent=surcharge
    )
    nets = [
        line_net(i.quantity, i.unit_price, i.discount_percent, "EUR", i.surcharge_percent)
        for i in items
    ]
    assert totals.line_nets == nets
    assert all(net == round_money(net, "EUR") for net in nets)
    assert totals.line_total == sum(nets)  # BR-CO-10
    # BR-CO-13: net = lines − allowances + charges
    assert totals.net_total == totals.line_total - totals.allowance_total + totals.charge_total
    by_rate: dict[Decimal, Decimal] = {}
    for item, net in zip(items, nets, strict=True):
        by_rate[item.taxes[0].rate] = by_rate.get(item.taxes[0].rate, Decimal(0)) + net
    for group in totals.groups:
        allowance = round_money(by_rate[group.tax.rate] * discount / 100, "EUR")
        charge = round_money(by_rate[group.tax.rate] * surcharge / 100, "EUR")
        assert group.allowance == allowance
        assert group.charge == charge
        assert group.basis == by_rate[group.tax.rate] - allowance + charge
        assert group.amount == round_money(group.basis * group.tax.rate / 100, "EUR")
    assert totals.tax_total == sum(g.amount for g in totals.groups)  # BR-CO-14
    assert totals.gross_total == totals.net_total + totals.tax_total  # BR-CO-15
