"""Payments at volume: recording, exact sums, receivables, Stripe webhooks and bank import.

Run from the repository root with the project's virtualenv:

    python bench/payments_bench.py                       # 200 clients, 5,000 invoices
    python bench/payments_bench.py --clients 20 --invoices 300 --webhooks 20 \\
        --bank-lines 200 --runs 3 --out /tmp             # a smoke test
    python bench/payments_bench.py --database-url postgres://postgres@127.0.0.1:5432/punch_pay

It sets up what `invoice_bench.py` sets up (a temporary data folder with embedded SQLite, or
the throw-away PostgreSQL database given, migrated; an organization with a full billing
identity and its owner), collects the static files (the pages run with DEBUG=0), and then:

1. volume: `--clients` clients in EUR, USD and GBP and `--invoices` issued invoices over the
   last twelve months, written as rows the way tests/payments/receivables_factories.py
   writes them (issuing for real renders a PDF and an e-invoice, about 0.1 s each), with
   their "issued" and "sent" events and a few credit notes; then about 60 % of the invoices
   paid in full and 15 % in part through `services.record_payment`, and some of those
   payments partly refunded through `services.refund_payment`, every call timed; ANALYZE;
2. exactness: in a second organization, `--tiny-payments` payments of 0.10 allocated to
   one invoice of 1,000.00 (bulk_create); the total and balance read back through
   `balances` must be exactly 1000.00 and 0;
3. receivables: `receivables.receivables` and the receivables page (Django's test client,
   logged in as the owner), and the statement of account of the client with the most
   invoices as a page, CSV and PDF: one warm-up, one call counting queries, then `--runs`
   timed calls each;
4. Stripe: `--webhooks` signed `payment_intent.succeeded` events, each paying another open
   invoice, POSTed to the webhook URL; then all of them again (duplicates); exactly that
   many Stripe payments must exist afterwards, and those invoices must be paid;
5. bank import: a CAMT.053 statement of `--bank-lines` lines, half of them naming an open
   invoice, imported (parse, store, proposals) and imported again (all duplicates).

Every check must hold, else the run exits 1 (the results are written all the same, with
the failures listed). Ctrl+C or SIGTERM removes the temporary folder. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_bench import REPO, RESULTS, checkout, load_average, log, machine_info  # sibling scripts
from invoice_bench import SEED, create_fixture, django_env, setup_django, summary, version_of

# Clients: (currency, country, tax treatment, share of the clients).
CURRENCIES = (
    ("EUR", "DE", "domestic", 0.7),
    ("USD", "US", "export", 0.2),
    ("GBP", "GB", "export", 0.1),
)
LEGAL_FORMS = {"EUR": "GmbH", "USD": "Inc.", "GBP": "Ltd"}
# fmt: off
NAMES = [
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
    "Tyrell", "Cyberdyne", "Wonka", "Monarch", "Oscorp", "Aperture", "Nakatomi", "Bluth",
    "Dunder", "Sterling", "Prestige",
]
TRADES = [
    "Logistics", "Software", "Media", "Retail", "Energy", "Health", "Foods", "Travel",
    "Finance", "Labs",
]
# fmt: on
VAT = Decimal("0.19")  # German clients; the others are exports without VAT

# What happens to each invoice (cumulative draws): paid in full, in part, or still open.
PAID_IN_FULL, PAID_IN_PART = 0.60, 0.75
CREDITED = 0.03  # of all invoices: a credit note, one in three for the full amount
REFUNDED = 0.03  # of the invoices paid in full: part of the money returned
OVERPAID = 0.02  # of the invoices paid in full: 10.00 too much, kept as the client's credit
VIEWED = 0.3  # of the invoices: opened by the client in the portal

WEBHOOK_SECRET = "whsec_payments_bench_0123456789"
# How payers quote an invoice number (the matcher ignores case and separators).
QUOTES = [
    "Invoice {number}",
    "{number}",
    "Rechnung {spaced}",
    "Payment for invoice {slashed}, thank you",
    "RE {compact} customer 4711",
]
OTHER_LINES = [
    ("Hetzner Online GmbH", "Server hosting {month}", -1),
    ("Finanzamt Berlin", "Umsatzsteuer-Vorauszahlung {month}", -1),
    ("Payroll", "Salaries {month}", -1),
    ("Techniker Krankenkasse", "Beitrag {month}", -1),
    ("Stadtwerke Berlin", "Abschlag Strom {month}", -1),
    ("Jane Doe", "Refund of travel expenses", 1),
    ("Bank interest", "Zinsen {month}", 1),
    ("Unknown payer", "Transfer {month}", 1),
]


class BenchFailed(RuntimeError):
    """Something the bench relies on did not hold (a page did not answer 200, …)."""


# Small helpers ---------------------------------------------------------------------------


def ms(seconds: list[float]) -> list[float]:
    return [s * 1000 for s in seconds]


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


@contextlib.contextmanager
def query_counter() -> Iterator[list[int]]:
    """Count the queries run on the default connection (cheap enough to leave on in loops)."""
    from django.db import connection

    counted = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        counted[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counted


@dataclass
class Timed:
    """Calls of one kind: wall and process CPU seconds of each, and for a loop of them its
    wall time and queries. CPU time moves little with other work on the machine; on
    PostgreSQL it leaves out the server's share."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    wall: float = 0.0
    queries: int = 0

    def measure(self, call: Callable[[], Any]) -> Any:
        cpu, began = time.process_time(), time.perf_counter()
        try:
            return call()
        finally:
            self.seconds.append(time.perf_counter() - began)
            self.cpu.append(time.process_time() - cpu)

    def summary(self) -> dict[str, Any]:
        cpu = summary(ms(self.cpu))
        return {**summary(ms(self.seconds)), "cpu_median_ms": cpu.get("median_ms", 0)}

    def report(self) -> dict[str, Any]:
        calls = len(self.seconds)
        return {
            **self.summary(),
            "wall_s": round(self.wall, 2),
            "per_second": rate(calls, self.wall),
            "queries_per_call": round(self.queries / calls, 1) if calls else 0,
        }


def timed_runs(call: Callable[[], Any], runs: int) -> dict[str, Any]:
    """One warm-up, one call with Django's query log on (how many queries), `runs` timed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    with CaptureQueriesContext(connection) as captured:
        call()
    # Read now: the log is a window on the connection's, which the next request clears.
    queries = [q["sql"] for q in captured.captured_queries]
    timed = Timed()
    for _ in range(runs):
        timed.measure(call)
    return {**timed.summary(), "queries": len(queries), "sql_ms": select_time(queries)}


def select_time(queries: list[str]) -> float:
    """The SELECTs of one call run again on their own, all rows fetched: how much of the
    call is the database (SQLite hands out rows during the fetch, so timing `execute`
    alone would miss most of it)."""
    from django.db import connection

    spent = 0.0
    with connection.cursor() as cursor:
        for sql in queries:
            if not sql.lstrip().upper().startswith("SELECT") or "FOR UPDATE" in sql.upper():
                continue
            began = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            spent += time.perf_counter() - began
    return round(spent * 1000, 2)


def owner_browser(owner: Any) -> Any:
    """Django's test client signed in as the owner, working in the owner's organization."""
    from django.test import Client

    http = Client()
    http.force_login(owner.user)
    session = http.session
    session["organization_id"] = owner.organization_id
    session.save()
    return http


def page(http: Any, url: str, sizes: list[int]) -> Callable[[], Any]:
    """A GET that must answer 200; the size of each answer goes to `sizes`."""

    def call() -> Any:
        response = http.get(url)
        if response.status_code != 200:
            raise BenchFailed(f"GET {url} answered {response.status_code}")
        sizes.append(len(response.content))
        return response

    return call


def analyze() -> float:
    """Give the query planner statistics, as a database in use has them (autovacuum may be
    off on the bench machine's PostgreSQL)."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return round(time.perf_counter() - began, 2)


# 1. Volume ---------------------------------------------------------------------------------


@dataclass
class Book:
    """The bench organization's documents as written, to check what the services derive."""

    organization: Any
    owner: Any
    today: date
    clients: list[Any] = field(default_factory=list)
    invoices: list[Any] = field(default_factory=list)  # issued invoices, by issue date
    credited: dict[int, Decimal] = field(default_factory=dict)  # invoice id -> credit note
    positions: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    series: Any = None


def create_clients(fixture: Any, count: int, rng: random.Random) -> list[Any]:
    """The fixture's German client and `count - 1` more through `clients.create_client`."""
    from punchclock.clients import services as clients

    found = [fixture.client]
    currencies = [c for c, *_ in CURRENCIES]
    shares = [share for *_, share in CURRENCIES]
    for n in range(1, count):
        currency = rng.choices(currencies, shares)[0]
        _, country, treatment, _ = next(c for c in CURRENCIES if c[0] == currency)
        name = f"{NAMES[n % len(NAMES)]} {TRADES[n // len(NAMES) % len(TRADES)]}"
        if n >= len(NAMES) * len(TRADES):
            name += f" {n // (len(NAMES) * len(TRADES)) + 1}"
        found.append(
            clients.create_client(
                by=fixture.owner,
                name=f"{name} {LEGAL_FORMS[currency]}",
                code=f"b{n:04d}",
                country=country,
                currency=currency,
                language="de" if country == "DE" else "en",
                tax_treatment=treatment,
                payment_terms_days=rng.choice([14, 14, 30]),
                email=f"accounts@b{n:04d}.test",
            )
        )
    return found


def document_row(
    book: Book,
    client: Any,
    *,
    number: str,
    on: date,
    net: Decimal,
    tax: Decimal,
    credits: Any = None,
) -> Any:
    """An issued invoice (or with `credits`, a credit note) as a row, without lines.

    Only totals, dates and currencies matter to payments; issued rows may be inserted (the
    immutability triggers refuse UPDATE and DELETE of them, and lines of issued invoices)."""
    from punchclock.invoicing.models import Invoice, InvoiceKind, InvoiceStatus

    return Invoice(
        organization=book.organization,
        client=client,
        kind=InvoiceKind.CREDIT_NOTE if credits else InvoiceKind.INVOICE,
        status=InvoiceStatus.ISSUED,
        series=book.series,
        number=number,
        issue_date=on,
        due_date=None if credits else on + timedelta(days=client.payment_terms_days),
        currency=client.currency,
        language=client.language,
        net_total=net,
        tax_total=tax,
        gross_total=net + tax,
        chain_position=next(book.positions),
        issued_at=datetime(on.year, on.month, on.day, 9, tzinfo=UTC),
        created_by=book.owner.user,
        credits=credits,
    )


def write_invoices(book: Book, count: int, rng: random.Random) -> dict[str, Any]:
    """`count` issued invoices over the last twelve months, with their events.

    Clients get invoices in proportion to 1/sqrt(rank): a few big clients, a long tail."""
    from punchclock.core.money import round_money
    from punchclock.invoicing.models import EventKind, Invoice, InvoiceEvent, NumberSeries

    began = time.perf_counter()
    book.series = NumberSeries.objects.create(
        organization=book.organization, name="Payments bench", pattern="RE-{year}-{seq:05}"
    )
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(book.clients))]
    picked = rng.choices(book.clients, weights, k=count)
    days = sorted(book.today - timedelta(days=rng.randint(0, 364)) for _ in range(count))
    rows = []
    for seq, (client, on) in enumerate(zip(picked, days, strict=True), start=1):
        net = Decimal(rng.randrange(20_000, 1_500_000)) / 100
        tax = round_money(net * VAT, client.currency) if client.country == "DE" else Decimal(0)
        rows.append(
            document_row(book, client, number=f"RE-{on.year}-{seq:05d}", on=on, net=net, tax=tax)
        )
    book.invoices = Invoice.objects.bulk_create(rows, batch_size=500)
    events = []
    for invoice in book.invoices:
        at = invoice.issued_at
        events.append(InvoiceEvent(invoice=invoice, kind=EventKind.ISSUED, at=at))
        events.append(
            InvoiceEvent(invoice=invoice, kind=EventKind.SENT, at=at + timedelta(minutes=5))
        )
        if rng.random() < VIEWED:
            events.append(
                InvoiceEvent(invoice=invoice, kind=EventKind.VIEWED, at=at + timedelta(hours=3))
            )
    InvoiceEvent.objects.bulk_create(events, batch_size=1000)
    credit_notes = write_credit_notes(book, rng)
    return {
        "invoices": len(book.invoices),
        "credit_notes": credit_notes,
        "events": len(events),
        "wall_s": round(time.perf_counter() - began, 2),
    }


def write_credit_notes(book: Book, rng: random.Random) -> int:
    """Credit notes for a few invoices, one in three for the whole amount."""
    from punchclock.core.money import round_money
    from punchclock.invoicing.models import Invoice

    rows = []
    for invoice in book.invoices:
        if rng.random() >= CREDITED:
            continue
        share = Decimal(1) if rng.random() < 1 / 3 else Decimal(rng.randint(10, 50)) / 100
        net = round_money(invoice.net_total * share, invoice.currency)
        tax = round_money(invoice.tax_total * share, invoice.currency)
        on = min(book.today, invoice.issue_date + timedelta(days=rng.randint(1, 20)))
        number = f"GS-{on.year}-{len(rows) + 1:05d}"
        rows.append(
            document_row(
                book, invoice.client, number=number, on=on, net=-net, tax=-tax, credits=invoice
            )
        )
        book.credited[invoice.pk] = net + tax
    Invoice.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def planned_payment(
    invoice: Any, owed: Decimal, today: date, rng: random.Random
) -> tuple[str, Decimal, date]:
    """What the client pays on an invoice: the kind, the amount (0: nothing) and the day."""
    from punchclock.core.money import round_money

    draw = rng.random()
    terms = (invoice.due_date - invoice.issue_date).days
    day = min(today, invoice.issue_date + timedelta(days=rng.randint(0, terms + 20)))
    if draw < PAID_IN_FULL:
        if rng.random() < OVERPAID:
            return "overpaid by 10.00", owed + 10, day
        return "paid in full", owed, day
    if draw < PAID_IN_PART:
        share = Decimal(rng.randint(20, 80)) / 100
        return "paid in part", round_money(owed * share, invoice.currency), day
    return "open", Decimal(0), day


def record_payments(book: Book, rng: random.Random) -> dict[str, Any]:
    """Pay the invoices as clients do, through the services, each call timed; then return
    part of some payments made in full."""
    from punchclock.payments import services

    paying, mix, to_refund = Timed(), Counter[str](), []
    began = time.perf_counter()
    with query_counter() as queries:
        for n, invoice in enumerate(book.invoices, start=1):
            owed = invoice.gross_total - book.credited.get(invoice.pk, Decimal(0))
            kind, amount, day = planned_payment(invoice, owed, book.today, rng)
            if owed <= 0:
                kind = "credited in full"
            mix[kind] += 1
            if owed <= 0 or not amount:
                continue
            given = services.PaymentInput(amount=amount, received_on=day, reference=invoice.number)
            payment = paying.measure(
                partial(services.record_payment, invoice, given, by=book.owner)
            )
            if kind != "paid in part" and rng.random() < REFUNDED:
                to_refund.append(payment)
            if n % 1000 == 0:
                speed = rate(len(paying.seconds), time.perf_counter() - began)
                log(f"  {n:,} invoices gone through ({speed} payments/s)")
    paying.wall, paying.queries = time.perf_counter() - began, queries[0]
    refunding = refund_some(book, to_refund, rng)
    mix["refunded, 10–100 % (of the above)"] = len(refunding.seconds)
    return {
        "record_payment": paying.report(),
        "refund_payment": refunding.report(),
        "mix": dict(mix),
    }


def refund_some(book: Book, payments: list[Any], rng: random.Random) -> Timed:
    """Return 10–100 % of each payment, a few days after it came in."""
    from punchclock.core.money import round_money
    from punchclock.payments import services

    refunding = Timed()
    began = time.perf_counter()
    with query_counter() as queries:
        for payment in payments:
            share = Decimal(rng.randint(10, 100)) / 100
            amount = round_money(payment.amount * share, payment.currency)
            on = min(book.today, payment.received_on + timedelta(days=rng.randint(1, 30)))
            refunding.measure(
                partial(services.refund_payment, payment, by=book.owner, amount=amount, on=on)
            )
    refunding.wall, refunding.queries = time.perf_counter() - began, queries[0]
    return refunding


# 2. Exactness --------------------------------------------------------------------------------


def exactness(count: int, checks: dict[str, bool]) -> dict[str, Any]:
    """`count` payments of 0.10 on one invoice of as much (10,000 on 1,000.00), in an
    organization of its own so that they do not weigh on the receivables measured later."""
    from django.db.models import Sum

    from punchclock.core.timeutil import local_date, now
    from punchclock.invoicing.models import NumberSeries
    from punchclock.payments.balances import balance_of, client_credit, exact_total
    from punchclock.payments.models import Allocation, Method, Payment

    tiny = Decimal("0.10")
    expected = tiny * count
    fixture = create_fixture()
    organization, client = fixture.organization, fixture.client
    book = Book(organization, fixture.owner, local_date(now(), organization.timezone))
    book.series = NumberSeries.objects.create(
        organization=organization, name="Exactness", pattern="EX-{seq:05}"
    )
    invoice = document_row(
        book, client, number="EX-00001", on=book.today, net=expected, tax=Decimal(0)
    )
    invoice.save()
    began = time.perf_counter()
    payments = Payment.objects.bulk_create(
        [
            Payment(
                organization=organization,
                client=client,
                amount=tiny,
                currency=client.currency,
                received_on=book.today,
                method=Method.TRANSFER,
                reference=f"Instalment {n}",
            )
            for n in range(1, count + 1)
        ],
        batch_size=1000,
    )
    Allocation.objects.bulk_create(
        [
            Allocation(payment=p, invoice=invoice, amount=tiny, payment_amount=tiny)
            for p in payments
        ],
        batch_size=1000,
    )
    written_s = time.perf_counter() - began
    began = time.perf_counter()
    balance = balance_of(invoice, book.today)
    read_ms = (time.perf_counter() - began) * 1000
    allocated = exact_total(Allocation.objects.filter(invoice=invoice), "amount")
    received = exact_total(Payment.objects.filter(organization=organization), "amount")
    naive = Allocation.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"]
    credit = client_credit(client.pk)
    checks[f"exact: paid is {expected}"] = balance.paid == expected
    checks["exact: balance is 0"] = balance.balance == 0
    checks["exact: state is paid"] = balance.state == "paid"
    checks[f"exact: allocations sum to {expected}"] = allocated == expected
    checks[f"exact: payments sum to {expected}"] = received == expected
    checks["exact: no client credit left"] = credit == {}
    return {
        "payments": count,
        "each": str(tiny),
        "invoice_gross": str(invoice.gross_total),
        "bulk_create_s": round(written_s, 2),
        "balance_of_ms": round(read_ms, 2),
        "paid": str(balance.paid),
        "balance": str(balance.balance),
        "state": balance.state,
        "allocations_exact_total": str(allocated),
        "payments_exact_total": str(received),
        "client_credit": {k: str(v) for k, v in credit.items()},
        "plain_django_sum": str(naive),  # Sum() on the decimal column, for comparison
    }


# 3. Receivables ------------------------------------------------------------------------------


def receivables_section(book: Book, runs: int, checks: dict[str, bool]) -> dict[str, Any]:
    """What is owed, as a function and as the page; then one client's statement."""
    from django.urls import reverse

    from punchclock.payments import receivables

    org_id = book.organization.pk
    found = receivables.receivables(org_id, today=book.today)
    check_against_ledger(org_id, found.totals, checks)
    http = owner_browser(book.owner)
    sizes: list[int] = []
    result: dict[str, Any] = {
        "open_invoices": len(found.invoices),
        "client_rows": len(found.clients),
        "totals": [
            {
                "currency": t.currency,
                "outstanding": str(t.outstanding),
                "overdue": str(t.overdue),
                "credit": str(t.credit),
                "invoices": t.invoices,
            }
            for t in found.totals
        ],
        "function": timed_runs(lambda: receivables.receivables(org_id, today=book.today), runs),
        "page": timed_runs(page(http, reverse("payments:receivables"), sizes), runs),
        "statement": statement_section(book, http, runs, checks),
    }
    result["page"]["bytes"] = sizes[-1]
    return result


def check_against_ledger(org_id: int, totals: list[Any], checks: dict[str, bool]) -> None:
    """What is owed per currency must be the documents less what payments allocated: no
    invoice is overpaid (allocations stop at the balance), so nothing nets out."""
    from punchclock.invoicing.models import Invoice, InvoiceStatus
    from punchclock.payments.balances import exact_total
    from punchclock.payments.models import Allocation

    for total in totals:
        documents = Invoice.objects.filter(
            organization_id=org_id, status=InvoiceStatus.ISSUED, currency=total.currency
        )
        allocated = Allocation.objects.filter(
            invoice__organization_id=org_id, invoice__currency=total.currency
        )
        ledger = exact_total(documents, "gross_total") - exact_total(allocated, "amount")
        checks[f"receivables: {total.currency} outstanding equals the ledger"] = (
            total.outstanding == ledger
        )


def statement_section(book: Book, http: Any, runs: int, checks: dict[str, bool]) -> dict[str, Any]:
    """The last twelve months of the client with the most documents: page, CSV and PDF."""
    from django.db.models import Count
    from django.urls import reverse

    from punchclock.clients.models import Client
    from punchclock.invoicing.models import Invoice
    from punchclock.payments import receivables

    busiest = (
        Invoice.objects.filter(organization=book.organization)
        .values("client")
        .annotate(documents=Count("pk"))
        .order_by("-documents")
        .first()
    )
    assert busiest is not None  # the bench wrote invoices
    client = Client.objects.get(pk=busiest["client"])
    start = book.today - timedelta(days=365)
    found = receivables.statement(client, start=start, end=book.today)
    url = reverse("payments:statement", args=[client.pk]) + f"?start={start}&end={book.today}"
    result: dict[str, Any] = {
        "client": client.name,
        "currency": client.currency,
        "documents": busiest["documents"],
        "payments": client.payments.count(),
        "rows": sum(len(section.rows) for section in found.sections),
        "period": f"{start} – {book.today}",
    }
    for wanted in ("html", "csv", "pdf"):
        sizes: list[int] = []
        target = url if wanted == "html" else f"{url}&format={wanted}"
        result[wanted] = timed_runs(page(http, target, sizes), runs)
        result[wanted]["bytes"] = sizes[-1]
    checks["statement: the PDF is a PDF"] = http.get(f"{url}&format=pdf").content[:5] == b"%PDF-"
    return result


# 4. Stripe webhook ---------------------------------------------------------------------------


def stripe_event(invoice: Any, balance: Decimal, n: int) -> dict[str, Any]:
    """A `payment_intent.succeeded` event as Stripe sends it for a Checkout payment."""
    from punchclock.payments.stripe_payments import to_stripe_amount

    amount = to_stripe_amount(balance, invoice.currency)
    intent = {
        "id": f"pi_bench_{n:06d}",
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": invoice.currency.lower(),
        "status": "succeeded",
        "metadata": {
            "invoice_id": str(invoice.pk),
            "organization_id": str(invoice.organization_id),
        },
    }
    return {
        "id": f"evt_bench_{n:06d}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": intent},
    }


def deliver_all(http: Any, url: str, bodies: list[str]) -> dict[str, Any]:
    """POST every body as Stripe does, signed at delivery (untimed); latencies and outcomes."""
    import stripe

    timed, outcomes = Timed(), Counter[str]()
    began = time.perf_counter()
    with query_counter() as queries:
        for body in bodies:
            header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
            headers = {"Stripe-Signature": header}
            response = timed.measure(
                partial(http.post, url, body, content_type="application/json", headers=headers)
            )
            if response.status_code == 200:
                outcomes[response.json().get("received", "?")] += 1
            else:
                outcomes[f"HTTP {response.status_code}"] += 1
    timed.wall, timed.queries = time.perf_counter() - began, queries[0]
    return {**timed.report(), "outcomes": dict(outcomes)}


def webhook_section(
    book: Book, count: int, rng: random.Random, checks: dict[str, bool]
) -> dict[str, Any]:
    """Each event pays another open invoice; all of them are then delivered once more."""
    from django.test import Client, override_settings
    from django.urls import reverse

    from punchclock.invoicing.models import Invoice
    from punchclock.payments import receivables
    from punchclock.payments.balances import balance_of, with_balances
    from punchclock.payments.models import Payment, StripeEvent

    open_now = receivables.open_invoices(book.organization.pk, today=book.today)
    chosen = rng.sample(open_now, min(count, len(open_now)))
    bodies = [
        json.dumps(stripe_event(o.invoice, o.balance.balance, n)) for n, o in enumerate(chosen)
    ]
    url = reverse("payments:stripe_webhook")
    keys = {"STRIPE_SECRET_KEY": "sk_test_payments_bench", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    with override_settings(**keys):
        first = deliver_all(Client(), url, bodies)
        again = deliver_all(Client(), url, bodies)
    intents = [f"pi_bench_{n:06d}" for n in range(len(chosen))]
    recorded = Payment.objects.filter(stripe_payment_intent__in=intents).count()
    stored = StripeEvent.objects.filter(payment_intent__in=intents).count()
    paid = with_balances(Invoice.objects.filter(pk__in=[o.invoice.pk for o in chosen]))
    still_open = sum(balance_of(invoice, book.today).balance != 0 for invoice in paid)
    checks["stripe: as many open invoices as events"] = len(chosen) == count
    checks["stripe: first deliveries all processed"] = first["outcomes"] == {
        "processed": len(chosen)
    }
    checks["stripe: second deliveries all duplicates"] = again["outcomes"] == {
        "duplicate": len(chosen)
    }
    checks["stripe: exactly one payment per event"] = recorded == len(chosen)
    checks["stripe: exactly one stored event per event"] = stored == len(chosen)
    checks["stripe: every invoice paid"] = still_open == 0
    return {
        "events": len(chosen),
        "currencies": dict(Counter(o.invoice.currency for o in chosen)),
        "first": first,
        "duplicates": again,
        "stripe_payments": recorded,
        "stored_events": stored,
    }


# 5. Bank import ------------------------------------------------------------------------------


@dataclass
class BankFile:
    data: bytes
    quoted: dict[str, int]  # bank id -> the invoice whose number the line quotes
    paid_by_amount: dict[str, int]  # bank id -> the invoice whose balance it pays, unnamed


def statement_file(book: Book, count: int, rng: random.Random) -> BankFile:
    """A CAMT.053 file of `count` lines: every other line quotes an open invoice's number;
    of the others, one in five pays the exact balance of an open invoice that no line
    names, the rest are the usual traffic of a business account, mostly money going out."""
    sys.path.insert(0, str(REPO))  # the statement builder of the bank import tests
    from punchclock.payments import receivables
    from tests.payments.test_bank_samples import Entry, camt

    open_now = receivables.open_invoices(book.organization.pk, today=book.today)
    rng.shuffle(open_now)
    unnamed, named = open_now[: len(open_now) // 10], open_now[len(open_now) // 10 :]
    found = BankFile(b"", {}, {})
    entries = []
    for n in range(count):
        bank_id = f"BENCH-{n:06d}"
        booked = book.today - timedelta(days=rng.randint(0, 27))
        if n % 2 == 0 and named:
            item = named[(n // 2) % len(named)]
            entries.append(quoting_entry(item, bank_id, booked, rng))
            found.quoted[bank_id] = item.invoice.pk
        elif n % 10 == 1 and unnamed:
            item = unnamed[(n // 10) % len(unnamed)]
            amount, currency = str(item.balance.balance), item.balance.currency
            payer = item.invoice.client.name
            entries.append(Entry(amount, "Payment, thank you", payer, bank_id, booked, currency))
            found.paid_by_amount[bank_id] = item.invoice.pk
        else:
            payer, text, sign = rng.choice(OTHER_LINES)
            amount = str(sign * Decimal(rng.randrange(500, 900_000)) / 100)
            entries.append(
                Entry(amount, text.format(month=f"{booked:%m/%Y}"), payer, bank_id, booked)
            )
    rng.shuffle(entries)
    found.data = camt(*entries)
    return found


def quoting_entry(item: Any, bank_id: str, booked: date, rng: random.Random) -> Any:
    """A transfer naming its invoice as payers write numbers: four in five pay the exact
    balance, the others half of it."""
    from punchclock.core.money import round_money
    from tests.payments.test_bank_samples import Entry

    number, currency = item.invoice.number or "", item.balance.currency
    amount = item.balance.balance
    if rng.random() >= 0.8:
        amount = round_money(amount / 2, currency)
    text = rng.choice(QUOTES).format(
        number=number,
        spaced=number.replace("-", " "),
        slashed=number.replace("-", "/"),
        compact=number.replace("-", ""),
    )
    return Entry(str(amount), text, item.invoice.client.name, bank_id, booked, currency)


def proposal_kind(reason: str) -> str:
    if not reason:
        return "none"
    return "by number" if reason.startswith("The payment text names") else "by amount"


def bank_section(
    book: Book, count: int, rng: random.Random, checks: dict[str, bool]
) -> dict[str, Any]:
    """Import the statement, import it again, and look at what was proposed."""
    from punchclock.payments import bank
    from punchclock.payments.models import BankLine
    from punchclock.payments.statements import parse_statement

    made = statement_file(book, count, rng)
    parse_statement(made.data, "bench.xml")  # untimed: the first parse loads the parser

    def upload() -> Any:
        return bank.import_statement(
            book.organization, by=book.owner, data=made.data, filename="bench.xml", mapping=None
        )

    began = time.perf_counter()
    with query_counter() as queries:
        statement = upload()
    import_s = time.perf_counter() - began
    began = time.perf_counter()
    refused = ""
    try:
        upload()
    except bank.AlreadyImported as exc:
        refused = " ".join(exc.messages)
    reimport_s = time.perf_counter() - began

    stored = list(BankLine.objects.filter(statement=statement))
    reasons = Counter(proposal_kind(line.proposal_reason) for line in stored)

    def right(expected: dict[str, int]) -> int:
        return sum(
            line.proposed_invoice_id == expected[line.bank_reference]
            for line in stored
            if line.bank_reference in expected
        )

    total_lines = BankLine.objects.filter(organization=book.organization).count()
    checks["bank: every line stored once"] = len(stored) == count == total_lines
    checks["bank: re-import refused as all duplicates"] = bool(refused)
    checks["bank: every quoting line proposed its invoice"] = right(made.quoted) == len(made.quoted)
    return {
        "lines": count,
        "file_bytes": len(made.data),
        "quoting_an_invoice": len(made.quoted),
        "paying_an_unnamed_invoice": len(made.paid_by_amount),
        "import_s": round(import_s, 3),
        "lines_per_second": rate(count, import_s),
        "import_queries": queries[0],
        "reimport_s": round(reimport_s, 3),
        "reimport_message": refused,
        "parts_alone_s": import_parts(book, made.data),
        "proposals": dict(reasons),
        "right_for_quoting_lines": right(made.quoted),
        "right_for_unnamed_lines": right(made.paid_by_amount),
    }


def import_parts(book: Book, data: bytes) -> dict[str, float]:
    """The steps of an import before it writes, once more each on its own: parse, list the
    open invoices, propose."""
    from punchclock.payments import bank, matching
    from punchclock.payments.statements import parse_statement

    began = time.perf_counter()
    lines = parse_statement(data, "bench.xml")
    parsed = time.perf_counter()
    candidates = bank.open_invoices(book.organization)
    listed = time.perf_counter()
    offered = [
        matching.OpenInvoice(
            id=c.invoice.pk,
            number=c.invoice.number or "",
            client_name=c.invoice.client.name,
            currency=c.invoice.currency,
            balance=c.balance.balance,
        )
        for c in candidates
    ]
    ready = time.perf_counter()
    matching.propose([line for line in lines if line.amount > 0], offered)
    proposed = time.perf_counter()
    return {
        "parse_statement": round(parsed - began, 3),
        "bank.open_invoices": round(listed - parsed, 3),
        "matching.propose": round(proposed - ready, 3),
        "open_invoices": len(candidates),
    }


# Output ------------------------------------------------------------------------------------


def print_summary(record: dict[str, Any]) -> None:
    s, setup = record["settings"], record["setup"]
    rec, ex, rv, wh, bk = (
        record["recording"],
        record["exactness"],
        record["receivables"],
        record["stripe_webhook"],
        record["bank_import"],
    )
    print(
        f"\n{s['clients']} clients, {s['invoices']:,} invoices — {s['database']}; "
        f"load average {record['load_average']['before']} → {record['load_average']['after']}"
    )
    print(
        f"set-up: {setup['clients']['n']} clients in {setup['clients']['wall_s']} s; "
        f"{setup['documents']['invoices']:,} invoices, {setup['documents']['credit_notes']} "
        f"credit notes, {setup['documents']['events']:,} events as rows in "
        f"{setup['documents']['wall_s']} s; mix {rec['mix']}"
    )
    rows = [
        ("services.record_payment", rec["record_payment"], "queries_per_call", "per_second", "/s"),
        ("services.refund_payment", rec["refund_payment"], "queries_per_call", "per_second", "/s"),
        ("receivables.receivables()", rv["function"], "queries", None, ""),
        ("GET receivables page", rv["page"], "queries", "bytes", " B"),
        ("statement of account, HTML", rv["statement"]["html"], "queries", "bytes", " B"),
        ("statement of account, CSV", rv["statement"]["csv"], "queries", "bytes", " B"),
        ("statement of account, PDF", rv["statement"]["pdf"], "queries", "bytes", " B"),
        ("Stripe webhook, first delivery", wh["first"], "queries_per_call", "per_second", "/s"),
        ("Stripe webhook, duplicate", wh["duplicates"], "queries_per_call", "per_second", "/s"),
    ]
    print(f"\n{'measure':<34}{'n':>7}{'median':>11}{'p95':>11}{'CPU':>11}{'queries':>9}   note")
    for label, row, queries, extra, unit in rows:
        notes = [f"{row[extra]:,}{unit}"] if extra and extra in row else []
        if "sql_ms" in row:
            notes.append(f"SQL alone {row['sql_ms']:.1f} ms")
        note = "; ".join(notes)
        median, p95, cpu = (row.get(k, 0) for k in ("median_ms", "p95_ms", "cpu_median_ms"))
        print(
            f"{label:<34}{row['n']:>7,}{median:>9.1f}ms{p95:>9.1f}ms{cpu:>9.1f}ms"
            f"{row[queries]:>9}   {note}"
        )
    print(
        f"\nreceivables: {rv['open_invoices']:,} open invoices, {rv['client_rows']} client rows; "
        + "; ".join(
            f"{t['currency']} {t['outstanding']} owed ({t['overdue']} overdue)"
            for t in rv["totals"]
        )
    )
    st = rv["statement"]
    print(
        f"statement: {st['client']}, {st['documents']} documents, {st['payments']} payments, "
        f"{st['rows']} rows"
    )
    print(
        f"exactness: {ex['payments']:,} × {ex['each']} on one invoice of {ex['invoice_gross']} → "
        f"{ex['paid']} / {ex['balance']} ({ex['state']}); plain Sum(): {ex['plain_django_sum']}"
    )
    print(
        f"bank import: {bk['lines']:,} lines ({bk['file_bytes']:,} bytes CAMT.053) in "
        f"{bk['import_s']} s ({bk['lines_per_second']:,} lines/s, {bk['import_queries']} "
        f"queries); re-import {bk['reimport_s']} s; proposals {bk['proposals']}; "
        f"parts alone {bk['parts_alone_s']}"
    )
    failed = [name for name, ok in record["checks"].items() if not ok]
    print(f"checks: {len(record['checks']) - len(failed)} of {len(record['checks'])} hold")
    for name in failed:
        print(f"  FAILED: {name}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="clients (200)")
    parser.add_argument("--invoices", type=int, default=5000, help="issued invoices (5000)")
    parser.add_argument(
        "--tiny-payments", type=int, default=10_000, help="payments of 0.10 (10000)"
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs per page (20)")
    parser.add_argument("--webhooks", type=int, default=300, help="Stripe events (300)")
    parser.add_argument("--bank-lines", type=int, default=5000, help="statement lines (5000)")
    parser.add_argument("--database-url", help="a throw-away PostgreSQL database")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    return parser.parse_args()


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Every section in turn, on one database; the record to print and keep."""
    load_before = load_average()
    started = datetime.now(UTC)
    database = setup_django(django_env(workdir, args.database_url), args.database_url)
    from django.core.management import call_command

    from punchclock.core.timeutil import local_date, now

    call_command("collectstatic", interactive=False, verbosity=0)
    rng = random.Random(SEED)
    checks: dict[str, bool] = {}
    fixture = create_fixture()
    organization = fixture.organization
    book = Book(organization, fixture.owner, local_date(now(), organization.timezone))
    log(f"Creating {args.clients} clients ({database['database']})")
    began = time.perf_counter()
    book.clients = create_clients(fixture, args.clients, rng)
    clients_s = time.perf_counter() - began
    log(f"Writing {args.invoices:,} issued invoices as rows")
    documents = write_invoices(book, args.invoices, rng)
    log("Recording payments and refunds through the services")
    recording = record_payments(book, rng)
    analyze_s = analyze()
    log(f"Exactness: {args.tiny_payments:,} payments of 0.10")
    exact = exactness(args.tiny_payments, checks)
    log(f"Receivables and a statement of account, {args.runs} runs each")
    owed = receivables_section(book, args.runs, checks)
    log(f"Stripe: {args.webhooks} webhook deliveries, then again")
    webhooks = webhook_section(book, args.webhooks, rng, checks)
    log(f"Bank import: {args.bank_lines:,} lines")
    imported = bank_section(book, args.bank_lines, rng, checks)
    return {
        "bench": "payments",
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round((datetime.now(UTC) - started).total_seconds(), 1),
        "machine": machine_info(),
        "load_average": {"before": load_before, "after": load_average()},
        "versions": {
            name: version_of(name)
            for name in ("django", "stripe", "psycopg", "typst", "defusedxml")
        },
        "checkout": checkout(),
        "settings": {
            "clients": args.clients,
            "invoices": args.invoices,
            "tiny_payments": args.tiny_payments,
            "runs": args.runs,
            "webhooks": args.webhooks,
            "bank_lines": args.bank_lines,
            "seed": SEED,
            "today": str(book.today),
            **database,
        },
        "setup": {
            "clients": {
                "n": len(book.clients),
                "wall_s": round(clients_s, 2),
                "per_second": rate(len(book.clients), clients_s),
            },
            "documents": documents,
            "analyze_s": analyze_s,
        },
        "recording": recording,
        "exactness": exact,
        "receivables": owed,
        "stripe_webhook": webhooks,
        "bank_import": imported,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "checks": checks,
        "failures": [name for name, ok in checks.items() if not ok],
    }


def write_results(record: dict[str, Any], args: argparse.Namespace) -> Path:
    """payments-<date>.json (-postgres), -2, -3 … for later runs that day: none is replaced."""
    args.out.mkdir(parents=True, exist_ok=True)
    day = record["started"][:10]
    stem = f"payments-{day}" + ("-postgres" if args.database_url else "")
    path = args.out / f"{stem}.json"
    n = 2
    while path.exists():
        path = args.out / f"{stem}-{n}.json"
        n += 1
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="punch-payments-bench-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        record = run(args, workdir)
        print_summary(record)
        log(f"Wrote {write_results(record, args)}")
        return 1 if record["failures"] else 0
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
