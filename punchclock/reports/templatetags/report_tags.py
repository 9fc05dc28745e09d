"""Small filters for report tables."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from punchclock.projects.templatetags.money import _locale
from punchclock.reports.timereport import hours as to_hours

register = template.Library()


@register.filter
def lookup(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.filter
def hours(seconds: int | None) -> str:
    """Seconds as decimal hours with two places: 7.50."""
    return f"{to_hours(seconds or 0):,}"


@register.simple_tag
def choices(pairs: list[tuple[Any, str]], selected: Any) -> str:
    """A select's options from (value, label) pairs, `selected` (a collection of values)
    marked: hundreds of projects are written here rather than in a template loop."""
    chosen = set(selected or ())
    return mark_safe(  # every value and label is escaped
        "".join(
            f'<option value="{escape(value)}"{" selected" if value in chosen else ""}>'
            f"{escape(label)}</option>"
            for value, label in pairs
        )
    )


@register.filter
def share(part: int | None, whole: int | None) -> int:
    """Part of whole in percent (0–100), for the bar behind a row's hours."""
    return round(100 * (part or 0) / whole) if whole else 0


@register.filter
def palette(index: int) -> str:
    """The chart colour of series number `index`, for legends drawn in HTML."""
    from punchclock.reports.charts import PALETTE

    return PALETTE[int(index) % len(PALETTE)]


@register.filter
def runs_out(row: Any, today: Any) -> Any:
    """The day a budget row runs out at its pace (budgets.BudgetRow.runs_out)."""
    return row.runs_out(today)


@register.filter
def age_on(row: Any, today: Any) -> Any:
    """Days since an unbilled row's oldest item (unbilled.UnbilledRow.age)."""
    return row.age(today)


@register.simple_tag(takes_context=True)
def report_rows(
    context: template.Context,
    rows: list[dict[str, Any]],
    report: Any,
    currencies: list[str],
    cost_currencies: list[str],
) -> str:
    """The time report's table body, written here instead of in template loops: a year's
    report has hundreds of rows of eight cells, and the template language spent more on
    them than the report did on its figures. Amount and cost columns only where the
    report shows them to its viewer. Every text is escaped."""
    from punchclock.core.money import Money

    locale = _locale(context)
    dash = '<span class="muted">–</span>'

    def money(amount: Any, currency: str) -> str:
        return dash if amount is None else escape(Money(amount, currency).format(locale))

    total_seconds = report.total.seconds
    currencies = currencies if report.shows_amounts else []
    cost_currencies = cost_currencies if report.shows_cost else []
    out = []
    for row in rows:
        group, level = row["group"], row["level"]
        f = group.figures
        if level:
            name = f'<span class="indent" aria-hidden="true">↳</span>{escape(group.label)}'
        else:
            share_of = round(100 * f.seconds / total_seconds) if total_seconds else 0
            name = (
                f"{escape(group.label)}\n"
                f'<span class="share" style="--share: {share_of}%" aria-hidden="true"></span>'
            )
        cells = [
            f'<tr class="level-{level}">',
            f"<td>{name}</td>",
            f'<td class="num">{hours(f.seconds)}</td>',
            f'<td class="num">{hours(f.billable_seconds)}</td>',
            f'<td class="num">{hours(f.billed_seconds)}</td>',
        ]
        for c in currencies:
            cells.append(f'<td class="num">{money(f.amounts.get(c), c)}</td>')
        for c in cost_currencies:
            cells.append(f'<td class="num">{money(f.cost.get(c), c)}</td>')
        cells.append(f'<td class="num"><a href="{escape(row["href"])}">Entries</a></td></tr>')
        out.append("".join(cells))
    # Every piece above is escaped or our own markup.
    return mark_safe("\n".join(out))


@register.simple_tag(takes_context=True)
def unbilled_rows(context: template.Context, client: Any, today: Any, draft_url: str) -> str:
    """One client's rows on the Unbilled work page, written here for the reason report_rows
    is: two hundred projects of eight cells and a draft form each cost the template
    language more than the report's own figures. Every text is escaped."""
    from django.urls import reverse
    from django.utils.dateformat import format as date_format
    from django.utils.formats import localize

    from punchclock.core.money import Money

    locale = _locale(context)
    dash = '<span class="muted">–</span>'
    token = escape(context.get("csrf_token") or "")
    action = escape(draft_url)
    end = today.isoformat()

    def amounts(values: dict[str, Any], suffix: str = "") -> str:
        return "".join(
            f"{escape(Money(a, c).format(locale))}{suffix}<br>" for c, a in values.items()
        )

    # One reverse() and one formatting per day, not one per row: rows share both.
    marker = 987654321
    project_url = escape(reverse("projects:detail", args=[marker]))
    days: dict[Any, str] = {}
    out = []
    for row in client.rows:
        label: str = escape(row.label)
        if row.project_id:
            href = project_url.replace(str(marker), str(int(row.project_id)))
            label = f'<a href="{href}">{label}</a>'
        time = amounts(row.amounts) or (
            '<span class="muted" title="No rate, or a fixed fee">–</span>'
            if row.billable_seconds
            else dash
        )
        count = f' <span class="muted">({row.expense_count})</span>'
        spent = amounts(row.expenses, count) or dash
        oldest = ""
        if row.oldest:
            oldest = days.get(row.oldest) or days.setdefault(
                row.oldest, date_format(row.oldest, "j M Y")
            )
        start = row.oldest.isoformat() if row.oldest else ""
        age = row.age(today)
        draft = ""
        if row.project_id:
            draft = (
                f'<form method="post" action="{action}" class="draft-now">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                f'<input type="hidden" name="client" value="{client.client_id}">'
                f'<input type="hidden" name="project" value="{row.project_id}">'
                f'<input type="hidden" name="period_start" value="{start}">'
                f'<input type="hidden" name="period_end" value="{end}">'
                '<input type="hidden" name="group_by" value="project">'
                '<button class="btn btn-small">Draft</button></form>'
            )
        out.append(
            f"<tr><td>{label}</td>"
            f'<td class="num">{hours(row.billable_seconds)}</td>'
            f'<td class="num">{localize(row.billed_hours)}</td>'
            f'<td class="num">{time}</td>'
            f'<td class="num">{spent}</td>'
            f"<td>{oldest}</td>"
            f'<td class="num">{"" if age is None else f"{age} d"}</td>'
            f"<td>{draft}</td></tr>"
        )
    # Every piece above is escaped or our own markup.
    return mark_safe("\n".join(out))


@register.simple_tag
def utilisation_rows(report: Any, table: str) -> str:
    """The utilisation page's two table bodies ("people" or "projects"), written here for
    the reason report_rows is: each person's row with a line per project, and each
    project's with a line per person, came to thousands of template variables. Every
    text is escaped."""
    from django.utils.formats import localize

    indent = '<span class="indent" aria-hidden="true">↳</span>'
    out = []
    if table == "people":
        for p in report.people:
            if p.utilisation is None:
                meter = '<span class="muted">no capacity set</span>'
            else:
                fill = min(p.utilisation, 100)
                meter = (
                    '<span class="meter">'
                    f'<span class="meter-fill" style="--pct: {fill}%"></span></span>'
                    f"<span>{localize(p.utilisation)} %</span> "
                    f'<span class="muted">· load {localize(p.load)} %</span>'
                )
            out.append(
                f'<tr class="level-0"><td>{escape(p.name)} '
                f'<span class="muted">· {localize(p.weekly_capacity)} h/week</span></td>'
                f'<td class="num">{hours(p.seconds)}</td>'
                f'<td class="num">{hours(p.billable_seconds)}</td>'
                f'<td class="num">{localize(p.capacity_hours)}</td>'
                f'<td class="progress-cell">{meter}</td></tr>'
            )
            for s in p.projects:
                part = share(s.seconds, p.seconds)
                out.append(
                    f'<tr class="level-1"><td>{indent}{escape(s.label)}</td>'
                    f'<td class="num">{hours(s.seconds)}</td>'
                    f'<td class="num">{hours(s.billable_seconds)}</td><td></td>'
                    f'<td class="muted">{part} % of their hours<span class="share" '
                    f'style="--share: {part}%" aria-hidden="true"></span></td></tr>'
                )
    else:
        for pr in report.projects:
            out.append(
                f'<tr class="level-0"><td>{escape(pr.label)}</td>'
                f'<td class="num">{hours(pr.seconds)}</td>'
                f'<td class="num">{hours(pr.billable_seconds)}</td><td></td></tr>'
            )
            for s in pr.people:
                out.append(
                    f'<tr class="level-1"><td>{indent}{escape(s.label)}</td>'
                    f'<td class="num">{hours(s.seconds)}</td>'
                    f'<td class="num">{hours(s.billable_seconds)}</td>'
                    f'<td class="num">{share(s.seconds, pr.seconds)} %</td></tr>'
                )
    # Every piece above is escaped or our own markup.
    return mark_safe("\n".join(out))
