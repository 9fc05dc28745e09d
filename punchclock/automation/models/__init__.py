"""The automation app's models, one module per capability; importable from here."""

from punchclock.automation.models.notifications import (
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationSettings,
)
from punchclock.automation.models.recurring import (
    Billing,
    RecurringFrequency,
    RecurringInvoice,
    RecurringLine,
    RecurringPrice,
    RecurringRun,
)
from punchclock.automation.models.reminders import (
    LateFee,
    ReminderLevel,
    ReminderSent,
    ReminderStatus,
    ReminderTemplate,
)
from punchclock.automation.models.retainers import (
    OveragePolicy,
    Retainer,
    RetainerFrequency,
    RetainerKind,
    RetainerPeriod,
    RetainerPeriodStatus,
    UnusedPolicy,
)
from punchclock.automation.models.schedules import (
    Action,
    BillingSchedule,
    Frequency,
    RunStatus,
    ScheduleRun,
)

__all__ = [
    "Action",
    "Billing",
    "BillingSchedule",
    "EmailState",
    "Frequency",
    "LateFee",
    "Notification",
    "NotificationKind",
    "NotificationPreferences",
    "NotificationSettings",
    "OveragePolicy",
    "RecurringFrequency",
    "RecurringInvoice",
    "RecurringLine",
    "RecurringPrice",
    "RecurringRun",
    "ReminderLevel",
    "ReminderSent",
    "ReminderStatus",
    "ReminderTemplate",
    "Retainer",
    "RetainerFrequency",
    "RetainerKind",
    "RetainerPeriod",
    "RetainerPeriodStatus",
    "RunStatus",
    "ScheduleRun",
    "UnusedPolicy",
]
