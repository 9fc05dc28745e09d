"""Another organization's clients and contacts answer 404 on every URL, whatever the method."""

from __future__ import annotations

import pytest
from django.urls import reverse

from punchclock.clients.models import Client, Contact


@pytest.fixture
def contact(agency):
    return Contact.objects.create(client=agency.client, name="Ada")


CLIENT_URLS = [
    "clients:detail",
    "clients:edit",
    "clients:archive",
    "clients:restore",
    "clients:delete",
    "clients:contact_add",
    "clients:rate_add",
]
CONTACT_URLS = ["clients:contact_edit", "clients:contact_delete"]


@pytest.mark.parametrize("name", CLIENT_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_on_client_urls(agency, as_outsider, name, method):
    url = reverse(name, args=[agency.client.pk])
    response = getattr(as_outsider, method)(url, {"name": "Hijack", "amount": "1"})
    assert response.status_code in (404, 405)
    if method == "post":
        assert response.status_code == 404
    agency.client.refresh_from_db()
    assert agency.client.name == "Globex"
    assert not agency.client.is_archived


@pytest.mark.parametrize("name", CONTACT_URLS)
def test_outsider_gets_404_on_contact_urls(agency, contact, as_outsider, name):
    url = reverse(name, args=[contact.pk])
    assert as_outsider.post(url, {"name": "Hijack"}).status_code == 404
    assert Contact.objects.get(pk=contact.pk).name == "Ada"


def test_outsider_does_not_see_the_agencys_clients_in_the_list(agency, as_outsider):
    assert "Globex" not in as_outsider.get(reverse("clients:list")).content.decode()


def test_unknown_ids_are_404(agency, as_owner):
    assert as_owner.get(reverse("clients:detail", args=[999999])).status_code == 404
    assert Client.objects.count() == 1
