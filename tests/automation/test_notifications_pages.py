"""Notifications in the app and the API: each person sees their own, marks them read, and
chooses what comes by email."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from punchclock.automation.models import EmailState, Notification, NotificationPreferences
from punchclock.automation.notifications import News, notify
from tests.api.conftest import admin_api, api_as, member_api, owner_api  # noqa: F401
from tests.api.helpers import Api, token_for
from tests.conftest import as_member, as_owner, login  # noqa: F401


def news(kind: str, key: str, title: str) -> News:
    return News(kind=kind, key=key, title=title, text="Details.", link="/invoices/")


@pytest.fixture
def told(agency):
    """The owner has two payments and a timer notice; the member one timer notice."""
    notify(agency.organization.pk, [agency.owner], news("payment", "payment:1", "Globex paid 1"))
    notify(agency.organization.pk, [agency.owner], news("payment", "payment:2", "Globex paid 2"))
    notify(agency.organization.pk, [agency.member], news("long_timer", "entry:9", "Your timer"))
    return agency


def test_the_nav_counts_unread_and_the_list_shows_newest_first(told, as_owner):  # noqa: F811
    page = as_owner.get("/notifications/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("Globex paid 2") < html.index("Globex paid 1")
    assert "Your timer" not in html  # the member's
    assert 'title="2 unread"' in html
    with CaptureQueriesContext(connection) as queries:
        other = as_owner.get("/projects/")
    assert 'title="2 unread"' in other.content.decode()
    # The bell costs every page one COUNT, on the partial index of unread rows.
    bell = [q["sql"] for q in queries.captured_queries if "automation_notification" in q["sql"]]
    assert len(bell) == 1
    assert "COUNT(" in bell[0]


def test_opening_one_marks_it_read_and_follows_its_link(told, as_owner):  # noqa: F811
    first = Notification.objects.get(key="payment:1")
    response = as_owner.get(f"/notifications/{first.pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/invoices/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert 'title="1 unread"' in as_owner.get("/notifications/").content.decode()


def test_mark_one_and_all_read(told, as_owner):  # noqa: F811
    second = Notification.objects.get(key="payment:2")
    assert as_owner.post(f"/notifications/{second.pk}/read/").status_code == 302
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    response = as_owner.post("/notifications/read/", {"show": "unread"})
    assert response["Location"] == "/notifications/?show=unread"
    # Only the owner's: the member's stays unread.
    assert list(
        Notification.objects.filter(read_at__isnull=True).values_list("key", flat=True)
    ) == ["entry:9"]


def test_members_cannot_open_or_mark_others_notifications(told, as_member):  # noqa: F811
    owners = Notification.objects.get(key="payment:1")
    assert as_member.get(f"/notifications/{owners.pk}/").status_code == 404
    assert as_member.post(f"/notifications/{owners.pk}/read/").status_code == 404
    owners.refresh_from_db()
    assert owners.read_at is None
    html = as_member.get("/notifications/").content.decode()
    assert "Your timer" in html
    assert "Globex paid" not in html


def test_a_demoted_admin_no_longer_sees_money_notices(told):
    agency = told
    agency.owner.role = "member"  # (an owner demoted, for the test's sake)
    agency.owner.save()
    html = login(agency.owner).get("/notifications/").content.decode()
    assert "Globex paid" not in html
    assert ' unread"' not in html  # the bell counts nothing


def test_preferences_page_saves_the_email_choices(agency, as_member):  # noqa: F811
    page = as_member.get("/notifications/preferences/").content.decode()
    assert "Timer running for long" in page
    assert "Payment received" not in page  # members are never told of money
    assert "For the whole organization" not in page
    response = as_member.post("/notifications/preferences/", {})
    assert response.status_code == 302
    assert NotificationPreferences.objects.get(membership=agency.member).email_kinds == []
    refused = as_member.post("/notifications/preferences/", {"email": ["payment"]})
    assert refused.status_code == 422
    assert NotificationPreferences.objects.get(membership=agency.member).email_kinds == []


def test_owners_set_the_long_timer_limit_and_members_may_not(agency, as_owner, as_member):  # noqa: F811
    assert (
        "For the whole organization" in as_owner.get("/notifications/preferences/").content.decode()
    )
    assert as_owner.post("/notifications/settings/", {"long_timer_hours": "6"}).status_code == 302
    assert agency.organization.notification_settings.long_timer_hours == 6
    bad = as_owner.post("/notifications/settings/", {"long_timer_hours": "500"})
    assert bad.status_code == 422
    assert as_member.post("/notifications/settings/", {"long_timer_hours": "2"}).status_code == 403
    agency.organization.notification_settings.refresh_from_db()
    assert agency.organization.notification_settings.long_timer_hours == 6


# API ---------------------------------------------------------------------------------------


def test_api_lists_counts_and_marks_read(told, owner_api):  # noqa: F811
    listed = owner_api.get("/notifications").json()
    assert listed["count"] == 2
    assert [n["title"] for n in listed["items"]] == ["Globex paid 2", "Globex paid 1"]
    assert listed["items"][0]["email_state"] == EmailState.PENDING
    assert owner_api.get("/notifications/unread-count").json() == {"unread": 2}
    first = listed["items"][1]["id"]
    marked = owner_api.post(f"/notifications/{first}/read")
    assert marked.status_code == 200
    assert marked.json()["read_at"] is not None
    assert owner_api.get("/notifications", {"unread": "true"}).json()["count"] == 1
    assert owner_api.post("/notifications/read").json() == {"marked": 1}
    assert owner_api.get("/notifications/unread-count").json() == {"unread": 0}


def test_api_never_shows_another_members_notification(told, member_api):  # noqa: F811
    owners = Notification.objects.get(key="payment:1")
    assert member_api.post(f"/notifications/{owners.pk}/read").status_code == 404
    assert [n["title"] for n in member_api.get("/notifications").json()["items"]] == ["Your timer"]


def test_api_preferences_and_settings(agency, member_api, admin_api):  # noqa: F811
    assert member_api.get("/notifications/preferences").json() == {
        "email": ["long_timer"],
        "watch_team_timers": False,
        "kinds": ["long_timer"],
        "long_timer_hours": 10,
    }
    refused = member_api.patch("/notifications/preferences", {"email": ["payment"]})
    assert refused.status_code == 422
    assert member_api.patch("/notifications/preferences", {"email": []}).json()["email"] == []
    watching = admin_api.patch("/notifications/preferences", {"watch_team_timers": True}).json()
    assert watching["watch_team_timers"] is True
    assert "payment" not in watching["email"]  # admins' default: payments in the app only
    assert member_api.put("/notifications/settings", {"long_timer_hours": 4}).status_code == 403
    assert (
        admin_api.put("/notifications/settings", {"long_timer_hours": 4}).json()["long_timer_hours"]
        == 4
    )


def test_read_tokens_may_read_but_not_mark(told):
    reader = Api(token_for(told.owner, "read"))
    assert reader.get("/notifications/unread-count").json() == {"unread": 2}
    assert reader.post("/notifications/read").status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 3


# CLI ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_punch_notifications_lists_unread_and_marks_them_read(agency, punch_as):
    notify(agency.organization.pk, [agency.member], news("long_timer", "entry:9", "Your timer"))
    punch = punch_as(agency.member)
    listed = punch("notifications")
    assert listed.exit_code == 0, listed.output
    assert "* " in listed.output
    assert "Your timer" in listed.output
    marked = punch("notifications", "--read")
    assert "Marked 1 read." in marked.output
    assert punch("notifications").output.strip() == "No unread notifications."
    assert "Your timer" in punch("notifications", "--all").output
