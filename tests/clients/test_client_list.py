"""The client list: filters, pagination, the htmx fragment, and a flat query count."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from punchclock.clients.models import TaxTreatment
from tests.conftest import login
from tests.factories import make_client, make_organization, make_project

URL = reverse("clients:list")
HTMX = {"HX-Request": "true"}


def test_owner_sees_the_full_page(agency, as_owner):
    response = as_owner.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "Globex" in html
    assert 'id="client-results"' in html


def test_htmx_request_gets_only_the_results_fragment(agency, as_owner):
    response = as_owner.get(URL, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<div id="client-results"')
    assert "<html" not in html
    assert "Globex" in html


def test_search_matches_name_and_code(agency, as_owner):
    make_client(agency.organization, "Initech", code="ini")
    by_name = as_owner.get(URL, {"q": "initech"}, headers=HTMX).content.decode()
    by_code = as_owner.get(URL, {"q": "ini"}, headers=HTMX).content.decode()
    assert "Initech" in by_name
    assert "Globex" not in by_name
    assert "Initech" in by_code


def test_archived_clients_are_hidden_until_asked_for(agency, as_owner):
    make_client(agency.organization, "Old Corp", is_archived=True)
    assert "Old Corp" not in as_owner.get(URL).content.decode()
    shown = as_owner.get(URL, {"archived": "on"}).content.decode()
    assert "Old Corp" in shown
    assert "Archived" in shown


def test_currency_filter(agency, as_owner):
    make_client(agency.organization, "Yankee Inc", currency="USD", country="US")
    html = as_owner.get(URL, {"currency": "USD"}, headers=HTMX).content.decode()
    assert "Yankee Inc" in html
    assert "Globex" not in html


def test_an_unknown_filter_value_is_ignored_not_an_error(agency, as_owner):
    response = as_owner.get(URL, {"currency": "<script>", "page": "abc"})
    assert response.status_code == 200
    assert "Globex" in response.content.decode()


def test_active_projects_are_counted_per_client(agency, as_owner):
    make_project(agency.client, "Old", status="archived")
    html = as_owner.get(URL, headers=HTMX).content.decode()
    assert '<td class="num">2</td>' in html


def test_tax_treatment_is_shown_as_a_badge(agency, as_owner):
    make_client(agency.organization, "Rivière", tax_treatment=TaxTreatment.REVERSE_CHARGE)
    html = as_owner.get(URL).content.decode()
    assert "EU reverse charge</span>" in html


def test_pagination_shows_25_per_page(agency, as_owner):
    for n in range(30):
        make_client(agency.organization, f"Client {n:02d}")
    first = as_owner.get(URL).content.decode()
    second = as_owner.get(URL, {"page": 2}).content.decode()
    assert "Client 00" in first
    assert "Client 29" not in first
    assert "Client 29" in second
    assert "Client 00" not in second
    assert "Page 2 of 2" in second


def test_pagination_links_keep_the_filters(agency, as_owner):
    for n in range(30):
        make_client(agency.organization, f"Client {n:02d}", currency="USD")
    html = as_owner.get(URL, {"currency": "USD"}).content.decode()
    assert "?currency=USD&amp;page=2" in html


def test_member_sees_only_clients_of_their_projects(agency):
    make_project(make_client(agency.organization, "Hidden Co"), "Secret")
    html = login(agency.member).get(URL).content.decode()
    assert "Globex" in html
    assert "Hidden Co" not in html
    assert "New client" not in html


def test_empty_state_invites_to_create_a_client(db):
    from punchclock.accounts.models import Role
    from tests.factories import make_membership

    owner = make_membership(make_organization("Fresh"), Role.OWNER)
    html = login(owner).get(URL).content.decode()
    assert "No clients yet" in html
    assert reverse("clients:new") in html


def test_query_count_does_not_grow_with_rows(agency, as_owner, django_assert_max_num_queries):
    for n in range(2):
        make_project(make_client(agency.organization, f"Small {n}"), "P")
    with CaptureQueriesContext(connection) as few:
        as_owner.get(URL)
    for n in range(27):
        make_project(make_client(agency.organization, f"Big {n}"), "P")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_owner.get(URL)
    assert len(response.context["page"].object_list) == 25
