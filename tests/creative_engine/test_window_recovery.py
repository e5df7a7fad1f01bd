"""The decision whether a window's scheduled run is sent again: plain data, no database."""

import datetime as dt

import pytest

from creative_engine.window_recovery import (
    QUEUED,
    RUNNING,
    RecoveryAction,
    ScheduledRunState,
    scheduled_run_recovery,
)

NOW = dt.datetime(2026, 3, 2, 0, 10, tzinfo=dt.UTC)
WINDOW_ENDS = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(minutes=2)
BLIND_GRACE = dt.timedelta(minutes=30)


def queued(*, quiet: dt.timedelta, waiting: bool | None = False, sent: bool = True):
    return ScheduledRunState(
        status=QUEUED,
        window_ends_at=WINDOW_ENDS,
        last_sign_of_life=NOW - quiet,
        message_sent=sent,
        message_waiting=waiting,
    )


def running(*, lock_free: bool):
    return ScheduledRunState(
        status=RUNNING,
        window_ends_at=WINDOW_ENDS,
        last_sign_of_life=NOW - dt.timedelta(minutes=5),
        message_sent=True,
        message_waiting=False,
        lock_free=lock_free,
    )


def decide(run, *, now=NOW):
    return scheduled_run_recovery(run, now=now, grace=GRACE, blind_grace=BLIND_GRACE)


def test_a_queued_run_whose_message_waits_on_the_broker_is_left_alone_however_old():
    assert decide(queued(quiet=dt.timedelta(hours=5), waiting=True)) is None


def test_a_queued_run_that_showed_life_within_the_grace_is_left_to_its_task():
    # Its task waits for the lock: off the broker (held by the worker), beating.
    assert decide(queued(quiet=GRACE - dt.timedelta(seconds=1))) is None


def test_a_queued_run_off_the_broker_and_quiet_past_the_grace_is_sent_again():
    recovery = decide(queued(quiet=GRACE + dt.timedelta(seconds=1)))

    assert recovery is not None and recovery.action == RecoveryAction.RESEND
    assert "message was lost" in recovery.reason and "121s" in recovery.reason


def test_when_the_broker_cannot_say_only_the_long_grace_sends_it_again():
    almost = queued(quiet=BLIND_GRACE - dt.timedelta(seconds=1), waiting=None)
    past = queued(quiet=BLIND_GRACE + dt.timedelta(seconds=1), waiting=None)

    assert decide(almost) is None
    assert decide(past).action == RecoveryAction.RESEND


def test_a_queued_run_with_no_message_recorded_is_sent_at_once():
    recovery = decide(queued(quiet=dt.timedelta(0), sent=False))

    assert recovery.action == RecoveryAction.RESEND
    assert recovery.reason.startswith("no message was sent")


def test_a_running_run_is_resumed_only_when_the_cycle_lock_is_free():
    assert decide(running(lock_free=False)) is None
    recovery = decide(running(lock_free=True))

    assert recovery.action == RecoveryAction.RESUME
    assert "worker executing it is gone" in recovery.reason


@pytest.mark.parametrize(
    "run",
    [running(lock_free=True), queued(quiet=dt.timedelta(hours=1))],
    ids=["dead worker", "lost message"],
)
def test_a_lost_run_is_failed_not_sent_once_its_window_has_ended(run):
    recovery = decide(run, now=WINDOW_ENDS)

    assert recovery.action == RecoveryAction.EXPIRE
    assert "window ended" in recovery.reason


def test_a_finished_run_is_never_touched():
    done = ScheduledRunState(
        status="succeeded",
        window_ends_at=WINDOW_ENDS,
        last_sign_of_life=None,
        message_sent=True,
        message_waiting=False,
        lock_free=True,
    )

    assert decide(done) is None
