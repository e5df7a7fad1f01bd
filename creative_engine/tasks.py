"""Thin Celery tasks for the cycle: take ids, call one service."""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.task_outages import OUTAGE_ERRORS, retry_after_outage
from creative_engine.models import CycleRun, RunStatus
from creative_engine.schedule import RECOVERY_TASK, SCHEDULED_CYCLE_TASK
from creative_engine.services.cycle import (
    CycleWaitingForLock,
    cycle_execute,
    cycle_schedule_window,
)
from creative_engine.services.run_recovery import (
    RunDispatch,
    cycle_recover_scheduled_runs,
)
from promotion.queued_messages import queued_task_ids

logger = logging.getLogger(__name__)

# A cycle renders and uploads; it may legitimately take most of an hour on one machine.
CYCLE_SOFT_LIMIT = 50 * 60
CYCLE_HARD_LIMIT = 55 * 60


@shared_task(
    bind=True,
    name="creative_engine.run_cycle",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=CYCLE_SOFT_LIMIT,
    time_limit=CYCLE_HARD_LIMIT,
    max_retries=0,
)
def run_cycle(self, run_id: str) -> None:  # type: ignore[no-untyped-def]
    """Execute a requested run; a database or broker outage is retried with backoff
    (the run resumes: its steps are idempotent)."""
    try:
        cycle_execute(run_id=run_id)
    except OUTAGE_ERRORS as exc:
        retry_after_outage(self, exc)


def cycle_queue(run_id: str) -> None:
    """Hand a requested run (`cycle_request`) to a worker once its row is committed;
    in-process when no broker is configured."""
    transaction.on_commit(lambda: run_cycle.delay(run_id))


def _lock_wait_bound() -> float:
    """How long a scheduled run waits for the cycle lock: longer than any cycle may
    hold it (the hard time limit), so it always runs right after the one in its way."""
    return float(CYCLE_HARD_LIMIT + 5 * 60)


@shared_task(
    bind=True,
    name=SCHEDULED_CYCLE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=CYCLE_SOFT_LIMIT,
    time_limit=CYCLE_HARD_LIMIT,
    max_retries=None,
)
def run_scheduled_cycle(  # type: ignore[no-untyped-def]
    self, run_id: str | None = None, token: str | None = None
) -> None:
    """Beat's entry point: run the window's run, claimed when the beat fired.

    The beat (`creative_engine.beat.CycleScheduler`) claims the window and passes
    `run_id` and the run's dispatch `token` (also this message's id); without them (a
    beat on another scheduler, a hand-sent task) the window is claimed here, once,
    whatever the number of beats. When another cycle holds the lock the run stays
    queued and this task comes back every CYCLE_LOCK_RETRY_SECONDS until it runs,
    within a bound longer than any cycle. A message the periodic check replaced
    (`recover_scheduled_runs`) does nothing.
    """
    if run_id is None:
        run = cycle_schedule_window()
        if run is None:
            return
        run_id, token = str(run.pk), run.dispatch_token
    pause = float(settings.CYCLE_LOCK_RETRY_SECONDS)
    while True:
        try:
            cycle_execute(run_id=run_id, token=token)
            return
        except OUTAGE_ERRORS as exc:
            retry_after_outage(self, exc)
        except CycleWaitingForLock:
            waited = _waited_seconds(run_id)
            if waited > _lock_wait_bound():
                _give_up_waiting(run_id, waited)
                return
            if self.request.is_eager:
                time.sleep(pause)
                continue
            raise self.retry(countdown=pause) from None


def _waited_seconds(run_id: str) -> float:
    """Since the run's message was sent (a run sent again waits afresh)."""
    row = CycleRun.objects.filter(pk=run_id).values_list("dispatched_at", "created_at")
    first = row.first()
    if first is None:
        return 0.0
    return (timezone.now() - (first[0] or first[1])).total_seconds()


def _give_up_waiting(run_id: str, waited: float) -> None:
    CycleRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        errors=[
            {
                "step": "lock",
                "error": f"waited {waited:.0f}s for the cycle lock; another cycle "
                "never let go",
            }
        ],
    )
    logger.error("scheduled run %s gave up waiting for the cycle lock", run_id)


@shared_task(bind=True, name=RECOVERY_TASK, acks_late=True, ignore_result=True)
def recover_scheduled_runs(self) -> int:  # type: ignore[no-untyped-def]
    """Every few minutes: send this window's scheduled run again when its message was
    lost or its worker died (`cycle_recover_scheduled_runs`); how many were sent."""
    try:
        dispatches = cycle_recover_scheduled_runs(waiting_task_ids=queued_task_ids())
    except OUTAGE_ERRORS as exc:
        retry_after_outage(self, exc)
    for dispatch in dispatches:
        scheduled_run_send(dispatch)
    return len(dispatches)


def scheduled_run_send(dispatch: RunDispatch) -> None:
    """The run's one message: its token is the task id, and it expires with the
    window. A failed send is logged; the next check sends it again."""
    try:
        run_scheduled_cycle.apply_async(
            kwargs={"run_id": str(dispatch.run_id), "token": dispatch.token},
            task_id=dispatch.token,
            expires=dispatch.expires,
        )
    except OUTAGE_ERRORS:
        logger.exception("could not send scheduled run %s", dispatch.run_id)
