"""Small factories: real objects made through the services where it matters."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from punchclock.accounts.models import Membership, Organization, Role, User
from punchclock.clients.models import Client
from punchclock.payments.models import BankLine, BankStatement, Payment
from punchclock.projects.models import Project, Rate, RateKind, RateScope, Task

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_user(email: str | None = None, **fields: Any) -> User:
    n = next(_seq)
    return User.objects.create_user(email or f"person{n}@example.com", PASSWORD, **fields)


def make_organization(name: str = "Acme Agency", **fields: Any) -> Organization:
    fields.setdefault("country", "DE")
    fields.setdefault("timezone", "Europe/Berlin")
    return Organization.objects.create(name=name, **fields)


def make_membership(
    organization: Organization, role: str = Role.MEMBER, user: User | None = None, **fields: Any
) -> Membership:
    return Membership.objects.create(
        organization=organization, user=user or make_user(), role=role, **fields
    )


def make_client(organization: Organization, name: str = "Globex", **fields: Any) -> Client:
    n = next(_seq)
    fields.setdefault("code", f"client{n}")
    fields.setdefault("country", "DE")
    fields.setdefault("currency", "EUR")
    return Client.objects.create(organization=organization, name=name, **fields)


def make_project(client: Client, name: str = "Website", **fields: Any) -> Project:
    n = next(_seq)
    fields.setdefault("code", f"project{n}")
    return Project.objects.create(
        organization=client.organization, client=client, name=name, **fields
    )


def make_task(project: Project, name: str = "Development", **fields: Any) -> Task:
    return Task.objects.create(project=project, name=name, **fields)


def make_rate(
    organization: Organization,
    amount: str,
    *,
    kind: str = RateKind.BILL,
    effective_from: date = date(2020, 1, 1),
    client: Client | None = None,
    project: Project | None = None,
    task: Task | None = None,
    membership: Membership | None = None,
    currency: str = "EUR",
) -> Rate:
    """A rate written directly, for tests of resolution (set_rate has its own tests)."""
    if kind == RateKind.COST:
        scope = RateScope.MEMBER
    elif task:
        scope, project = RateScope.TASK, task.project
    elif project and membership:
        scope = RateScope.PROJECT_MEMBER
    elif project:
        scope = RateScope.PROJECT
    elif client:
        scope = RateScope.CLIENT
    elif membership:
        scope = RateScope.MEMBER
    else:
        scope = RateScope.ORGANIZATION
    key = Rate.key_for(
        scope,
        client_id=client.pk if client else None,
        project_id=project.pk if project else None,
        task_id=task.pk if task else None,
        membership_id=membership.pk if membership else None,
    )
    if kind == RateKind.BILL and scope in (RateScope.MEMBER, RateScope.ORGANIZATION):
        key = f"{key}:{currency}"
    return Rate.objects.create(
        organization=organization,
        kind=kind,
        scope=scope,
        client=client,
        project=project,
        task=task,
        membership=membership,
        scope_key=key,
        amount=Decimal(amount),
        currency=currency,
        effective_from=effective_from,
    )


def make_entry_and_timesheet(membership: Membership) -> tuple[Any, Any]:
    """A finished entry last January and a submitted timesheet around it."""
    from datetime import UTC, datetime, timedelta

    from punchclock.tracking.models import TimeEntry, Timesheet

    if not membership.organization.projects.exists():
        make_project(make_client(membership.organization, "Entry client"), "Entry project")
    project = membership.organization.projects.first()
    assert project is not None
    start = datetime(2026, 1, 6, 9, tzinfo=UTC)
    entry = TimeEntry.objects.create(
        organization=membership.organization,
        membership=membership,
        project=project,
        start=start,
        end=start + timedelta(hours=2),
    )
    sheet = Timesheet.objects.create(
        organization=membership.organization,
        membership=membership,
        period_start=date(2026, 1, 5),
        period_end=date(2026, 1, 11),
        submitted_at=start,
    )
    return entry, sheet


def make_expense_with_receipt(membership: Membership) -> tuple[Any, Any]:
    """A draft EUR expense of this person with one small PNG receipt (under MEDIA_ROOT)."""
    from io import BytesIO

    from PIL import Image

    from punchclock.expenses.models import Expense, ExpenseCategory, Receipt

    organization = membership.organization
    client = organization.clients.first() or make_client(organization, "Expense client")
    category, _ = ExpenseCategory.objects.get_or_create(organization=organization, name="Travel")
    expense = Expense.objects.create(
        organization=organization,
        membership=membership,
        client=client,
        category=category,
        spent_on=date(2026, 1, 6),
        description="Train to client",
        amount=Decimal("42.50"),
        currency="EUR",
        client_currency=client.currency,
        net_amount=Decimal("42.50"),
        billable_amount=Decimal("42.50"),
    )
    out = BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    receipt = Receipt(
        expense=expense,
        original_name="ticket.png",
        content_type="image/png",
        size=len(out.getvalue()),
        sha256="0" * 64,
    )
    from django.core.files.base import ContentFile

    receipt.file.save("ticket.png", ContentFile(out.getvalue()), save=True)
    return expense, receipt


def make_payment(client: Client, amount: str = "10.00") -> Payment:
    """Money received from a client and not yet allocated to any invoice (client credit)."""
    return Payment.objects.create(
        organization=client.organization,
        client=client,
        amount=Decimal(amount),
        currency=client.currency,
        received_on=date(2026, 11, 2),
    )


def make_bank_line(organization: Organization) -> BankLine:
    """One incoming line of an imported bank statement, not yet matched."""
    statement = BankStatement.objects.create(
        organization=organization, filename="statement.xml", sha256="0" * 64, line_count=1
    )
    return BankLine.objects.create(
        organization=organization,
        statement=statement,
        fingerprint="f" * 64,
        booking_date=date(2026, 11, 18),
        amount=Decimal("119.00"),
        currency="EUR",
        reference="Globex invoice",
        counterparty="Globex Corporation",
    )


def make_notification(membership: Membership, kind: str = "long_timer", key: str = "entry:1"):
    """A notification for one member (long timers reach every role)."""
    from punchclock.automation.models import Notification

    return Notification.objects.create(
        organization=membership.organization,
        recipient=membership,
        kind=kind,
        key=key,
        title="Your timer on globex/api has run for 11 hours",
        text="Started 9:00.",
        link="/time/",
        email_state="off",
    )
