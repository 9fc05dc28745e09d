"""The demo organization is believable and complete enough to click through."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from punchclock.accounts.models import Role
from punchclock.core import demo
from punchclock.projects.models import BillingMethod, BudgetKind, Project, RateKind
from punchclock.projects.services import resolve_rates


def test_demo_agency_has_people_clients_projects_and_rates(db):
    organization = demo.load()
    memberships = organization.memberships.select_related("user")
    roles = sorted(m.role for m in memberships)
    assert roles == sorted([Role.OWNER, Role.MANAGER, Role.MEMBER, Role.MEMBER])
    clients = organization.clients.all()
    assert clients.count() == 5
    assert {c.currency for c in clients} == {"EUR", "USD", "GBP"}
    assert len({c.country for c in clients}) >= 4
    projects = Project.objects.filter(organization=organization)
    assert projects.count() == 10
    assert {p.billing_method for p in projects} == set(BillingMethod.values)
    assert {p.budget_kind for p in projects} >= {BudgetKind.HOURS, BudgetKind.MONEY}
    assert all(p.tasks.exists() for p in projects)
    costs = organization.rates.filter(kind=RateKind.COST)
    assert costs.values("membership").distinct().count() == 4


def test_every_demo_person_on_an_hourly_project_has_a_bill_and_cost_rate(db):
    organization = demo.load()
    at = datetime(2026, 10, 1, 9, tzinfo=UTC)
    for project in Project.objects.filter(organization=organization).select_related("client"):
        for assignment in project.assignments.select_related("membership"):
            quote = resolve_rates(membership=assignment.membership, project=project, at=at)
            assert quote.cost is not None
            if project.is_hourly:
                assert quote.bill is not None, project
                assert quote.bill.currency == project.client.currency


def test_demo_has_six_months_of_time_and_one_running_timer(db):
    from punchclock.tracking.models import TimeEntry

    organization = demo.load()
    entries = TimeEntry.objects.filter(organization=organization)
    assert entries.filter(end__isnull=True).count() == 1
    finished = entries.filter(end__isnull=False)
    assert finished.count() > 1000
    first, last = finished.order_by("start").first(), finished.order_by("start").last()
    assert (last.start - first.start).days >= 170
    assert finished.filter(billable=False).exists()
    assert not finished.filter(duration_seconds__isnull=True).exists()


def test_demo_time_is_tagged_by_its_descriptions_some_of_it_twice(db):
    from django.db.models import Count

    from punchclock.reports.query import TimeFilter
    from punchclock.reports.timereport import time_report
    from punchclock.tracking.models import TimeEntry

    organization = demo.load()
    finished = TimeEntry.objects.filter(organization=organization, end__isnull=False)
    counted = finished.annotate(n=Count("tags"))
    for entry in counted.filter(description__in=["Security patch", "On-call incident"])[:20]:
        assert entry.n == 2
    assert counted.filter(n=0).exclude(description__in=demo.TAGS.keys()).count() == (
        finished.exclude(description__in=demo.TAGS.keys()).count()
    )
    tagged = {t.name for t in organization.tags.filter(entries__isnull=False).distinct()}
    assert tagged == {"bug", "meeting", "release", "review", "security", "support"}
    # The report by tag counts a twice-tagged entry under both tags, once in the total.
    owner = organization.memberships.get(role=Role.OWNER)
    window = TimeFilter(start=datetime(2000, 1, 1, tzinfo=UTC), end=datetime.now(UTC))
    by_tag = time_report(owner, window, by=("tag",))
    assert by_tag.total.seconds == sum(e.duration_seconds for e in finished)
    assert sum(g.figures.seconds for g in by_tag.groups) > by_tag.total.seconds
    assert by_tag.total == time_report(owner, window, by=("project",)).total


def test_demo_has_expenses_with_receipts_in_three_currencies(db, settings, tmp_path):
    from punchclock.expenses.models import Expense, ExpenseStatus, Receipt

    settings.MEDIA_ROOT = tmp_path
    organization = demo.load()
    expenses = Expense.objects.filter(organization=organization)
    assert expenses.count() >= 15
    assert {e.currency for e in expenses} >= {"EUR", "USD", "GBP"}
    assert set(expenses.values_list("status", flat=True)) == set(ExpenseStatus.values)
    assert expenses.filter(category__unit="km").exists()
    assert expenses.filter(reimbursable=True).exists()
    on_globex = expenses.filter(client__code="globex").exclude(currency="USD").first()
    assert on_globex is not None
    assert on_globex.rate_source == "manual"
    assert on_globex.billable_amount > on_globex.net_amount  # EUR into USD
    receipts = Receipt.objects.filter(expense__organization=organization)
    assert {r.content_type for r in receipts} == {"application/pdf", "image/png"}
    assert all((tmp_path / r.file.name).stat().st_size == r.size for r in receipts)


def test_demo_has_issued_invoices_a_credit_note_and_an_intact_chain(db, settings, tmp_path):
    from punchclock.invoicing.models import Invoice, InvoiceKind
    from punchclock.invoicing.services import verify_chain

    settings.MEDIA_ROOT = tmp_path
    organization = demo.load()
    invoices = Invoice.objects.filter(organization=organization)
    assert invoices.filter(kind=InvoiceKind.INVOICE, number__isnull=False).count() >= 6
    assert invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    assert {i.currency for i in invoices} >= {"EUR", "USD"}
    assert all(i.documents.count() == 1 for i in invoices)
    assert verify_chain(organization) is None


def test_demo_has_payments_of_every_kind_and_overdue_invoices(db, settings, tmp_path):
    from punchclock.core.timeutil import local_date, now
    from punchclock.invoicing.models import Invoice
    from punchclock.payments.balances import State, balance_of, client_credit
    from punchclock.payments.models import BankLine, Payment

    settings.MEDIA_ROOT = tmp_path
    organization = demo.load()
    payments = Payment.objects.filter(organization=organization)
    assert {p.method for p in payments} >= {"transfer", "cash", "stripe"}
    assert payments.filter(amount__lt=0).exists()  # a refund
    assert payments.exclude(exchange_rate=None).exists()  # paid in another currency
    today = local_date(now(), organization.timezone)
    states = {balance_of(i, today).state for i in Invoice.objects.filter(organization=organization)}
    assert {State.PAID, State.OVERDUE, State.CREDITED} <= states
    globex = organization.clients.get(code="globex")
    assert client_credit(globex.pk) == {"EUR": Decimal("150.00")}
    # A statement waits to be reconciled: the overdue rest, proposed by its number.
    line = BankLine.objects.get(organization=organization, amount__gt=0)
    assert line.proposed_invoice is not None
    assert balance_of(line.proposed_invoice, today).balance == line.amount
    # Automation: a monthly schedule with its next run ahead, first reminders sent.
    from punchclock.automation.models import BillingSchedule, ReminderSent

    assert BillingSchedule.objects.filter(organization=organization).count() == 1
    assert ReminderSent.objects.filter(invoice__organization=organization, level=1).count() == 2
    # A hosting subscription: last month and this month issued and paid, next year dearer.
    from punchclock.automation import recurring
    from punchclock.automation.models import RecurringInvoice, RunStatus

    hosting = RecurringInvoice.objects.get(organization=organization)
    runs = list(hosting.runs.order_by("period_start"))
    assert [r.status for r in runs] == [RunStatus.ISSUED, RunStatus.ISSUED]
    assert [r.period_start for r in runs] == [
        (today.replace(day=1) - timedelta(days=1)).replace(day=1),
        today.replace(day=1),
    ]
    assert {balance_of(r.invoice, today).state for r in runs} == {State.PAID}
    assert recurring.due(hosting) == []
    line = hosting.lines.get(position=1)
    assert recurring.price_on(line, date(today.year + 1, 1, 1)) == Decimal("59.00")
