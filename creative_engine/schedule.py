"""When cycles run: the 12-hour windows, and the beat entries that start them (kept in
django-celery-beat's tables, visible and pausable in the admin)."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

CYCLE_HOURS = 12

CYCLE_TASK_NAME = "creative-engine-cycle"
SWEEP_TASK_NAME = "creative-engine-sweep-stuck-work"
RECOVERY_TASK_NAME = "creative-engine-recover-scheduled-runs"
SCHEDULED_CYCLE_TASK = "creative_engine.run_scheduled_cycle"
RECOVERY_TASK = "creative_engine.recover_scheduled_runs"

# Stale beats must never replay: a cycle not started within 3 hours of its slot is dropped
# (the next window's run does the work), a sweep within 2 minutes. The sweep runs every
# 2 minutes: with heartbeat leases it re-sends only work whose worker is gone.
SCHEDULE: tuple[dict[str, Any], ...] = (
    {
        "name": CYCLE_TASK_NAME,
        "task": SCHEDULED_CYCLE_TASK,
        "crontab": {"minute": "0", "hour": "0,12"},
        "expire_seconds": 3 * 60 * 60,
        "queue": "default",
        "description": "The 12-hour production cycle (SPEC.md): 00:00 and 12:00.",
    },
    {
        "name": SWEEP_TASK_NAME,
        "task": "promotion.sweep_stuck_work",
        "crontab": {"minute": "*/2", "hour": "*"},
        "expire_seconds": 2 * 60,
        "queue": "meta",
        "description": "Re-dispatch renders/uploads stuck in a working state.",
    },
    {
        "name": RECOVERY_TASK_NAME,
        "task": RECOVERY_TASK,
        "crontab": {"minute": "*/2", "hour": "*"},
        "expire_seconds": 2 * 60,
        "queue": "meta",
        "description": (
            "Re-send this window's scheduled cycle when its message was lost or its "
            "worker died, so the window still gets its cycle."
        ),
    },
)


def scheduled_window_for(moment: dt.datetime) -> dt.datetime:
    """The start of the 12-hour window (00:00 or 12:00 in TIME_ZONE) containing `moment`."""
    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    start_hour = 0 if local.hour < CYCLE_HOURS else CYCLE_HOURS
    return local.replace(hour=start_hour, minute=0, second=0, microsecond=0)


def next_scheduled_run(moment: dt.datetime) -> dt.datetime:
    return scheduled_window_for(moment) + dt.timedelta(hours=CYCLE_HOURS)


def window_end(window_start: dt.datetime) -> dt.datetime:
    """When a window's scheduled run may no longer run (the next window begins)."""
    return window_start + dt.timedelta(hours=CYCLE_HOURS)


def schedule_ensure(
    *, periodic_task_model: Any, crontab_model: Any, timezone: str
) -> int:
    """Create or update the beat entries; keeps `enabled` as an operator left it.

    Models are passed in so the data migration can use its historical models.
    Returns how many entries were created.
    """
    created = 0
    for entry in SCHEDULE:
        schedule, _ = crontab_model.objects.get_or_create(
            minute=entry["crontab"]["minute"],
            hour=entry["crontab"]["hour"],
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=timezone,
        )
        _, was_created = periodic_task_model.objects.update_or_create(
            name=entry["name"],
            defaults={
                "task": entry["task"],
                "crontab": schedule,
                "interval": None,
                "expire_seconds": entry["expire_seconds"],
                "queue": entry["queue"],
                "description": entry["description"],
            },
        )
        created += int(was_created)
    return created
