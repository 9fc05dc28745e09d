"""The unbilled work page and its CSV and XLSX exports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from punchclock.accounts.decorators import member_required
from punchclock.core.timeutil import local_date, now
from punchclock.reports import sheets
from punchclock.reports.export import FileFormat
from punchclock.reports.unbilled import unbilled_report
from punchclock.reports.views_more import _export, _viewer, _zone


@member_required
@require_GET
def unbilled_page(request: HttpRequest) -> HttpResponse:
    zone = _zone(request)
    report = unbilled_report(_viewer(request), today=local_date(now(), zone), zone=zone)
    return render(request, "reports/unbilled.html", {"report": report})


@member_required
@require_GET
def unbilled_export(request: HttpRequest, file_format: FileFormat) -> HttpResponse:
    zone = _zone(request)
    report = unbilled_report(_viewer(request), today=local_date(now(), zone), zone=zone)
    return _export(request, sheets.unbilled_table(report), file_format, f"unbilled-{report.today}")
