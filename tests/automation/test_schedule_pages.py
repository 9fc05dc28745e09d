"""The billing schedule pages: list, form, a schedule with its runs, run now, pause, delete."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from punchclock.automation import services
from punchclock.automation.models import Action, BillingSchedule, RunStatus, ScheduleRun
from punchclock.invoicing.models import Invoice
from tests import factories
from tests.conftest import login
from tests.invoicing.conftest import track

TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Previews and due periods count from today: the tests live on 20 November 2026."""
    monkeypatch.setattr(services, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))


def worked(membership, project, day: date, minutes: int = 120) -> None:
    track(membership, project, datetime(day.year, day.month, day.day, 9, tzinfo=UTC), minutes)


def schedule(agency, **fields) -> BillingSchedule:
    """A monthly schedule on the 1st for the agency's client, from 1 October 2026."""
    fields.setdefault("frequency", "monthly")
    fields.setdefault("starts_on", date(2026, 10, 1))
    fields.setdefault("action", Action.ISSUE)
    return services.save_schedule(agency.owner, client=agency.client, **fields)


def form_data(agency, **changes) -> dict[str, object]:
    data = {
        "client": agency.client.pk,
        "project": "",
        "frequency": "monthly",
        "day_of_month": "1",
        "interval_weeks": "2",
        "ends_on": "",
        "starts_on": "2026-10-01",
        "include_time": "on",
        "include_expenses": "on",
        "include_fixed_fees": "on",
        "group_by": "project",
        "action": "issue",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_list_says_how_often_what_happens_next_and_what_ran(billing, as_owner):
    monthly = schedule(billing, project=billing.project)
    worked(billing.member, billing.project, date(2026, 10, 12))
    services.run_due(today=date(2026, 11, 1), schedules=BillingSchedule.objects.all())
    worked(billing.member, billing.project, date(2026, 11, 10), minutes=150)
    schedule(billing, frequency="weekly", interval_weeks=2, action=Action.DRAFT)
    schedule(billing, frequency="quarterly", action=Action.SEND)
    schedule(billing, frequency="project_end", ends_on=date(2026, 11, 30), is_active=False)
    invoice = Invoice.objects.get()

    html = as_owner.get("/schedules/").content.decode()

    for words in (
        "Monthly on the 1st",
        "Every 2 weeks",
        "Quarterly",
        "Once after 30 Nov 2026",
        "Issue the invoice",
        "Create a draft and tell me",
        "Issue and send it to the client",
        "Paused",
        "3 periods due",  # the fortnightly one, since 1 October
        "Globex</strong> · API",
        "on 1 Dec: invoice for 2.5 h + 0 expenses ≈ 250.00 EUR",
    ):
        assert words in html, words
    row = html.split(f'id="schedule-{monthly.pk}"')[1].split("</tr>")[0]
    assert f'href="/invoices/{invoice.pk}/">{invoice.number}</a>' in row
    assert "Issued" in row
    assert "1 Oct – 31 Oct 2026" in row


def test_the_list_filters_by_client_and_answers_htmx_with_the_table_only(billing, as_owner):
    schedule(billing)
    initech = factories.make_client(billing.organization, "Initech", code="initech")
    services.save_schedule(
        billing.owner, client=initech, frequency="monthly", starts_on=date(2026, 10, 1)
    )
    page = as_owner.get("/schedules/", {"client": initech.pk})
    html = page.content.decode()
    assert "Initech</strong>" in html
    assert "Globex</strong>" not in html
    fragment = as_owner.get("/schedules/", {"client": "x"}, headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="schedule-results"')
    assert "Initech</strong>" in fragment.content.decode()
    assert "Globex</strong>" in fragment.content.decode()


def test_an_empty_list_invites_the_first_schedule(agency, as_owner):
    html = as_owner.get("/schedules/").content.decode()
    assert "No billing schedules yet" in html
    assert 'href="/schedules/new/"' in html


def test_creating_a_schedule(billing, as_owner):
    response = as_owner.post(
        "/schedules/new/",
        form_data(
            billing,
            project=billing.project.pk,
            frequency="weekly",
            interval_weeks="3",
            include_expenses=None,
            group_by="task",
            action="draft",
        ),
    )
    created = BillingSchedule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/schedules/{created.pk}/"
    assert (created.client, created.project, created.frequency) == (
        billing.client,
        billing.project,
        "weekly",
    )
    assert (created.interval_weeks, created.include_expenses, created.group_by) == (
        3,
        False,
        "task",
    )
    assert (created.action, created.run_as, created.is_active) == ("draft", billing.owner, True)
    assert "Every 3 weeks" in as_owner.get(response["Location"]).content.decode()


def test_the_client_page_link_chooses_the_client(billing, as_owner):
    html = as_owner.get("/schedules/new/", {"client": billing.client.pk}).content.decode()
    assert f'<option value="{billing.client.pk}" selected>Globex</option>' in html
    assert as_owner.get("/schedules/new/", {"client": "10" * 15}).status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"client": ""}, "This field is required."),
        ({"day_of_month": "0"}, "Choose a day from 1 to 31."),
        ({"day_of_month": "32"}, "Choose a day from 1 to 31."),
        ({"day_of_month": "first"}, "Choose a day from 1 to 31."),
        ({"frequency": "weekly", "interval_weeks": "53"}, "Choose every from 1 to 52."),
        ({"frequency": "daily"}, "Select a valid choice."),
        ({"frequency": "project_end"}, "Say on which day the project ends."),
        (
            {"frequency": "project_end", "ends_on": "2026-09-30"},
            "The project cannot end before the schedule starts.",
        ),
        ({"starts_on": ""}, "This field is required."),
        ({"starts_on": "2026-02-30"}, "Enter a valid date."),
        ({"starts_on": "9999-12-31"}, "Choose a day from 2000 to 2999."),
        (
            {"include_time": None, "include_expenses": None, "include_fixed_fees": None},
            "Bill at least one of time, expenses or fixed fees.",
        ),
        ({"group_by": "mood"}, "Select a valid choice."),
        ({"action": "pray"}, "Select a valid choice."),
    ],
)
def test_bad_input_says_what_is_wrong_and_saves_nothing(billing, as_owner, changes, message):
    response = as_owner.post("/schedules/new/", form_data(billing, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BillingSchedule.objects.exists()


def test_a_project_or_client_that_is_not_yours_is_refused(billing, outsider, as_owner):
    initech = factories.make_client(billing.organization, "Initech", code="initech")
    theirs = factories.make_project(initech, "Portal", code="portal")
    rival = factories.make_client(outsider.organization, "Rival", code="rival")
    wrong_project = as_owner.post("/schedules/new/", form_data(billing, project=theirs.pk))
    assert wrong_project.status_code == 400
    assert "This project belongs to another client." in wrong_project.content.decode()
    rival_client = as_owner.post("/schedules/new/", form_data(billing, client=rival.pk))
    assert rival_client.status_code == 400
    assert "Select a valid choice." in rival_client.content.decode()
    assert not BillingSchedule.objects.exists()


def test_editing_changes_the_fields_but_never_the_client(billing, as_owner):
    existing = schedule(billing)
    initech = factories.make_client(billing.organization, "Initech", code="initech")
    url = f"/schedules/{existing.pk}/edit/"
    form = as_owner.get(url).content.decode()
    assert '<select name="client" required disabled id="id_client">' in form
    changed = as_owner.post(
        url, form_data(billing, client=initech.pk, day_of_month="15", action="send")
    )
    assert changed.status_code == 302
    existing.refresh_from_db()
    assert (existing.client, existing.day_of_month, existing.action) == (
        billing.client,
        15,
        "send",
    )
    refused = as_owner.post(url, form_data(billing, frequency="project_end", day_of_month="3"))
    assert refused.status_code == 400
    assert "Say on which day the project ends." in refused.content.decode()
    existing.refresh_from_db()
    assert (existing.frequency, existing.day_of_month) == ("monthly", 15)


def test_the_page_shows_a_dry_run_of_what_is_due_and_writes_nothing(billing, as_owner):
    monthly = schedule(billing, starts_on=date(2026, 9, 1))
    worked(billing.member, billing.project, date(2026, 9, 14), minutes=90)
    html = as_owner.get(f"/schedules/{monthly.pk}/").content.decode()
    assert "Run due periods now" in html
    due = html.split('id="due"')[1].split("</section>")[0]
    assert "1 Sep – 30 Sep 2026" in due
    assert "on 1 Oct: invoice for 1.5 h + 0 expenses ≈ 150.00 EUR" in due
    assert "1 Oct – 31 Oct 2026" in due
    assert "Bill nothing" in due
    assert "No unbilled work for Globex from 2026-10-01 to 2026-10-31" in due
    assert "on 1 Dec: invoice for 0 h + 0 expenses ≈ 0.00 EUR" in html  # the next run
    assert not ScheduleRun.objects.exists()
    assert not Invoice.objects.exists()


def test_run_now_bills_each_due_period_once_and_lists_the_runs(billing, as_owner):
    monthly = schedule(billing, starts_on=date(2026, 9, 1))
    worked(billing.member, billing.project, date(2026, 9, 14), minutes=90)
    ran = as_owner.post(f"/schedules/{monthly.pk}/run/", follow=True)
    invoice = Invoice.objects.get()
    html = ran.content.decode()
    assert f"1 Sep – 30 Sep 2026: issued, invoice {invoice.number} for 178.50 EUR." in html
    assert "1 Oct – 31 Oct 2026: No unbilled work for Globex" in html
    runs = html.split('id="runs"')[1]
    assert f'<a href="/invoices/{invoice.pk}/">{invoice.number}</a>' in runs
    assert "Nothing to bill" in runs
    assert [r.status for r in ScheduleRun.objects.order_by("period_start")] == [
        RunStatus.ISSUED,
        RunStatus.EMPTY,
    ]
    again = as_owner.post(f"/schedules/{monthly.pk}/run/", follow=True)
    assert "Nothing was due" in again.content.decode()
    assert Invoice.objects.count() == 1
    assert ScheduleRun.objects.count() == 2
    assert "Run due periods now" not in again.content.decode()


def test_a_run_that_fails_says_why(billing, as_owner):
    monthly = schedule(billing, starts_on=date(2026, 10, 1))
    worked(billing.member, billing.project, date(2026, 10, 14))
    BillingSchedule.objects.filter(pk=monthly.pk).update(run_as=billing.member)
    html = as_owner.get(f"/schedules/{monthly.pk}/").content.decode()
    assert "may no longer issue invoices" in html.split('id="due"')[1]
    ran = as_owner.post(f"/schedules/{monthly.pk}/run/", follow=True).content.decode()
    assert "1 Oct – 31 Oct 2026: Max Member may no longer issue invoices" in ran
    assert ScheduleRun.objects.get().status == RunStatus.FAILED
    assert not Invoice.objects.exists()


def test_pause_stops_running_and_resume_starts_again(billing, as_owner):
    monthly = schedule(billing)
    paused = as_owner.post(f"/schedules/{monthly.pk}/pause/", follow=True).content.decode()
    assert "Schedule paused" in paused
    monthly.refresh_from_db()
    assert not monthly.is_active
    refused = as_owner.post(f"/schedules/{monthly.pk}/run/", follow=True).content.decode()
    assert "This schedule is paused: resume it to run it." in refused
    assert not ScheduleRun.objects.exists()
    as_owner.post(f"/schedules/{monthly.pk}/resume/")
    monthly.refresh_from_db()
    assert monthly.is_active
    assert as_owner.get(f"/schedules/{monthly.pk}/pause/").status_code == 405


def test_delete_only_a_schedule_that_never_ran(billing, as_owner):
    fresh = schedule(billing)
    assert "has not run yet" in as_owner.get(f"/schedules/{fresh.pk}/delete/").content.decode()
    gone = as_owner.post(f"/schedules/{fresh.pk}/delete/")
    assert gone.status_code == 302
    assert not BillingSchedule.objects.filter(pk=fresh.pk).exists()

    ran = schedule(billing)
    services.run_schedule(ran, by=billing.owner)
    confirm = as_owner.get(f"/schedules/{ran.pk}/delete/").content.decode()
    assert "Pause instead" in confirm
    refused = as_owner.post(f"/schedules/{ran.pk}/delete/")
    assert refused.status_code == 400
    assert "This schedule has run, so it keeps its history: pause it." in refused.content.decode()
    assert BillingSchedule.objects.filter(pk=ran.pk).exists()


@pytest.mark.parametrize("role", ["manager", "member"])
def test_managers_and_members_get_403_everywhere(billing, role):
    existing = schedule(billing)
    http = login(getattr(billing, role))
    base = f"/schedules/{existing.pk}"
    for url in ("/schedules/", "/schedules/new/", f"{base}/", f"{base}/edit/", f"{base}/delete/"):
        assert http.get(url).status_code == 403, url
    for url in (f"{base}/run/", f"{base}/pause/", f"{base}/delete/", f"{base}/edit/"):
        assert http.post(url, form_data(billing)).status_code == 403, url
    assert BillingSchedule.objects.get().is_active
    assert not ScheduleRun.objects.exists()


def test_an_admin_manages_schedules_too(billing):
    http = login(billing.admin)
    assert http.post("/schedules/new/", form_data(billing)).status_code == 302
    assert BillingSchedule.objects.get().run_as == billing.admin


def test_outsiders_get_404_and_see_nothing(billing, outsider):
    existing = schedule(billing)
    http = login(outsider)
    base = f"/schedules/{existing.pk}"
    for url in (f"{base}/", f"{base}/edit/", f"{base}/delete/"):
        assert http.get(url).status_code == 404, url
    for url in (f"{base}/run/", f"{base}/pause/", f"{base}/resume/", f"{base}/delete/"):
        assert http.post(url).status_code == 404, url
    assert "Globex" not in http.get("/schedules/").content.decode()
    assert http.get(f"/schedules/{10**20}/").status_code == 404
    refused = http.post("/schedules/new/", form_data(billing))
    assert refused.status_code == 400
    assert BillingSchedule.objects.count() == 1
    assert not ScheduleRun.objects.exists()
