"""The 12-hour production cycle: request it, schedule it, run it (SPEC.md's scheduler flow).

A run is a CycleRun row. Scheduled runs are unique per 12-hour window (a database
constraint), and only one cycle executes at a time (`creative_engine.locks.cycle_lock`,
which dies with a crashed worker). Every step is idempotent and resumes from the database,
so a run that died half-way is finished by the next one.
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
from django.utils import timezone

from creative_engine.locks import LockBusy, cycle_lock
from creative_engine.models import IN_FLIGHT_STATUSES, CycleRun, RunStatus, RunTrigger
from creative_engine.schedule import scheduled_window_for
from creative_engine.services import steps
from creative_engine.services.cycle_context import CycleContext, CycleOptions, Step

logger = logging.getLogger(__name__)

# A queued run nobody picked up within this long is considered lost.
STALE_QUEUED_AFTER = dt.timedelta(hours=2)


class CycleAlreadyRunning(Exception):
    """A cycle is queued or running; a manual request is refused rather than stacked."""


# --- requesting ----------------------------------------------------------------------


@transaction.atomic
def cycle_request(
    *,
    trigger: str = RunTrigger.MANUAL,
    requested_by_id: int | None = None,
    options: dict[str, Any] | None = None,
    dry_run: bool = False,
    as_of: dt.datetime | None = None,
) -> CycleRun:
    """Create a queued manual/API run, refusing while another is queued or running.

    The caller hands it to a worker (`creative_engine.tasks.cycle_queue`) or executes
    it at once with `cycle_execute`.
    """
    cycle_options = CycleOptions.from_dict({**(options or {}), "dry_run": dry_run})
    _expire_stale_runs()
    busy = (
        CycleRun.objects.select_for_update()
        .filter(status__in=IN_FLIGHT_STATUSES)
        .first()
    )
    if busy is not None:
        raise CycleAlreadyRunning(
            f"A production cycle is already {busy.status} (run {busy.pk}, started "
            f"{busy.started_at or busy.created_at:%Y-%m-%d %H:%M %Z}); try again when it "
            "has finished."
        )
    run = CycleRun.objects.create(
        trigger=trigger,
        status=RunStatus.QUEUED,
        as_of=as_of or timezone.now(),
        dry_run=cycle_options.dry_run,
        options=cycle_options.as_dict(),
        requested_by_id=requested_by_id,
        mode=settings.CREATIVE_ENGINE_MODE,
    )
    return run


def cycle_schedule_window(*, now: dt.datetime | None = None) -> CycleRun | None:
    """Claim this 12-hour window for a scheduled run; None if another beat already did."""
    now = now or timezone.now()
    window = scheduled_window_for(now)
    try:
        with transaction.atomic():
            return CycleRun.objects.create(
                trigger=RunTrigger.SCHEDULER,
                scheduled_window=window,
                status=RunStatus.QUEUED,
                as_of=now,
                options=CycleOptions().as_dict(),
                mode=settings.CREATIVE_ENGINE_MODE,
            )
    except IntegrityError:
        logger.info(
            "window %s already has its scheduled run; skipping", window.isoformat()
        )
        return None


def _expire_stale_runs() -> None:
    """Queued runs nobody picked up for hours are marked failed, so they block nothing.

    Running runs are not touched here: only the holder of the cycle lock can tell
    whether a running run is alive (see `cycle_execute`).
    """
    cutoff = timezone.now() - STALE_QUEUED_AFTER
    CycleRun.objects.filter(status=RunStatus.QUEUED, created_at__lt=cutoff).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        errors=[{"step": "queue", "error": "never picked up by a worker"}],
    )


# --- executing -----------------------------------------------------------------------


def cycle_execute(
    *, run_id: UUID | str, steps: Sequence[tuple[str, Step]] | None = None
) -> CycleRun:
    """Run one cycle under the cycle lock.

    1. Take the lock (refuse the run if another process holds it).
    2. Mark runs left `running` by a dead worker as failed; they resume through us.
    3. queued → running (conditional: a duplicate delivery of the task does nothing).
    4. Run each step, timing it; a failing step is recorded and the next steps still run
       when they do not depend on it.
    5. Save counts, timings, step failures, refusals and decisions. Only step failures
       decide the status: none → succeeded, some → partial, every step → failed.
       Refusals (one master or variant declined) are reported, not counted against it.
    """
    try:
        with cycle_lock():
            return _execute_locked(run_id=run_id, steps=steps or default_steps())
    except LockBusy:
        CycleRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.REFUSED,
            finished_at=timezone.now(),
            errors=[{"step": "lock", "error": "another production cycle was running"}],
        )
        logger.warning("cycle %s refused: another cycle holds the lock", run_id)
        return CycleRun.objects.get(pk=run_id)


def _execute_locked(
    *, run_id: UUID | str, steps: Sequence[tuple[str, Step]]
) -> CycleRun:
    dead = CycleRun.objects.filter(status=RunStatus.RUNNING).exclude(pk=run_id)
    for orphan in dead:
        logger.error(
            "run %s was left running by a lost worker; marking it failed", orphan.pk
        )
    dead.update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        errors=[
            {"step": "worker", "error": f"worker lost; work resumed by run {run_id}"}
        ],
    )
    started = timezone.now()
    claimed = CycleRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=started, heartbeat_at=started
    )
    run = CycleRun.objects.get(pk=run_id)
    if claimed != 1:
        logger.info("run %s is %s, not queued; nothing to do", run_id, run.status)
        return run
    ctx = CycleContext(
        run=run, as_of=run.as_of, options=CycleOptions.from_dict(run.options)
    )
    timings: dict[str, float] = {}
    logger.info(
        "cycle %s started (as of %s, dry run %s)", run_id, ctx.as_of, ctx.dry_run
    )
    for name, step in steps:
        began = time.monotonic()
        try:
            step(ctx)
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
    status = run_status_for(failed_steps=len(ctx.step_failures), steps=len(steps))
    CycleRun.objects.filter(pk=run_id).update(status=status, finished_at=timezone.now())
    logger.info("cycle %s %s: %s", run_id, status, ctx.counts)
    return CycleRun.objects.get(pk=run_id)


def run_status_for(*, failed_steps: int, steps: int) -> RunStatus:
    """Succeeded, partial or failed, by how many steps raised (refusals do not count)."""
    if failed_steps == 0:
        return RunStatus.SUCCEEDED
    return RunStatus.FAILED if failed_steps >= steps else RunStatus.PARTIAL


def default_steps() -> list[tuple[str, Step]]:
    """SPEC.md's flow: measure, retire, generate, render+upload, promote."""
    return [
        ("collect_insights", steps.collect_insights),
        ("fatigue", steps.handle_fatigue),
        ("generate", steps.generate_variants),
        ("render_and_upload", steps.render_and_upload),
        ("promote", steps.promote_top_variants),
    ]
