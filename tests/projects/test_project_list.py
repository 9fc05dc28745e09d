"""The project list: visibility per role, filters, pagination, htmx fragment, query count."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from punchclock.projects.models import BillingMethod, ProjectStatus
from tests.conftest import login
from tests.factories import make_client, make_project

URL = reverse("projects:list")
HTMX = {"HX-Request": "true"}


def test_owner_sees_every_project(agency, as_owner):
    response = as_owner.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "globex/api" in html
    assert "globex/web" in html
    assert "New project" in html


def test_htmx_request_gets_only_the_results_fragment(agency, as_owner):
    html = as_owner.get(URL, headers=HTMX).content.decode()
    assert html.strip().startswith('<div id="project-results"')
    assert "<html" not in html


def test_member_sees_only_assigned_projects(agency, as_member):
    html = as_member.get(URL).content.decode()
    assert "globex/api" in html
    assert "globex/web" not in html
    assert "New project" not in html


def test_manager_sees_every_project(agency):
    html = login(agency.manager).get(URL).content.decode()
    assert "globex/api" in html
    assert "globex/web" in html


def test_search_matches_name_code_and_client(agency, as_owner):
    other = make_project(make_client(agency.organization, "Initech"), "Payroll", code="pay")
    assert other.name in as_owner.get(URL, {"q": "payroll"}).content.decode()
    by_client = as_owner.get(URL, {"q": "initech"}, headers=HTMX).content.decode()
    assert "Payroll" in by_client
    assert "globex/api" not in by_client


def test_client_filter(agency, as_owner):
    initech = make_client(agency.organization, "Initech")
    make_project(initech, "Payroll")
    html = as_owner.get(URL, {"client": initech.pk}, headers=HTMX).content.decode()
    assert "Payroll" in html
    assert "globex/api" not in html


def test_status_filter_hides_archived_by_default(agency, as_owner):
    make_project(agency.client, "Old site", status=ProjectStatus.ARCHIVED)
    assert "Old site" not in as_owner.get(URL).content.decode()
    archived = as_owner.get(URL, {"status": "archived"}, headers=HTMX).content.decode()
    assert "Old site" in archived
    assert "globex/api" not in archived
    assert "Old site" in as_owner.get(URL, {"status": "all"}).content.decode()


def test_billing_method_filter(agency, as_owner):
    make_project(agency.client, "Audit", billing_method=BillingMethod.FIXED_FEE, fixed_fee=1000)
    html = as_owner.get(URL, {"billing_method": "fixed_fee"}, headers=HTMX).content.decode()
    assert "Audit" in html
    assert "globex/api" not in html
    assert "€1,000.00" in html


def test_budgets_are_shown_in_hours_or_money(agency, as_owner):
    make_project(agency.client, "Hours", budget_kind="hours", budget_hours="120.50")
    make_project(agency.client, "Money", budget_kind="money", budget_amount="5000")
    html = as_owner.get(URL).content.decode()
    assert "120.50 h" in html
    assert "€5,000.00" in html


def test_members_do_not_see_money_budgets(agency, as_member):
    agency.project.budget_kind, agency.project.budget_amount = "money", 5000
    agency.project.save()
    assert "5,000" not in as_member.get(URL).content.decode()


def test_garbage_filters_are_ignored(agency, as_owner):
    response = as_owner.get(URL, {"client": "abc", "status": "nope", "page": "-1"})
    assert response.status_code == 200
    assert "globex/api" in response.content.decode()


def test_pagination(agency, as_owner):
    for n in range(30):
        make_project(agency.client, f"P{n:02d}")
    first = as_owner.get(URL)
    second = as_owner.get(URL, {"page": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 7  # 30 + the two of the agency


def test_empty_filter_result_offers_to_clear(agency, as_owner):
    html = as_owner.get(URL, {"q": "nothing-like-this"}, headers=HTMX).content.decode()
    assert "No projects match these filters" in html


def test_query_count_does_not_grow_with_rows(agency, as_owner, django_assert_max_num_queries):
    make_project(make_client(agency.organization, "Small"), "One")
    with CaptureQueriesContext(connection) as few:
        as_owner.get(URL)
    for n in range(27):
        make_project(make_client(agency.organization, f"Client {n}"), f"P{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_owner.get(URL)
    assert len(response.context["page"].object_list) == 25
