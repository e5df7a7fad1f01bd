"""One real scheduled cycle per window, whatever else runs; liveness decides "running"."""

import datetime as dt
import threading
import time

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from config.celery import app as celery_app
from creative_engine.beat import CycleScheduler, scheduled_cycle_kwargs
from creative_engine.locks import cycle_lock
from creative_engine.models import CycleRun, RunStatus, RunTrigger
from creative_engine.services.cycle import (
    CycleAlreadyRunning,
    CycleWaitingForLock,
    cycle_execute,
    cycle_request,
    cycle_schedule_window,
)
from creative_engine.tasks import run_scheduled_cycle
from tests.factories import CycleRunFactory

UTC = dt.UTC


def test_the_beat_claims_the_window_so_a_manual_request_at_that_moment_is_refused(db):
    # Given the beat has fired (the window is claimed where it fires)
    claim = scheduled_cycle_kwargs()

    # When a person asks for a cycle before any worker has picked the message up
    with pytest.raises(CycleAlreadyRunning, match="scheduled production cycle"):
        cycle_request()

    # Then the window's run is queued, and it is the only run
    run = CycleRun.objects.get()
    assert claim == {"run_id": str(run.pk), "token": run.dispatch_token}
    assert run.dispatch_token
    assert run.trigger == RunTrigger.SCHEDULER and run.status == RunStatus.QUEUED


# Transactional: Celery's Django fixup closes the connection after an eager task.
@pytest.mark.django_db(transaction=True)
def test_the_beat_scheduler_hands_the_claimed_run_to_the_task_and_sends_once(
    settings,
):
    # Given the real beat entry and the engine's scheduler (tasks run in-process here)
    settings.CYCLE_LOCK_RETRY_SECONDS = 1
    call_command("setup_schedule")  # a transactional test starts from empty tables
    scheduler = CycleScheduler(app=celery_app, lazy=True)
    entry = ModelEntry(
        PeriodicTask.objects.get(name="creative-engine-cycle"), app=celery_app
    )

    # When the beat fires twice in one window
    first = scheduler.apply_async(entry, advance=False)
    second = scheduler.apply_async(entry, advance=False)

    # Then one run served the window, and the second beat sent nothing
    assert first is not None and second is None
    run = CycleRun.objects.get()
    assert run.scheduled_window is not None
    assert run.status == RunStatus.SUCCEEDED, run.errors


def test_a_scheduled_run_that_meets_a_manual_cycle_waits_instead_of_being_refused(db):
    # Given the window's run, and a manual cycle holding the lock
    run = cycle_schedule_window()
    assert run is not None

    with cycle_lock(), pytest.raises(CycleWaitingForLock):
        cycle_execute(run_id=run.pk, steps=[("probe", lambda ctx: None)])

    # Then it is still queued, its window kept; once the lock is free it runs
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    done = cycle_execute(run_id=run.pk, steps=[("probe", lambda ctx: None)])
    assert done.status == RunStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_runs_right_after_the_manual_cycle_in_its_way(settings):
    # Given a manual cycle running (holding the lock) for a moment
    settings.CYCLE_LOCK_RETRY_SECONDS = 1
    claim = scheduled_cycle_kwargs()
    assert claim is not None
    released = threading.Event()

    def manual_cycle():
        with cycle_lock():
            time.sleep(1.5)
        released.set()

    holder = threading.Thread(target=manual_cycle)
    holder.start()
    time.sleep(0.2)

    # When the beat's task runs meanwhile
    run_scheduled_cycle.apply(kwargs=claim)
    holder.join()

    # Then the window's run waited and ran after it, not refused
    run = CycleRun.objects.get(pk=claim["run_id"])
    assert released.is_set()
    assert run.status in {RunStatus.SUCCEEDED, RunStatus.PARTIAL}, run.errors
    assert run.started_at is not None


def test_a_manual_or_dry_run_never_takes_the_scheduled_runs_place(db):
    # Given a manual dry run that ran in this window
    manual = cycle_request(dry_run=True)
    cycle_execute(run_id=manual.pk, steps=[("probe", lambda ctx: None)])

    # When the beat fires in the same window
    run = cycle_schedule_window()

    # Then the window still gets its own scheduled run
    assert run is not None and run.trigger == RunTrigger.SCHEDULER
    assert not CycleRun.objects.filter(
        pk=manual.pk, scheduled_window__isnull=False
    ).exists()


def test_a_running_run_whose_worker_is_gone_is_failed_at_once_by_the_next_request(db):
    # Given a run left running a minute ago by a worker that died (nobody holds the lock)
    dead = CycleRunFactory(
        status=RunStatus.RUNNING,
        started_at=dt.datetime.now(UTC) - dt.timedelta(minutes=1),
    )

    # When a person asks for a cycle
    run = cycle_request()

    # Then the dead run is failed with the reason, and the request is accepted
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert "worker executing this run is gone" in dead.errors[0]["error"]
    assert run.status == RunStatus.QUEUED


def test_closing_a_stale_queued_run_survives_the_refusal_that_follows(db):
    # Given a queued run nobody picked up for hours, and a live running one
    stale = CycleRunFactory(status=RunStatus.QUEUED)
    CycleRun.objects.filter(pk=stale.pk).update(
        created_at=dt.datetime.now(UTC) - dt.timedelta(hours=3)
    )
    CycleRunFactory(status=RunStatus.RUNNING, started_at=dt.datetime.now(UTC))

    # When a request is refused because of the live one
    with cycle_lock(), pytest.raises(CycleAlreadyRunning):
        cycle_request()

    # Then the stale run's closing was kept (its own transaction)
    stale.refresh_from_db()
    assert stale.status == RunStatus.FAILED
