"""A window's scheduled run whose message was lost, or whose worker died, is sent again
(the same run) by the periodic check, once, and never while its task lives."""

import datetime as dt

import pytest
from django_celery_beat.models import PeriodicTask

from creative_engine.locks import cycle_lock
from creative_engine.models import CycleRun, RunStatus
from creative_engine.schedule import (
    RECOVERY_TASK_NAME,
    SWEEP_TASK_NAME,
    scheduled_window_for,
)
from creative_engine.services.cycle import (
    CycleAlreadyRunning,
    CycleWaitingForLock,
    cycle_execute,
    cycle_request,
    cycle_schedule_window,
)
from creative_engine.services.run_recovery import (
    cycle_recover_scheduled_runs,
    recovery_grace,
)
from creative_engine.tasks import recover_scheduled_runs, run_scheduled_cycle

NOTHING_WAITS = frozenset[str]()
PROBE = [("probe", lambda ctx: None)]


def _later(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + recovery_grace() + dt.timedelta(seconds=seconds)


def _dead_running_window_run() -> CycleRun:
    """The window's run, marked running by a worker that then died (lock free)."""
    run = cycle_schedule_window()
    CycleRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    run.refresh_from_db()
    return run


def test_the_grace_is_several_lock_beats_and_never_under_two_minutes(settings):
    settings.CYCLE_LOCK_RETRY_SECONDS = 1
    assert recovery_grace() == dt.timedelta(minutes=2)
    settings.CYCLE_LOCK_RETRY_SECONDS = 60
    assert recovery_grace() == dt.timedelta(minutes=4)


def test_a_claimed_run_whose_message_is_lost_is_sent_again_once_after_the_grace(db):
    # Given the beat claimed the window and its message never reached the broker
    run = cycle_schedule_window()
    first_token = run.dispatch_token

    # When the check looks within the grace, and again after it
    early = cycle_recover_scheduled_runs(waiting_task_ids=NOTHING_WAITS)
    late = cycle_recover_scheduled_runs(waiting_task_ids=NOTHING_WAITS, now=_later(1))

    # Then it waited, then sent the same run again under a new token, saying why
    assert early == []
    assert [d.run_id for d in late] == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert run.dispatch_token == late[0].token != first_token
    assert late[0].expires == scheduled_window_for(run.as_of) + dt.timedelta(hours=12)
    (entry,) = run.recoveries
    assert entry["action"] == "resend" and "message was lost" in entry["reason"]
    # ...and once its new message waits on the broker, nothing more is sent
    assert (
        cycle_recover_scheduled_runs(
            waiting_task_ids=frozenset({run.dispatch_token}), now=_later(60)
        )
        == []
    )


def test_a_run_whose_message_still_waits_on_the_broker_is_not_sent_again(db):
    run = cycle_schedule_window()

    sent = cycle_recover_scheduled_runs(
        waiting_task_ids=frozenset({run.dispatch_token}), now=_later(3600)
    )

    assert sent == []
    assert CycleRun.objects.get(pk=run.pk).recoveries == []


def test_a_task_waiting_for_the_lock_keeps_its_run_from_being_sent_again(db):
    # Given the window's run whose task met a manual cycle holding the lock
    run = cycle_schedule_window()
    CycleRun.objects.filter(pk=run.pk).update(
        heartbeat_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    with cycle_lock(), pytest.raises(CycleWaitingForLock):
        cycle_execute(run_id=run.pk, steps=PROBE, token=run.dispatch_token)

    # When the check runs meanwhile (its message is held by the worker, off the queue)
    sent = cycle_recover_scheduled_runs(waiting_task_ids=NOTHING_WAITS)

    # Then the wait's beat shows it alive: no second message
    assert sent == []


def test_a_running_run_whose_worker_died_is_resumed_and_a_live_one_is_not(db):
    run = _dead_running_window_run()

    with cycle_lock():  # its worker holds the lock: alive
        assert cycle_recover_scheduled_runs(waiting_task_ids=NOTHING_WAITS) == []
    sent = cycle_recover_scheduled_runs(waiting_task_ids=NOTHING_WAITS)

    assert [d.run_id for d in sent] == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert run.recoveries[0]["was"] == RunStatus.RUNNING
    assert "worker executing it is gone" in run.recoveries[0]["reason"]


def test_a_superseded_message_does_nothing_even_when_the_lock_is_busy(db):
    # Given the window's run was sent again: its first message is stale
    run = cycle_schedule_window()
    stale = run.dispatch_token
    (dispatch,) = cycle_recover_scheduled_runs(
        waiting_task_ids=NOTHING_WAITS, now=_later(1)
    )

    # When the stale message turns up, with the lock busy and then free
    with cycle_lock():
        busy = cycle_execute(run_id=run.pk, steps=PROBE, token=stale)
    free = cycle_execute(run_id=run.pk, steps=PROBE, token=stale)

    # Then it neither waits, nor refuses the scheduled run, nor runs it
    assert busy.status == free.status == RunStatus.QUEUED
    # ...and the current message runs it
    done = cycle_execute(run_id=run.pk, steps=PROBE, token=dispatch.token)
    assert done.status == RunStatus.SUCCEEDED


def test_a_manual_request_never_fails_the_windows_dead_run_and_the_check_resumes_it(
    db,
):
    # Given the window's run left running by a dead worker
    run = _dead_running_window_run()

    # When a person asks for a cycle
    with pytest.raises(CycleAlreadyRunning, match="scheduled"):
        cycle_request()

    # Then the window's run was not failed: the check resumes it
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert len(cycle_recover_scheduled_runs(waiting_task_ids=NOTHING_WAITS)) == 1


def test_a_cycle_that_finds_the_windows_run_orphaned_requeues_it_instead_of_failing(
    db,
):
    # Given the window's run orphaned by a dead worker, and a manual run queued before
    orphan = _dead_running_window_run()
    manual = CycleRun.objects.create(
        trigger="manual", status=RunStatus.QUEUED, as_of=orphan.as_of
    )

    # When the manual run takes the lock
    cycle_execute(run_id=manual.pk, steps=PROBE)

    # Then the window's run is back in the queue with no message: sent at once
    orphan.refresh_from_db()
    assert orphan.status == RunStatus.QUEUED and orphan.dispatch_token == ""
    assert "its worker was gone" in orphan.recoveries[0]["reason"]
    (dispatch,) = cycle_recover_scheduled_runs(waiting_task_ids=NOTHING_WAITS)
    assert dispatch.run_id == orphan.pk


def test_a_lost_run_whose_window_ended_is_failed_with_the_reason(db):
    run = cycle_schedule_window()
    CycleRun.objects.filter(pk=run.pk).update(
        scheduled_window=run.scheduled_window - dt.timedelta(hours=12)
    )

    sent = cycle_recover_scheduled_runs(waiting_task_ids=NOTHING_WAITS, now=_later(1))

    run.refresh_from_db()
    assert sent == []
    assert run.status == RunStatus.FAILED
    assert "window ended" in run.errors[0]["error"]


# Transactional: Celery's Django fixup closes the connection after an eager task.
@pytest.mark.django_db(transaction=True)
def test_the_periodic_check_runs_the_lost_run_and_a_stale_message_then_does_nothing():
    # Given the window's run whose message was lost long enough ago
    run = cycle_schedule_window()
    stale = run.dispatch_token
    CycleRun.objects.filter(pk=run.pk).update(
        heartbeat_at=dt.datetime.now(dt.UTC) - recovery_grace() * 2
    )

    # When the periodic check runs (in-process here: the run executes at once)
    sent = recover_scheduled_runs.apply().get()

    # Then the same run completed, once, for its window
    run.refresh_from_db()
    assert sent == 1
    assert run.status in {RunStatus.SUCCEEDED, RunStatus.PARTIAL}, run.errors
    finished = run.finished_at
    # ...and the stale message, delivered late, changes nothing
    run_scheduled_cycle.apply(kwargs={"run_id": str(run.pk), "token": stale})
    run.refresh_from_db()
    assert run.finished_at == finished
    assert CycleRun.objects.filter(scheduled_window=run.scheduled_window).count() == 1


def test_the_sweep_and_the_cycle_check_run_every_two_minutes_and_never_pile_up(db):
    # The migrations install them: a lost message or a dead worker waits minutes
    entries = {
        task.name: task
        for task in PeriodicTask.objects.filter(
            name__in=[SWEEP_TASK_NAME, RECOVERY_TASK_NAME]
        )
    }

    assert set(entries) == {SWEEP_TASK_NAME, RECOVERY_TASK_NAME}
    for task in entries.values():
        assert (task.crontab.minute, task.crontab.hour) == ("*/2", "*")
        assert task.expire_seconds == 120  # a backlog never replays old checks
        assert task.enabled
    assert entries[RECOVERY_TASK_NAME].task == "creative_engine.recover_scheduled_runs"
