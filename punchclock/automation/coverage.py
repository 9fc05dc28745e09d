"""Which time a retainer covers: only the retainer's closes bill it, nothing else offers it.

Kept apart from the retainer services so that invoicing can ask without importing them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q

from punchclock.automation.models import Retainer
from punchclock.clients.models import Client
from punchclock.core.timeutil import start_of_day
from punchclock.projects.models import HOURLY_METHODS


def covered_by(retainer: Retainer) -> Q:
    """Time entries (by their start, in the organization's days) this retainer draws down:
    billable work on the client's hourly projects, or on its one project, from its first
    day to its last; paused or not (pausing stops closes, not coverage)."""
    window = covered_window(retainer)
    q = Q(
        project__client_id=retainer.client_id,
        project__billing_method__in=HOURLY_METHODS,
        start__gte=window.start,
    )
    if window.end is not None:
        q &= Q(start__lt=window.end)
    if retainer.project_id is not None:
        q &= Q(project_id=retainer.project_id)
    return q


def covered_window(retainer: Retainer) -> Any:
    """The retainer's coverage as the reports' filter spells it (reports.query.Covered):
    from its first day's local midnight to the one after its last day."""
    from punchclock.reports.query import Covered

    zone = retainer.organization.timezone
    end = retainer.ends_on
    return Covered(
        client=retainer.client_id,
        start=start_of_day(retainer.starts_on, zone),
        end=start_of_day(end + timedelta(days=1), zone) if end is not None else None,
        project=retainer.project_id,
    )


def covered_windows(organization_id: int) -> tuple[Any, ...]:
    """Every retainer's coverage, the same time covered_by() selects."""
    retainers = Retainer.objects.filter(organization_id=organization_id).select_related(
        "organization"
    )
    return tuple(covered_window(retainer) for retainer in retainers.order_by("pk"))


def retainer_covered(client: Client) -> Q | None:
    """Entries of this client that its retainers cover; None when it has no retainer."""
    found = None
    for retainer in Retainer.objects.filter(client=client).select_related("organization"):
        q = covered_by(retainer)
        found = q if found is None else found | q
    return found
