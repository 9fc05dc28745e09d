"""Pages and CSV/XLSX exports of the budget, revenue, tax, utilisation and profitability reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.core.htmx import is_htmx
from punchclock.core.timeutil import local_date, now
from punchclock.reports import charts, sheets
from punchclock.reports.budgets import budget_report
from punchclock.reports.export import FileFormat, Table, export_response
from punchclock.reports.params import CHOICE_PERIODS, FieldError, parse_request
from punchclock.reports.query import TimeFilter
from punchclock.reports.revenue import RevenueForbidden, revenue_report, tax_report
from punchclock.reports.utilisation import utilisation_report
from punchclock.reports.views import PERIOD_LABELS

EARLIEST = date(1970, 1, 1)


@dataclass
class Period:
    name: str
    first: date | None
    last: date | None
    where: TimeFilter
    today: date

    @property
    def days(self) -> tuple[date, date]:
        """First and last day, open ends closed at 1970 and today."""
        return self.first or EARLIEST, self.last or self.today


def read_period(
    viewer: Membership, source: Mapping[str, Any], *, zone: str, default: str
) -> tuple[Period, FieldError | None]:
    """The period a query asks for (cut in the viewer's zone), or the default with the error."""
    only = {k: source.get(k) for k in ("period", "from", "to") if source.get(k)}
    only.setdefault("period", default if not (only.get("from") or only.get("to")) else "custom")
    error = None
    try:
        ask = parse_request(viewer, only, zone=zone)
    except FieldError as exc:
        error = exc
        ask = parse_request(viewer, {"period": default}, zone=zone)
    today = local_date(now(), zone)
    return Period(ask.period, ask.first, ask.last, ask.where, today), error


def _viewer(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _zone(request: HttpRequest) -> str:
    return str(request.user.timezone)  # type: ignore[union-attr]


def _export(request: HttpRequest, table: Table, file_format: FileFormat, name: str) -> HttpResponse:
    return export_response(table, file_format, name, bom=request.GET.get("bom", "1") != "0")


def _bad(error: FieldError) -> HttpResponse:
    return HttpResponse(f"{error.field}: {error}", status=400, content_type="text/plain")


def _periods() -> list[tuple[str, str]]:
    return [(p, PERIOD_LABELS[p]) for p in CHOICE_PERIODS]


def _month_label(day: date) -> str:
    return day.strftime("%b %y")


# Dashboard -------------------------------------------------------------------------------


@member_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """The whole dashboard; to htmx (the home page's loader) only the cards."""
    from punchclock.reports.dashboard import dashboard, week_chart

    board = dashboard(_viewer(request), zone=_zone(request))
    board.chart = week_chart(board)
    if is_htmx(request):
        return render(request, "reports/_dashboard_cards.html", {"board": board})
    return render(request, "reports/dashboard.html", {"board": board})


# Budgets ---------------------------------------------------------------------------------


def _budget_chart(report: Any) -> Any:
    """Burn of each budget as a share of it, month by month (the top eight by use)."""
    if not report.rows:
        return None
    series = [
        charts.Series(
            f"{row.project.full_code}",
            [value * 100 / row.budget for value in row.burn],
        )
        for row in report.rows[:8]
    ]
    limit = charts.Series("Budget", [100.0] * len(report.months), "#dc2626")
    return charts.lines(
        [_month_label(m) for m in report.months],
        [*series, limit],
        title="Budget used over the last twelve months, in percent",
        unit="%",
    )


@member_required
@require_GET
def budgets_page(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    zone = _zone(request)
    report = budget_report(viewer, today=local_date(now(), zone), zone=zone)
    return render(
        request,
        "reports/budgets.html",
        {"report": report, "chart": _budget_chart(report), "legend": report.rows[:8]},
    )


@member_required
@require_GET
def budgets_export(request: HttpRequest, file_format: FileFormat) -> HttpResponse:
    viewer = _viewer(request)
    zone = _zone(request)
    report = budget_report(viewer, today=local_date(now(), zone), zone=zone)
    return _export(request, sheets.budgets_table(report), file_format, f"budgets-{report.today}")


# Revenue and tax -------------------------------------------------------------------------


def _money_report(
    request: HttpRequest, default: str, build: Callable[..., Any]
) -> tuple[Period, FieldError | None, Any]:
    viewer = _viewer(request)
    period, error = read_period(viewer, request.GET, zone=_zone(request), default=default)
    first, last = period.days
    try:
        report = build(viewer, first=first, last=last)
    except RevenueForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    return period, error, report


def _months_between(first: date, last: date) -> list[date]:
    """The first day of every month from first's to last's."""
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def _revenue_chart(report: Any, *, today: date) -> Any:
    if not report.months:
        return None
    # Every month of the period up to this one, quiet months at zero: the report's rows skip
    # them, and a line drawn straight from August to October hid September's nothing.
    found = {m.month: m for m in report.months}
    last = max(min(report.last, today), report.months[-1].month)
    months = _months_between(report.first, last)
    net = [found[m].net if m in found else Decimal(0) for m in months]
    received = [found[m].received if m in found else Decimal(0) for m in months]
    categories = [_month_label(m) for m in months]
    series = [
        charts.Series(f"Invoiced (net, {report.home})", net),
        charts.Series(f"Received ({report.home})", received),
    ]
    return charts.lines(
        categories, series, title=f"Invoiced and received per month in {report.home}", unit=""
    )


@member_required
@require_GET
def revenue_page(request: HttpRequest) -> HttpResponse:
    period, error, report = _money_report(request, "year", revenue_report)
    context = {
        "period": period,
        "error": error,
        "report": report,
        "periods": _periods(),
        "chart": _revenue_chart(report, today=local_date(now(), _zone(request))),
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/revenue.html", context, status=400 if error else 200)


@member_required
@require_GET
def revenue_export(request: HttpRequest, file_format: FileFormat) -> HttpResponse:
    _period, error, report = _money_report(request, "year", revenue_report)
    if error:
        return _bad(error)
    name = f"revenue-{report.first}-{report.last}"
    return _export(request, sheets.revenue_table(report), file_format, name)


@member_required
@require_GET
def tax_page(request: HttpRequest) -> HttpResponse:
    period, error, report = _money_report(request, "last-month", tax_report)
    context = {
        "period": period,
        "error": error,
        "report": report,
        "periods": _periods(),
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/tax.html", context, status=400 if error else 200)


@member_required
@require_GET
def tax_export(request: HttpRequest, file_format: FileFormat) -> HttpResponse:
    _period, error, report = _money_report(request, "last-month", tax_report)
    if error:
        return _bad(error)
    name = f"tax-{report.first}-{report.last}"
    return _export(request, sheets.tax_table(report), file_format, name)


# Utilisation -----------------------------------------------------------------------------


def _utilisation(request: HttpRequest) -> tuple[Period, FieldError | None, Any]:
    viewer = _viewer(request)
    zone = _zone(request)
    period, error = read_period(viewer, request.GET, zone=zone, default="month")
    return period, error, run_utilisation(viewer, period, zone)


def run_utilisation(viewer: Membership, period: Period, zone: str) -> Any:
    """The utilisation report of a period; all time starts at the first entry, not 1970."""
    first, last = period.days
    if period.first is None:  # all time: from the first entry
        from punchclock.reports.query import entry_range, scope_for

        span = entry_range(scope_for(viewer), period.where)
        first = local_date(span[0], zone) if span else period.today
    return utilisation_report(
        viewer, period.where, first=first, last=last, today=period.today, zone=zone
    )


def _utilisation_chart(report: Any) -> Any:
    people = [p for p in report.people if p.seconds][:16]
    if not people:
        return None
    found: dict[int, tuple[str, list[int]]] = {}
    for index, person in enumerate(people):
        for share in person.projects:
            _label, values = found.setdefault(share.key, (share.label, [0] * len(people)))
            values[index] = share.seconds
    series = charts.top_series([charts.Series(label, v) for label, v in found.values()])
    series = charts.in_hours(series)
    names = [p.name.split(" ")[0] for p in people]
    return charts.stacked_bars(names, series, title="Hours per person, split by project")


@member_required
@require_GET
def utilisation_page(request: HttpRequest) -> HttpResponse:
    period, error, report = _utilisation(request)
    context = {
        "period": period,
        "error": error,
        "report": report,
        "periods": _periods(),
        "chart": _utilisation_chart(report),
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/utilisation.html", context, status=400 if error else 200)


@member_required
@require_GET
def utilisation_export(request: HttpRequest, file_format: FileFormat) -> HttpResponse:
    _period, error, report = _utilisation(request)
    if error:
        return _bad(error)
    name = f"utilisation-{report.first}-{report.last}"
    return _export(request, sheets.utilisation_table(report), file_format, name)


# Profitability ---------------------------------------------------------------------------


def _profitability(request: HttpRequest) -> tuple[Period, FieldError | None, Any]:
    from punchclock.reports.profitability import DIMENSIONS, profitability

    viewer = _viewer(request)
    zone = _zone(request)
    period, error = read_period(viewer, request.GET, zone=zone, default="year")
    by = request.GET.get("by") or "project"
    if by not in DIMENSIONS:
        error, by = FieldError("by", f"Use one of {', '.join(DIMENSIONS)}."), "project"
    first, last = period.days
    report = profitability(viewer, period.where, by=by, first=first, last=last, zone=zone)
    return period, error, report


@member_required
@require_GET
def profitability_page(request: HttpRequest) -> HttpResponse:
    period, error, report = _profitability(request)
    context = {
        "period": period,
        "error": error,
        "report": report,
        "periods": _periods(),
        "query": request.GET.urlencode(),
        "dimensions": ("project", "client", "person"),
    }
    return render(request, "reports/profitability.html", context, status=400 if error else 200)


@member_required
@require_GET
def profitability_export(request: HttpRequest, file_format: FileFormat) -> HttpResponse:
    _period, error, report = _profitability(request)
    if error:
        return _bad(error)
    name = f"profitability-{report.by}-{report.first}-{report.last}"
    return _export(request, sheets.profitability_table(report), file_format, name)
