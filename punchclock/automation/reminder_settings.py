"""An organization's reminder settings: its levels (days, late fees, on/off) and wording.

Nothing is sent before the organization sets reminders up: the default levels are made on
that explicit step, so switching Punchclock on never mails a client unasked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from django.core.exceptions import PermissionDenied
from django.db import transaction

from punchclock.accounts.models import Membership, Organization
from punchclock.accounts.permissions import require
from punchclock.automation import reminder_text as text
from punchclock.automation.models import LateFee, ReminderLevel, ReminderTemplate
from punchclock.core.services import field_error

DEFAULT_LEVELS = {
    1: {"days_after_due": 7},
    2: {"days_after_due": 21},
    3: {"days_after_due": 35},
    4: {"days_after_due": 49, "repeat_every_days": 14, "is_active": False},
}
EARLIEST_DAY, LATEST_DAY = -60, 365  # days_after_due
SHORTEST_REPEAT, LONGEST_REPEAT = 7, 365  # more often than weekly is harassment
LARGEST_FIXED_FEE = Decimal(1_000_000)


def require_biller(by: Membership, organization: Organization) -> None:
    require(by, "invoices.manage")
    if by.organization_id != organization.pk:
        raise PermissionDenied("This belongs to another organization.")


def levels_of(organization: Organization) -> list[ReminderLevel]:
    return list(ReminderLevel.objects.filter(organization=organization).order_by("level"))


def set_up(organization: Organization, *, by: Membership) -> list[ReminderLevel]:
    """The default levels (+7, +21, +35 days, no late fees; repeating one off), once."""
    require_biller(by, organization)
    with transaction.atomic():
        for level, fields in DEFAULT_LEVELS.items():
            ReminderLevel.objects.get_or_create(
                organization=organization, level=level, defaults=fields
            )
    return levels_of(organization)


@dataclass(frozen=True)
class LevelInput:
    level: int
    days_after_due: int
    repeat_every_days: int
    late_fee: str
    late_fee_amount: Decimal
    late_fee_taxed: bool
    is_active: bool


def save_levels(
    organization: Organization, *, by: Membership, levels: Sequence[LevelInput]
) -> list[ReminderLevel]:
    """Change days, late fees and on/off of the levels together; all or nothing."""
    require_biller(by, organization)
    given = {item.level: item for item in levels}
    if len(given) != len(levels) or not set(given) <= set(DEFAULT_LEVELS):
        raise field_error("level", "Give each of the levels 1 to 4 at most once.")
    for item in levels:
        _check_level(organization, item)
    with transaction.atomic():
        found = {
            row.level: row
            for row in ReminderLevel.objects.select_for_update().filter(organization=organization)
        }
        for number, item in given.items():
            row = found.get(number) or ReminderLevel(organization=organization, level=number)
            row.days_after_due = item.days_after_due
            row.repeat_every_days = item.repeat_every_days
            row.late_fee = item.late_fee
            row.late_fee_amount = item.late_fee_amount if item.late_fee != LateFee.NONE else 0
            row.late_fee_taxed = item.late_fee_taxed and item.late_fee != LateFee.NONE
            row.is_active = item.is_active
            found[number] = row
        _check_order(found.values())
        for row in found.values():
            row.full_clean(exclude=["organization"], validate_unique=False)
            row.save()
    return levels_of(organization)


def _check_level(organization: Organization, item: LevelInput) -> None:
    where = f"Level {item.level}"
    if not EARLIEST_DAY <= item.days_after_due <= LATEST_DAY:
        raise field_error(
            "days_after_due",
            f"{where}: between {EARLIEST_DAY} (before the due date) and {LATEST_DAY} days.",
        )
    if not SHORTEST_REPEAT <= item.repeat_every_days <= LONGEST_REPEAT:
        raise field_error(
            "repeat_every_days",
            f"{where}: repeat every {SHORTEST_REPEAT} to {LONGEST_REPEAT} days.",
        )
    if item.late_fee not in LateFee.values:
        raise field_error("late_fee", f"{where}: choose one of {', '.join(LateFee.values)}.")
    if item.late_fee == LateFee.NONE:
        return
    amount = item.late_fee_amount
    if not amount.is_finite() or amount <= 0:
        raise field_error("late_fee_amount", f"{where}: a late fee is above zero.")
    if item.late_fee == LateFee.PERCENT and amount > 100:
        raise field_error("late_fee_amount", f"{where}: at most 100 % of the open balance.")
    if item.late_fee == LateFee.FIXED and amount > LARGEST_FIXED_FEE:
        raise field_error("late_fee_amount", f"{where}: that late fee is too large.")
    if amount != amount.quantize(Decimal("0.0001")):
        raise field_error("late_fee_amount", f"{where}: at most four decimals.")
    if not item.late_fee_taxed and not organization.registration_number:
        raise field_error(
            "late_fee_taxed",
            f"{where}: an untaxed late fee goes on a document not subject to VAT, which must "
            "show your registration number instead of VAT IDs (BT-30, BR-O-02). Add it to "
            "the organization's billing details, or charge the fee with VAT.",
        )


def _check_order(rows: Iterable[ReminderLevel]) -> None:
    """Active levels come in the order of their numbers, each on a later day."""
    active = sorted((r for r in rows if r.is_active), key=lambda r: r.level)
    for before, after in pairwise(active):
        if after.days_after_due <= before.days_after_due:
            raise field_error(
                "days_after_due",
                f"Level {after.level} must come after level {before.level}: give it more "
                f"than {before.days_after_due} days.",
            )


def save_template(
    organization: Organization,
    *,
    by: Membership,
    level: int,
    language: str,
    subject: str,
    body: str,
) -> ReminderTemplate:
    """The organization's own wording of one level in one language."""
    require_biller(by, organization)
    if level not in DEFAULT_LEVELS:
        raise field_error("level", "Levels are 1 to 4.")
    if language not in text.LANGUAGES:
        raise field_error("language", f"Write in one of {', '.join(text.LANGUAGES)}.")
    subject, body = subject.strip(), body.strip()
    if not subject or "\n" in subject or "\r" in subject:
        raise field_error("subject", "The subject is a single, non-empty line.")
    if len(subject) > text.LONGEST_SUBJECT:
        raise field_error("subject", f"At most {text.LONGEST_SUBJECT} characters.")
    if not body:
        raise field_error("body", "Write the reminder's text.")
    text.check_wording(subject, "subject")
    text.check_wording(body, "body")
    with transaction.atomic():
        template, _ = ReminderTemplate.objects.update_or_create(
            organization=organization,
            level=level,
            language=language,
            defaults={"subject": subject, "body": body},
        )
    return template


def reset_template(
    organization: Organization, *, by: Membership, level: int, language: str
) -> None:
    require_biller(by, organization)
    ReminderTemplate.objects.filter(
        organization=organization, level=level, language=language
    ).delete()
