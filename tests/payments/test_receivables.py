"""What is owed: open invoices with days overdue, aging per client and currency, totals per
currency, client credit; the receivables page and the dashboard card."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from punchclock.payments import receivables, services
from punchclock.payments.balances import client_credit
from punchclock.payments.models import Payment
from punchclock.payments.receivables import BUCKETS, bucket_of
from tests import factories
from tests.conftest import login
from tests.payments.conftest import TODAY, issued, paid
from tests.payments.receivables_factories import document

pytestmark = pytest.mark.usefixtures("frozen_today", "pages_on_today")


@pytest.fixture
def pages_on_today(monkeypatch):
    """The pages and the dashboard count days overdue to 20 November 2026, noon UTC."""
    from punchclock.core import views
    from punchclock.payments import receivables_views

    for module in (views, receivables_views):
        monkeypatch.setattr(module, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))


# Days overdue at the bucket edges, and the bucket each belongs to.
EDGES = [
    (0, "current"),
    (1, "days_1_30"),
    (30, "days_1_30"),
    (31, "days_31_60"),
    (60, "days_31_60"),
    (61, "days_61_90"),
    (90, "days_61_90"),
    (91, "over_90"),
]


@pytest.mark.parametrize(("days", "bucket"), [*EDGES, (365, "over_90")])
def test_the_bucket_of_days_overdue(days, bucket):
    assert bucket_of(days) == bucket


def test_invoices_fall_into_the_buckets_at_their_edges(billing):
    for days, _ in EDGES:
        document(
            billing.client,
            f"{100 + days}.00",
            on=TODAY - timedelta(days=days + 14),
            due=TODAY - timedelta(days=days),
        )
    document(billing.client, "5.00", on=TODAY, due=TODAY + timedelta(days=30))
    found = receivables.receivables(billing.organization.pk, today=TODAY)
    by_amount = {item.balance.balance: item for item in found.invoices}
    for days, bucket in EDGES:
        item = by_amount[Decimal(100 + days)]
        assert (item.days_overdue, item.bucket) == (days, bucket)
    assert by_amount[Decimal(5)].bucket == "current"
    (row,) = found.clients
    assert row.buckets == {
        "current": Decimal("105.00"),  # due today, and due in 30 days
        "days_1_30": Decimal("231.00"),
        "days_31_60": Decimal("291.00"),
        "days_61_90": Decimal("351.00"),
        "over_90": Decimal("191.00"),
    }
    assert row.outstanding == Decimal("1169.00")
    assert row.overdue == Decimal("1064.00")
    assert [item.days_overdue for item in found.invoices] == [91, 90, 61, 60, 31, 30, 1, 0, 0]


def test_real_issued_invoices_age_from_their_due_date(billing):
    invoice = issued(billing)  # 2 November, due after the client's terms
    assert invoice.due_date is not None
    days = (TODAY - invoice.due_date).days
    (item,) = receivables.open_invoices(billing.organization.pk, today=TODAY)
    assert item.invoice == invoice
    assert item.days_overdue == max(days, 0)
    assert item.balance.balance == Decimal("119.00")


def test_partial_payments_and_credit_notes_lower_what_is_owed(billing):
    partly = document(billing.client, "119.00", on=date(2026, 10, 1), due=date(2026, 10, 31))
    services.record_payment(partly, paid("50.00"), by=billing.owner)
    credited = document(billing.client, "200.00", on=date(2026, 10, 2), due=date(2026, 11, 1))
    document(billing.client, "-80.00", on=date(2026, 10, 5), credits=credited)
    settled = document(billing.client, "300.00", on=date(2026, 10, 3))
    services.record_payment(settled, paid("300.00"), by=billing.owner)
    cancelled = document(billing.client, "70.00", on=date(2026, 10, 4))
    document(billing.client, "-70.00", on=date(2026, 10, 6), credits=cancelled)
    found = receivables.receivables(billing.organization.pk, today=TODAY)
    assert [(i.invoice, i.balance.balance, i.days_overdue) for i in found.invoices] == [
        (partly, Decimal("69.00"), 20),
        (credited, Decimal("120.00"), 19),
    ]
    assert found.totals[0].outstanding == Decimal("189.00")


def test_the_home_page_totals_are_the_open_invoices_added_up(billing):
    """owed_totals reads plain values: the same buckets as open_invoices' balances."""
    dollars = factories.make_client(billing.organization, "Initech", code="initech", currency="USD")
    for days in (-10, 0, 1, 45, 95):
        on = TODAY - timedelta(days=days + 14)
        document(billing.client, f"{200 + days}.00", on=on, due=TODAY - timedelta(days=days))
        document(dollars, f"{30 + days}.25", on=on, due=TODAY - timedelta(days=days))
    partly = document(billing.client, "119.00", on=date(2026, 10, 1), due=date(2026, 10, 31))
    services.record_payment(partly, paid("50.00"), by=billing.owner)
    credited = document(dollars, "200.00", on=date(2026, 10, 2))  # no due date: from issue
    document(dollars, "-80.00", on=date(2026, 10, 5), credits=credited)
    settled = document(billing.client, "300.00", on=date(2026, 10, 3))
    services.record_payment(settled, paid("300.00"), by=billing.owner)
    expected: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, int] = {}
    for item in receivables.open_invoices(billing.organization.pk, today=TODAY):
        buckets = expected.setdefault(item.balance.currency, dict.fromkeys(BUCKETS, Decimal(0)))
        buckets[item.bucket] += item.balance.balance
        counts[item.balance.currency] = counts.get(item.balance.currency, 0) + 1
    got = receivables.owed_totals(billing.organization.pk, today=TODAY)
    assert {row.currency: row.buckets for row in got} == expected
    assert {row.currency: row.invoices for row in got} == counts == {"EUR": 6, "USD": 6}
    assert got[1].buckets["over_90"] == Decimal("125.25")
    assert (
        got[1].outstanding
        == sum(Decimal(30 + d) + Decimal("0.25") for d in (-10, 0, 1, 45, 95)) + 120
    )


def test_a_refund_reopens_a_paid_invoice(billing):
    invoice = document(billing.client, "100.00", on=date(2026, 11, 1), due=date(2026, 11, 30))
    payment = services.record_payment(invoice, paid("100.00"), by=billing.owner)
    assert receivables.open_invoices(billing.organization.pk, today=TODAY) == []
    services.refund_payment(payment, by=billing.owner, amount=Decimal("30.00"), on=TODAY)
    (item,) = receivables.open_invoices(billing.organization.pk, today=TODAY)
    assert (item.invoice, item.balance.balance, item.bucket) == (
        invoice,
        Decimal("30.00"),
        "current",
    )


def test_currencies_are_never_added_together(billing):
    dollars = factories.make_client(billing.organization, "Initech", code="initech", currency="USD")
    yen = factories.make_client(billing.organization, "Nakatomi", code="nakatomi", currency="JPY")
    document(billing.client, "100.00", on=date(2026, 9, 1))
    document(billing.client, "0.10", on=date(2026, 11, 20))
    document(dollars, "250.50", on=date(2026, 11, 1), due=date(2026, 12, 1))
    document(yen, "12000", on=date(2026, 8, 1))
    found = receivables.receivables(billing.organization.pk, today=TODAY)
    totals = {t.currency: (t.outstanding, t.overdue, t.invoices) for t in found.totals}
    assert totals == {
        "EUR": (Decimal("100.10"), Decimal("100.00"), 2),
        "JPY": (Decimal("12000"), Decimal("12000"), 1),
        "USD": (Decimal("250.50"), Decimal("0.00"), 1),
    }
    assert [(r.client.name, r.currency) for r in found.clients] == [
        ("Globex", "EUR"),
        ("Initech", "USD"),
        ("Nakatomi", "JPY"),
    ]


def test_one_client_with_invoices_in_two_currencies_gets_a_row_for_each(billing):
    document(billing.client, "10.00", on=date(2026, 11, 1))
    document(billing.client, "20.00", on=date(2026, 11, 1), currency="USD")
    found = receivables.receivables(billing.organization.pk, today=TODAY)
    assert [(r.currency, r.outstanding) for r in found.clients] == [
        ("EUR", Decimal("10.00")),
        ("USD", Decimal("20.00")),
    ]


def test_credit_shows_beside_what_is_owed_and_clients_with_only_credit_get_a_row(billing):
    spare = factories.make_client(billing.organization, "Umbrella", code="umbrella")
    owing = document(billing.client, "100.00", on=date(2026, 11, 1))
    document(billing.client, "40.00", on=date(2026, 11, 2))
    services.record_payment(owing, paid("130.00"), by=billing.owner)
    paid_up = document(spare, "10.00", on=date(2026, 11, 1))
    services.record_payment(paid_up, paid("25.00"), by=billing.owner)
    found = receivables.receivables(billing.organization.pk, today=TODAY)
    rows = {r.client.name: (r.outstanding, r.credit, r.invoices) for r in found.clients}
    assert rows == {
        "Globex": (Decimal("40.00"), Decimal("30.00"), 1),
        "Umbrella": (Decimal("0"), Decimal("15.00"), 0),
    }
    assert found.totals[0].credit == Decimal("45.00")
    for client in (billing.client, spare):
        by_client = receivables.credit_by_client(billing.organization.pk, client_id=client.pk)
        assert {k[1]: v for k, v in by_client.items()} == client_credit(client.pk)


def test_one_client_at_a_time(billing):
    other = factories.make_client(billing.organization, "Initech", code="initech")
    document(billing.client, "10.00", on=date(2026, 11, 1))
    document(other, "20.00", on=date(2026, 11, 1))
    found = receivables.receivables(billing.organization.pk, today=TODAY, client_id=other.pk)
    assert [i.invoice.client for i in found.invoices] == [other]
    assert [t.outstanding for t in found.totals] == [Decimal("20.00")]


def test_other_organizations_and_drafts_owe_nothing_here(billing, outsider):
    rival = factories.make_client(outsider.organization, "Rival", code="rival")
    document(rival, "999.00", on=date(2026, 11, 1))
    from punchclock.invoicing.services import start_draft

    start_draft(billing.client, by=billing.owner)
    assert receivables.receivables(billing.organization.pk, today=TODAY).clients == []


def test_the_payment_history_lists_refunds_with_the_invoices_they_touched(billing):
    invoice = document(billing.client, "100.00", on=date(2026, 11, 1))
    payment = services.record_payment(invoice, paid("100.00"), by=billing.owner)
    services.refund_payment(payment, by=billing.owner, amount=Decimal("10.00"), on=TODAY)
    history = list(receivables.payment_history(billing.organization.pk))
    assert [p.amount for p in history] == [Decimal("-10.00"), Decimal("100.00")]
    assert [[a.invoice.number for a in p.allocations.all()] for p in history] == [
        [invoice.number],
        [invoice.number],
    ]


# Queries stay flat ---------------------------------------------------------------------------


@pytest.fixture
def crowded(billing):
    """200 invoices of 119.00 over 10 clients, 20 each: the 5 EUR clients have paid 19.00 on
    each of theirs, the 5 USD clients nothing."""
    clients = [billing.client] + [
        factories.make_client(
            billing.organization, f"Client {k}", code=f"c{k}", currency="USD" if k % 2 else "EUR"
        )
        for k in range(1, 10)
    ]
    invoices = [
        document(clients[n % 10], "119.00", on=date(2026, 6, 1) + timedelta(days=n % 150))
        for n in range(200)
    ]
    payments = [
        Payment(
            organization=billing.organization,
            client=invoice.client,
            amount=Decimal("19.00"),
            currency=invoice.currency,
            received_on=TODAY,
        )
        for invoice in invoices
        if invoice.currency == "EUR"
    ]
    Payment.objects.bulk_create(payments)
    from punchclock.payments.models import Allocation

    Allocation.objects.bulk_create(
        Allocation(payment=p, invoice=i, amount=p.amount, payment_amount=p.amount)
        for p, i in zip(payments, [i for i in invoices if i.currency == "EUR"], strict=True)
    )
    return billing


def test_receivables_take_the_same_few_queries_for_200_invoices(
    crowded, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        found = receivables.receivables(crowded.organization.pk, today=TODAY)
    assert len(found.invoices) == 200
    assert len(found.clients) == 10
    assert {t.currency: t.outstanding for t in found.totals} == {
        "EUR": Decimal("10000.00"),  # 100 × (119.00 − 19.00)
        "USD": Decimal("11900.00"),
    }


def test_the_pages_take_the_same_few_queries_for_200_invoices(
    crowded, django_assert_max_num_queries
):
    owner = login(crowded.owner)
    owner.get("/")  # the session's first request loads more than later ones
    with django_assert_max_num_queries(12):
        page = owner.get("/payments/receivables/", {"all": "1"})
    assert page.status_code == 200
    assert page.content.decode().count('id="open-') == 200
    with django_assert_max_num_queries(14):
        statement = owner.get(
            f"/payments/receivables/clients/{crowded.client.pk}/statement/", {"format": "csv"}
        )
    assert statement.status_code == 200
    # The header, the opening, 20 invoices, 20 payments, the closing.
    assert len(statement.content.decode().splitlines()) == 1 + 1 + 20 + 20 + 1
    with django_assert_max_num_queries(14):
        assert owner.get("/").status_code == 200


# The page ------------------------------------------------------------------------------------


def test_the_page_shows_totals_aging_and_open_invoices_linked(billing, as_owner):
    old = document(billing.client, "119.00", on=date(2026, 8, 1), due=date(2026, 8, 15))
    fresh = document(billing.client, "50.00", on=date(2026, 11, 19), due=date(2026, 12, 19))
    response = as_owner.get("/payments/receivables/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Outstanding in EUR" in html
    assert "€169.00" in html
    assert "€119.00 overdue" in html
    assert f'href="/invoices/{old.pk}/"' in html
    assert f'href="/invoices/{fresh.pk}/"' in html
    assert html.index(f"open-{old.pk}") < html.index(f"open-{fresh.pk}")  # longest overdue first
    assert "97 days" in html
    assert "not yet due" in html
    assert f"/payments/receivables/clients/{billing.client.pk}/statement/" in html
    assert 'href="/payments/"' in html


def test_the_client_filter_answers_htmx_with_the_results_only(billing, as_owner):
    other = factories.make_client(billing.organization, "Initech", code="initech")
    document(billing.client, "10.00", on=date(2026, 11, 1))
    mine = document(other, "20.00", on=date(2026, 11, 1))
    response = as_owner.get(
        "/payments/receivables/", {"client": other.pk}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="receivables">')
    assert f"open-{mine.pk}" in html
    assert "Globex" not in html


def test_an_unknown_client_filter_says_so_and_shows_everyone(billing, outsider, as_owner):
    rival = factories.make_client(outsider.organization, "Rival", code="rival")
    document(billing.client, "10.00", on=date(2026, 11, 1))
    response = as_owner.get("/payments/receivables/", {"client": rival.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert "Globex" in html


def test_nothing_owed_says_so(billing, as_owner):
    response = as_owner.get("/payments/receivables/")
    assert "Nothing is owed to you" in response.content.decode()


def test_members_and_managers_get_403(billing):
    for role in ("member", "manager"):
        assert login(getattr(billing, role)).get("/payments/receivables/").status_code == 403
    assert login(billing.admin).get("/payments/receivables/").status_code == 200


def test_days_overdue_count_in_the_organizations_time_zone(billing, as_owner):
    invoice = document(billing.client, "10.00", on=date(2026, 11, 1), due=TODAY)
    # 20 November, 12:00 UTC is already 21 November in Auckland.
    html = as_owner.get("/payments/receivables/").content.decode()
    assert "not yet due" in html
    billing.organization.timezone = "Pacific/Auckland"
    billing.organization.save()
    html = as_owner.get("/payments/receivables/").content.decode()
    assert f"open-{invoice.pk}" in html
    assert "1 day<" in html


# The dashboard ------------------------------------------------------------------------------


def test_owners_see_what_is_owed_on_the_dashboard(billing, as_owner):
    document(billing.client, "119.00", on=date(2026, 10, 1), due=date(2026, 10, 31))
    document(billing.client, "81.00", on=date(2026, 11, 19), due=date(2026, 12, 19))
    dollars = factories.make_client(billing.organization, "Initech", code="initech", currency="USD")
    document(dollars, "42.00", on=date(2026, 11, 19), due=date(2026, 12, 19))
    html = as_owner.get("/").content.decode()
    assert "Owed to you" in html
    assert "€200.00" in html
    assert "€119.00 overdue" in html
    assert "$42.00" in html
    assert "nothing overdue" in html
    assert 'href="/payments/receivables/"' in html


def test_the_dashboard_says_when_nothing_is_owed(billing, as_owner):
    html = as_owner.get("/").content.decode()
    assert "Owed to you" in html
    assert "Nothing is owed to you" in html


def test_members_see_no_money_on_the_dashboard(billing):
    document(billing.client, "119.00", on=date(2026, 10, 1))
    for role in ("member", "manager"):
        html = login(getattr(billing, role)).get("/").content.decode()
        assert "Owed to you" not in html
        assert "119.00" not in html


def test_every_bucket_has_a_label():
    assert set(receivables.BUCKET_LABELS) == set(BUCKETS)


def test_the_page_shows_the_longest_overdue_and_links_to_all(billing, as_owner, monkeypatch):
    from punchclock.payments import receivables_views

    monkeypatch.setattr(receivables_views, "SHOWN_INVOICES", 2)
    for net in ("100.00", "200.00", "300.00"):
        issued(billing, net)
    page = as_owner.get("/payments/receivables/").content.decode()
    assert page.count('id="open-') == 2
    assert "The 2 longest overdue of 3 open invoices" in page
    everything = as_owner.get("/payments/receivables/?all=1").content.decode()
    assert everything.count('id="open-') == 3
