"""Scheduled runs whose message was lost or whose worker died are sent again.

The decision is `creative_engine.window_recovery.scheduled_run_recovery` (plain data);
this module gathers what it needs (the broker's waiting messages, the cycle lock) and
applies it with one conditional UPDATE per run, so two checks racing send one message.
The task layer sends what it returns (`creative_engine.tasks`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from creative_engine.locks import LockBusy, cycle_lock
from creative_engine.models import IN_FLIGHT_STATUSES, CycleRun, RunStatus
from creative_engine.schedule import window_end
from creative_engine.window_recovery import (
    Recovery,
    RecoveryAction,
    ScheduledRunState,
    scheduled_run_recovery,
)
from variants.services.work import new_dispatch_token

logger = logging.getLogger(__name__)

# A waiting task shows life every CYCLE_LOCK_RETRY_SECONDS; this many missed beats
# (and never less than the check's own period) mean nobody holds its message.
MISSED_BEATS = 4
MIN_GRACE = dt.timedelta(minutes=2)


def recovery_grace() -> dt.timedelta:
    """How long a queued scheduled run may be quiet, off the broker, before it is
    sent again."""
    return max(MIN_GRACE, MISSED_BEATS * dt.timedelta(seconds=_lock_retry_seconds()))


def _lock_retry_seconds() -> int:
    return int(settings.CYCLE_LOCK_RETRY_SECONDS)


@dataclass(frozen=True)
class RunDispatch:
    """A message to send: the run, its new token (the task id), and when it stops
    being worth running (the window's end)."""

    run_id: UUID
    token: str
    expires: dt.datetime


def cycle_recover_scheduled_runs(
    *, waiting_task_ids: frozenset[str] | None, now: dt.datetime | None = None
) -> list[RunDispatch]:
    """Decide and record, for each scheduled run still queued or running, whether it
    is sent again, resumed or failed (its window over); the messages to send.

    1. A running run is looked at under the cycle lock: if the lock is busy its
       worker lives (nothing to do); if not, nobody can start it while we write.
    2. The decision (`scheduled_run_recovery`), then one conditional UPDATE on the
       status and token seen, recording why in `recoveries` and a new token.
    """
    now = now or timezone.now()
    dispatches: list[RunDispatch] = []
    runs = CycleRun.objects.filter(
        scheduled_window__isnull=False, status__in=IN_FLIGHT_STATUSES
    ).order_by("scheduled_window")
    for run in runs:
        if run.status == RunStatus.RUNNING:
            try:
                with cycle_lock():
                    dispatch = _recover(run, waiting_task_ids, now, lock_free=True)
            except LockBusy:
                continue  # its worker holds the lock: alive
        else:
            dispatch = _recover(run, waiting_task_ids, now, lock_free=None)
        if dispatch is not None:
            dispatches.append(dispatch)
    return dispatches


def _recover(
    run: CycleRun,
    waiting_task_ids: frozenset[str] | None,
    now: dt.datetime,
    *,
    lock_free: bool | None,
) -> RunDispatch | None:
    assert run.scheduled_window is not None
    ends = window_end(run.scheduled_window)
    waiting = (
        None
        if waiting_task_ids is None
        else bool(run.dispatch_token) and run.dispatch_token in waiting_task_ids
    )
    state = ScheduledRunState(
        status=run.status,
        window_ends_at=ends,
        last_sign_of_life=run.heartbeat_at or run.dispatched_at or run.created_at,
        message_sent=bool(run.dispatch_token),
        message_waiting=waiting,
        lock_free=lock_free,
    )
    recovery = scheduled_run_recovery(
        state,
        now=now,
        grace=recovery_grace(),
        blind_grace=dt.timedelta(seconds=settings.DISPATCH_STALE_SECONDS),
    )
    if recovery is None:
        return None
    token = new_dispatch_token()
    changes: dict[str, Any] = {
        "recoveries": [*run.recoveries, _entry(recovery, now, run.status)],
    }
    if recovery.action == RecoveryAction.EXPIRE:
        changes.update(
            status=RunStatus.FAILED,
            finished_at=now,
            errors=[{"step": "schedule", "error": recovery.reason}],
        )
    else:
        changes.update(
            status=RunStatus.QUEUED,
            dispatch_token=token,
            dispatched_at=now,
            heartbeat_at=now,
        )
    changed = CycleRun.objects.filter(
        pk=run.pk, status=run.status, dispatch_token=run.dispatch_token
    ).update(**changes)
    if not changed:
        return None  # someone else moved it meanwhile
    logger.warning(
        "scheduled run %s (window %s): %s",
        run.pk,
        run.scheduled_window.isoformat(),
        recovery.reason,
    )
    if recovery.action == RecoveryAction.EXPIRE:
        return None
    return RunDispatch(run_id=run.pk, token=token, expires=ends)


def cycle_run_requeue_dead(*, run: CycleRun, reason: str) -> bool:
    """Put a scheduled run whose worker died back in the queue, with no message, so
    the next check sends it at once (called under the cycle lock)."""
    now = timezone.now()
    entry = _entry(Recovery(RecoveryAction.RESUME, reason), now, run.status)
    return bool(
        CycleRun.objects.filter(
            pk=run.pk, status=RunStatus.RUNNING, dispatch_token=run.dispatch_token
        ).update(
            status=RunStatus.QUEUED,
            dispatch_token="",
            recoveries=[*run.recoveries, entry],
        )
    )


def _entry(recovery: Recovery, now: dt.datetime, was: str) -> dict[str, str]:
    return {
        "at": now.isoformat(),
        "action": str(recovery.action),
        "was": was,
        "reason": recovery.reason,
    }
