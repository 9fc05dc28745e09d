"""The client page: facts, contacts inline, projects, archive, restore and delete."""

from __future__ import annotations

from django.urls import reverse

from punchclock.clients.models import Client, Contact
from punchclock.projects.models import ProjectStatus
from tests.factories import make_client

HTMX = {"HX-Request": "true"}


def _url(client):
    return reverse("clients:detail", args=[client.pk])


def test_owner_sees_facts_contacts_projects_and_rates(agency, as_owner):
    response = as_owner.get(_url(agency.client))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Billing details" in html
    assert 'id="contacts"' in html
    assert "globex/api" in html
    assert 'id="client-rates"' in html


def test_member_sees_the_client_read_only_and_without_rates(agency, as_member):
    html = as_member.get(_url(agency.client)).content.decode()
    assert "Billing details" in html
    assert "client-rates" not in html
    assert reverse("clients:edit", args=[agency.client.pk]) not in html
    assert "Add a contact" not in html
    # Only the projects the member is assigned to.
    assert "globex/api" in html
    assert "globex/web" not in html


def test_member_cannot_see_a_client_of_projects_they_are_not_on(agency, as_member):
    other = make_client(agency.organization, "Unseen")
    assert as_member.get(_url(other)).status_code == 404


def test_a_contact_is_added_inline_with_htmx(agency, as_owner):
    url = reverse("clients:contact_add", args=[agency.client.pk])
    data = {"name": "Grace Hopper", "email": "grace@globex.test", "is_billing_contact": "on"}
    response = as_owner.post(url, data, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<section class="card" id="contacts"')
    assert "Grace Hopper" in html
    assert Contact.objects.get(name="Grace Hopper").is_billing_contact


def test_a_contact_without_a_name_is_refused_inline(agency, as_owner):
    url = reverse("clients:contact_add", args=[agency.client.pk])
    response = as_owner.post(url, {"name": "", "email": "x@y.test"}, headers=HTMX)
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Contact.objects.exists()


def test_without_htmx_adding_a_contact_redirects_back(agency, as_owner):
    url = reverse("clients:contact_add", args=[agency.client.pk])
    response = as_owner.post(url, {"name": "Ada"})
    assert response.status_code == 302
    assert response["Location"] == _url(agency.client)


def test_a_contact_is_edited_inline(agency, as_owner):
    contact = Contact.objects.create(client=agency.client, name="Ada")
    url = reverse("clients:contact_edit", args=[contact.pk])
    form = as_owner.get(url, headers=HTMX)
    assert form.status_code == 200
    assert 'value="Ada"' in form.content.decode()
    response = as_owner.post(url, {"name": "Ada Lovelace", "email": "bad"}, headers=HTMX)
    assert response.status_code == 400
    contact.refresh_from_db()
    assert contact.name == "Ada"
    response = as_owner.post(url, {"name": "Ada Lovelace"}, headers=HTMX)
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.name == "Ada Lovelace"


def test_a_contact_is_deleted(agency, as_owner):
    contact = Contact.objects.create(client=agency.client, name="Ada")
    response = as_owner.post(reverse("clients:contact_delete", args=[contact.pk]), headers=HTMX)
    assert response.status_code == 200
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_a_member_cannot_change_contacts(agency, as_member):
    contact = Contact.objects.create(client=agency.client, name="Ada")
    add = reverse("clients:contact_add", args=[agency.client.pk])
    assert as_member.post(add, {"name": "Eve"}).status_code == 403
    assert as_member.post(reverse("clients:contact_delete", args=[contact.pk])).status_code == 403
    assert Contact.objects.count() == 1


def test_archiving_a_client_archives_its_projects(agency, as_owner):
    response = as_owner.post(reverse("clients:archive", args=[agency.client.pk]))
    assert response.status_code == 302
    agency.client.refresh_from_db()
    assert agency.client.is_archived
    statuses = set(agency.client.projects.values_list("status", flat=True))
    assert statuses == {ProjectStatus.ARCHIVED}
    html = as_owner.get(_url(agency.client)).content.decode()
    assert "This client is archived" in html
    assert "New project" not in html


def test_restoring_a_client_leaves_its_projects_archived(agency, as_owner):
    as_owner.post(reverse("clients:archive", args=[agency.client.pk]))
    response = as_owner.post(reverse("clients:restore", args=[agency.client.pk]))
    assert response.status_code == 302
    agency.client.refresh_from_db()
    assert not agency.client.is_archived
    assert set(agency.client.projects.values_list("status", flat=True)) == {"archived"}


def test_archive_needs_a_post(agency, as_owner):
    assert as_owner.get(reverse("clients:archive", args=[agency.client.pk])).status_code == 405


def test_a_member_cannot_archive(agency, as_member):
    assert as_member.post(reverse("clients:archive", args=[agency.client.pk])).status_code == 403
    agency.client.refresh_from_db()
    assert not agency.client.is_archived


def test_deleting_a_client_with_projects_is_refused(agency, as_owner):
    url = reverse("clients:delete", args=[agency.client.pk])
    page = as_owner.get(url).content.decode()
    assert "can only be archived" in page
    response = as_owner.post(url)
    assert response.status_code == 400
    assert "can only be archived, not deleted" in response.content.decode()
    assert Client.objects.filter(pk=agency.client.pk).exists()


def test_a_client_without_projects_is_deleted(agency, as_owner):
    empty = make_client(agency.organization, "Never Used")
    response = as_owner.post(reverse("clients:delete", args=[empty.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:list")
    assert not Client.objects.filter(pk=empty.pk).exists()
