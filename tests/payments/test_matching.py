"""Matching received payments to open invoices: by number in the text, else by amount."""

from datetime import date
from decimal import Decimal

import pytest

from punchclock.payments.matching import OpenInvoice, Proposal, propose
from punchclock.payments.statements import StatementLine

GLOBEX_12 = OpenInvoice(1, "RE-2026-0012", "Globex", "EUR", Decimal("1190.00"))
INITECH_14 = OpenInvoice(2, "RE-2026-0014", "Initech", "EUR", Decimal("500.00"))
UMBRELLA_15 = OpenInvoice(3, "RE-2026-0015", "Umbrella Corporation", "EUR", Decimal("500.00"))
WAYNE_21 = OpenInvoice(4, "RE-2026-0021", "Wayne Enterprises", "USD", Decimal("2500.00"))


def payment(
    amount: str, reference: str = "", *, counterparty: str = "", currency: str = "EUR"
) -> StatementLine:
    return StatementLine(
        booking_date=date(2026, 3, 2),
        value_date=None,
        amount=Decimal(amount),
        currency=currency,
        reference=reference,
        counterparty=counterparty,
        counterparty_iban="",
        bank_reference="",
        fingerprint="",
        source_line=1,
    )


def only(proposals: list[Proposal | None]) -> Proposal:
    (proposal,) = proposals
    assert proposal is not None
    return proposal


# By number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        "RE-2026-0012",
        "RE 2026 0012",
        "re20260012",
        "Rechnung Nr. RE/2026/0012, vielen Dank",
        "Invoice:RE-2026-0012.",
        "RE2026-0012 and thanks",
    ],
)
def test_the_invoice_number_is_found_however_it_is_typed(reference):
    proposal = only(propose([payment("1190.00", reference)], [GLOBEX_12, INITECH_14]))

    assert (proposal.invoice, proposal.reason) == (GLOBEX_12, "number")
    assert proposal.explanation == (
        "The payment text names invoice RE-2026-0012 and the amount equals its open balance."
    )


@pytest.mark.parametrize(
    "reference",
    [
        "RE-2026-00123",  # a longer number
        "RE 2026 00123",
        "re202600123",
        "XRE-2026-0012",  # another series' prefix
        "RE-2026-012",
        "RE-12026-0012",
    ],
)
def test_a_number_that_only_contains_the_invoice_number_does_not_match(reference):
    # An amount that no open balance has, so nothing else can match either.
    assert propose([payment("77.00", reference)], [GLOBEX_12]) == [None]


def test_the_longer_invoice_is_found_beside_the_shorter_one():
    longer = OpenInvoice(9, "RE-2026-00123", "Hooli", "EUR", Decimal("77.00"))

    proposal = only(propose([payment("5.00", "RE-2026-00123")], [GLOBEX_12, longer]))

    assert proposal.invoice == longer


def test_a_partial_payment_is_proposed_by_number_with_the_difference_explained():
    proposal = only(propose([payment("500.00", "Anzahlung RE-2026-0012")], [GLOBEX_12]))

    assert (proposal.invoice, proposal.reason) == (GLOBEX_12, "number")
    assert proposal.explanation == (
        "The payment text names invoice RE-2026-0012; the amount €500.00 differs from its "
        "open balance €1,190.00."
    )


def test_a_number_in_another_currency_is_not_a_match():
    assert propose([payment("2500.00", "RE-2026-0021")], [WAYNE_21]) == [None]


def test_of_several_numbers_the_one_with_the_paid_balance_wins():
    text = "RE-2026-0012 RE-2026-0014"

    proposal = only(propose([payment("500.00", text)], [GLOBEX_12, INITECH_14]))

    assert proposal.invoice == INITECH_14


def test_of_several_numbers_without_a_paid_balance_the_first_named_wins():
    text = "RE-2026-0014 and RE-2026-0012"

    proposal = only(propose([payment("10.00", text)], [GLOBEX_12, INITECH_14]))

    assert proposal.invoice == INITECH_14


def test_two_instalments_naming_one_invoice_are_both_proposed():
    lines = [payment("595.00", "RE-2026-0012 1/2"), payment("595.00", "RE-2026-0012 2/2")]

    proposals = propose(lines, [GLOBEX_12])

    assert [p.invoice if p else None for p in proposals] == [GLOBEX_12, GLOBEX_12]


# By amount ------------------------------------------------------------------------------


def test_a_unique_balance_in_the_currency_is_proposed_by_amount():
    proposal = only(propose([payment("1190", "Thanks for the work")], [GLOBEX_12, INITECH_14]))

    assert (proposal.invoice, proposal.reason) == (GLOBEX_12, "amount")
    assert proposal.explanation == (
        "The amount €1,190.00 equals the open balance of invoice RE-2026-0012 (Globex)."
    )


def test_an_amount_only_matches_in_the_same_currency():
    assert propose([payment("2500.00", currency="EUR")], [WAYNE_21]) == [None]
    assert only(propose([payment("2500.00", currency="USD")], [WAYNE_21])).invoice == WAYNE_21


def test_an_amount_that_fits_several_invoices_is_not_proposed():
    assert propose([payment("500.00", counterparty="Stark")], [INITECH_14, UMBRELLA_15]) == [None]


def test_the_payer_name_settles_an_ambiguous_amount():
    line = payment("500.00", counterparty="UMBRELLA CORPORATION LTD")

    proposal = only(propose([line], [INITECH_14, UMBRELLA_15]))

    assert proposal.invoice == UMBRELLA_15
    assert proposal.explanation.endswith("and the payer’s name contains “Umbrella Corporation”.")


def test_a_payer_name_matching_several_clients_leaves_the_amount_ambiguous():
    other_umbrella = OpenInvoice(5, "RE-2026-0016", "Umbrella", "EUR", Decimal("500.00"))
    line = payment("500.00", counterparty="Umbrella Corporation")

    assert propose([line], [UMBRELLA_15, other_umbrella]) == [None]


def test_an_invoice_is_proposed_by_amount_for_one_line_only():
    lines = [payment("1190.00"), payment("1190.00")]

    proposals = propose(lines, [GLOBEX_12])

    assert proposals[0] is not None
    assert proposals[0].invoice == GLOBEX_12
    assert proposals[1] is None


def test_an_invoice_named_by_one_payment_is_not_offered_to_another_by_amount():
    lines = [payment("1190.00", "no number here"), payment("1190.00", "RE-2026-0012")]

    proposals = propose(lines, [GLOBEX_12])

    assert proposals[0] is None
    assert proposals[1] is not None
    assert proposals[1].reason == "number"


# Direction and shape --------------------------------------------------------------------


def test_money_paid_out_is_never_matched():
    lines = [payment("-1190.00", "RE-2026-0012"), payment("-500.00"), payment("0.00")]

    assert propose(lines, [GLOBEX_12, INITECH_14]) == [None, None, None]


def test_there_is_one_answer_per_line_in_order():
    lines = [payment("-5.00"), payment("500.00", "RE-2026-0014"), payment("3.00"), payment("1190")]

    proposals = propose(lines, [GLOBEX_12, INITECH_14])

    assert [p.line if p else None for p in proposals] == [None, lines[1], None, lines[3]]
    assert [p.invoice.id if p else None for p in proposals] == [None, 2, None, 1]


def test_no_open_invoices_means_no_proposals():
    assert propose([payment("10.00", "RE-2026-0012")], []) == [None]
