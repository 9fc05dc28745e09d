"""Every change to expenses, receipts, categories and exchange rates, and the conversions."""

from __future__ import annotations

import hashlib
import secrets
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from punchclock.accounts.models import Membership, Organization, Role
from punchclock.accounts.permissions import (
    can,
    is_project_manager,
    visible_clients,
    visible_projects,
)
from punchclock.clients.models import Client
from punchclock.core.money import is_currency, round_money
from punchclock.core.services import field_error
from punchclock.core.timeutil import local_date, now
from punchclock.core.validators import RECEIPT_TYPES, check_receipt
from punchclock.expenses.models import (
    ExchangeRate,
    Expense,
    ExpenseCategory,
    ExpenseStatus,
    RateSource,
    Receipt,
)
from punchclock.projects.models import Project, ProjectStatus

MAX_AMOUNT = Decimal("1000000")
MAX_QUANTITY = Decimal("100000")
# A rate older than this before the expense day is not used: better to ask than to guess.
RATE_MAX_AGE = timedelta(days=14)
RATE_PLACES = Decimal("0.00000001")

STARTER_CATEGORIES = [
    # name, unit, unit price, tax rate, markup, billable
    ("Travel", "", None, "0", "0", True),
    ("Accommodation", "", None, "0", "0", True),
    ("Meals", "", None, "0", "0", False),
    ("Hardware", "", None, "0", "0", True),
    ("Software and licences", "", None, "0", "10", True),
    ("Cloud services", "", None, "0", "10", True),
    ("Mileage", "km", "0.30", "0", "0", True),
    ("Other", "", None, "0", "0", True),
]


# Categories ------------------------------------------------------------------------------


def create_starter_categories(organization: Organization) -> None:
    """A sensible set for a new organization; they can be renamed or archived later."""
    for name, unit, price, tax, markup, billable in STARTER_CATEGORIES:
        ExpenseCategory.objects.get_or_create(
            organization=organization,
            name=name,
            defaults={
                "unit": unit,
                "unit_price": Decimal(price) if price else None,
                "default_tax_rate": Decimal(tax),
                "default_markup_percent": Decimal(markup),
                "billable_default": billable,
            },
        )


CATEGORY_FIELDS = {
    "name",
    "unit",
    "unit_price",
    "default_tax_rate",
    "default_markup_percent",
    "billable_default",
    "is_archived",
}


@transaction.atomic
def save_category(
    category: ExpenseCategory | None, *, by: Membership, **fields: Any
) -> ExpenseCategory:
    if not can(by, "expenses.categories"):
        raise PermissionDenied("Only admins and owners manage expense categories.")
    if category is None:
        category = ExpenseCategory(organization_id=by.organization_id)
    elif category.organization_id != by.organization_id:
        raise Http404("No such category.")
    unknown = set(fields) - CATEGORY_FIELDS
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(category, name, value)
    category.name = (category.name or "").strip()
    category.unit = (category.unit or "").strip()
    if category.unit and not category.unit_price:
        raise field_error("unit_price", "A unit category (like km) needs a price per unit.")
    if not category.unit:
        category.unit_price = None
    clash = ExpenseCategory.objects.filter(
        organization_id=by.organization_id, name__iexact=category.name
    ).exclude(pk=category.pk)
    if clash.exists():
        raise field_error("name", f"There is already a category “{category.name}”.")
    category.full_clean()
    category.save()
    return category


# Exchange rates --------------------------------------------------------------------------


def _parse_rates_xml(data: bytes) -> list[tuple[date, str, Decimal]]:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ValidationError({"file": ["The file declares a DTD or entities; refused."]}) from exc
    except ParseError as exc:
        raise ValidationError({"file": [f"The file is not XML: {exc}."]}) from exc
    found: list[tuple[date, str, Decimal]] = []
    for cube in root.iter():
        if not cube.tag.endswith("Cube") or "time" not in cube.attrib:
            continue
        try:
            day = date.fromisoformat(cube.attrib["time"])
        except ValueError as exc:
            raise ValidationError({"file": [f"“{cube.attrib['time']}” is not a date."]}) from exc
        for child in cube:
            currency, text = child.attrib.get("currency", ""), child.attrib.get("rate", "")
            try:
                rate = Decimal(text)
            except InvalidOperation as exc:
                raise ValidationError({"file": [f"“{text}” is not a rate ({currency})."]}) from exc
            if not is_currency(currency) or not rate.is_finite() or rate <= 0:
                raise ValidationError({"file": [f"Bad rate {currency}={text} on {day}."]})
            found.append((day, currency, rate))
    if not found:
        raise ValidationError(
            {"file": ["No reference rates found: is this the ECB's eurofxref XML file?"]}
        )
    return found


@transaction.atomic
def import_ecb_rates(organization: Organization, *, by: Membership, data: bytes) -> int:
    """Store the ECB reference rates of an eurofxref XML file; importing again adds nothing."""
    if organization.pk != by.organization_id or not can(by, "expenses.manage_all"):
        raise PermissionDenied("Only admins and owners import exchange rates.")
    added = 0
    for day, currency, rate in _parse_rates_xml(data):
        _, created = ExchangeRate.objects.get_or_create(
            organization=organization,
            source=RateSource.ECB,
            currency=currency,
            on=day,
            defaults={"rate": rate},
        )
        added += created
    return added


@transaction.atomic
def set_manual_rate(
    organization: Organization, *, by: Membership, currency: str, rate: Decimal, on: date
) -> ExchangeRate:
    if organization.pk != by.organization_id or not can(by, "expenses.manage_all"):
        raise PermissionDenied("Only admins and owners enter exchange rates.")
    currency = currency.upper()
    if not is_currency(currency) or currency == "EUR":
        raise field_error("currency", f"“{currency}” needs no rate or is not a currency.")
    if not rate.is_finite() or rate <= 0:
        raise field_error("rate", "A rate is a positive number of units per euro.")
    found, _ = ExchangeRate.objects.update_or_create(
        organization=organization,
        source=RateSource.MANUAL,
        currency=currency,
        on=on,
        defaults={"rate": rate},
    )
    return found


@dataclass(frozen=True)
class Conversion:
    rate: Decimal
    source: str
    rate_date: date | None


def _per_euro(organization: Organization, currency: str, on: date) -> tuple[Decimal, str, date]:
    if currency == "EUR":
        return Decimal(1), "", on
    found = (
        ExchangeRate.objects.filter(
            organization=organization, currency=currency, on__lte=on, on__gte=on - RATE_MAX_AGE
        )
        .order_by("-on", "-source")  # on a tie, "manual" sorts before "ecb"
        .first()
    )
    if found is None:
        raise field_error(
            "currency",
            f"No exchange rate for {currency} on or shortly before {on}: import the ECB "
            "rates (punch rates import FILE) or give the rate by hand.",
        )
    return found.rate, found.source, found.on


def conversion(organization: Organization, source: str, target: str, on: date) -> Conversion:
    """The rate that turns `source` into `target` money on a day (crossed through EUR)."""
    if source == target:
        return Conversion(Decimal(1), "", None)
    return _crossed(_per_euro(organization, source, on), _per_euro(organization, target, on))


def _crossed(source: tuple[Decimal, str, date], target: tuple[Decimal, str, date]) -> Conversion:
    (from_rate, from_source, from_day), (to_rate, to_source, to_day) = source, target
    rate = (to_rate / from_rate).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    sources = {s for s in (from_source, to_source) if s}
    days = [d for s, d in ((from_source, from_day), (to_source, to_day)) if s]
    return Conversion(rate, "manual" if "manual" in sources else "ecb", min(days))


class RateTable:
    """The rates of some currencies over a range of days, read in one query; `conversion`
    answers as conversion() does for any day in the range, or None where that raises.

    For reports that convert hundreds of documents, one query per currency and day each."""

    def __init__(
        self, organization: Organization, currencies: Iterable[str], first: date, last: date
    ) -> None:
        self.first, self.last = first, last
        # Per currency: its days in order, and each day's rate (manual wins over ECB).
        self._days: dict[str, list[date]] = {}
        self._found: dict[tuple[str, date], tuple[Decimal, str, date]] = {}
        wanted = sorted({c for c in currencies if c != "EUR"})
        if not wanted:
            return
        rows = ExchangeRate.objects.filter(
            organization=organization,
            currency__in=wanted,
            on__gte=first - RATE_MAX_AGE,
            on__lte=last,
        ).values_list("currency", "on", "source", "rate")
        for currency, day, source, rate in rows.order_by("currency", "on", "source"):
            known = self._found.get((currency, day))
            if known is None:
                self._days.setdefault(currency, []).append(day)
            if known is None or source == RateSource.MANUAL:
                self._found[currency, day] = (rate, source, day)

    def _per_euro(self, currency: str, on: date) -> tuple[Decimal, str, date] | None:
        if currency == "EUR":
            return Decimal(1), "", on
        days = self._days.get(currency, [])
        at = bisect_right(days, on) - 1
        if at < 0 or days[at] < on - RATE_MAX_AGE:
            return None
        return self._found[currency, days[at]]

    def conversion(self, source: str, target: str, on: date) -> Conversion | None:
        if not self.first <= on <= self.last:
            raise ValueError(f"{on} is outside the rates read ({self.first} to {self.last}).")
        if source == target:
            return Conversion(Decimal(1), "", None)
        found = self._per_euro(source, on), self._per_euro(target, on)
        if found[0] is None or found[1] is None:
            return None
        return _crossed(found[0], found[1])


# Expenses --------------------------------------------------------------------------------


def is_billed(expense: Expense) -> bool:
    """On an invoice (draft or issued): then it changes only through the invoice."""
    return getattr(expense, "billing", None) is not None


def can_edit(by: Membership, expense: Expense) -> bool:
    if expense.organization_id != by.organization_id or is_billed(expense):
        return False
    if can(by, "expenses.manage_all"):
        return True
    own = expense.membership_id == by.pk
    return own and expense.status in (ExpenseStatus.DRAFT, ExpenseStatus.REJECTED)


def visible_expenses(by: Membership) -> QuerySet[Expense]:
    expenses = Expense.objects.filter(organization_id=by.organization_id)
    if can(by, "expenses.view_all"):
        return expenses
    managed = (
        Q(project__assignments__membership=by, project__assignments__is_manager=True)
        if by.role == Role.MANAGER
        else Q(pk__in=[])
    )
    return expenses.filter(Q(membership=by) | managed).distinct()


def get_expense_for(by: Membership, pk: int) -> Expense:
    expense = (
        visible_expenses(by)
        .select_related("client", "project", "category", "membership__user")
        .filter(pk=pk)
        .first()
    )
    if expense is None:
        raise Http404("No such expense.")
    return expense


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise field_error(field, f"“{value}” is not a number.") from exc
    if not number.is_finite():
        raise field_error(field, f"“{value}” is not a number.")
    return number


@dataclass
class ExpenseInput:
    """What a person says about an expense, before it is checked and priced."""

    client: Client | None = None
    project: Project | None = None
    category: ExpenseCategory | None = None
    spent_on: date | None = None
    description: str = ""
    vendor: str = ""
    amount: Any = None
    quantity: Any = None
    currency: str = ""
    tax_rate: Any = None
    amount_includes_tax: bool = True
    billable: bool | None = None
    markup_percent: Any = None
    reimbursable: bool = False
    exchange_rate: Any = None


def _price(expense: Expense, given: ExpenseInput, organization: Organization) -> None:
    """Fill amount, net, conversion and billable amount from what was given."""
    category = expense.category
    if category.is_unit_based:
        if given.quantity in (None, ""):
            raise field_error("quantity", f"Give the number of {category.unit}.")
        quantity = _decimal(given.quantity, "quantity")
        if quantity <= 0 or quantity > MAX_QUANTITY:
            raise field_error("quantity", f"The quantity must be between 0 and {MAX_QUANTITY}.")
        assert category.unit_price is not None
        expense.quantity = quantity
        expense.currency = organization.default_currency
        expense.amount = round_money(quantity * category.unit_price, expense.currency)
    else:
        if given.amount in (None, ""):
            raise field_error("amount", "Give the amount.")
        amount = _decimal(given.amount, "amount")
        if amount <= 0:
            raise field_error("amount", "An expense amount must be more than zero.")
        if amount > MAX_AMOUNT:
            raise field_error("amount", f"An amount above {MAX_AMOUNT:,} is surely a typo.")
        currency = (given.currency or organization.default_currency).upper()
        if not is_currency(currency):
            raise field_error("currency", f"“{currency}” is not an ISO 4217 currency code.")
        if round_money(amount, currency) != amount:
            raise field_error("amount", f"{currency} amounts have at most its minor-unit decimals.")
        expense.quantity = None
        expense.amount, expense.currency = amount, currency
    tax = _decimal(
        given.tax_rate if given.tax_rate not in (None, "") else category.default_tax_rate,
        "tax_rate",
    )
    if not 0 <= tax <= 100:
        raise field_error("tax_rate", "The tax rate is a percentage from 0 to 100.")
    markup = _decimal(
        given.markup_percent
        if given.markup_percent not in (None, "")
        else category.default_markup_percent,
        "markup_percent",
    )
    if not 0 <= markup <= 1000:
        raise field_error("markup_percent", "The markup is a percentage from 0 to 1000.")
    expense.tax_rate, expense.markup_percent = tax, markup
    expense.amount_includes_tax = bool(given.amount_includes_tax)
    gross_factor = 1 + tax / 100
    net = expense.amount / gross_factor if expense.amount_includes_tax else expense.amount
    expense.net_amount = round_money(net, expense.currency)
    target = expense.client.currency
    if given.exchange_rate not in (None, "") and expense.currency != target:
        rate = _decimal(given.exchange_rate, "exchange_rate")
        if rate <= 0:
            raise field_error("exchange_rate", "The exchange rate must be more than zero.")
        found = Conversion(rate.quantize(RATE_PLACES), RateSource.MANUAL, expense.spent_on)
    else:
        found = conversion(organization, expense.currency, target, expense.spent_on)
    expense.client_currency = target
    expense.exchange_rate, expense.rate_source, expense.rate_date = (
        found.rate,
        found.source,
        found.rate_date,
    )
    # One rounding: net in the expense currency × rate × markup, to the client's minor unit.
    expense.billable_amount = round_money(
        expense.net_amount * found.rate * (1 + markup / 100), target
    )


def _check_where(
    by: Membership, owner: Membership, given: ExpenseInput
) -> tuple[Client, Project | None]:
    project = given.project
    client = project.client if project is not None else given.client
    if client is None:
        raise field_error("client", "Choose the client the expense is for.")
    if client.organization_id != owner.organization_id:
        raise field_error("client", "No such client.")
    if client.is_archived:
        raise field_error("client", f"{client.name} is archived.")
    if project is not None:
        if project.status != ProjectStatus.ACTIVE:
            raise field_error("project", f"The project {project.full_code} is archived.")
        if not visible_projects(owner).filter(pk=project.pk).exists():
            raise field_error("project", f"{owner.user} is not on {project.full_code}.")
    elif not visible_clients(owner).filter(pk=client.pk).exists():
        raise field_error("client", "No such client.")
    if owner.pk != by.pk and not can(by, "expenses.manage_all"):
        raise PermissionDenied("You may only record your own expenses.")
    return client, project


def _check_day(organization: Organization, spent_on: date | None) -> date:
    if spent_on is None:
        raise field_error("spent_on", "Give the day of the expense.")
    if spent_on > local_date(now(), organization.timezone):
        raise field_error("spent_on", "An expense cannot be in the future.")
    if spent_on.year < 2000:
        raise field_error("spent_on", "That date is too far in the past.")
    return spent_on


def _check_category(
    organization: Organization, category: ExpenseCategory | None
) -> ExpenseCategory:
    if category is None or category.organization_id != organization.pk:
        raise field_error("category", "Choose a category.")
    if category.is_archived:
        raise field_error("category", f"The category “{category}” is archived.")
    return category


def _save_receipts(
    expense: Expense, files: Iterable[tuple[str, bytes]], written: list[tuple[Storage, str]]
) -> None:
    for name, data in files:
        try:
            kind = check_receipt(data, name)
        except ValidationError as exc:
            raise ValidationError({"receipts": exc.messages}) from exc
        receipt = Receipt(
            expense=expense,
            original_name=name[:200],
            content_type=RECEIPT_TYPES[kind],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        extension = "jpg" if kind == "jpeg" else kind
        receipt.file.save(f"{secrets.token_hex(16)}.{extension}", ContentFile(data), save=False)
        written.append((receipt.file.storage, receipt.file.name or ""))
        receipt.save()


def _cleanup(written: list[tuple[Storage, str]]) -> None:
    for storage, name in written:
        storage.delete(name)


def record_expense(
    owner: Membership,
    *,
    by: Membership,
    data: ExpenseInput,
    receipts: Iterable[tuple[str, bytes]] = (),
) -> Expense:
    """Record an expense with its receipts; bad input writes nothing, not even files."""
    written: list[tuple[Storage, str]] = []
    try:
        with transaction.atomic():
            if not can(by, "expenses.record"):
                raise PermissionDenied("You may not record expenses.")
            organization = owner.organization
            client, project = _check_where(by, owner, data)
            category = _check_category(organization, data.category)
            description = (data.description or "").strip()
            if not description:
                raise field_error("description", "Say what the expense was for.")
            expense = Expense(
                organization=organization,
                membership=owner,
                client=client,
                project=project,
                category=category,
                spent_on=_check_day(organization, data.spent_on),
                description=description[:300],
                vendor=(data.vendor or "").strip()[:200],
                reimbursable=bool(data.reimbursable),
                status=ExpenseStatus.APPROVED
                if can(owner, "expenses.manage_all")
                else ExpenseStatus.DRAFT,
            )
            _price(expense, data, organization)
            expense.billable = (
                data.billable if data.billable is not None else category.billable_default
            ) and (project is None or project.is_billable_method)
            expense.save()
            _save_receipts(expense, receipts, written)
    except BaseException:
        _cleanup(written)
        raise
    return expense


def update_expense(
    expense: Expense,
    *,
    by: Membership,
    data: ExpenseInput,
    receipts: Iterable[tuple[str, bytes]] = (),
) -> Expense:
    written: list[tuple[Storage, str]] = []
    try:
        with transaction.atomic():
            expense = Expense.objects.select_for_update().get(pk=expense.pk)
            if not can_edit(by, expense):
                raise PermissionDenied("This expense can no longer be changed by you.")
            organization = expense.organization
            client, project = _check_where(by, expense.membership, data)
            expense.client, expense.project = client, project
            expense.category = _check_category(organization, data.category)
            expense.spent_on = _check_day(organization, data.spent_on)
            description = (data.description or "").strip()
            if not description:
                raise field_error("description", "Say what the expense was for.")
            expense.description = description[:300]
            expense.vendor = (data.vendor or "").strip()[:200]
            expense.reimbursable = bool(data.reimbursable)
            _price(expense, data, organization)
            expense.billable = (
                data.billable if data.billable is not None else expense.category.billable_default
            ) and (project is None or project.is_billable_method)
            expense.save()
            _save_receipts(expense, receipts, written)
    except BaseException:
        _cleanup(written)
        raise
    return expense


@transaction.atomic
def delete_expense(expense: Expense, *, by: Membership) -> None:
    if not can_edit(by, expense):
        raise PermissionDenied("This expense can no longer be deleted by you.")
    files = [(r.file.storage, r.file.name or "") for r in expense.receipts.all()]
    expense.delete()
    transaction.on_commit(lambda: _cleanup(files))


@transaction.atomic
def remove_receipt(receipt: Receipt, *, by: Membership) -> None:
    if not can_edit(by, receipt.expense):
        raise PermissionDenied("This expense can no longer be changed by you.")
    storage, name = receipt.file.storage, receipt.file.name or ""
    receipt.delete()
    transaction.on_commit(lambda: storage.delete(name))


def get_receipt_for(by: Membership, pk: int) -> Receipt:
    receipt = (
        Receipt.objects.select_related("expense")
        .filter(pk=pk, expense__in=visible_expenses(by))
        .first()
    )
    if receipt is None:
        raise Http404("No such receipt.")
    return receipt


# Approval --------------------------------------------------------------------------------


@transaction.atomic
def submit_expenses(owner: Membership, *, expenses: Iterable[Expense]) -> int:
    count = 0
    for expense in expenses:
        if expense.membership_id != owner.pk:
            raise PermissionDenied("You can only submit your own expenses.")
        if expense.status in (ExpenseStatus.DRAFT, ExpenseStatus.REJECTED):
            expense.status = ExpenseStatus.SUBMITTED
            expense.save(update_fields=["status", "updated_at"])
            count += 1
    return count


def _may_decide(by: Membership, expense: Expense) -> bool:
    if expense.organization_id != by.organization_id:
        return False
    if can(by, "expenses.manage_all"):
        return True
    if expense.membership_id == by.pk or expense.project is None:
        return False
    return is_project_manager(by, expense.project)


@transaction.atomic
def decide_expense(
    expense: Expense, *, by: Membership, approve: bool, comment: str = ""
) -> Expense:
    if not _may_decide(by, expense):
        raise PermissionDenied("You may not approve this expense.")
    if expense.status != ExpenseStatus.SUBMITTED:
        raise field_error("status", f"This expense is {expense.get_status_display().lower()}.")
    if not approve and not comment.strip():
        raise field_error("comment", "Say why the expense is rejected.")
    expense.status = ExpenseStatus.APPROVED if approve else ExpenseStatus.REJECTED
    expense.comment = comment.strip()
    expense.decided_by = by.user
    expense.decided_at = now()
    expense.save()
    return expense


# Reading ---------------------------------------------------------------------------------


def unbilled_expenses(organization: Organization) -> QuerySet[Expense]:
    """Approved billable expenses not yet on an invoice (invoicing links them later)."""
    return Expense.objects.filter(
        organization=organization, billable=True, status=ExpenseStatus.APPROVED
    )


@dataclass
class ReimbursementRow:
    person: str
    email: str
    currency: str
    count: int
    total: Decimal


def reimbursements(organization: Organization, *, start: date, end: date) -> list[ReimbursementRow]:
    """What each person paid out of pocket in [start, end], approved, per currency."""
    rows: dict[tuple[int, str], ReimbursementRow] = {}
    expenses = (
        Expense.objects.filter(
            organization=organization,
            reimbursable=True,
            status=ExpenseStatus.APPROVED,
            spent_on__gte=start,
            spent_on__lte=end,
        )
        .select_related("membership__user")
        .order_by("membership__user__name", "currency")
    )
    # Summed in Python: SQLite stores decimals as REAL, so SUM() there is not exact.
    for expense in expenses:
        key = (expense.membership_id, expense.currency)
        user = expense.membership.user
        row = rows.setdefault(
            key, ReimbursementRow(user.display_name, user.email, expense.currency, 0, Decimal(0))
        )
        row.count += 1
        row.total += expense.amount
    return list(rows.values())


# Receipts added later --------------------------------------------------------------------


def add_receipts(
    expense: Expense, *, by: Membership, receipts: Iterable[tuple[str, bytes]]
) -> list[Receipt]:
    """Attach receipts to an existing expense; a bad file writes none of them."""
    written: list[tuple[Storage, str]] = []
    try:
        with transaction.atomic():
            expense = Expense.objects.select_for_update().get(pk=expense.pk)
            if not can_edit(by, expense):
                raise PermissionDenied("This expense can no longer be changed by you.")
            before = set(expense.receipts.values_list("pk", flat=True))
            files = list(receipts)
            if not files:
                raise ValidationError({"receipts": ["Attach at least one file."]})
            _save_receipts(expense, files, written)
            return list(expense.receipts.exclude(pk__in=before))
    except BaseException:
        _cleanup(written)
        raise


# Web helpers: read-only --------------------------------------------------------------------


def preview_expense(owner: Membership, *, data: ExpenseInput) -> dict[str, Any]:
    """The amounts an expense would get, by the same pricing rules, without saving anything.

    Raises the same field errors as record_expense for what pricing needs.
    """
    organization = owner.organization
    client, project = _check_where(owner, owner, data)
    category = _check_category(organization, data.category)
    spent_on = data.spent_on or local_date(now(), organization.timezone)
    expense = Expense(
        organization=organization,
        membership=owner,
        client=client,
        project=project,
        category=category,
        spent_on=_check_day(organization, spent_on),
    )
    _price(expense, data, organization)
    if expense.amount_includes_tax:
        tax = expense.amount - expense.net_amount
    else:
        tax = round_money(expense.net_amount * expense.tax_rate / 100, expense.currency)
    billable = (data.billable if data.billable is not None else category.billable_default) and (
        project is None or project.is_billable_method
    )
    return {
        "category": category,
        "quantity": expense.quantity,
        "unit": category.unit,
        "unit_price": category.unit_price,
        "amount": expense.amount,
        "currency": expense.currency,
        "tax_rate": expense.tax_rate,
        "tax": tax,
        "net": expense.net_amount,
        "gross": expense.net_amount + tax,
        "markup_percent": expense.markup_percent,
        "client_currency": expense.client_currency,
        "exchange_rate": expense.exchange_rate,
        "rate_source": expense.rate_source,
        "rate_date": expense.rate_date,
        "billable": billable,
        "billable_amount": expense.billable_amount,
    }


def expenses_to_decide(by: Membership) -> QuerySet[Expense]:
    """Submitted expenses this member may approve or reject (the rule of decide_expense)."""
    submitted = Expense.objects.filter(
        organization_id=by.organization_id, status=ExpenseStatus.SUBMITTED
    )
    if can(by, "expenses.manage_all"):
        return submitted
    if by.role != Role.MANAGER or not by.is_active:
        return submitted.none()
    managed = Project.objects.filter(
        organization_id=by.organization_id,
        assignments__membership=by,
        assignments__is_manager=True,
    )
    return submitted.filter(project__in=managed).exclude(membership=by)
