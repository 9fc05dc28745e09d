"""No input makes a client or project page answer 500: junk in every field of every form."""

from __future__ import annotations

import pytest
from django.urls import reverse

JUNK = [
    {},
    {
        "name": "\x00",
        "amount": "1e999999",
        "effective_from": "0000-00-00",
        "client": "1.5",
        "membership": "-1",
        "applies_to": "task:",
        "payment_terms_days": "99999999999999999999",
    },
    {
        "amount": "Infinity",
        "currency": "€",
        "budget_hours": "1e400",
        "rounding_minutes": "∞",
        "status": "x" * 300,
        "fixed_fee": "--1",
        "is_manager": "maybe",
        "archived": "🙂",
        "next": "javascript:alert(1)",
    },
]


def _urls(agency):
    project, client, task = agency.project.pk, agency.client.pk, agency.task.pk
    person = agency.member.pk
    return [
        reverse("clients:new"),
        reverse("clients:edit", args=[client]),
        reverse("clients:delete", args=[client]),
        reverse("clients:contact_add", args=[client]),
        reverse("clients:rate_add", args=[client]),
        reverse("projects:new"),
        reverse("projects:edit", args=[project]),
        reverse("projects:status", args=[project]),
        reverse("projects:task_add", args=[project]),
        reverse("projects:task_edit", args=[task]),
        reverse("projects:task_archive", args=[task]),
        reverse("projects:member_assign", args=[project]),
        reverse("projects:member_manager", args=[project, person]),
        reverse("projects:rate_add", args=[project]),
        *(reverse("projects:rates_add", args=[s]) for s in ("organization", "member", "cost")),
        reverse("projects:rates_add", args=["client"]),
    ]


@pytest.mark.parametrize("data", JUNK)
@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "htmx"])
def test_junk_posts_get_a_4xx_or_a_redirect_never_a_500(agency, as_owner, data, headers):
    for url in _urls(agency):
        response = as_owner.post(url, data, headers=headers)
        assert response.status_code < 500, (url, data, response.status_code)


def test_junk_query_strings_on_the_lists(agency, as_owner):
    junk = {"q": "%\x00'", "client": "x", "currency": "??", "page": "999999", "archived": "x"}
    for name in ("clients:list", "projects:list"):
        assert as_owner.get(reverse(name), junk).status_code == 200
