"""Whether a window's scheduled run needs sending again: the decision, as plain data.

The beat claims the window (a queued run) and sends one message. That message can be
lost (a Redis restart, a broker that never delivered it) and the worker executing the
run can die; the window's unique row then stops any later claim, so without this the
window would have no cycle. The periodic check (`creative_engine.tasks.
recover_scheduled_runs`) asks, for each scheduled run still queued or running:

1. running: the worker executing it holds the cycle lock until it sets the final
   status. Lock held → alive. Lock free → its worker is gone: resume it (its steps
   are idempotent).
2. queued: its message waits on the broker → in flight. A task waiting for the lock
   shows life every CYCLE_LOCK_RETRY_SECONDS (`heartbeat_at`); quiet for longer than
   the grace (several of those beats) → nobody holds its message: send it again.
   When the broker cannot be asked, a much longer grace applies.
3. Past its window's end a lost run is not sent any more: it fails, with the reason
   (the next window's run does the work).

A run never gets a second message while its task lives: the task either waits on the
broker, holds the lock, or beats within the grace; and a message whose token is not
the run's any more does nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

QUEUED = "queued"
RUNNING = "running"


class RecoveryAction(enum.StrEnum):
    RESEND = "resend"  # queued, and nobody holds its message
    RESUME = "resume"  # running, and its worker is gone
    EXPIRE = "expire"  # lost, and its window has ended


@dataclass(frozen=True)
class ScheduledRunState:
    """What is known about one scheduled run that is still queued or running."""

    status: str
    window_ends_at: dt.datetime
    last_sign_of_life: dt.datetime | None  # claimed, sent, or seen waiting
    message_sent: bool  # a dispatch token was recorded
    message_waiting: bool | None  # its message is on the broker; None: cannot say
    lock_free: bool | None = None  # running only: nobody holds the cycle lock


@dataclass(frozen=True)
class Recovery:
    action: RecoveryAction
    reason: str


def scheduled_run_recovery(
    run: ScheduledRunState,
    *,
    now: dt.datetime,
    grace: dt.timedelta,
    blind_grace: dt.timedelta,
) -> Recovery | None:
    """What to do with the run (module doc); None: leave it, its task lives."""
    ended = now >= run.window_ends_at
    if run.status == RUNNING:
        if not run.lock_free:
            return None
        if ended:
            return Recovery(
                RecoveryAction.EXPIRE,
                "its worker died and its window ended before it could be resumed",
            )
        return Recovery(
            RecoveryAction.RESUME,
            "the worker executing it is gone (the cycle lock was free); resumed",
        )
    if run.status != QUEUED or run.message_waiting:
        return None
    if run.message_sent:
        quiet = None if run.last_sign_of_life is None else now - run.last_sign_of_life
        needed = grace if run.message_waiting is not None else blind_grace
        if quiet is not None and quiet < needed:
            return None
        seconds = "ever" if quiet is None else f"for {quiet.total_seconds():.0f}s"
        why = (
            "its message was lost: not on the broker, and no worker showed life "
            f"{seconds}"
        )
    else:
        why = "no message was sent for it"
    if ended:
        return Recovery(RecoveryAction.EXPIRE, f"{why}; its window ended")
    return Recovery(RecoveryAction.RESEND, f"{why}; sent again")
