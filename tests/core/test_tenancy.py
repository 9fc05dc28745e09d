"""Every web URL, walked from the URL configuration: outsiders never read or change anything.

A URL pattern that is not in OBJECTS or OPEN fails the test, so a new page cannot be
forgotten. The REST API has its own walk over the OpenAPI document (tests/api).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core import serializers
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from punchclock.accounts.models import ApiToken, Invitation, Membership, Organization
from punchclock.accounts.services import create_api_token, invite_member
from punchclock.automation.models import (
    BillingSchedule,
    Notification,
    NotificationPreferences,
    NotificationSettings,
    RecurringInvoice,
    RecurringLine,
    RecurringPrice,
    RecurringRun,
    ReminderLevel,
    ReminderSent,
    ReminderTemplate,
    Retainer,
    RetainerPeriod,
    ScheduleRun,
)
from punchclock.automation.recurring import LineSpec, save_recurring
from punchclock.automation.retainers import save_retainer
from punchclock.automation.services import save_schedule
from punchclock.clients.models import Client, Contact
from punchclock.clients.services import add_contact
from punchclock.expenses.models import ExchangeRate, Expense, ExpenseCategory, Receipt
from punchclock.expenses.services import ExpenseInput, create_starter_categories, record_expense
from punchclock.invoicing.models import Invoice, InvoiceLine
from punchclock.invoicing.services import add_line, issue_invoice, start_draft
from punchclock.payments import portal
from punchclock.payments.models import Allocation, BankLine, BankStatement, Payment, PortalLink
from punchclock.projects.models import Project, ProjectMember, Rate, Task
from punchclock.tracking.models import TimeEntry, Timesheet
from tests import factories
from tests.expenses.conftest import png_bytes

# URL name -> {kwarg: kind of agency object it takes}. Kinds are filled by `agency_objects`.
OBJECTS: dict[str, dict[str, str]] = {
    "clients:detail": {"pk": "client"},
    "clients:edit": {"pk": "client"},
    "clients:archive": {"pk": "client"},
    "clients:restore": {"pk": "client"},
    "clients:delete": {"pk": "client"},
    "clients:contact_add": {"pk": "client"},
    "clients:contact_edit": {"pk": "contact"},
    "clients:contact_delete": {"pk": "contact"},
    "clients:rate_add": {"pk": "client"},
    "projects:detail": {"pk": "project"},
    "projects:edit": {"pk": "project"},
    "projects:status": {"pk": "project"},
    "projects:task_add": {"pk": "project"},
    "projects:task_edit": {"pk": "task"},
    "projects:task_archive": {"pk": "task"},
    "projects:member_assign": {"pk": "project"},
    "projects:member_manager": {"pk": "project", "membership_pk": "member"},
    "projects:member_unassign": {"pk": "project", "membership_pk": "member"},
    "projects:rate_add": {"pk": "project"},
    "projects:rate_delete": {"pk": "rate"},
    "accounts:logo": {"pk": "organization"},
    "accounts:invitation_revoke": {"pk": "invitation"},
    "accounts:member_update": {"pk": "member"},
    "accounts:member_deactivate": {"pk": "member"},
    "accounts:token_revoke": {"pk": "token"},
    "accounts:accept_invitation": {"token": "invitation_token"},
    "tracking:entry_row": {"pk": "entry"},
    "tracking:entry_edit": {"pk": "entry"},
    "tracking:entry_delete": {"pk": "entry"},
    "tracking:entry_split": {"pk": "entry"},
    "tracking:entry_duplicate": {"pk": "entry"},
    "tracking:timesheet_decide": {"pk": "timesheet"},
    "tracking:timesheet_reopen": {"pk": "timesheet"},
    "expenses:detail": {"pk": "expense"},
    "expenses:edit": {"pk": "expense"},
    "expenses:submit": {"pk": "expense"},
    "expenses:decide": {"pk": "expense"},
    "expenses:delete": {"pk": "expense"},
    "expenses:receipt": {"pk": "receipt"},
    "expenses:receipt_remove": {"pk": "receipt"},
    "expenses:category_edit": {"pk": "expense_category"},
    "expenses:category_archive": {"pk": "expense_category"},
    "invoicing:detail": {"pk": "invoice"},
    "invoicing:line_add": {"pk": "invoice"},
    "invoicing:discount": {"pk": "invoice"},
    "invoicing:delete": {"pk": "invoice"},
    "invoicing:issue": {"pk": "invoice"},
    "invoicing:credit": {"pk": "invoice"},
    "invoicing:pdf": {"pk": "invoice"},
    "invoicing:details": {"pk": "invoice"},
    "invoicing:send": {"pk": "invoice"},
    "invoicing:preview": {"pk": "invoice"},
    "invoicing:einvoice": {"pk": "invoice"},
    "invoicing:einvoice_validate": {"pk": "invoice"},
    "invoicing:line_edit": {"pk": "invoice_line"},
    "reminders:send_again": {"pk": "reminder_sent"},
    "reminders:invoice": {"pk": "invoice"},
    "invoicing:line_delete": {"pk": "invoice_line"},
    "payments:record": {"pk": "invoice"},
    "payments:use_credit": {"pk": "invoice"},
    "payments:refund": {"pk": "payment"},
    "payments:delete": {"pk": "payment"},
    "payments:statement": {"pk": "client"},
    "payments:bank_statement": {"pk": "bank_statement"},
    "payments:bank_confirm": {"pk": "bank_statement"},
    "payments:bank_line_ignore": {"pk": "bank_line"},
    "payments:bank_line_reopen": {"pk": "bank_line"},
    "payments:link_invoice": {"pk": "invoice"},
    "payments:link_client": {"pk": "client"},
    "payments:link_revoke": {"pk": "portal_link"},
    # Portal links are bearer links: the genuine token opens them for anyone, by design.
    # The walk gives a genuine link's id with a forged signature, which must open nothing.
    "portal:home": {"token": "forged_portal_token"},
    "portal:invoice": {"token": "forged_portal_token", "pk": "invoice"},
    "portal:pdf": {"token": "forged_portal_token", "pk": "invoice"},
    "portal:einvoice": {"token": "forged_portal_token", "pk": "invoice"},
    "portal:pay": {"token": "forged_portal_token", "pk": "invoice"},
    "automation:detail": {"pk": "schedule"},
    "automation:edit": {"pk": "schedule"},
    "automation:run": {"pk": "schedule"},
    "automation:pause": {"pk": "schedule"},
    "automation:resume": {"pk": "schedule"},
    "automation:delete": {"pk": "schedule"},
    "retainers:detail": {"pk": "retainer"},
    "retainers:edit": {"pk": "retainer"},
    "retainers:run": {"pk": "retainer"},
    "retainers:pause": {"pk": "retainer"},
    "retainers:resume": {"pk": "retainer"},
    "retainers:delete": {"pk": "retainer"},
    "notifications:open": {"pk": "notification"},
    "notifications:read": {"pk": "notification"},
    "automation:retry_run": {"pk": "schedule_run"},
    "automation:retry_reminder": {"pk": "reminder_sent"},
    "recurring:detail": {"pk": "recurring"},
    "recurring:edit": {"pk": "recurring"},
    "recurring:run": {"pk": "recurring"},
    "recurring:pause": {"pk": "recurring"},
    "recurring:resume": {"pk": "recurring"},
    "recurring:delete": {"pk": "recurring"},
}
# Pages without agency ids: an outsider may open them, but sees only their own organization.
OPEN = {
    "core:home",
    "payments:list",
    "payments:stripe_webhook",
    "payments:stripe_settings",
    "payments:receivables",
    "payments:bank",
    "automation:list",
    "automation:new",
    "retainers:list",
    "retainers:new",
    "core:healthz",
    "clients:list",
    "clients:new",
    "projects:list",
    "projects:new",
    "projects:rates",
    "projects:rates_add",
    "accounts:login",
    "accounts:logout",
    "accounts:signup",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:profile",
    "accounts:password_change",
    "accounts:organization_settings",
    "accounts:organization_billing",
    "accounts:logo_upload",
    "accounts:logo_remove",
    "accounts:organization_new",
    "accounts:switch_organization",
    "accounts:leave_organization",
    "accounts:team",
    "accounts:invite",
    "accounts:tokens",
    "tracking:day",
    "tracking:week",
    "tracking:week_cell",
    "tracking:week_row",
    "tracking:week_submit",
    "tracking:timer",
    "tracking:timer_start",
    "tracking:timer_stop",
    "tracking:timer_resume",
    "tracking:timer_discard",
    "tracking:entry_create",
    "tracking:team",
    "tracking:approvals",
    "tracking:lock_date",
    "expenses:list",
    "expenses:new",
    "expenses:preview",
    "expenses:approvals",
    "expenses:categories",
    "expenses:rates",
    "expenses:rates_import",
    "expenses:rates_manual",
    "expenses:reimbursements",
    "expenses:reimbursements_csv",
    "invoicing:list",
    "invoicing:unbilled",
    "invoicing:verify",
    "invoicing:settings",
    "invoicing:template_upload",
    "invoicing:template_remove",
    "invoicing:template_download",
    "invoicing:email_template",
    "reminders:settings",
    "reminders:set_up",
    "reminders:levels",
    "reminders:wording",
    "reminders:send",
    "notifications:list",
    "notifications:read_all",
    "notifications:preferences",
    "notifications:settings",
    "automation:activity",
    "recurring:list",
    "recurring:new",
    "reports:index",
    "reports:time",
    "reports:time_csv",
    "reports:time_xlsx",
    "reports:time_entries",
    "reports:unbilled",
    "reports:unbilled_csv",
    "reports:unbilled_xlsx",
    "reports:budgets",
    "reports:budgets_csv",
    "reports:budgets_xlsx",
    "reports:revenue",
    "reports:revenue_csv",
    "reports:revenue_xlsx",
    "reports:tax",
    "reports:tax_csv",
    "reports:tax_xlsx",
    "reports:utilisation",
    "reports:utilisation_csv",
    "reports:utilisation_xlsx",
    "reports:dashboard",
    "reports:profitability",
    "reports:profitability_csv",
    "reports:profitability_xlsx",
}
# Posted last in the walks: they end the session or the membership the walk runs as.
LAST = ["accounts:logout", "accounts:leave_organization"]
# Kinds of slug/str arguments that are not object ids.
STATIC_ARGS = {
    "scope": "organization",
    "uidb64": "MQ",
    "token": "set-password",
    "language": "de",
    "code": "ubl",
}
# Strings that only the agency's data contains.
MARKERS = ["Globex", "Max Member", "member@acme.test", "Acme Agency"]


def web_patterns() -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("api/"):
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.append(
                    (f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern)
                )

    walk(get_resolver().url_patterns, None)
    return sorted(found, key=lambda item: item[0] in LAST)


@pytest.fixture
def agency_objects(agency, settings, tmp_path) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path
    create_starter_categories(agency.organization)
    category = agency.organization.expense_categories.get(name="Travel")
    expense = record_expense(
        agency.member,
        by=agency.member,
        data=ExpenseInput(
            client=agency.client,
            project=agency.project,
            category=category,
            spent_on=date(2026, 11, 2),
            description="Globex taxi",
            amount="10",
        ),
        receipts=[("r.png", png_bytes())],
    )
    contact = add_contact(agency.client, by=agency.owner, name="Hank Scorpio")
    rate = factories.make_rate(
        agency.organization, "95", project=agency.project, effective_from=date(2099, 1, 1)
    )
    invitation, raw_invitation = invite_member(
        agency.organization, email="new@acme.test", role="member", by=agency.owner
    )
    token, _ = create_api_token(membership=agency.member, name="laptop", scope="read")
    entry, sheet = factories.make_entry_and_timesheet(agency.member)
    invoice = start_draft(agency.client, by=agency.owner)
    line = add_line(
        invoice,
        by=agency.owner,
        description="Globex workshop",
        quantity=1,
        unit_price=100,
        tax_category="S",
        tax_rate=19,
    )
    payment = factories.make_payment(agency.client)
    bank_line = factories.make_bank_line(agency.organization)
    portal_link = portal.client_link(agency.client, by=agency.owner)
    schedule = save_schedule(
        agency.owner, client=agency.client, frequency="monthly", starts_on=date(2026, 11, 1)
    )
    # A reminder of an issued invoice (reminders never name drafts).
    agency.organization.vat_id = "DE811907980"
    agency.organization.save()
    issued = start_draft(agency.client, by=agency.owner)
    add_line(issued, by=agency.owner, description="Globex retainer", quantity=1, unit_price=100)
    issue_invoice(issued, by=agency.owner)
    reminder_sent = ReminderSent.objects.create(invoice=issued, level=1, balance=100)
    retainer = save_retainer(
        agency.owner,
        client=agency.client,
        included=Decimal(10),
        fee=Decimal(900),
        overage_rate=Decimal(100),
        starts_on=date(2026, 11, 1),
    )
    notification = factories.make_notification(agency.member)
    schedule_run = ScheduleRun.objects.create(
        schedule=schedule,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        run_on=date(2026, 12, 1),
        status="failed",
        message="Globex failure",
    )
    recurring = save_recurring(
        agency.owner,
        client=agency.client,
        name="Globex hosting",
        frequency="monthly",
        starts_on=date(2026, 11, 1),
        lines=[
            LineSpec(
                "Hosting {month}",
                Decimal(1),
                Decimal(49),
                prices=((date(2027, 1, 1), Decimal(59)),),
            )
        ],
    )
    return {
        "retainer": retainer.pk,
        "schedule_run": schedule_run.pk,
        "recurring": recurring.pk,
        "reminder_sent": reminder_sent.pk,
        "schedule": schedule.pk,
        "notification": notification.pk,
        "portal_link": portal_link.pk,
        "forged_portal_token": f"{portal_link.pk}.{'A' * 43}",
        "payment": payment.pk,
        "bank_statement": bank_line.statement_id,
        "bank_line": bank_line.pk,
        "client": agency.client.pk,
        "contact": contact.pk,
        "project": agency.project.pk,
        "task": agency.task.pk,
        "member": agency.member.pk,
        "rate": rate.pk,
        "organization": agency.organization.pk,
        "invitation": invitation.pk,
        "invitation_token": raw_invitation,
        "token": token.pk,
        "entry": entry.pk,
        "timesheet": sheet.pk,
        "expense": expense.pk,
        "receipt": expense.receipts.get().pk,
        "invoice": invoice.pk,
        "invoice_line": line.pk,
        "expense_category": category.pk,
    }


def _fingerprint(organization: Organization) -> str:
    """Every row the agency owns, serialised: any change an outsider causes shows up."""
    rows: list[Any] = [organization]
    rows += list(Membership.objects.filter(organization=organization))
    rows += list(Client.objects.filter(organization=organization))
    rows += list(Contact.objects.filter(client__organization=organization))
    rows += list(Project.objects.filter(organization=organization))
    rows += list(ProjectMember.objects.filter(project__organization=organization))
    rows += list(Task.objects.filter(project__organization=organization))
    rows += list(Rate.objects.filter(organization=organization))
    rows += list(Invitation.objects.filter(organization=organization))
    rows += list(ApiToken.objects.filter(organization=organization))
    rows += list(TimeEntry.objects.filter(organization=organization))
    rows += list(Timesheet.objects.filter(organization=organization))
    rows += list(Expense.objects.filter(organization=organization))
    rows += list(Receipt.objects.filter(expense__organization=organization))
    rows += list(ExpenseCategory.objects.filter(organization=organization))
    rows += list(ExchangeRate.objects.filter(organization=organization))
    rows += list(Invoice.objects.filter(organization=organization))
    rows += list(InvoiceLine.objects.filter(invoice__organization=organization))
    rows += list(Payment.objects.filter(organization=organization))
    rows += list(Allocation.objects.filter(payment__organization=organization))
    rows += list(BankStatement.objects.filter(organization=organization))
    rows += list(BankLine.objects.filter(organization=organization))
    rows += list(PortalLink.objects.filter(organization=organization))
    rows += list(BillingSchedule.objects.filter(organization=organization))
    rows += list(ScheduleRun.objects.filter(schedule__organization=organization))
    rows += list(ReminderLevel.objects.filter(organization=organization))
    rows += list(ReminderTemplate.objects.filter(organization=organization))
    rows += list(ReminderSent.objects.filter(invoice__organization=organization))
    rows += list(Retainer.objects.filter(organization=organization))
    rows += list(RetainerPeriod.objects.filter(retainer__organization=organization))
    rows += list(Notification.objects.filter(organization=organization))
    rows += list(NotificationPreferences.objects.filter(membership__organization=organization))
    rows += list(NotificationSettings.objects.filter(organization=organization))
    rows += list(RecurringInvoice.objects.filter(organization=organization))
    rows += list(RecurringLine.objects.filter(recurring__organization=organization))
    rows += list(RecurringPrice.objects.filter(line__recurring__organization=organization))
    rows += list(RecurringRun.objects.filter(recurring__organization=organization))
    return serializers.serialize("json", rows)


def _url(name: str, pattern: URLPattern, objects: dict[str, Any]) -> str:
    kwargs = {}
    kinds = OBJECTS.get(name, {})
    for key in pattern.pattern.converters:
        kind = kinds.get(key) or STATIC_ARGS.get(key)
        assert kind, f"{name}: say what <{key}> is in OBJECTS"
        kwargs[key] = objects.get(kind, kind)
    return reverse(name, kwargs=kwargs)


def test_every_url_is_classified():
    unknown = [name for name, _ in web_patterns() if name not in OBJECTS and name not in OPEN]
    assert not unknown, f"add these URL names to OBJECTS or OPEN in {__file__}: {unknown}"


GARBAGE = {
    "name": "Hijack",
    "status": "archived",
    "amount": "1",
    "role": "owner",
    "email": "x@rival.test",
    "description": "hijack",
    "is_manager": "1",
    "effective_from": "2099-01-01",
    "comment": "ok",
    "reason": "x",
}


def test_outsiders_get_404_for_agency_objects_and_change_nothing(
    agency, agency_objects, as_outsider
):
    before = _fingerprint(agency.organization)
    checked = 0
    for name, pattern in web_patterns():
        if name not in OBJECTS:
            continue
        url = _url(name, pattern, agency_objects)
        got = as_outsider.get(url)
        assert got.status_code in (404, 405), (name, url, got.status_code)
        posted = as_outsider.post(url, GARBAGE)
        assert posted.status_code == 404, (name, url, posted.status_code)
        checked += 1
    assert checked == len([n for n, _ in web_patterns() if n in OBJECTS])
    assert _fingerprint(agency.organization) == before


def test_ids_beyond_any_database_integer_are_404_not_500(agency, agency_objects, as_owner):
    huge = {
        kind: 10**20 if isinstance(value, int) else value for kind, value in agency_objects.items()
    }
    for name, pattern in web_patterns():
        if name not in OBJECTS or "token" in pattern.pattern.converters:
            continue
        url = _url(name, pattern, huge)
        for response in (as_owner.get(url), as_owner.post(url, GARBAGE)):
            assert response.status_code in (404, 405), (name, url, response.status_code)


def _readable(response: Any) -> str:
    """The text a response carries; an XLSX export's is zipped XML, unzipped here."""
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return "".join(archive.read(name).decode() for name in archive.namelist())
    return response.content.decode(errors="replace")


def test_outsiders_open_pages_show_none_of_the_agency(agency, agency_objects, as_outsider):
    before = _fingerprint(agency.organization)
    for name, pattern in web_patterns():
        if name not in OPEN:
            continue
        url = _url(name, pattern, agency_objects)
        response = as_outsider.get(url)
        assert response.status_code in (200, 302, 403, 405), (name, response.status_code)
        html = _readable(response)
        for marker in MARKERS:
            assert marker not in html, (name, marker)
        as_outsider.post(url, GARBAGE)
    assert _fingerprint(agency.organization) == before


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "member"])
def test_no_url_answers_500_to_any_role(agency, agency_objects, role):
    from tests.conftest import login

    http = login(getattr(agency, role))
    for name, pattern in web_patterns():
        url = _url(name, pattern, agency_objects)
        for response in (http.get(url), http.post(url, {"page": "x", "pk": "999999999999"})):
            assert response.status_code < 500, (role, name, url, response.status_code)


# Pages guarded by one permission: each role gets 200 exactly when the matrix allows it.
GUARDED = {
    "accounts:team": "members.view",
    "accounts:organization_settings": "organization.edit_profile",
    "clients:new": "clients.manage",
    "clients:edit": "clients.manage",
    "projects:new": "projects.create",
    "projects:rates": "rates.view",
    "expenses:categories": "expenses.categories",
    "expenses:rates": "expenses.manage_all",
    "expenses:reimbursements": "expenses.manage_all",
    "invoicing:list": "invoices.manage",
    "invoicing:settings": "invoices.manage",
    "payments:list": "payments.manage",
    "payments:stripe_settings": "payments.manage",
    "payments:receivables": "payments.manage",
    "payments:statement": "payments.manage",
    "automation:list": "invoices.manage",
    "reminders:settings": "invoices.manage",
    "automation:new": "invoices.manage",
    "automation:detail": "invoices.manage",
    "automation:edit": "invoices.manage",
    "automation:delete": "invoices.manage",
    "retainers:list": "invoices.manage",
    "retainers:new": "invoices.manage",
    "retainers:detail": "invoices.manage",
    "retainers:edit": "invoices.manage",
    "retainers:delete": "invoices.manage",
    "notifications:settings": "organization.edit_profile",
    "automation:activity": "invoices.manage",
    "recurring:list": "invoices.manage",
    "recurring:new": "invoices.manage",
    "recurring:detail": "invoices.manage",
    "recurring:edit": "invoices.manage",
    "recurring:delete": "invoices.manage",
    "reports:revenue": "invoices.manage",
    "reports:revenue_csv": "invoices.manage",
    "reports:revenue_xlsx": "invoices.manage",
    "reports:tax": "invoices.manage",
    "reports:tax_csv": "invoices.manage",
    "reports:tax_xlsx": "invoices.manage",
    "reports:profitability": "cost_rates.view",
    "reports:profitability_csv": "cost_rates.view",
    "reports:profitability_xlsx": "cost_rates.view",
    "reports:unbilled": "invoices.manage",
    "reports:unbilled_csv": "invoices.manage",
    "reports:unbilled_xlsx": "invoices.manage",
}
# Budgets follow a role rather than one action: owners and admins (projects.manage) see
# every budget, managers those of the projects they manage, members none.
BUDGETS = ("reports:budgets", "reports:budgets_csv", "reports:budgets_xlsx")


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "member"])
def test_each_role_gets_what_the_matrix_says(agency, agency_objects, role):
    from punchclock.accounts.permissions import can
    from tests.conftest import login

    membership = getattr(agency, role)
    http = login(membership)
    for name, action in GUARDED.items():
        pattern = dict(web_patterns())[name]
        status = http.get(_url(name, pattern, agency_objects)).status_code
        expected = 200 if can(membership, action) else 403
        assert status == expected, (role, name, status)


@pytest.mark.parametrize(
    ("role", "expected"), [("owner", 200), ("admin", 200), ("manager", 200), ("member", 403)]
)
def test_budgets_and_their_exports_by_role(agency, agency_objects, role, expected):
    from tests.conftest import login

    http = login(getattr(agency, role))
    for name in BUDGETS:
        pattern = dict(web_patterns())[name]
        status = http.get(_url(name, pattern, agency_objects)).status_code
        assert status == expected, (role, name, status)
