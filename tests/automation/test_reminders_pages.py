"""The reminder pages: set up, levels, wording, the dry run, sending, and who may see them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.urls import reverse

from punchclock.automation import reminder_settings, reminders
from punchclock.automation.models import ReminderLevel, ReminderSent, ReminderTemplate
from punchclock.invoicing.models import Invoice
from tests.automation import test_reminders as base
from tests.conftest import login

# The dunning fixtures of the domain tests.
clock, dunning, after = base.clock, base.dunning, base.after
SETTINGS = reverse("reminders:settings")


def levels_post(**changes: str) -> dict[str, str]:
    """The levels form as the page fills it for the standard levels, with some changes."""
    data = {}
    for number, days, fee, amount, taxed in [
        (1, 7, "none", "0", False),
        (2, 21, "fixed", "5", False),
        (3, 35, "percent", "2", True),
        (4, 49, "none", "0", False),
    ]:
        prefix = f"level{number}-"
        data |= {
            prefix + "is_active": "on",
            prefix + "days_after_due": str(days),
            prefix + "repeat_every_days": "14",
            prefix + "late_fee": fee,
            prefix + "late_fee_amount": amount,
        }
        if taxed:
            data[prefix + "late_fee_taxed"] = "on"
    return data | changes


def test_reminders_start_with_an_explicit_set_up(billing):
    http = login(billing.owner)
    page = http.get(SETTINGS).content.decode()
    assert "Set up reminders" in page
    assert not ReminderLevel.objects.exists()

    response = http.post(reverse("reminders:set_up"))

    assert response.status_code == 302
    rows = ReminderLevel.objects.filter(organization=billing.organization).order_by("level")
    assert [(r.level, r.days_after_due, r.is_active) for r in rows] == [
        (1, 7, True),
        (2, 21, True),
        (3, 35, True),
        (4, 49, False),
    ]
    page = http.get(SETTINGS).content.decode()
    assert "Save levels" in page
    assert "Friendly reminder: invoice {number}" in page  # the built-in text, to edit


def test_the_levels_form_saves_days_and_fees(dunning):
    http = login(dunning.owner)
    response = http.post(
        reverse("reminders:levels"),
        levels_post(**{"level2-days_after_due": "30", "level2-late_fee_amount": "7.50"}),
    )
    assert response.status_code == 302
    second = ReminderLevel.objects.get(level=2)
    assert (second.days_after_due, second.late_fee, second.late_fee_amount) == (
        30,
        "fixed",
        Decimal("7.5"),
    )


def test_levels_out_of_order_are_refused_on_the_page_and_nothing_changes(dunning):
    before = list(ReminderLevel.objects.order_by("level").values())
    response = login(dunning.owner).post(
        reverse("reminders:levels"), levels_post(**{"level3-days_after_due": "10"})
    )
    assert response.status_code == 400
    assert "Level 3 must come after level 2" in response.content.decode()
    assert list(ReminderLevel.objects.order_by("level").values()) == before


def test_wording_is_saved_per_level_and_language_and_bad_placeholders_refused(dunning):
    http = login(dunning.owner)
    bad = {"level": "2", "language": "de", "subject": "Mahnung {number}", "body": "{betrag}"}
    response = http.post(reverse("reminders:wording"), bad)
    assert response.status_code == 400
    assert "“{betrag}” is not a placeholder" in response.content.decode()
    assert not ReminderTemplate.objects.exists()

    good = bad | {"body": "Offen: {amount}"}
    response = http.post(reverse("reminders:wording"), good)
    assert response.status_code == 302
    assert response["Location"].endswith("?level=2&language=de#wording")
    template = ReminderTemplate.objects.get()
    assert (template.level, template.language, template.body) == (2, "de", "Offen: {amount}")
    page = http.get(SETTINGS + "?level=2&language=de").content.decode()
    assert "Offen: {amount}" in page
    assert "Back to the built-in text" in page

    http.post(reverse("reminders:wording"), good | {"reset": "1"})
    assert not ReminderTemplate.objects.exists()


def test_the_page_lists_what_is_due_today_without_sending_it(dunning, clock):
    clock.day(after(7))
    reminders.send_due()
    clock.day(after(21))
    page = login(dunning.owner).get(SETTINGS).content.decode()
    assert "Due today" in page
    assert "Level 2" in page
    assert "€5.00" in page  # the late fee it would charge
    assert len(mail.outbox) == 1
    assert Invoice.objects.count() == 1


def test_the_send_button_sends_what_is_due_and_the_history_shows_it(dunning, clock):
    clock.day(after(7))
    http = login(dunning.owner)
    response = http.post(reverse("reminders:send"), follow=True)
    assert "1 reminder sent." in response.content.decode()
    assert len(mail.outbox) == 1
    page = http.get(reverse("reminders:invoice", args=[dunning.invoice.pk])).content.decode()
    assert "ap@globex.test" in page
    assert "Sent" in page


def test_an_unconfirmed_reminder_can_be_sent_again_from_the_page(dunning, clock, monkeypatch):
    real = EmailMessage.send

    def killed(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(EmailMessage, "send", killed)
    clock.day(after(7))
    with pytest.raises(KeyboardInterrupt):
        reminders.send_due()
    monkeypatch.setattr(EmailMessage, "send", real)
    row = ReminderSent.objects.get()
    http = login(dunning.owner)
    assert "Not confirmed" in http.get(SETTINGS).content.decode()

    response = http.post(reverse("reminders:send_again", args=[row.pk]), follow=True)

    assert "sent again" in response.content.decode()
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert reminders.state_of(row) == reminders.State.SENT


def test_members_get_403_everywhere(dunning):
    row = ReminderSent.objects.create(invoice=dunning.invoice, level=1, balance=0)
    http = login(dunning.member)
    assert http.get(SETTINGS).status_code == 403
    assert http.get(reverse("reminders:invoice", args=[dunning.invoice.pk])).status_code == 403
    for name, args in [
        ("reminders:set_up", []),
        ("reminders:levels", []),
        ("reminders:wording", []),
        ("reminders:send", []),
        ("reminders:send_again", [row.pk]),
    ]:
        assert http.post(reverse(name, args=args), levels_post()).status_code == 403, name
    assert mail.outbox == []


def test_outsiders_get_404_for_the_agencys_reminders_and_see_only_their_own(dunning, outsider):
    row = ReminderSent.objects.create(invoice=dunning.invoice, level=1, balance=0)
    http = login(outsider)
    assert http.get(reverse("reminders:invoice", args=[dunning.invoice.pk])).status_code == 404
    assert http.post(reverse("reminders:send_again", args=[row.pk])).status_code == 404
    page = http.get(SETTINGS).content.decode()
    assert "Set up reminders" in page  # the outsider's organization has none
    assert "Globex" not in page
    assert "2026-0001" not in page
    http.post(reverse("reminders:send"))
    assert mail.outbox == []
    assert reminder_settings.levels_of(outsider.organization) == []


def test_nonsense_in_the_levels_form_is_a_400_not_a_500(dunning):
    http = login(dunning.owner)
    response = http.post(reverse("reminders:levels"), levels_post(**{"level1-days_after_due": "x"}))
    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()
    response = http.post(reverse("reminders:wording"), {"level": "9", "language": "xx"})
    assert response.status_code == 400
    assert ReminderLevel.objects.get(level=1).days_after_due == 7
