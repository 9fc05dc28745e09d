"""Adding and deleting rates on the project page: field errors, history is kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from punchclock.projects.models import Rate, RateScope
from tests.conftest import login
from tests.factories import make_rate

HTMX = {"HX-Request": "true"}


def _add(project):
    return reverse("projects:rate_add", args=[project.pk])


def _future() -> date:
    return datetime.now(UTC).date() + timedelta(days=60)


def _data(**overrides):
    return {"applies_to": "project", "amount": "95", "effective_from": "2026-01-01"} | overrides


def test_a_project_rate_is_added_inline(agency, as_owner):
    response = as_owner.post(_add(agency.project), _data(), headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().strip().startswith('<section class="card" id="rates"')
    rate = Rate.objects.get()
    assert (rate.scope, rate.amount, rate.currency) == (RateScope.PROJECT, Decimal(95), "EUR")


def test_a_person_on_project_rate_and_a_task_rate(agency, as_owner):
    as_owner.post(_add(agency.project), _data(applies_to=f"member:{agency.member.pk}"))
    as_owner.post(_add(agency.project), _data(applies_to=f"task:{agency.task.pk}", amount="120"))
    scopes = dict(Rate.objects.values_list("scope", "amount"))
    assert scopes == {RateScope.PROJECT_MEMBER: Decimal(95), RateScope.TASK: Decimal(120)}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "cannot be negative"),
        ({"amount": "95.12345"}, "amount", "at most 4 decimal places"),
        ({"amount": "ninety"}, "amount", "Enter a number"),
        ({"amount": "NaN"}, "amount", "Enter a number"),
        ({"amount": "5000000"}, "amount", "surely a typo"),
        ({"amount": ""}, "amount", "This field is required"),
        ({"effective_from": "yesterday"}, "effective_from", "Enter a valid date"),
        ({"effective_from": "2026-13-01"}, "effective_from", "Enter a valid date"),
        ({"applies_to": "task:999999"}, "applies_to", "Select a valid choice"),
        ({"applies_to": "member:abc"}, "applies_to", "Select a valid choice"),
    ],
)
def test_bad_rates_are_refused_on_their_field(agency, as_owner, overrides, field, message):
    response = as_owner.post(_add(agency.project), _data(**overrides), headers=HTMX)
    assert response.status_code == 400
    errors = response.context["rate_form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Rate.objects.exists()


def test_a_second_rate_on_the_same_day_for_the_same_scope_is_refused(agency, as_owner):
    as_owner.post(_add(agency.project), _data())
    response = as_owner.post(_add(agency.project), _data(amount="100"))
    assert response.status_code == 400
    assert "already starts on 2026-01-01" in " ".join(
        response.context["rate_form"].errors["effective_from"]
    )
    assert Rate.objects.get().amount == Decimal(95)


def test_the_same_day_for_another_scope_is_fine(agency, as_owner):
    as_owner.post(_add(agency.project), _data())
    response = as_owner.post(_add(agency.project), _data(applies_to=f"task:{agency.task.pk}"))
    assert response.status_code == 302
    assert Rate.objects.count() == 2


def test_manager_adds_a_rate_on_the_managed_project_only(agency):
    http = login(agency.manager)
    assert http.post(_add(agency.project), _data()).status_code == 302
    assert http.post(_add(agency.other_project), _data()).status_code == 403
    assert Rate.objects.count() == 1


def test_member_cannot_add_rates(agency, as_member):
    assert as_member.post(_add(agency.project), _data()).status_code == 403
    assert not Rate.objects.exists()


def test_a_scheduled_rate_is_deleted(agency, as_owner):
    rate = make_rate(agency.organization, "99", project=agency.project, effective_from=_future())
    back = reverse("projects:detail", args=[agency.project.pk])
    response = as_owner.post(reverse("projects:rate_delete", args=[rate.pk]), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert not Rate.objects.exists()


def test_deleting_a_rate_in_force_is_refused(agency, as_owner):
    rate = make_rate(agency.organization, "80", project=agency.project)
    response = as_owner.post(reverse("projects:rate_delete", args=[rate.pk]))
    assert response.status_code == 400
    assert "already in force" in response.content.decode()
    assert Rate.objects.filter(pk=rate.pk).exists()


def test_past_rates_have_no_delete_button(agency, as_owner):
    rate = make_rate(agency.organization, "80", project=agency.project)
    html = as_owner.get(reverse("projects:detail", args=[agency.project.pk])).content.decode()
    assert reverse("projects:rate_delete", args=[rate.pk]) not in html


def test_delete_never_redirects_to_another_site(agency, as_owner):
    rate = make_rate(agency.organization, "99", project=agency.project, effective_from=_future())
    url = reverse("projects:rate_delete", args=[rate.pk])
    response = as_owner.post(url, {"next": "https://evil.test/"})
    assert response["Location"] == reverse("projects:detail", args=[agency.project.pk])


def test_member_cannot_delete_or_even_find_a_rate(agency, as_member):
    rate = make_rate(agency.organization, "99", project=agency.project, effective_from=_future())
    assert as_member.post(reverse("projects:rate_delete", args=[rate.pk])).status_code == 404
    assert Rate.objects.filter(pk=rate.pk).exists()
