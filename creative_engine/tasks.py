"""Thin Celery tasks for the cycle: take ids, call one service."""

import logging

from celery import shared_task
from django.db import transaction

from creative_engine.services.cycle import cycle_execute, cycle_schedule_window

logger = logging.getLogger(__name__)

# A cycle renders and uploads; it may legitimately take most of an hour on one machine.
CYCLE_SOFT_LIMIT = 50 * 60
CYCLE_HARD_LIMIT = 55 * 60


@shared_task(
    name="creative_engine.run_cycle",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=CYCLE_SOFT_LIMIT,
    time_limit=CYCLE_HARD_LIMIT,
)
def run_cycle(run_id: str) -> None:
    cycle_execute(run_id=run_id)


def cycle_queue(run_id: str) -> None:
    """Hand a requested run (`cycle_request`) to a worker once its row is committed;
    in-process when no broker is configured."""
    transaction.on_commit(lambda: run_cycle.delay(run_id))


@shared_task(
    name="creative_engine.run_scheduled_cycle",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=CYCLE_SOFT_LIMIT,
    time_limit=CYCLE_HARD_LIMIT,
)
def run_scheduled_cycle() -> None:
    """Beat's entry point: claim the window (once, whatever the number of beats), run."""
    run = cycle_schedule_window()
    if run is None:
        return
    cycle_execute(run_id=run.pk)
