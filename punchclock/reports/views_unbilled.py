"""The unbilled work page and its CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from punchclock.accounts.decorators import member_required
from punchclock.core.timeutil import local_date, now
from punchclock.reports import sheets
from punchclock.reports.unbilled import unbilled_report
from punchclock.reports.views_more import _csv, _viewer, _zone


@member_required
@require_GET
def unbilled_page(request: HttpRequest) -> HttpResponse:
    zone = _zone(request)
    report = unbilled_report(_viewer(request), today=local_date(now(), zone), zone=zone)
    return render(request, "reports/unbilled.html", {"report": report})


@member_required
@require_GET
def unbilled_csv_view(request: HttpRequest) -> HttpResponse:
    zone = _zone(request)
    report = unbilled_report(_viewer(request), today=local_date(now(), zone), zone=zone)
    bom = request.GET.get("bom", "1") != "0"
    return _csv(sheets.unbilled_csv(report, bom=bom), f"unbilled-{report.today}")
