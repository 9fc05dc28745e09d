"""CSV export, the report pages, drill-down and the API, as people and scripts use them."""

from __future__ import annotations

import csv
import io
import os
import time

import pytest
from django.test import Client as HttpClient

from punchclock.accounts.services import create_api_token
from punchclock.reports.export import safe_cell, write_csv
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from tests.conftest import login
from tests.reports.conftest import ZONE

PERIOD = "from=2026-10-01&to=2026-11-30"


def test_cells_that_spreadsheets_would_run_get_an_apostrophe():
    for text in ("=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("Acme = good") == "Acme = good"
    assert safe_cell(12) == "12"
    body = write_csv(["Name"], [["=HYPERLINK(1)"]], bom=False)
    assert body.splitlines()[1] == "'=HYPERLINK(1)"


def test_csv_has_a_bom_plain_decimals_and_neutralised_labels(world):
    http = login(world.agency.owner)
    response = http.get(f"/reports/time/export.csv?{PERIOD}&by=tag&then=project")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = response.content.decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    assert rows[0][:5] == ["Tag", "Project", "Hours", "Billable hours", "Billed hours"]
    assert "Amount EUR" in rows[0]
    assert "Cost EUR" in rows[0]
    labels = {r[0] for r in rows[1:]}
    assert "'=cmd" in labels
    assert "=cmd" not in labels
    total = rows[-1]
    assert total[0] == "Total"
    report = time_report(
        world.agency.owner,
        TimeFilter(start=world.start, end=world.end),
        by=("tag", "project"),
        zone=ZONE,
    )
    amount = total[rows[0].index("Amount EUR")]
    assert amount == str(report.total.amounts["EUR"])  # 1234.50: dot, two places, no grouping
    assert "," not in amount
    assert len(amount.split(".")[1]) == 2
    plain = http.get(f"/reports/time/export.csv?{PERIOD}&bom=0").content.decode()
    assert not plain.startswith("\ufeff")


def test_csv_of_a_member_has_no_money_columns(world):
    raw = login(world.agency.member).get(f"/reports/time/export.csv?{PERIOD}").content.decode()
    header = raw.lstrip("\ufeff").splitlines()[0]
    assert "Amount" not in header
    assert "Cost" not in header


def test_the_page_shows_groups_chart_totals_and_refuses_bad_input_politely(world):
    http = login(world.agency.owner)
    page = http.get(f"/reports/time/?{PERIOD}&by=client&then=person")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "Hours by client per week" in html
    assert "Globex" in html
    assert "Max Member" in html
    fragment = http.get(f"/reports/time/?{PERIOD}&by=week", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    bad = http.get("/reports/time/?by=planet&from=2026-13-01")
    assert bad.status_code == 400
    assert "is not" in bad.content.decode()
    assert login(world.agency.member).get(f"/reports/time/?{PERIOD}").status_code == 200
    assert http.get("/reports/").status_code == 200


def test_drill_down_lists_the_groups_entries_a_page_at_a_time(world):
    a = world.agency
    http = login(a.owner)
    url = f"/reports/time/entries/?{PERIOD}&drill=project:{a.other_project.pk},person:{a.member.pk}"
    page = http.get(url)
    assert page.status_code == 200
    expected = [
        e
        for e in world.entries
        if world.start <= e.start < world.end
        and e.project_id == a.other_project.pk
        and e.membership_id == a.member.pk
    ]
    assert expected
    assert page.context["count"] == len(expected)
    assert {e.pk for e in page.context["entries"]} == {e.pk for e in expected}
    none_tag = http.get(f"/reports/time/entries/?{PERIOD}&drill=tag:none").context
    untagged = [
        e for e in world.entries if world.start <= e.start < world.end and not e.tags.exists()
    ]
    assert none_tag["count"] == len(untagged)
    week = http.get(f"/reports/time/entries/?{PERIOD}&drill=week:2026-10-26").context
    assert week["count"] == sum(
        1 for e in world.entries if "2026-10-25T23" <= e.start.isoformat() < "2026-11-01T23"
    )
    for junk in ("project:x", "planet:1", "day:2026-02-31", "task:1"):
        assert http.get(f"/reports/time/entries/?drill={junk}").status_code == 400, junk
    # A member drilling into the manager's time sees none of it.
    member = login(a.member).get(f"/reports/time/entries/?{PERIOD}&drill=person:{a.manager.pk}")
    assert member.context["count"] == 0


def test_an_outsider_asking_for_agency_ids_gets_nothing(world, outsider):
    a = world.agency
    http = login(outsider)
    page = http.get(f"/reports/time/?{PERIOD}&project={a.project.pk}&by=person")
    assert page.status_code == 200
    assert "Max Member" not in page.content.decode()
    drill = http.get(f"/reports/time/entries/?{PERIOD}&drill=project:{a.project.pk}")
    assert drill.context["count"] == 0
    csv_body = http.get(f"/reports/time/export.csv?{PERIOD}&by=person").content.decode()
    assert "Max Member" not in csv_body


class Api:
    def __init__(self, membership):
        _, raw = create_api_token(membership=membership, name="test", scope="read")
        self.client = HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def get(self, path, **query):
        return self.client.get(f"/api/v1{path}", query)


def test_api_answers_json_with_two_groupings_and_csv_on_request(world):
    api = Api(world.agency.owner)
    window = {"from": "2026-10-01", "to": "2026-11-30"}
    data = api.get("/reports/time", period="custom", by="project,month", **window).json()
    assert data["by"] == "project,month"
    assert data["first_day"] == "2026-10-01"
    assert data["zone"] == ZONE
    assert all(row["children"] for row in data["rows"])
    assert sum(r["seconds"] for r in data["rows"]) == data["total"]["seconds"]
    as_csv = api.get("/reports/time", format="csv", by="person")
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    accept = api.client.get("/api/v1/reports/time?by=person", HTTP_ACCEPT="text/csv")
    assert accept["Content-Type"].startswith("text/csv")
    for params in (
        {"by": "planet"},
        {"period": "custom", "from": "2026-02-30"},
        {"format": "xml"},
        {"billable": "maybe"},
    ):
        response = api.get("/reports/time", **params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] in {"by", "from", "format", "billable"}


@pytest.fixture
def server_tz():
    original = os.environ.get("TZ")

    def switch(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield switch
    if original is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = original
    time.tzset()


def test_reports_are_identical_whatever_the_servers_tz(world, server_tz):
    window = TimeFilter(start=world.start, end=world.end)
    results = []
    for zone in ("UTC", "Pacific/Kiritimati", "America/St_Johns", "Europe/Berlin"):
        server_tz(zone)
        report = time_report(world.agency.owner, window, by=("month", "day"), zone=ZONE)
        results.append(
            [
                (g.key, c.key, c.figures.seconds, c.figures.billed_seconds, c.figures.amounts)
                for g in report.groups
                for c in g.children
            ]
        )
    assert results[0]
    assert all(r == results[0] for r in results)


def test_the_tables_rows_carry_each_groups_figures_escaped(world):
    """The table body is written in Python (report_tags.report_rows): every row's label,
    hours, amounts and cost as the report has them, names escaped, no money for members."""
    import re
    from decimal import Decimal

    from punchclock.core.money import Money

    a = world.agency
    a.client.name = '<b>Acme & "Co"</b>'
    a.client.save()
    page = login(a.owner).get(f"/reports/time/?{PERIOD}&by=client&then=person")
    html = page.content.decode()
    assert "<b>Acme" not in html
    assert "&lt;b&gt;Acme &amp; &quot;Co&quot;&lt;/b&gt;" in html
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    rows = re.findall(r'<tr class="level-(\d)">(.*?)</tr>', body, re.S)
    context_rows = page.context["rows"]
    assert len(rows) == len(context_rows) > 2
    currencies = page.context["currencies"]
    cost_currencies = page.context["cost_currencies"]
    assert currencies
    assert cost_currencies
    for (level, cells), row in zip(rows, context_rows, strict=True):
        f = row["group"].figures
        tds = re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        assert int(level) == row["level"]
        assert tds[1:4] == [
            f"{Decimal(n) / 3600:,.2f}" for n in (f.seconds, f.billable_seconds, f.billed_seconds)
        ]
        money = tds[4 : 4 + len(currencies) + len(cost_currencies)]
        expected = [f.amounts.get(c) for c in currencies] + [f.cost.get(c) for c in cost_currencies]
        for shown, amount, currency in zip(
            money, expected, currencies + cost_currencies, strict=True
        ):
            if amount is None:
                assert "–" in shown
            else:
                assert shown == Money(amount, currency).format("en")
        assert 'href="/reports/time/entries/?' in tds[-1]
    member = login(a.member).get(f"/reports/time/?{PERIOD}&by=project").content.decode()
    member_body = member[member.index("<tbody>") : member.index("</tbody>")]
    assert "€" not in member_body


def test_the_filters_offer_what_the_viewer_may_see_escaped_with_the_choice_kept(world):
    """The filter selects are written from (id, label) pairs (report_tags.choices): the
    owner is offered every client, project, person and tag, the chosen ones selected; a
    member only their own projects and no client or person filter; names are escaped."""
    import re

    from punchclock.accounts.models import Membership
    from punchclock.projects.models import Project

    a = world.agency
    a.other_project.name = '<i>Web & "Shop"</i>'
    a.other_project.save()

    def offered(html: str, name: str) -> dict[str, tuple[str, bool]]:
        select = re.search(rf'<select id="f-{name}" name="{name}">(.*?)</select>', html, re.S)
        if select is None:
            return {}
        options = re.findall(r'<option value="([^"]*)"( selected)?>(.*?)</option>', select[1])
        return {value: (label, bool(chosen)) for value, chosen, label in options if value}

    query = f"{PERIOD}&by=project&project={a.other_project.pk}&person={a.member.pk}"
    html = login(a.owner).get(f"/reports/time/?{query}").content.decode()
    assert "<i>Web" not in html
    projects = offered(html, "project")
    everything = Project.objects.filter(organization=a.organization)
    assert set(projects) == {str(p.pk) for p in everything}
    assert projects[str(a.other_project.pk)] == (
        "globex/web · &lt;i&gt;Web &amp; &quot;Shop&quot;&lt;/i&gt;",
        True,
    )
    assert projects[str(a.project.pk)] == ("globex/api · API", False)
    people = offered(html, "person")
    assert set(people) == {
        str(pk)
        for pk in Membership.objects.filter(organization=a.organization).values_list("pk")
        for pk in pk
    }
    assert people[str(a.member.pk)] == ("Max Member", True)
    assert offered(html, "client") == {str(a.client.pk): ("Globex", False)}
    assert set(offered(html, "tag")) == {str(t.pk) for t in world.tags.values()}
    from tests.factories import make_project

    make_project(a.client, "Elsewhere", code="else")  # the member is not on it
    member = login(a.member).get(f"/reports/time/?{PERIOD}&by=project").content.decode()
    assert set(offered(member, "project")) == {str(a.project.pk), str(a.other_project.pk)}
    assert (
        len(offered(login(a.owner).get(f"/reports/time/?{PERIOD}").content.decode(), "project"))
        == 3
    )
    assert offered(member, "client") == {}
    assert offered(member, "person") == {}
    with_task = login(a.owner).get(f"/reports/time/?{PERIOD}&by=task&project={a.project.pk}")
    assert offered(with_task.content.decode(), "task")[str(a.task.pk)] == ("Development", False)


def test_a_long_table_shows_its_first_rows_and_all_of_them_a_click_away(world, monkeypatch):
    """Past MAX_ROWS the table stops with a link to every row (?rows=all); past ALL_ROWS
    the link gives way to the exports, and the totals always count every row."""
    import re

    from punchclock.reports import views

    a = world.agency
    url = f"/reports/time/?{PERIOD}&by=day&then=project"

    def table(query: str = "") -> tuple[int, str]:
        html = login(a.owner).get(url + query).content.decode()
        body = html[html.index("<tbody>") : html.index("</tbody>")]
        return len(re.findall(r"<tr class=", body)), html

    everything, html = table()
    assert everything > 6
    assert "show all" not in html
    monkeypatch.setattr(views, "MAX_ROWS", 5)
    first, html = table()
    assert first == 5
    assert f"show all {everything} rows" in html
    link = re.search(r'<a href="\?([^"]*)">show all', html)[1]
    assert link.endswith("&amp;rows=all")
    assert link.count("rows=") == 1
    shown, html = table("&rows=all")
    assert shown == everything
    assert "more are" not in html
    drills = re.findall(r'href="(/reports/time/entries/\?[^"]*)"', html)
    assert len(drills) == everything
    assert not [d for d in drills if "rows=" in d]
    monkeypatch.setattr(views, "ALL_ROWS", everything - 1)
    capped, html = table("&rows=all")
    assert capped == everything - 1
    assert "show all" not in html
    assert "1 more are in the" in html
    monkeypatch.setattr(views, "ALL_ROWS", 100_000)
    real = views._rows
    monkeypatch.setattr(views, "_rows", lambda report, url: (real(report, url) * 12_345)[:12_345])
    html = login(a.owner).get(url).content.decode()
    assert "first 5 rows; 12,340 more are a click away: " in html
    assert "show all 12,345 rows</a>" in html
