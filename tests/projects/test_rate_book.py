"""The rate book's plain read of every rate gives what the ORM gives, to the last place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from punchclock.projects.models import Rate, RateKind
from punchclock.projects.ratebook import BookRate, RateBook
from tests.factories import make_rate

AMOUNTS = ["0.1", "0.0001", "97.5", "100", "1234567.8912", "99999999.9999", "33.3333", "0"]


def test_every_rate_reads_as_the_orm_reads_it(agency):
    org = agency.organization
    for day, amount in enumerate(AMOUNTS, start=1):
        make_rate(org, amount, project=agency.project, effective_from=date(2026, 1, day))
    make_rate(org, "61.25", kind=RateKind.COST, membership=agency.member, currency="GBP")
    orm = sorted(
        BookRate(*row)
        for row in Rate.objects.filter(organization=org).values_list(
            "kind", "scope_key", "effective_from", "amount", "currency"
        )
    )
    book = RateBook.load(org)
    plain = sorted(book.rates(RateKind.BILL) + book.rates(RateKind.COST))
    assert plain == orm
    bills = sorted(book.rates(RateKind.BILL), key=lambda r: r.effective_from)
    assert [str(rate.amount) for rate in bills] == [
        str(Decimal(amount).quantize(Decimal("0.0001"))) for amount in AMOUNTS
    ]
    assert all(isinstance(rate.effective_from, date) for rate in plain)
    # Another organization's rates stay out.
    other = type(org).objects.create(name="Other", default_currency="EUR")
    assert RateBook.load(other).rates(RateKind.BILL) == []
