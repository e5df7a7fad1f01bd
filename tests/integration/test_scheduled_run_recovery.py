"""A real worker on PostgreSQL + Redis: a window's scheduled run whose message is lost
after the beat claimed it, or whose worker is SIGKILLed mid-run, still runs in its
window, as the same run, once; and a run whose task waits for the lock gets no second
message."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db.models import F

from creative_engine.locks import cycle_lock
from creative_engine.models import CycleRun, RunStatus
from creative_engine.services.run_recovery import recovery_grace
from creative_engine.tasks import recover_scheduled_runs
from promotion.queued_messages import queued_task_ids
from tests.integration.conftest import (
    beat_fires,
    live_worker_env,
    purge_queues,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FAST_LOCK_RETRY = {"CYCLE_LOCK_RETRY_SECONDS": "1"}
FINISHED = {RunStatus.SUCCEEDED, RunStatus.PARTIAL}


def _finished(run: CycleRun) -> bool:
    return CycleRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists()


def _age_past_the_grace(run: CycleRun) -> None:
    """Time passes: the run's last sign of life is older than the grace."""
    CycleRun.objects.filter(pk=run.pk).update(
        heartbeat_at=F("heartbeat_at") - recovery_grace() - dt.timedelta(seconds=5)
    )


def test_a_claimed_window_whose_message_is_lost_still_gets_exactly_one_cycle(
    worker_factory,
):
    # Given the beat claimed the window and sent its message...
    run = beat_fires()
    assert run.dispatch_token in queued_task_ids()
    # ...which the broker then lost (a restart, a message never delivered)
    purge_queues()
    assert run.dispatch_token not in queued_task_ids()

    # When the periodic check runs within the grace, then after it
    assert recover_scheduled_runs.apply().get() == 0
    _age_past_the_grace(run)
    assert recover_scheduled_runs.apply().get() == 1
    resent = CycleRun.objects.get(pk=run.pk)
    # ...and again while the new message waits: nothing more is sent
    assert recover_scheduled_runs.apply().get() == 0
    assert queued_task_ids() == {resent.dispatch_token}

    # ...and a worker comes up
    worker = worker_factory(**FAST_LOCK_RETRY)
    wait_for(lambda: _finished(run), timeout=90, what=f"the cycle\n{worker.log()}")

    # Then the same run served the window, once, and says why it was sent again
    window_runs = CycleRun.objects.filter(scheduled_window=run.scheduled_window)
    assert list(window_runs.values_list("pk", flat=True)) == [run.pk]
    done = window_runs.get()
    assert done.status in FINISHED, done.errors
    assert [r["action"] for r in done.recoveries] == ["resend"]
    assert "message was lost" in done.recoveries[0]["reason"]


def test_a_worker_killed_mid_run_is_resumed_by_the_check_and_the_window_counts_once(
    worker_factory, live_graph, settings
):
    # Given a worker executing the window's run, stuck in a slow Meta read
    live_graph.faults.timeout_next("GET", r"^me$", seconds=20, work="before")
    env = live_worker_env(live_graph, settings, **FAST_LOCK_RETRY)
    first = worker_factory(**env, META_TIMEOUT_SECONDS="30")
    run = beat_fires()
    wait_for(
        lambda: (
            CycleRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).exists()
            and any(r.node_path == "me" for r in list(live_graph.requests))
        ),
        timeout=60,
        what=f"the run to start\n{first.log()}",
    )

    # When the worker is SIGKILLed mid-run
    first.kill()
    assert CycleRun.objects.get(pk=run.pk).status == RunStatus.RUNNING

    # ...a worker comes back, and the periodic check runs
    second = worker_factory(**env, META_TIMEOUT_SECONDS="5")

    def resumed() -> bool:  # the server notices the dead lock holder in a moment
        return recover_scheduled_runs.apply().get() == 1

    wait_for(resumed, timeout=20, what="the check to resume the run", poll=0.5)
    assert recover_scheduled_runs.apply().get() == 0  # its new message is in flight
    wait_for(lambda: _finished(run), timeout=90, what=f"the cycle\n{second.log()}")

    # Then the same run finished its window's cycle, once, after asking Meta again
    window_runs = CycleRun.objects.filter(scheduled_window=run.scheduled_window)
    assert window_runs.count() == 1
    done = window_runs.get()
    assert done.status in FINISHED, done.errors
    assert [(r["action"], r["was"]) for r in done.recoveries] == [("resume", "running")]
    assert sum(1 for r in list(live_graph.requests) if r.node_path == "me") >= 2


def test_a_run_whose_task_waits_for_the_lock_gets_no_second_message(worker_factory):
    # Given a manual cycle holding the lock, and the beat's run on a live worker
    worker = worker_factory(**FAST_LOCK_RETRY)
    with cycle_lock():
        run = beat_fires()
        token = run.dispatch_token
        wait_for(
            lambda: CycleRun.objects.filter(
                pk=run.pk, heartbeat_at__gt=F("dispatched_at")
            ).exists(),
            timeout=30,
            what=f"the task to wait for the lock\n{worker.log()}",
        )

        # When minutes pass (its claim is older than the grace) and the periodic
        # check runs, again and again, while the task waits
        CycleRun.objects.filter(pk=run.pk).update(
            dispatched_at=F("dispatched_at") - recovery_grace() * 2
        )
        _age_past_the_grace(run)
        sent = []
        for _ in range(5):
            time.sleep(1.5)  # a wait's beat comes every second
            sent.append(recover_scheduled_runs.apply().get())

        # Then nothing was sent again: the wait's beats show the task alive
        assert sent == [0] * 5
        assert CycleRun.objects.get(pk=run.pk).dispatch_token == token

    # ...and once the lock is free it runs, once
    wait_for(lambda: _finished(run), timeout=60, what=f"the cycle\n{worker.log()}")
    done = CycleRun.objects.get(pk=run.pk)
    assert done.status in FINISHED and done.recoveries == []
