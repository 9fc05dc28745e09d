"""In a real browser: the header timer ticks and stops, a grid cell saves without a reload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as HttpClient

from punchclock.core.timeutil import local_date, now, to_utc, week_start
from punchclock.tracking import services
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def sign_in(page, live_server, membership) -> None:
    """The session of a force-logged-in test client, handed to the browser."""
    http = HttpClient()
    http.force_login(membership.user)
    session = http.session
    session["organization_id"] = membership.organization_id
    session.save()
    page.context.add_cookies(
        [{"name": "sessionid", "value": http.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.mark.django_db(transaction=True)
def test_timer_ticks_and_stops_and_a_cell_edit_updates_the_week_total(page, live_server, agency):
    member = agency.member
    member.user.timezone = "Europe/Berlin"
    member.user.save()
    last_monday = week_start(local_date(now(), "Europe/Berlin")) - timedelta(days=7)
    from datetime import time

    start = to_utc(last_monday, time(9, 0), "Europe/Berlin")
    services.add_entry(
        member,
        by=member,
        project=agency.project,
        task=agency.task,
        start=start,
        end=start + timedelta(minutes=90),
        description="API review",
    )
    sign_in(page, live_server, member)

    page.goto("/time/")
    page.fill("#timer input[name=project]", "globex/api")
    page.fill("#timer input[name=description]", "fix login")
    page.click("#timer button:has-text('Start')")
    clock = page.locator("#timer .timer-clock")
    clock.wait_for()
    first = clock.inner_text()
    page.wait_for_timeout(1200)
    assert clock.inner_text() != first, "the running timer should tick every second"
    assert "fix login" in page.locator("#timer").inner_text()
    screenshot(page, "timer-running")

    page.click("#timer button:has-text('Stop')")
    page.locator("#timer .timer-idle").wait_for()
    page.locator("#day-entries .entry-title:has-text('fix login')").wait_for()
    # The list refreshes itself when the timer changes: the entry is no longer running.
    page.locator("#day-entries .entry-running").wait_for(state="detached")
    screenshot(page, "day-view")

    page.goto(f"/time/week/?week={last_monday.isoformat()}")
    total = page.locator("#week-total")
    assert total.inner_text() == "1:30"
    page.evaluate("window.__sameDocument = true")
    tuesday = last_monday + timedelta(days=1)
    cell = page.locator(f"#cell-{agency.project.pk}-{agency.task.pk}-{tuesday:%Y%m%d}")
    cell.fill("2h")
    cell.press("Tab")
    page.wait_for_function("document.querySelector('#week-total').innerText === '3:30'")
    assert page.evaluate("window.__sameDocument === true"), "the page must not reload"
    row = page.locator(f"#row-{agency.project.pk}-{agency.task.pk}")
    assert row.locator(".grid-total").inner_text() == "3:30"
    screenshot(page, "week-grid")
