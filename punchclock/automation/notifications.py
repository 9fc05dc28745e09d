"""Telling the team: who hears of what, and the checks that find what to tell.

A notification is a row per recipient, unique on (recipient, kind, key) where the key names
the cause ("invoice:12", "payment:7", "project:3:hours:400.00:80", "entry:55"). Rows are
inserted with ON CONFLICT DO NOTHING (INSERT OR IGNORE on SQLite), so a check run ten times,
or by two workers at once, tells each person once. Payments and drafts insert their rows in
the transaction that records them: the money and the news commit together or not at all.
Email leaves later, from the worker (notification_mail).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.urls import reverse

from punchclock.accounts.models import Membership, Organization, Role
from punchclock.automation.models import (
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationSettings,
)
from punchclock.core.money import Money
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing.models import Invoice
from punchclock.payments.balances import balance_of, owing
from punchclock.payments.models import Payment
from punchclock.projects.models import BudgetKind, Project, ProjectMember, ProjectStatus
from punchclock.tracking.models import TimeEntry

log = logging.getLogger(__name__)
Kind = NotificationKind

BILLING_ROLES = (Role.OWNER, Role.ADMIN)
# Who may hear of which kind at all: money goes only to those who may see it.
KINDS_FOR_ROLE: dict[str, tuple[str, ...]] = {
    Role.OWNER: tuple(Kind.values),
    Role.ADMIN: tuple(Kind.values),
    Role.MANAGER: (Kind.BUDGET, Kind.LONG_TIMER),
    Role.MEMBER: (Kind.LONG_TIMER,),
}
# By email unless the member chose otherwise: owners everything; admins all but each
# payment (the receivables page shows those); the rest what concerns their own work.
DEFAULT_EMAIL: dict[str, tuple[str, ...]] = {
    Role.OWNER: tuple(Kind.values),
    Role.ADMIN: (Kind.DRAFT_READY, Kind.OVERDUE, Kind.BUDGET, Kind.LONG_TIMER),
    Role.MANAGER: (Kind.BUDGET, Kind.LONG_TIMER),
    Role.MEMBER: (Kind.LONG_TIMER,),
}
DEFAULT_LONG_TIMER_HOURS = 10
# An invoice overdue for longer than this when first seen is not news (e.g. right after
# an upgrade); the receivables page lists it anyway.
OVERDUE_NEWS_DAYS = 30


def kinds_for(membership: Membership) -> tuple[str, ...]:
    return KINDS_FOR_ROLE.get(membership.role, ())


def email_kinds(memberships: Sequence[Membership]) -> dict[int, set[str]]:
    """Which kinds each member gets by email: their choice, else their role's defaults."""
    chosen = dict(
        NotificationPreferences.objects.filter(
            membership__in=[m.pk for m in memberships]
        ).values_list("membership_id", "email_kinds")
    )
    return {
        m.pk: set(chosen[m.pk]) if m.pk in chosen else set(DEFAULT_EMAIL.get(m.role, ()))
        for m in memberships
    }


@dataclass(frozen=True)
class News:
    """One cause to tell some people about."""

    kind: str
    key: str
    title: str
    text: str
    link: str


def notify(organization_id: int, recipients: Iterable[Membership], news: News) -> int:
    """Insert one notification per recipient who may hear of this kind and has none for
    this cause yet; returns how many rows were offered (conflicts are skipped silently)."""
    people = [
        m
        for m in {m.pk: m for m in recipients}.values()
        if m.is_active and news.kind in kinds_for(m)
    ]
    if not people:
        return 0
    by_email = email_kinds(people)
    rows = [
        Notification(
            organization_id=organization_id,
            recipient=person,
            kind=news.kind,
            key=news.key,
            title=news.title[:200],
            text=news.text,
            link=news.link,
            email_state=EmailState.PENDING if news.kind in by_email[person.pk] else EmailState.OFF,
        )
        for person in people
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def billing_people(organization_id: int) -> list[Membership]:
    return list(
        Membership.objects.filter(
            organization_id=organization_id, is_active=True, role__in=BILLING_ROLES
        ).select_related("user")
    )


def _told(organization_id: int, kind: str, keys: Iterable[str]) -> set[str]:
    """The causes among `keys` that someone was told about already."""
    keys = list(keys)
    if not keys:
        return set()
    return set(
        Notification.objects.filter(
            organization_id=organization_id, kind=kind, key__in=keys
        ).values_list("key", flat=True)
    )


def _money(amount: Decimal, currency: str, organization: Organization) -> str:
    return Money(Decimal(amount), currency).format(organization.locale)


# Events: called by the services that record them, inside their transaction -------------


def payment_received(payment: Payment, invoice: Invoice, *, by: Membership | None) -> None:
    """Tell the billing people of money received, except whoever recorded it by hand."""
    organization = invoice.organization
    source = {"stripe": "online by card"}.get(payment.method, payment.get_method_display())
    if payment.bank_line_id is not None:
        source = "matched from the bank statement"
    news = News(
        kind=Kind.PAYMENT,
        key=f"payment:{payment.pk}",
        title=f"{invoice.client.name} paid "
        f"{_money(payment.amount, payment.currency, organization)}",
        text=f"For {invoice.number or 'a draft'}, received {payment.received_on:%-d %b %Y} "
        f"({source}).",
        link=reverse("invoicing:detail", args=[invoice.pk]),
    )
    people = [m for m in billing_people(organization.pk) if by is None or m.pk != by.pk]
    notify(organization.pk, people, news)


def draft_ready(invoice: Invoice, *, period: str, source: str = "The billing schedule") -> None:
    """A billing schedule (or a retainer's close) drafted an invoice: the billing people
    review and issue it."""
    organization = invoice.organization
    news = News(
        kind=Kind.DRAFT_READY,
        key=f"invoice:{invoice.pk}",
        title=f"Draft invoice for {invoice.client.name} is ready for review",
        text=f"{source} drafted an invoice for {invoice.client.name}, {period}: "
        f"{_money(invoice.gross_total, invoice.currency, organization)}. Review and issue it.",
        link=reverse("invoicing:detail", args=[invoice.pk]),
    )
    notify(organization.pk, billing_people(organization.pk), news)


# Periodic checks: overdue invoices, budgets, long timers --------------------------------


@dataclass
class Checked:
    overdue: int = 0
    budget: int = 0
    long_timer: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"overdue": self.overdue, "budget": self.budget, "long_timer": self.long_timer}


def check(*, organization_id: int | None = None, at: datetime | None = None) -> Checked:
    """Find what became news in every organization (or one), and tell whoever it concerns."""
    at = at or now()
    organizations = Organization.objects.all()
    if organization_id is not None:
        organizations = organizations.filter(pk=organization_id)
    total = Checked()
    for organization in organizations.order_by("pk"):
        found = check_organization(organization, at=at)
        total.overdue += found.overdue
        total.budget += found.budget
        total.long_timer += found.long_timer
    return total


def check_organization(organization: Organization, *, at: datetime) -> Checked:
    people = billing_people(organization.pk)
    return Checked(
        overdue=check_overdue(organization, people, today=local_date(at, organization.timezone)),
        budget=check_budgets(organization, people),
        long_timer=check_long_timers(organization, people, at=at),
    )


def check_overdue(organization: Organization, people: list[Membership], *, today: date) -> int:
    """Invoices that became overdue (past due with a balance) in the last days."""
    if not people:
        return 0
    recent = today - timedelta(days=OVERDUE_NEWS_DAYS)
    candidates = list(
        owing(Invoice.objects.filter(organization_id=organization.pk))
        .filter(
            Q(due_date__lt=today, due_date__gte=recent)
            | Q(due_date__isnull=True, issue_date__lt=today, issue_date__gte=recent)
        )
        .select_related("client")
    )
    told = _told(organization.pk, Kind.OVERDUE, (f"invoice:{i.pk}" for i in candidates))
    count = 0
    for invoice in candidates:
        key = f"invoice:{invoice.pk}"
        if key in told:
            continue
        balance = balance_of(invoice, today)
        due = invoice.due_date or invoice.issue_date
        news = News(
            kind=Kind.OVERDUE,
            key=key,
            title=f"{invoice.number} to {invoice.client.name} is overdue",
            text=f"{_money(balance.balance, balance.currency, organization)} open, "
            f"due {due:%-d %b %Y}.",
            link=reverse("invoicing:detail", args=[invoice.pk]),
        )
        count += bool(notify(organization.pk, people, news))
    return count


def budget_thresholds(project: Project) -> list[int]:
    """The percentages that alert, highest first: the project's own and 100."""
    return sorted({project.budget_alert_percent, 100}, reverse=True)


def _budget_key(project: Project, percent: int) -> str:
    value = (
        project.budget_hours if project.budget_kind == BudgetKind.HOURS else project.budget_amount
    )
    return f"project:{project.pk}:{project.budget_kind}:{value}:{percent}"


@dataclass(frozen=True)
class Usage:
    used: Decimal  # hours, or money in the client's currency
    budget: Decimal

    @property
    def percent(self) -> Decimal:
        return self.used * 100 / self.budget if self.budget else Decimal(0)


def budget_usage(organization: Organization, projects: list[Project]) -> dict[int, Usage]:
    """Hours tracked (finished entries, billable or not) or billable value of the time at
    the project's rates, per project: the numbers the time reports show."""
    from punchclock.tracking.reports import time_summary

    viewer = (
        Membership.objects.filter(organization=organization, is_active=True, role__in=BILLING_ROLES)
        .select_related("organization")
        .first()
    )
    if viewer is None or not projects:
        return {}
    rows = {row.key: row for row in time_summary(viewer, start=None, end=None, by="project")}
    usage = {}
    for project in projects:
        row = rows.get(f"project:{project.pk}")
        if project.budget_kind == BudgetKind.HOURS and project.budget_hours:
            seconds = row.seconds if row else 0
            usage[project.pk] = Usage(Decimal(seconds) / 3600, project.budget_hours)
        elif project.budget_kind == BudgetKind.MONEY and project.budget_amount:
            amount = row.amounts.get(project.client.currency, Decimal(0)) if row else Decimal(0)
            usage[project.pk] = Usage(amount, project.budget_amount)
    return usage


def _managers(projects: list[Project]) -> dict[int, list[Membership]]:
    managers: dict[int, list[Membership]] = {p.pk: [] for p in projects}
    rows = ProjectMember.objects.filter(
        project__in=[p.pk for p in projects],
        is_manager=True,
        membership__is_active=True,
        membership__role=Role.MANAGER,
    ).select_related("membership__user")
    for row in rows:
        managers[row.project_id].append(row.membership)
    return managers


def check_budgets(organization: Organization, people: list[Membership]) -> int:
    """Projects whose usage reached a threshold not yet told for this budget value.

    Only the highest threshold reached is told: a project that jumps past 100 % hears of
    100 %, not of 80 % as well. Raising the budget makes new keys, so crossing again tells
    again."""
    projects = list(
        Project.objects.filter(organization=organization, status=ProjectStatus.ACTIVE)
        .exclude(budget_kind=BudgetKind.NONE)
        .select_related("client")
    )
    usage = budget_usage(organization, projects)
    reached: dict[int, tuple[Project, int, Usage]] = {}
    for project in projects:
        found = usage.get(project.pk)
        if found is None:
            continue
        crossed = [p for p in budget_thresholds(project) if found.percent >= p]
        if crossed:
            reached[project.pk] = (project, crossed[0], found)
    if not reached:
        return 0
    keys = {pk: _budget_key(p, percent) for pk, (p, percent, _) in reached.items()}
    told = _told(organization.pk, Kind.BUDGET, keys.values())
    managers = _managers([p for p, _, _ in reached.values()])
    count = 0
    for pk, (project, percent, found) in reached.items():
        if keys[pk] in told:
            continue
        news = _budget_news(organization, project, percent, found, keys[pk])
        count += bool(notify(organization.pk, [*people, *managers[pk]], news))
    return count


def _budget_news(
    organization: Organization, project: Project, percent: int, usage: Usage, key: str
) -> News:
    if project.budget_kind == BudgetKind.HOURS:
        used = f"{usage.used.quantize(Decimal('0.1'))} of {usage.budget.normalize():f} hours"
    else:
        currency = project.client.currency
        used = (
            f"{_money(usage.used, currency, organization)} of "
            f"{_money(usage.budget, currency, organization)}"
        )
    what = "its whole budget" if percent >= 100 else f"{percent} % of its budget"
    return News(
        kind=Kind.BUDGET,
        key=key,
        title=f"{project.full_code} has used {what}",
        text=f"{project.name} ({project.client.name}): {used} used "
        f"({usage.percent.quantize(Decimal('1'))} %).",
        link=reverse("projects:detail", args=[project.pk]),
    )


def long_timer_hours(organization: Organization) -> int:
    found = (
        NotificationSettings.objects.filter(organization=organization)
        .values_list("long_timer_hours", flat=True)
        .first()
    )
    return found or DEFAULT_LONG_TIMER_HOURS


def _watchers(organization: Organization) -> list[Membership]:
    """Owners, admins and managers who asked to hear of other people's long timers."""
    return list(
        Membership.objects.filter(
            organization=organization,
            is_active=True,
            role__in=(Role.OWNER, Role.ADMIN, Role.MANAGER),
            notification_preferences__watch_team_timers=True,
        ).select_related("user")
    )


def check_long_timers(organization: Organization, people: list[Membership], *, at: datetime) -> int:
    """Timers running for longer than the organization's limit: told to whoever runs it, and
    to watchers (managers only of the projects they manage)."""
    hours = long_timer_hours(organization)
    running = list(
        TimeEntry.objects.filter(
            organization=organization, end__isnull=True, start__lte=at - timedelta(hours=hours)
        ).select_related("membership__user", "project__client")
    )
    told = _told(organization.pk, Kind.LONG_TIMER, (f"entry:{e.pk}" for e in running))
    fresh = [e for e in running if f"entry:{e.pk}" not in told]
    if not fresh:
        return 0
    watchers = _watchers(organization)
    managed = set(
        ProjectMember.objects.filter(
            project__in={e.project_id for e in fresh},
            membership__in=[w.pk for w in watchers if w.role == Role.MANAGER],
            is_manager=True,
        ).values_list("project_id", "membership_id")
    )
    count = 0
    for entry in fresh:
        since = entry.start.astimezone(ZoneInfo(entry.membership.user.timezone or "UTC"))
        running_for = int((at - entry.start).total_seconds() // 3600)
        person = entry.membership
        others = [
            w
            for w in watchers
            if w.pk != person.pk and (w.role != Role.MANAGER or (entry.project_id, w.pk) in managed)
        ]
        what = entry.description or "no description"
        own = News(
            kind=Kind.LONG_TIMER,
            key=f"entry:{entry.pk}",
            title=f"Your timer on {entry.project.full_code} has run for {running_for} hours",
            text=f"Started {since:%-d %b %H:%M} ({what}). Stop it or correct its end.",
            link=reverse("tracking:day"),
        )
        theirs = News(
            kind=Kind.LONG_TIMER,
            key=f"entry:{entry.pk}",
            title=f"{person.user.display_name}'s timer on {entry.project.full_code} has run "
            f"for {running_for} hours",
            text=f"Started {since:%-d %b %H:%M} ({what}).",
            link=reverse("tracking:team"),
        )
        offered = notify(organization.pk, [person], own) + notify(organization.pk, others, theirs)
        count += bool(offered)
    return count
