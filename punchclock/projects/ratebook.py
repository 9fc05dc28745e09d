"""Rates of an organization held in memory, for pricing many groups of work at once."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from punchclock.accounts.models import Membership, Organization
from punchclock.core.money import Money
from punchclock.core.timeutil import local_date
from punchclock.projects.models import Project, Rate, RateKind, RateScope, Task

# Resolution order, most specific first (docs/decisions/0002-rates.md).
BILL_ORDER = [
    RateScope.TASK,
    RateScope.PROJECT_MEMBER,
    RateScope.PROJECT,
    RateScope.CLIENT,
    RateScope.MEMBER,
    RateScope.ORGANIZATION,
]


def candidate_keys(
    membership: Membership, project: Project, task: Task | None
) -> dict[str, str | None]:
    """The scope keys that could price this person's hour on this project and task."""
    return keys_for_ids(
        membership_id=membership.pk,
        project_id=project.pk,
        client_id=project.client_id,
        currency=project.client.currency,
        task_id=task.pk if task else None,
    )


def keys_for_ids(
    *, membership_id: int, project_id: int, client_id: int, currency: str, task_id: int | None
) -> dict[str, str | None]:
    """candidate_keys from ids alone, for callers that price thousands of groups."""
    return {
        RateScope.TASK: Rate.key_for(RateScope.TASK, task_id=task_id) if task_id else None,
        RateScope.PROJECT_MEMBER: Rate.key_for(
            RateScope.PROJECT_MEMBER, project_id=project_id, membership_id=membership_id
        ),
        RateScope.PROJECT: Rate.key_for(RateScope.PROJECT, project_id=project_id),
        RateScope.CLIENT: Rate.key_for(RateScope.CLIENT, client_id=client_id),
        RateScope.MEMBER: f"member:{membership_id}:{currency}",
        RateScope.ORGANIZATION: f"organization:{currency}",
    }


def cost_key(membership: Membership) -> str:
    return Rate.key_for(RateScope.MEMBER, membership_id=membership.pk)


class BookRate(NamedTuple):
    """What a lookup needs of a Rate: a report loads every rate of the organization, and
    plain tuples load in a fraction of the time of model instances."""

    kind: str
    scope_key: str
    effective_from: date
    amount: Decimal
    currency: str


class RateBook:
    """Every rate history of an organization (or of some scope keys), looked up by date."""

    def __init__(self, organization: Organization, rates: list[BookRate]) -> None:
        self.zone = organization.timezone
        self._dates: dict[tuple[str, str], list[date]] = defaultdict(list)
        self._rates: dict[tuple[str, str], list[BookRate]] = defaultdict(list)
        self._index: dict[tuple[object, ...], str] | None = None
        for rate in sorted(rates, key=lambda r: r.effective_from):
            self._dates[(rate.kind, rate.scope_key)].append(rate.effective_from)
            self._rates[(rate.kind, rate.scope_key)].append(rate)

    @classmethod
    def load(cls, organization: Organization, keys: list[str] | None = None) -> RateBook:
        if keys is not None:
            rates = Rate.objects.filter(organization=organization, scope_key__in=keys)
            fields = rates.values_list("kind", "scope_key", "effective_from", "amount", "currency")
            return cls(organization, [BookRate(*row) for row in fields])
        return cls(organization, _every_rate(organization.pk))

    def change_days(self) -> set[date]:
        """Every day on which some rate of the book, of either kind, takes effect."""
        return {day for dates in self._dates.values() for day in dates}

    def rates(self, kind: str) -> list[BookRate]:
        """Every rate of one kind in the book."""
        return [rate for (k, _), found in self._rates.items() if k == kind for rate in found]

    def at(self, kind: str, key: str | None, day: date) -> BookRate | None:
        if key is None:
            return None
        dates = self._dates.get((kind, key))
        if not dates:
            return None
        index = bisect.bisect_right(dates, day)
        return self._rates[(kind, key)][index - 1] if index else None

    def bill(
        self, membership: Membership, project: Project, task: Task | None, at: datetime
    ) -> tuple[Money | None, str | None]:
        if not project.is_hourly:
            return None, None
        return self.bill_on(candidate_keys(membership, project, task), local_date(at, self.zone))

    def bill_chain(
        self,
        *,
        membership_id: int,
        project_id: int,
        client_id: int,
        currency: str,
        task_id: int | None,
    ) -> list[str]:
        """keys_for_ids in resolution order, keeping only keys that have any bill rate.

        A report prices thousands of (person, project, task) keys: this answers from an
        index of the book's own keys, so most lookups skip the four or five scopes that
        have no rate, and nothing formats a key that cannot match."""
        index = self._bill_index()
        found = []
        for key in (
            index.get((RateScope.TASK, task_id)) if task_id else None,
            index.get((RateScope.PROJECT_MEMBER, project_id, membership_id)),
            index.get((RateScope.PROJECT, project_id)),
            index.get((RateScope.CLIENT, client_id)),
            index.get((RateScope.MEMBER, membership_id, currency)),
            index.get((RateScope.ORGANIZATION, currency)),
        ):
            if key is not None:
                found.append(key)
        return found

    def _bill_index(self) -> dict[tuple[object, ...], str]:
        if self._index is None:
            self._index = {}
            for kind, key in self._dates:
                if kind != RateKind.BILL:
                    continue
                scope, _, rest = key.partition(":")
                parts = rest.split(":")
                target: tuple[object, ...]
                if scope in (RateScope.MEMBER, RateScope.ORGANIZATION):
                    # Bill defaults carry their currency last (projects.services.set_rate).
                    ids = [int(p) for p in parts[:-1]]
                    target = (scope, *ids, parts[-1])
                else:
                    target = (scope, *(int(p) for p in parts))
                self._index[target] = key
        return self._index

    def first_at(self, kind: str, keys: Sequence[str], day: date) -> BookRate | None:
        """The rate on `day` of the first key (of those from present()) that has one."""
        for key in keys:
            dates = self._dates[(kind, key)]
            index = bisect.bisect_right(dates, day)
            if index:
                return self._rates[(kind, key)][index - 1]
        return None

    def bill_on(self, keys: dict[str, str | None], day: date) -> tuple[Money | None, str | None]:
        """The most specific bill rate among candidate keys on a local day."""
        for scope in BILL_ORDER:
            found = self.at(RateKind.BILL, keys[scope], day)
            if found is not None:
                return Money(found.amount, found.currency), scope
        return None, None

    def cost(self, membership: Membership, at: datetime) -> Money | None:
        found = self.at(RateKind.COST, cost_key(membership), local_date(at, self.zone))
        return Money(found.amount, found.currency) if found else None


_RATE_PLACES = Decimal("0.0001")  # Rate.amount's decimal places


def _every_rate(organization_id: int) -> list[BookRate]:
    """Every rate of the organization as plain rows: a report prices with all of them, and
    the ORM's query building and per-value converters cost more than the read itself.
    SQLite stores a DecimalField as a number: its text (15 significant digits, as Django
    reads it) gives the exact Decimal, at Rate.amount's four places as the ORM gives it."""
    sqlite = connection.vendor == "sqlite"
    amount = "CAST(amount AS TEXT)" if sqlite else "amount"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kind, scope_key, effective_from, {amount}, currency "  # noqa: S608 - fixed
            "FROM projects_rate WHERE organization_id = %s",
            [organization_id],
        )
        rows = cursor.fetchall()
    if not sqlite:
        return [BookRate(*row) for row in rows]
    # (The connection reads a column declared "date" as a date already.)
    return [
        BookRate(kind, key, day, Decimal(text).quantize(_RATE_PLACES), currency)
        for kind, key, day, text, currency in rows
    ]
