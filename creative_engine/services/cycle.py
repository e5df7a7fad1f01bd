"""The 12-hour production cycle: request it, schedule it, run it (SPEC.md's scheduler flow).

A run is a CycleRun row. Scheduled runs are unique per 12-hour window (a database
constraint), and only one cycle executes at a time (`creative_engine.locks.cycle_lock`,
which dies with a crashed worker). Every step is idempotent and resumes from the database,
so a run that died half-way is finished by the next one; a scheduled run whose message was
lost or whose worker died is sent again, as the same run, within its window
(`creative_engine.services.run_recovery`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.task_outages import OUTAGE_ERRORS
from creative_engine.locks import LockBusy, cycle_lock
from creative_engine.models import IN_FLIGHT_STATUSES, CycleRun, RunStatus, RunTrigger
from creative_engine.schedule import CYCLE_HOURS, scheduled_window_for
from creative_engine.services import steps
from creative_engine.services.cycle_context import CycleContext, CycleOptions, Step
from creative_engine.services.run_recovery import cycle_run_requeue_dead
from variants.services.work import new_dispatch_token

logger = logging.getLogger(__name__)

# A queued run nobody picked up within this long is considered lost.
STALE_QUEUED_AFTER = dt.timedelta(hours=2)


class CycleAlreadyRunning(Exception):
    """A cycle is queued or running; a manual request is refused rather than stacked."""


class CycleWaitingForLock(Exception):
    """A scheduled run met another cycle holding the lock: it stays queued and its
    task comes back (`creative_engine.tasks.run_scheduled_cycle`) instead of giving
    up its window."""


# --- requesting ----------------------------------------------------------------------


def cycle_request(
    *,
    trigger: str = RunTrigger.MANUAL,
    requested_by_id: int | None = None,
    options: dict[str, Any] | None = None,
    dry_run: bool = False,
    as_of: dt.datetime | None = None,
) -> CycleRun:
    """Create a queued manual/API run, refusing while another is queued or running.

    1. Close runs nobody is executing any more (`cycle_close_dead_runs`), in their own
       transactions, so a refusal below cannot roll the closing back.
    2. Refuse while a live run is queued or running (a scheduled run claimed by the
       beat counts: a manual run never takes its place).
    3. Create the queued run.

    The caller hands it to a worker (`creative_engine.tasks.cycle_queue`) or executes
    it at once with `cycle_execute`.
    """
    cycle_options = CycleOptions.from_dict({**(options or {}), "dry_run": dry_run})
    cycle_close_dead_runs()
    return _run_create_unless_busy(
        trigger=trigger,
        requested_by_id=requested_by_id,
        cycle_options=cycle_options,
        as_of=as_of,
    )


@transaction.atomic
def _run_create_unless_busy(
    *,
    trigger: str,
    requested_by_id: int | None,
    cycle_options: CycleOptions,
    as_of: dt.datetime | None,
) -> CycleRun:
    busy = (
        CycleRun.objects.select_for_update()
        .filter(status__in=IN_FLIGHT_STATUSES)
        .first()
    )
    if busy is not None:
        kind = "scheduled " if busy.scheduled_window else ""
        raise CycleAlreadyRunning(
            f"A {kind}production cycle is already {busy.status} (run {busy.pk}, "
            f"started {busy.started_at or busy.created_at:%Y-%m-%d %H:%M %Z}); try "
            "again when it has finished."
        )
    return CycleRun.objects.create(
        trigger=trigger,
        status=RunStatus.QUEUED,
        as_of=as_of or timezone.now(),
        dry_run=cycle_options.dry_run,
        options=cycle_options.as_dict(),
        requested_by_id=requested_by_id,
        mode=settings.CREATIVE_ENGINE_MODE,
    )


def cycle_schedule_window(*, now: dt.datetime | None = None) -> CycleRun | None:
    """Claim this 12-hour window for a scheduled run; None if another beat already did.

    Called where the beat fires (`creative_engine.beat.CycleScheduler`), so the
    window's run exists before any worker picks the message up and a manual request
    at the same moment finds it queued. The run's dispatch token is the id of the
    message the beat sends (`dispatch_token`): the periodic check can then tell
    whether that message still waits on the broker.
    """
    now = now or timezone.now()
    window = scheduled_window_for(now)
    sent_at = timezone.now()  # real time: liveness, not the cycle's clock
    try:
        with transaction.atomic():
            return CycleRun.objects.create(
                trigger=RunTrigger.SCHEDULER,
                scheduled_window=window,
                status=RunStatus.QUEUED,
                as_of=now,
                heartbeat_at=sent_at,
                dispatch_token=new_dispatch_token(),
                dispatched_at=sent_at,
                options=CycleOptions().as_dict(),
                mode=settings.CREATIVE_ENGINE_MODE,
            )
    except IntegrityError:
        logger.info(
            "window %s already has its scheduled run; skipping", window.isoformat()
        )
        return None


def _not_in_a_live_window(now: dt.datetime) -> Q:
    """Runs the periodic check does not own: manual ones, and scheduled ones whose
    window has ended. A scheduled run inside its window is resumed or sent again
    (`creative_engine.services.run_recovery`), never failed here."""
    return Q(scheduled_window__isnull=True) | Q(
        scheduled_window__lte=now - dt.timedelta(hours=CYCLE_HOURS)
    )


def cycle_close_dead_runs() -> int:
    """Fail the runs nobody is executing any more; how many. Each write commits alone.

    - `running`: liveness decides, not a timestamp. A worker takes the cycle lock
      before it marks its run running and sets the final status before it lets go,
      so a `running` run while the lock is free has lost its worker. The check holds
      the lock while it writes, so no worker can start in between.
    - `queued` with no sign of life (created, or last seen waiting for the lock) for
      STALE_QUEUED_AFTER: its message was lost.

    A scheduled run inside its window is left to the periodic check, which resumes
    it: failing it would leave the window without its cycle.
    """
    closed = 0
    now = timezone.now()
    dead_candidates = CycleRun.objects.filter(_not_in_a_live_window(now))
    if dead_candidates.filter(status=RunStatus.RUNNING).exists():
        try:
            with cycle_lock():
                closed += dead_candidates.filter(status=RunStatus.RUNNING).update(
                    status=RunStatus.FAILED,
                    finished_at=now,
                    errors=[
                        {
                            "step": "worker",
                            "error": (
                                "the worker executing this run is gone (the cycle "
                                f"lock was free at {now:%Y-%m-%d %H:%M:%S %Z}); its "
                                "work resumes with the next cycle"
                            ),
                        }
                    ],
                )
        except LockBusy:
            pass  # a live worker holds it: the running run is real
    cutoff = now - STALE_QUEUED_AFTER
    closed += (
        dead_candidates.filter(status=RunStatus.QUEUED)
        .filter(
            Q(heartbeat_at__lt=cutoff)
            | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
        )
        .update(
            status=RunStatus.FAILED,
            finished_at=now,
            errors=[{"step": "queue", "error": "never picked up by a worker"}],
        )
    )
    if closed:
        logger.error("closed %d cycle run(s) nobody was executing", closed)
    return closed


# --- executing -----------------------------------------------------------------------


def cycle_execute(
    *,
    run_id: UUID | str,
    steps: Sequence[tuple[str, Step]] | None = None,
    token: str | None = None,
) -> CycleRun:
    """Run one cycle under the cycle lock.

    `token` is the dispatch token of the message executing a scheduled run: a
    message whose token is not the run's any more (it was sent again) does nothing.

    1. Take the lock. If another process holds it, a scheduled run stays queued and
       raises CycleWaitingForLock (its task retries, its beat shows it alive); any
       other run is refused.
    2. Runs left `running` by a dead worker: manual ones are failed, they resume
       through us; a scheduled one inside its window goes back to the queue (the
       periodic check sends it again).
    3. queued (or running, resumed by its own task after an outage) → running
       (conditional: a duplicate delivery of a finished run does nothing).
    4. Run each step, timing it; a failing step is recorded and the next steps still run
       when they do not depend on it. A database or broker outage is not a step's
       failure: it leaves the run running for its task's retry, which resumes it.
    5. Save counts, timings, step failures, refusals and decisions. Only step failures
       decide the status: none → succeeded, some → partial, every step → failed.
       Refusals (one master or variant declined) are reported, not counted against it.
    """
    try:
        with cycle_lock():
            return _execute_locked(
                run_id=run_id, steps=steps or default_steps(), token=token
            )
    except LockBusy:
        scheduled = CycleRun.objects.filter(pk=run_id, scheduled_window__isnull=False)
        mine = scheduled if token is None else scheduled.filter(dispatch_token=token)
        if mine.filter(status=RunStatus.QUEUED).update(heartbeat_at=timezone.now()):
            logger.info("scheduled run %s waits for the cycle lock", run_id)
            raise CycleWaitingForLock(str(run_id)) from None
        if scheduled.exists():  # never refused: finished, or its message superseded
            logger.info("scheduled run %s: this message has nothing to do", run_id)
            return CycleRun.objects.get(pk=run_id)
        CycleRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.REFUSED,
            finished_at=timezone.now(),
            errors=[{"step": "lock", "error": "another production cycle was running"}],
        )
        logger.warning("cycle %s refused: another cycle holds the lock", run_id)
        return CycleRun.objects.get(pk=run_id)


def _close_orphans(*, run_id: UUID | str) -> None:
    """Runs left `running` while we hold the lock lost their worker (step 2)."""
    now = timezone.now()
    dead = CycleRun.objects.filter(status=RunStatus.RUNNING).exclude(pk=run_id)
    for orphan in dead.exclude(_not_in_a_live_window(now)):
        if cycle_run_requeue_dead(
            run=orphan,
            reason=f"its worker was gone when run {run_id} took the cycle lock",
        ):
            logger.error("scheduled run %s lost its worker; requeued", orphan.pk)
    for orphan in dead:
        logger.error(
            "run %s was left running by a lost worker; marking it failed", orphan.pk
        )
    dead.update(
        status=RunStatus.FAILED,
        finished_at=now,
        errors=[
            {"step": "worker", "error": f"worker lost; work resumed by run {run_id}"}
        ],
    )


def _execute_locked(
    *, run_id: UUID | str, steps: Sequence[tuple[str, Step]], token: str | None
) -> CycleRun:
    _close_orphans(run_id=run_id)
    started = timezone.now()
    # Holding the lock proves nobody else executes this run: a run left `running` by
    # this very task before a database outage resumes (its steps are idempotent).
    claim = CycleRun.objects.filter(
        pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    )
    if token is not None:
        claim = claim.filter(dispatch_token=token)
    claimed = claim.update(
        status=RunStatus.RUNNING, started_at=started, heartbeat_at=started
    )
    run = CycleRun.objects.get(pk=run_id)
    if claimed != 1:
        logger.info(
            "run %s is %s (or this message was superseded); nothing to do",
            run_id,
            run.status,
        )
        return run
    ctx = CycleContext(
        run=run, as_of=run.as_of, options=CycleOptions.from_dict(run.options)
    )
    timings: dict[str, float] = {}
    logger.info(
        "cycle %s started (as of %s, dry run %s)", run_id, ctx.as_of, ctx.dry_run
    )
    for name, step in steps:
        if ctx.stopped:
            break  # the preflight refused the account: nothing else may run
        began = time.monotonic()
        try:
            step(ctx)
        except OUTAGE_ERRORS:
            raise  # the run stays running; its task retries and resumes it
        except Exception as exc:  # recorded, then the cycle goes on with the next step
            logger.exception("cycle %s: step %s failed", run_id, name)
            ctx.fail_step(step=name, error=f"{type(exc).__name__}: {exc}")
        timings[name] = round(time.monotonic() - began, 3)
        CycleRun.objects.filter(pk=run_id).update(
            heartbeat_at=timezone.now(),
            counts=ctx.counts,
            timings=timings,
            decisions=ctx.decisions,
            errors=ctx.step_failures,
            refusals=ctx.refusals,
            alerts=ctx.alerts,
        )
    status = (
        RunStatus.FAILED
        if ctx.stopped
        else run_status_for(failed_steps=len(ctx.step_failures), steps=len(steps))
    )
    for alert in ctx.alerts:
        logger.error("cycle %s alert: %s", run_id, alert["message"])
    CycleRun.objects.filter(pk=run_id).update(status=status, finished_at=timezone.now())
    logger.info("cycle %s %s: %s", run_id, status, ctx.counts)
    return CycleRun.objects.get(pk=run_id)


def run_status_for(*, failed_steps: int, steps: int) -> RunStatus:
    """Succeeded, partial or failed, by how many steps raised (refusals do not count)."""
    if failed_steps == 0:
        return RunStatus.SUCCEEDED
    return RunStatus.FAILED if failed_steps >= steps else RunStatus.PARTIAL


def default_steps() -> list[tuple[str, Step]]:
    """SPEC.md's flow: measure, retire, generate, render+upload, promote; in live
    mode a preflight of the account comes first."""
    return [
        ("preflight", steps.preflight),
        ("collect_insights", steps.collect_insights),
        ("fatigue", steps.handle_fatigue),
        ("generate", steps.generate_variants),
        ("render_and_upload", steps.render_and_upload),
        ("promote", steps.promote_top_variants),
    ]
