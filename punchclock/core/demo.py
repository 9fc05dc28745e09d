"""The demo organization: a believable small IT agency, built through the services."""

from __future__ import annotations

from datetime import date
from datetime import time as clock_time
from decimal import Decimal
from typing import Any

from django.db import transaction

from punchclock.accounts import services as accounts
from punchclock.accounts.models import Membership, Organization, Role, User
from punchclock.clients import services as clients
from punchclock.clients.models import TaxTreatment
from punchclock.projects import services as projects
from punchclock.projects.models import BillingMethod, BudgetKind, RateKind

ORGANIZATION_NAME = "Northwind Digital"
OWNER_EMAIL = "demo@punchclock.test"
PASSWORD = "billable-hours"  # noqa: S105 - published demo login, shown on start

PEOPLE = [
    # email, name, role, default bill rate, cost rate, weekly capacity
    (OWNER_EMAIL, "Dana Fischer", Role.OWNER, "120", "70", "32"),
    ("sam@punchclock.test", "Sam Okafor", Role.MANAGER, "110", "62", "40"),
    ("lea@punchclock.test", "Léa Martin", Role.MEMBER, "95", "48", "40"),
    ("tom@punchclock.test", "Tom Becker", Role.MEMBER, "85", "41", "30"),
]

CLIENTS = [
    # name, code, country, currency, language, VAT ID, tax treatment, terms, city, address
    (
        "Acme Logistics GmbH",
        "acme",
        "DE",
        "EUR",
        "de",
        "DE812345673",
        TaxTreatment.DOMESTIC,
        14,
        "Hamburg",
        "Speicherstadt 12",
        "20457",
    ),
    (
        "Boulangerie Rivière SAS",
        "riviere",
        "FR",
        "EUR",
        "fr",
        "FR44732829320",
        TaxTreatment.REVERSE_CHARGE,
        30,
        "Lyon",
        "12 rue de la République",
        "69002",
    ),
    (
        "Globex Inc.",
        "globex",
        "US",
        "USD",
        "en",
        "",
        TaxTreatment.EXPORT,
        30,
        "Austin",
        "500 Congress Ave",
        "78701",
    ),
    (
        "Hooli Ltd",
        "hooli",
        "GB",
        "GBP",
        "en",
        "GB123456727",
        TaxTreatment.EXPORT,
        30,
        "London",
        "1 Finsbury Avenue",
        "EC2M 2PP",
    ),
    (
        "Stadtwerke Musterstadt",
        "stadtwerke",
        "DE",
        "EUR",
        "de",
        "DE136695976",
        TaxTreatment.DOMESTIC,
        30,
        "Musterstadt",
        "Rathausplatz 1",
        "12345",
    ),
]

PROJECTS: list[tuple[str, str, str, str, dict[str, Any], list[tuple[str, bool, str | None]]]] = [
    # client code, name, code, billing method, extras, tasks
    (
        "acme",
        "Shipment API",
        "api",
        BillingMethod.HOURLY_TASK,
        {"budget_kind": BudgetKind.HOURS, "budget_hours": Decimal("400"), "rounding_minutes": 15},
        [
            ("Backend development", True, "110"),
            ("Code review", True, "95"),
            ("Architecture", True, "140"),
            ("Internal meetings", False, None),
        ],
    ),
    (
        "acme",
        "Driver app",
        "app",
        BillingMethod.HOURLY_PERSON,
        {
            "budget_kind": BudgetKind.MONEY,
            "budget_amount": Decimal("60000"),
            "rounding_minutes": 6,
            "rounding_direction": "nearest",
        },
        [("iOS", True, None), ("Android", True, None), ("QA", True, None)],
    ),
    (
        "riviere",
        "Online shop",
        "shop",
        BillingMethod.FIXED_FEE,
        {
            "fixed_fee": Decimal("18500"),
            "budget_kind": BudgetKind.HOURS,
            "budget_hours": Decimal("160"),
            "budget_alert_percent": 85,
        },
        [("Design", True, None), ("Implementation", True, None), ("Launch", True, None)],
    ),
    (
        "riviere",
        "Maintenance",
        "maint",
        BillingMethod.HOURLY_PROJECT,
        {"rounding_minutes": 15},
        [("Updates", True, None), ("Support", True, None)],
    ),
    (
        "globex",
        "Data platform",
        "data",
        BillingMethod.HOURLY_PROJECT,
        {"budget_kind": BudgetKind.HOURS, "budget_hours": Decimal("800")},
        [("Pipelines", True, None), ("Dashboards", True, None), ("On-call", True, None)],
    ),
    (
        "globex",
        "Security audit",
        "audit",
        BillingMethod.FIXED_FEE,
        {"fixed_fee": Decimal("12000")},
        [("Assessment", True, None), ("Report", True, None)],
    ),
    (
        "hooli",
        "Search relaunch",
        "search",
        BillingMethod.HOURLY_PERSON,
        {"budget_kind": BudgetKind.MONEY, "budget_amount": Decimal("45000")},
        [("Frontend", True, None), ("Backend", True, None)],
    ),
    (
        "hooli",
        "Pre-sales workshop",
        "presales",
        BillingMethod.NON_BILLABLE,
        {},
        [("Workshop", False, None)],
    ),
    (
        "stadtwerke",
        "Citizen portal",
        "portal",
        BillingMethod.HOURLY_TASK,
        {"budget_kind": BudgetKind.HOURS, "budget_hours": Decimal("600"), "rounding_minutes": 30},
        [
            ("Accessibility", True, "105"),
            ("Development", True, "98"),
            ("Project management", True, "90"),
        ],
    ),
    (
        "stadtwerke",
        "Internal tooling",
        "tools",
        BillingMethod.NON_BILLABLE,
        {},
        [("Tooling", False, None)],
    ),
]


def database_is_empty() -> bool:
    return not Organization.objects.exists()


def demo_exists() -> bool:
    return User.objects.filter(email=OWNER_EMAIL).exists()


@transaction.atomic
def load() -> Organization:
    """Create the demo agency with people, rates, clients, projects and tasks."""
    owner_email, owner_name = PEOPLE[0][0], PEOPLE[0][1]
    owner_user, organization = accounts.sign_up(
        email=owner_email,
        password=PASSWORD,
        name=owner_name,
        organization_name=ORGANIZATION_NAME,
        timezone="Europe/Berlin",
        locale="en",
        currency="EUR",
    )
    owner = Membership.objects.select_related("user", "organization").get(
        user=owner_user, organization=organization
    )
    accounts.update_organization_profile(
        organization,
        by=owner,
        address_line1="Torstraße 140",
        postal_code="10119",
        city="Berlin",
        country="DE",
        email="billing@northwind.test",
        phone="+49 30 555 0140",
        website="https://northwind.test",
        brand_colour="#0f766e",
    )
    accounts.update_billing_identity(
        organization,
        by=owner,
        legal_name="Northwind Digital GmbH",
        registration_number="HRB 123456 B",
        vat_id="DE298765435",
        tax_number="37/123/45678",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        electronic_address="billing@northwind.test",
        electronic_address_scheme="EM",
    )
    since = date(2025, 1, 1)
    projects.set_rate(
        by=owner, kind=RateKind.BILL, amount=Decimal("100"), effective_from=since, currency="EUR"
    )
    projects.set_rate(
        by=owner, kind=RateKind.BILL, amount=Decimal("120"), effective_from=since, currency="USD"
    )
    projects.set_rate(
        by=owner, kind=RateKind.BILL, amount=Decimal("90"), effective_from=since, currency="GBP"
    )
    people: dict[str, Membership] = {owner_email: owner}
    for email, name, role, bill, cost, capacity in PEOPLE:
        if email == owner_email:
            membership = owner
        else:
            user = accounts.create_user(
                email=email, password=PASSWORD, name=name, timezone="Europe/Berlin"
            )
            membership = Membership.objects.create(user=user, organization=organization, role=role)
        accounts.update_membership(membership, by=owner, weekly_capacity_hours=Decimal(capacity))
        projects.set_rate(
            by=owner,
            kind=RateKind.BILL,
            amount=Decimal(bill),
            effective_from=since,
            membership=membership,
            currency="EUR",
        )
        projects.set_rate(
            by=owner,
            kind=RateKind.COST,
            amount=Decimal(cost),
            effective_from=since,
            membership=membership,
        )
        # A raise this year: the new cost rate applies from its date on only.
        projects.set_rate(
            by=owner,
            kind=RateKind.COST,
            amount=(Decimal(cost) * Decimal("1.05")).quantize(Decimal("0.01")),
            effective_from=date(2026, 7, 1),
            membership=membership,
        )
        people[email] = membership
    made_clients = {}
    for (
        name,
        code,
        country,
        currency,
        language,
        vat_id,
        treatment,
        terms,
        city,
        street,
        postal,
    ) in CLIENTS:
        made_clients[code] = clients.create_client(
            by=owner,
            name=name,
            code=code,
            country=country,
            currency=currency,
            language=language,
            vat_id=vat_id,
            tax_treatment=treatment,
            payment_terms_days=terms,
            city=city,
            address_line1=street,
            postal_code=postal,
            email=f"accounts@{code}.test",
        )
        clients.add_contact(
            made_clients[code],
            by=owner,
            name=f"Accounts payable ({city})",
            email=f"ap@{code}.test",
            role="Accounts payable",
            is_billing_contact=True,
        )
    made_clients["globex"].notes = "Pays by card; send invoices to the AP portal."
    made_clients["globex"].save(update_fields=["notes"])
    made_clients["acme"].invoice_message = "Thank you for another month of working together."
    made_clients["acme"].save(update_fields=["invoice_message"])
    # A public utility: XRechnung with its Leitweg-ID, to its e-invoice inbox.
    clients.update_client(
        made_clients["stadtwerke"],
        by=owner,
        einvoice_format="xrechnung-ubl",
        buyer_reference="05315000-12345-67",
        electronic_address="rechnungseingang@stadtwerke.test",
        electronic_address_scheme="EM",
    )
    projects.set_rate(
        by=owner,
        kind=RateKind.BILL,
        client=made_clients["hooli"],
        amount=Decimal("95"),
        effective_from=since,
    )
    sam, lea, tom = (
        people[e] for e in ("sam@punchclock.test", "lea@punchclock.test", "tom@punchclock.test")
    )
    for index, (client_code, name, code, method, extras, tasks) in enumerate(PROJECTS):
        project = projects.create_project(
            by=owner,
            client=made_clients[client_code],
            name=name,
            code=code,
            billing_method=method,
            **extras,
        )
        for task_name, billable, task_rate in tasks:
            task = projects.create_task(
                project, by=owner, name=task_name, billable_default=billable
            )
            if task_rate:
                projects.set_rate(
                    by=owner,
                    kind=RateKind.BILL,
                    task=task,
                    amount=Decimal(task_rate),
                    effective_from=since,
                )
        team = [owner, sam, lea] if index % 2 == 0 else [sam, lea, tom]
        for person in team:
            projects.assign_member(project, by=owner, membership=person, is_manager=person is sam)
        if method == BillingMethod.HOURLY_PROJECT:
            projects.set_rate(
                by=owner,
                kind=RateKind.BILL,
                project=project,
                amount=Decimal("105") if client_code != "globex" else Decimal("135"),
                effective_from=since,
            )
            projects.set_rate(
                by=owner,
                kind=RateKind.BILL,
                project=project,
                amount=Decimal("115") if client_code != "globex" else Decimal("145"),
                effective_from=date(2026, 9, 1),
            )
        if method == BillingMethod.HOURLY_PERSON:
            projects.set_rate(
                by=owner,
                kind=RateKind.BILL,
                project=project,
                membership=lea,
                amount=Decimal("100") if client_code == "acme" else Decimal("92"),
                effective_from=since,
            )
    _track_history(organization, people, owner)
    _expense_history(organization, people, owner)
    _invoice_history(organization, owner)
    return organization


def _invoice_history(organization: Organization, owner: Membership) -> None:
    """Two months of issued invoices, and a mistake corrected by a credit note."""
    from datetime import timedelta

    from punchclock.core.timeutil import local_date, now
    from punchclock.invoicing import services as invoicing
    from punchclock.invoicing.models import EventKind, InvoiceEvent, InvoiceSettings

    InvoiceSettings.objects.create(
        organization=organization,
        footer_text="Northwind Digital GmbH · Registered at Amtsgericht Berlin-Charlottenburg "
        f"HRB 123456 · Managing director: {PEOPLE[0][1]}",
    )
    today = local_date(now(), organization.timezone)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    before = (last_month - timedelta(days=1)).replace(day=1)
    months = [
        (before, last_month - timedelta(days=1)),
        (last_month, this_month - timedelta(days=1)),
    ]
    # A workshop billed on its own, never paid: overdue by now.
    hooli = organization.clients.get(code="hooli")
    workshop = invoicing.start_draft(hooli, by=owner)
    invoicing.add_line(
        workshop,
        by=owner,
        description="Discovery workshop, two days on site in London",
        quantity=Decimal(2),
        unit="DAY",
        unit_price=Decimal(1450),
    )
    invoicing.issue_invoice(workshop, by=owner, issue_date=before - timedelta(days=20))
    clients = organization.clients.filter(code__in=["acme", "riviere", "globex", "stadtwerke"])
    first_riviere = None
    for start, end in months:
        issue_date = end + timedelta(days=1)
        for client in clients.order_by("code"):
            draft = invoicing.create_draft(
                client,
                by=owner,
                period_start=start,
                period_end=end,
                group_by="task" if client.code == "stadtwerke" else "project",
            )
            if not draft.lines.exists():
                invoicing.delete_draft(draft, by=owner)
                continue
            issued = invoicing.issue_invoice(draft, by=owner, issue_date=issue_date)
            # Recorded as sent, after its issue event; no mail leaves the demo.
            InvoiceEvent.objects.create(
                invoice=issued,
                kind=EventKind.SENT,
                at=now(),
                by=owner.user,
                detail={"to": [client.email], "cc": [], "bcc": [], "demo": True},
            )
            if client.code == "riviere" and first_riviere is None:
                first_riviere = issued
    if first_riviere is not None:
        # Journey 5: a wrong invoice is cancelled by a credit note; its work is billable again.
        invoicing.credit_invoice(first_riviere, by=owner, issue_date=this_month)
    _hosting_subscription(organization, owner, starts_on=last_month, today=today)
    _payment_history(organization, owner, today)


def _payment_history(organization: Organization, owner: Membership, today: date) -> None:
    """Payments of every kind; what stays unpaid is partly overdue by now."""
    from datetime import timedelta

    from punchclock.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
    from punchclock.payments import services as payments
    from punchclock.payments.balances import balance_of
    from punchclock.payments.models import Method, PaymentSettings

    PaymentSettings.objects.get_or_create(organization=organization)
    invoices = Invoice.objects.filter(
        organization=organization,
        kind=InvoiceKind.INVOICE,
        status=InvoiceStatus.ISSUED,
        credit_notes__isnull=True,
    ).select_related("client", "organization")
    by_client: dict[str, list[Invoice]] = {}
    for invoice in invoices.order_by("issue_date", "pk"):
        by_client.setdefault(invoice.client.code, []).append(invoice)

    def received(invoice: Invoice, days: int) -> date:
        return min(today, (invoice.issue_date or today) + timedelta(days=days))

    def owed(invoice: Invoice) -> Decimal:
        return balance_of(invoice, today).balance

    def pay(invoice: Invoice, amount: Decimal, days: int, **fields: Any) -> Any:
        given = payments.PaymentInput(amount=amount, received_on=received(invoice, days), **fields)
        return payments.record_payment(invoice, given, by=owner)

    acme = by_client.get("acme", [])
    if acme:  # paid on time by bank transfer, quoting the number
        first = acme[0]
        pay(first, owed(first), 9, method=Method.TRANSFER, reference=f"RE {first.number}")
    if len(acme) > 1:  # paid online by card through Stripe
        second = acme[1]
        payments.record_payment(
            second,
            payments.PaymentInput(
                amount=owed(second),
                received_on=received(second, 3),
                method=Method.STRIPE,
                reference="pi_demo_3QxYp2",
            ),
            by=None,
            stripe_payment_intent="pi_demo_3QxYp2",
        )
    globex = by_client.get("globex", [])
    if globex:  # USD invoice paid in EUR at the bank's rate, 200 EUR too much, part returned
        first = globex[0]
        rate = Decimal("1.0625")
        euros = (owed(first) / rate).quantize(Decimal("0.01")) + Decimal(200)
        payment = pay(
            first,
            euros,
            12,
            method=Method.TRANSFER,
            currency="EUR",
            exchange_rate=rate,
            reference="GLOBEX AP 88213",
        )
        payments.refund_payment(
            payment,
            by=owner,
            amount=Decimal(50),
            on=received(first, 15),
            reference="Returned part of the overpayment",
        )
    stadtwerke = by_client.get("stadtwerke", [])
    if stadtwerke:  # half paid, the rest overdue
        first = stadtwerke[0]
        half = (owed(first) / 2).quantize(Decimal("0.01"))
        pay(first, half, 20, method=Method.TRANSFER, reference=f"Abschlag {first.number}")
    riviere = by_client.get("riviere", [])
    if riviere:  # paid in cash at the bakery
        last = riviere[-1]
        pay(last, owed(last), 5, method=Method.CASH, note="Paid at the shop counter")
    if stadtwerke:
        _bank_statement(organization, owner, today, stadtwerke[0], owed(stadtwerke[0]))
    _automation(organization, owner, today)


def _automation(organization: Organization, owner: Membership, today: date) -> None:
    """A monthly schedule that drafts Acme's invoice, and reminders: the first ones went out."""
    from django.test.utils import override_settings

    from punchclock.automation import reminder_settings, reminders
    from punchclock.automation import services as automation

    automation.save_schedule(
        owner,
        client=organization.clients.get(code="acme"),
        frequency="monthly",
        day_of_month=1,
        starts_on=today.replace(day=1),
        action="draft",
    )
    reminder_settings.set_up(organization, by=owner)
    # The first reminders of the overdue invoices go out: into memory, the demo mails no one.
    memory = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    with override_settings(MAILERS=memory):
        reminders.send_due(today, organization=organization, by=owner)
    _retainer(organization, owner, today)
    _notifications(organization)


def _retainer(organization: Organization, owner: Membership, today: date) -> None:
    """Hooli's search support retainer: last month closed with overage billed, this month
    partly used. Its allowance is sized from last month's tracked time, so it ran over."""
    from datetime import timedelta

    from punchclock.automation import retainer_runs, retainers
    from punchclock.projects.models import Project

    hooli = organization.clients.get(code="hooli")
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    retainer = retainers.save_retainer(
        owner,
        client=hooli,
        project=Project.objects.get(client=hooli, code="search"),
        name="Search support",
        included=Decimal(20),
        fee=Decimal(1800),
        starts_on=last_month,
        overage_rate=Decimal(95),
        unused="roll_over",
        rollover_cap=Decimal(5),
        action="issue",
    )
    used, _ = retainers.measure(retainer, list(retainers.drawable(retainer, before=this_month)))
    included = max(Decimal(4), (Decimal(used) / 3600 * Decimal("0.8")).quantize(Decimal(1)))
    retainers.save_retainer(owner, retainer=retainer, included=included)
    retainer_runs.close_due(retainer, today=today)


def _notifications(organization: Organization) -> None:
    """The team's notices in flight: the card payment above told the owner already; the
    check adds overdue invoices, budgets past their threshold and long timers. Their emails
    go into memory, as the reminders' do."""
    from django.test.utils import override_settings

    from punchclock.automation import notification_mail, notifications

    notifications.check(organization_id=organization.pk)
    memory = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    with override_settings(MAILERS=memory):
        notification_mail.deliver(organization_id=organization.pk)


def _bank_statement(
    organization: Organization, owner: Membership, today: date, invoice: Any, rest: Decimal
) -> None:
    """Last week's account statement, imported but not yet reconciled: the rest of an
    overdue invoice, quoted by number, waits for the user to confirm it."""
    from datetime import timedelta

    from punchclock.payments import bank
    from punchclock.payments.statements import CsvMapping

    day = today - timedelta(days=2)
    rows = [
        ("Booking date", "Counterparty", "Purpose", "Amount"),
        (day - timedelta(days=3), "Hetzner Online GmbH", "Server rent November", "-94.01"),
        (day, "Stadtwerke Musterstadt", f"Restzahlung Rechnung {invoice.number}", f"{rest}"),
        (day, "Finanzamt Berlin", "USt-Voranmeldung Oktober", "-1250.00"),
    ]
    text = "\n".join(";".join(str(cell) for cell in row) for row in rows) + "\n"
    bank.import_statement(
        organization,
        by=owner,
        data=text.encode(),
        filename="northwind-account.csv",
        mapping=CsvMapping(
            date="Booking date",
            amount="Amount",
            reference=("Purpose",),
            counterparty="Counterparty",
            delimiter=";",
        ),
    )


DESCRIPTIONS = {
    "api": [
        "Shipment status endpoint",
        "Fix pagination bug",
        "Rate limiting",
        "Review PR",
        "Webhook retries",
        "OpenAPI docs",
    ],
    "app": ["Push notifications", "Offline sync", "Login screen", "Crash fixes", "Release 2.3"],
    "shop": ["Product page", "Checkout flow", "Payment provider", "Launch checklist"],
    "maint": ["Dependency updates", "Security patch", "Support ticket"],
    "data": ["Airflow DAGs", "dbt models", "Dashboard for sales", "On-call incident"],
    "audit": ["Threat model", "Pen-test findings", "Audit report"],
    "search": ["Relevance tuning", "Search UI", "Indexing pipeline"],
    "presales": ["Workshop prep", "Workshop"],
    "portal": ["Accessibility audit", "Form builder", "BITV fixes", "Sprint planning"],
    "tools": ["CI pipeline", "Internal wiki", "Laptop setup"],
}


# What kind of work each description is, for the report by tag (a few are two kinds).
TAGS = {
    "Fix pagination bug": ["bug"],
    "Crash fixes": ["bug"],
    "BITV fixes": ["bug"],
    "Pen-test findings": ["bug", "security"],
    "Security patch": ["security", "support"],
    "Threat model": ["security"],
    "Review PR": ["review"],
    "Audit report": ["review", "security"],
    "Accessibility audit": ["review"],
    "Support ticket": ["support"],
    "On-call incident": ["support", "bug"],
    "Workshop": ["meeting"],
    "Sprint planning": ["meeting"],
    "Release 2.3": ["release"],
    "Launch checklist": ["release"],
}


def _track_history(
    organization: Organization, people: dict[str, Membership], owner: Membership
) -> None:
    """Six months of believable workdays for everyone, and one running timer."""
    import random
    from datetime import timedelta

    from punchclock.core.timeutil import local_date, now, to_utc
    from punchclock.projects.models import Project
    from punchclock.tracking import services as tracking
    from punchclock.tracking.models import TimeEntry

    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    zone = organization.timezone
    today = local_date(now(), zone)
    assignments: dict[int, list[Project]] = {}
    for project in Project.objects.filter(organization=organization).select_related("client"):
        for membership_id in project.assignments.values_list("membership_id", flat=True):
            assignments.setdefault(membership_id, []).append(project)
    tasks = {p.pk: list(p.tasks.all()) for ps in assignments.values() for p in ps}
    entries: list[TimeEntry] = []
    day = today - timedelta(days=183)
    while day < today:
        if day.weekday() < 5:
            for membership in people.values():
                if rng.random() < 0.06:  # holidays and sick days
                    continue
                mine = assignments.get(membership.pk, [])
                if not mine:
                    continue
                clock = to_utc(day, clock_time(8, rng.choice([30, 45, 0, 15])), zone)
                for _ in range(rng.randint(2, 4)):
                    project = rng.choice(mine)
                    minutes = rng.choice([45, 60, 75, 90, 105, 120, 150, 180])
                    task = rng.choice(tasks[project.pk]) if tasks[project.pk] else None
                    billable = project.is_billable_method and (
                        task.billable_default if task else project.billable_default
                    )
                    entries.append(
                        TimeEntry(
                            organization=organization,
                            membership=membership,
                            project=project,
                            task=task,
                            description=rng.choice(DESCRIPTIONS[project.code]),
                            start=clock,
                            end=(
                                end := clock
                                + timedelta(minutes=minutes, seconds=rng.randint(0, 59))
                            ),
                            billable=billable,
                            source=rng.choice(["web", "cli", "cli", "api"]),
                            external_ref=f"#{rng.randint(100, 999)}" if rng.random() < 0.3 else "",
                        )
                    )
                    clock = end + timedelta(minutes=rng.choice([0, 5, 10, 30]))
        day += timedelta(days=1)
    tracking.record_history(organization, entries)
    _tag_history(organization)
    lea = people["lea@punchclock.test"]
    running_project = assignments[lea.pk][0]
    started = max(now() - timedelta(hours=1, minutes=17), to_utc(today, clock_time(0, 5), zone))
    tracking.start_timer(
        lea, project=running_project, description="Pairing on the release", at=started
    )


def _tag_history(organization: Organization) -> None:
    """Tag the history by what its descriptions say it was (TAGS), in one bulk write."""
    from punchclock.tracking.models import Tag, TimeEntry

    names = sorted({name for kinds in TAGS.values() for name in kinds})
    made = Tag.objects.bulk_create(Tag(organization=organization, name=n) for n in names)
    tags = {tag.name: tag for tag in made}  # both databases return the new ids
    Link = TimeEntry.tags.through
    rows = TimeEntry.objects.filter(organization=organization, description__in=TAGS.keys())
    Link.objects.bulk_create(
        (
            Link(timeentry_id=entry_id, tag_id=tags[name].pk)
            for entry_id, description in rows.values_list("pk", "description")
            for name in TAGS[description]
        ),
        batch_size=500,
    )


# Expenses -------------------------------------------------------------------------------

EXPENSES: list[tuple[str, str, str, int, str, str, str, str, str, bool, str, str]] = [
    # person, project, category, days ago, description, vendor, amount (km for mileage),
    # currency, tax rate, reimbursable, receipt (png, pdf or ""), then: "", submit, approve,
    # reject (members' expenses start as drafts; the owner's are approved at once)
    ("lea", "acme/api", "Travel", 118, "Train Berlin-Hamburg, kickoff", "Deutsche Bahn",
     "89.90", "EUR", "19", True, "png", "approve"),
    ("lea", "acme/api", "Accommodation", 117, "Hotel Hamburg, 1 night", "Motel One",
     "119.00", "EUR", "7", True, "pdf", "approve"),
    ("lea", "acme/api", "Meals", 117, "Dinner with the Acme team", "Brücke 10",
     "64.20", "EUR", "19", True, "png", "approve"),
    ("dana", "acme/api", "Cloud services", 110, "AWS staging account", "Amazon Web Services",
     "212.40", "USD", "0", False, "pdf", ""),
    ("tom", "acme/app", "Hardware", 95, "Android test device", "MediaMarkt",
     "249.00", "EUR", "19", True, "png", "approve"),
    ("tom", "acme/app", "Software and licences", 90, "Google Play developer fee", "Google",
     "25.00", "USD", "0", True, "pdf", "submit"),
    ("sam", "riviere/shop", "Travel", 80, "Flight Berlin-Lyon", "Lufthansa",
     "286.50", "EUR", "0", True, "pdf", "approve"),
    ("sam", "riviere/shop", "Accommodation", 79, "Hotel Lyon, 2 nights", "Hôtel des Célestins",
     "248.00", "EUR", "10", True, "png", "approve"),
    ("dana", "globex/data", "Travel", 70, "Flight Berlin-Austin", "United Airlines",
     "1240.00", "EUR", "0", False, "pdf", ""),
    ("dana", "globex/data", "Accommodation", 68, "Hotel Austin, 3 nights", "Hotel Van Zandt",
     "687.30", "USD", "0", True, "png", ""),
    ("dana", "globex/data", "Mileage", 67, "Rental car to the Globex campus", "",
     "84", "", "0", True, "", ""),
    ("lea", "globex/audit", "Software and licences", 60, "Burp Suite licence", "PortSwigger",
     "449.00", "USD", "0", True, "pdf", "submit"),
    ("lea", "stadtwerke/portal", "Mileage", 40, "Drive to the Musterstadt workshop", "",
     "186", "", "0", True, "", "approve"),
    ("sam", "hooli/presales", "Travel", 30, "Eurostar to London", "Eurostar",
     "164.00", "GBP", "0", True, "pdf", "reject"),
    ("lea", "hooli/search", "Meals", 20, "Lunch with the Hooli search team", "Dishoom",
     "58.40", "GBP", "20", True, "png", "approve"),
    ("tom", "acme/app", "Travel", 12, "Taxi to the Acme office", "Taxi Hamburg",
     "38.50", "EUR", "7", True, "png", "submit"),
    ("dana", "stadtwerke/portal", "Software and licences", 8, "Screen reader test licence",
     "Freedom Scientific", "95.00", "EUR", "19", False, "pdf", ""),
    ("lea", "acme/api", "Travel", 5, "Train to Hamburg, sprint review", "Deutsche Bahn",
     "79.90", "EUR", "19", True, "png", ""),
    ("tom", "riviere/maint", "Cloud services", 2, "Uptime monitoring, monthly", "Better Stack",
     "29.00", "USD", "0", False, "pdf", ""),
]  # fmt: skip


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def receipt_png(vendor: str, day: date, amount: str) -> bytes:
    """A small till receipt as a PNG: vendor, date and amount, as a scan would show them."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("L", (240, 200), 255)
    draw = ImageDraw.Draw(image)
    lines = [
        _ascii(vendor).upper(),
        "",
        day.strftime("%d.%m.%Y"),
        "",
        "TOTAL",
        amount,
        "",
        "Thank you!",
    ]
    for index, line in enumerate(lines):
        draw.text((16, 14 + index * 20), line, fill=0)
    draw.line((16, 86, 224, 86), fill=0)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def receipt_pdf(vendor: str, day: date, amount: str) -> bytes:
    """A one-page PDF invoice with the same three facts, written by hand (no PDF library)."""
    lines = [_ascii(vendor), f"Invoice date {day.isoformat()}", f"Total {amount}"]
    text = " ".join(
        f"BT /F1 14 Tf 50 {760 - 24 * i} Td ({line.replace('(', '[').replace(')', ']')}) Tj ET"
        for i, line in enumerate(lines)
    ).encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R>>>>"
        b"/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(text), text),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _expense_history(
    organization: Organization, people: dict[str, Membership], owner: Membership
) -> None:
    """Four months of expenses with receipts, in three currencies, at every approval step."""
    from datetime import timedelta

    from punchclock.core.timeutil import local_date, now
    from punchclock.expenses import services as expenses
    from punchclock.expenses.models import ExpenseCategory
    from punchclock.projects.models import Project

    today = local_date(now(), organization.timezone)
    # Rates entered by hand once a week (a rate is used for up to 14 days): the demo needs
    # no network, and Globex (USD) and Hooli (GBP) expenses still convert.
    for week in range(0, 130, 7):
        wobble = Decimal(week % 21) / 1000
        on = today - timedelta(days=week)
        expenses.set_manual_rate(
            organization, by=owner, currency="USD", rate=Decimal("1.0650") + wobble, on=on
        )
        expenses.set_manual_rate(
            organization, by=owner, currency="GBP", rate=Decimal("0.8420") + wobble / 2, on=on
        )
    by_name = {c.name: c for c in ExpenseCategory.objects.filter(organization=organization)}
    by_code = {
        p.full_code: p
        for p in Project.objects.filter(organization=organization).select_related("client")
    }
    who = {m.user.email.split("@")[0]: m for m in people.values()}
    who["dana"] = owner
    for (
        person, project_code, category, days_ago, description, vendor,
        amount, currency, tax, reimbursable, receipt, step,
    ) in EXPENSES:  # fmt: skip
        membership = who[person]
        day = today - timedelta(days=days_ago)
        unit_based = by_name[category].is_unit_based
        shown = f"{amount} {currency}"
        receipts = []
        if receipt == "png":
            receipts.append((f"receipt-{day.isoformat()}.png", receipt_png(vendor, day, shown)))
        elif receipt == "pdf":
            receipts.append((f"invoice-{day.isoformat()}.pdf", receipt_pdf(vendor, day, shown)))
        expense = expenses.record_expense(
            membership,
            by=membership,
            data=expenses.ExpenseInput(
                project=by_code[project_code],
                category=by_name[category],
                spent_on=day,
                description=description,
                vendor=vendor,
                amount=None if unit_based else amount,
                quantity=amount if unit_based else None,
                currency=currency,
                tax_rate=tax,
                reimbursable=reimbursable,
            ),
            receipts=receipts,
        )
        if step in ("submit", "approve", "reject"):
            expenses.submit_expenses(membership, expenses=[expense])
        if step == "approve":
            expenses.decide_expense(expense, by=owner, approve=True)
        elif step == "reject":
            expenses.decide_expense(
                expense,
                by=owner,
                approve=False,
                comment="Pre-sales travel is on us: book it on the internal project.",
            )


def _hosting_subscription(
    organization: Organization, owner: Membership, *, starts_on: date, today: date
) -> None:
    """Acme's hosting, invoiced monthly in advance, the price going up next year; its
    months so far issued by the worker's catch-up on this month's first and paid by direct
    debit (so they sort after Acme's other invoices, whose payments tell their own story)."""
    from datetime import timedelta

    from punchclock.automation import recurring
    from punchclock.payments import services as payments
    from punchclock.payments.models import Method

    next_year = date(starts_on.year + 1, 1, 1)
    hosting = recurring.save_recurring(
        owner,
        client=organization.clients.get(code="acme"),
        name="Hosting",
        frequency="monthly",
        day_of_month=1,
        starts_on=starts_on,
        action="issue",
        note="Leistungszeitraum {period_start} – {period_end}.",
        lines=[
            recurring.LineSpec(
                "Hosting {month} {year}",
                Decimal(1),
                Decimal("49.00"),
                prices=((next_year, Decimal("59.00")),),
            ),
            recurring.LineSpec("Support plan, {month} {year}", Decimal(1), Decimal("120.00")),
        ],
    )
    for outcome in recurring.run_now(hosting, by=owner, today=today.replace(day=1)):
        invoice = outcome.invoice
        if invoice is None or invoice.issue_date is None:
            continue
        given = payments.PaymentInput(
            amount=invoice.gross_total,
            received_on=min(today, invoice.issue_date + timedelta(days=3)),
            method=Method.TRANSFER,
            reference=f"SEPA-Lastschrift {invoice.number}",
        )
        payments.record_payment(invoice, given, by=owner)
