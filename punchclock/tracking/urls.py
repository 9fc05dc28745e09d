from django.urls import path

from punchclock.tracking.views import day, team, timer, week

app_name = "tracking"
urlpatterns = [
    path("", day.day_view, name="day"),
    path("week/", week.week_view, name="week"),
    path("week/cell/", week.week_cell, name="week_cell"),
    path("week/rows/", week.week_row, name="week_row"),
    path("week/submit/", week.week_submit, name="week_submit"),
    path("timer/", timer.timer, name="timer"),
    path("timer/start/", timer.timer_start, name="timer_start"),
    path("timer/stop/", timer.timer_stop, name="timer_stop"),
    path("timer/resume/", timer.timer_resume, name="timer_resume"),
    path("timer/discard/", timer.timer_discard, name="timer_discard"),
    path("entries/add/", day.entry_create, name="entry_create"),
    path("entries/<int:pk>/", day.entry_row, name="entry_row"),
    path("entries/<int:pk>/edit/", day.entry_edit, name="entry_edit"),
    path("entries/<int:pk>/delete/", day.entry_delete, name="entry_delete"),
    path("entries/<int:pk>/split/", day.entry_split, name="entry_split"),
    path("entries/<int:pk>/duplicate/", day.entry_duplicate, name="entry_duplicate"),
    path("team/", team.team, name="team"),
    path("approvals/", team.approvals, name="approvals"),
    path("timesheets/<int:pk>/decide/", team.timesheet_decide, name="timesheet_decide"),
    path("timesheets/<int:pk>/reopen/", team.timesheet_reopen, name="timesheet_reopen"),
    path("lock-date/", team.lock_date, name="lock_date"),
]
