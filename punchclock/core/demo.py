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
        "DE298765435",
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
        website="https://northwind.test",
        brand_colour="#0f766e",
    )
    accounts.update_billing_identity(
        organization,
        by=owner,
        legal_name="Northwind Digital GmbH",
        vat_id="DE298765435",
        tax_number="37/123/45678",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
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
    return organization


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
    lea = people["lea@punchclock.test"]
    running_project = assignments[lea.pk][0]
    started = max(now() - timedelta(hours=1, minutes=17), to_utc(today, clock_time(0, 5), zone))
    tracking.start_timer(
        lea, project=running_project, description="Pairing on the release", at=started
    )
