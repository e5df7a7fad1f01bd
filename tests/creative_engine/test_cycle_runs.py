"""One cycle at a time, one scheduled cycle per window, and a crash never blocks the next."""

import datetime as dt
import threading
import time

import pytest
from django_celery_beat.models import PeriodicTask

from creative_engine.locks import cycle_lock
from creative_engine.models import CycleRun, RunStatus
from creative_engine.schedule import scheduled_window_for
from creative_engine.services.cycle import (
    CycleAlreadyRunning,
    cycle_execute,
    cycle_request,
    cycle_schedule_window,
)
from tests.factories import CycleRunFactory, ProductionFactory

UTC = dt.UTC


@pytest.mark.parametrize(
    ("moment", "window"),
    [
        (
            dt.datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
            dt.datetime(2026, 3, 1, 0, tzinfo=UTC),
        ),
        (
            dt.datetime(2026, 3, 1, 11, 59, tzinfo=UTC),
            dt.datetime(2026, 3, 1, 0, tzinfo=UTC),
        ),
        (
            dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            dt.datetime(2026, 3, 1, 12, tzinfo=UTC),
        ),
        (
            dt.datetime(2026, 3, 1, 23, 59, tzinfo=UTC),
            dt.datetime(2026, 3, 1, 12, tzinfo=UTC),
        ),
    ],
)
def test_scheduled_window_is_the_half_day_containing_the_moment(moment, window):
    assert scheduled_window_for(moment) == window


def test_the_beat_entries_run_at_midnight_and_noon_with_an_expiry(db):
    task = PeriodicTask.objects.get(name="creative-engine-cycle")

    assert task.task == "creative_engine.run_scheduled_cycle"
    assert (task.crontab.minute, task.crontab.hour) == ("0", "0,12")
    assert str(task.crontab.timezone) == "UTC"
    assert task.expire_seconds and task.expire_seconds <= 6 * 3600
    assert task.enabled


def test_two_beats_in_one_window_schedule_one_run(db):
    moment = dt.datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)

    first = cycle_schedule_window(now=moment)
    second = cycle_schedule_window(now=moment + dt.timedelta(minutes=3))

    assert first is not None and second is None
    assert CycleRun.objects.filter(scheduled_window__isnull=False).count() == 1


def test_the_next_window_gets_its_own_run(db):
    cycle_schedule_window(now=dt.datetime(2026, 3, 1, 1, tzinfo=UTC))

    later = cycle_schedule_window(now=dt.datetime(2026, 3, 1, 13, tzinfo=UTC))

    assert later is not None
    assert CycleRun.objects.count() == 2


def test_a_manual_request_while_a_cycle_runs_is_refused_with_a_clear_message(db):
    # Given a running run whose worker is alive (it holds the cycle lock)
    CycleRunFactory(status=RunStatus.RUNNING, started_at=dt.datetime.now(UTC))

    with cycle_lock(), pytest.raises(CycleAlreadyRunning, match="already running"):
        cycle_request()


def test_a_manual_request_otherwise_runs(db):
    calls = []
    run = cycle_request(options={"promote_top_3": False})

    finished = cycle_execute(
        run_id=run.pk, steps=[("probe", lambda ctx: calls.append(ctx))]
    )

    assert finished.status == RunStatus.SUCCEEDED
    assert calls[0].options.promote_top_3 is False
    assert finished.timings.keys() == {"probe"}


def test_a_run_is_refused_while_another_process_holds_the_lock(db):
    run = cycle_request()

    with cycle_lock():
        result = cycle_execute(run_id=run.pk, steps=[("never", lambda ctx: None)])

    assert result.status == RunStatus.REFUSED
    assert "another production cycle" in result.errors[0]["error"]


@pytest.mark.django_db(transaction=True)
def test_two_cycles_started_at_once_run_one():
    runs = [CycleRunFactory(status=RunStatus.QUEUED) for _ in range(2)]
    entered = []

    def slow_step(ctx):
        entered.append(ctx.run_id)
        time.sleep(0.5)

    results = {}

    def execute(run_id):
        results[run_id] = cycle_execute(
            run_id=run_id, steps=[("slow", slow_step)]
        ).status

    threads = [threading.Thread(target=execute, args=(r.pk,)) for r in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(entered) == 1
    assert sorted(results.values()) == sorted([RunStatus.SUCCEEDED, RunStatus.REFUSED])


def test_a_run_left_running_by_a_dead_worker_is_closed_by_the_next_cycle(db):
    orphan = CycleRunFactory(status=RunStatus.RUNNING)
    run = CycleRunFactory(status=RunStatus.QUEUED)

    cycle_execute(run_id=run.pk, steps=[("noop", lambda ctx: None)])

    orphan.refresh_from_db()
    assert orphan.status == RunStatus.FAILED
    assert "worker lost" in orphan.errors[0]["error"]


def test_a_failing_step_is_recorded_and_later_steps_still_run(db):
    run = CycleRunFactory(status=RunStatus.QUEUED)
    ran = []

    def broken(ctx):
        raise RuntimeError("Meta is down")

    result = cycle_execute(
        run_id=run.pk, steps=[("broken", broken), ("after", lambda ctx: ran.append(1))]
    )

    assert result.status == RunStatus.PARTIAL
    assert result.errors == [{"step": "broken", "error": "RuntimeError: Meta is down"}]
    assert ran == [1]


def test_refusals_for_many_masters_do_not_fail_a_cycle_whose_steps_all_ran(db):
    # Given more masters without approved fragments than the cycle has steps
    masters = [ProductionFactory() for _ in range(7)]
    run = cycle_request()

    # When the full cycle runs
    result = cycle_execute(run_id=run.pk)

    # Then every step ran: the run succeeded, and each master's refusal is reported
    assert result.status == RunStatus.SUCCEEDED
    assert result.errors == []
    assert len(result.refusals) == len(masters)
    assert {r["master_id"] for r in result.refusals} == {str(m.pk) for m in masters}
    assert {r["step"] for r in result.refusals} == {"generate"}
    assert set(result.timings) == {
        "preflight",
        "collect_insights",
        "fatigue",
        "generate",
        "render_and_upload",
        "promote",
    }


def test_a_cycle_fails_only_when_every_step_failed(db):
    def broken(ctx):
        raise RuntimeError("database gone")

    run = CycleRunFactory(status=RunStatus.QUEUED)
    result = cycle_execute(run_id=run.pk, steps=[("a", broken), ("b", broken)])

    assert result.status == RunStatus.FAILED
    assert [e["step"] for e in result.errors] == ["a", "b"]


def test_a_duplicate_delivery_of_the_same_run_does_nothing(db):
    run = CycleRunFactory(status=RunStatus.QUEUED)
    calls = []
    cycle_execute(run_id=run.pk, steps=[("count", lambda ctx: calls.append(1))])

    cycle_execute(run_id=run.pk, steps=[("count", lambda ctx: calls.append(1))])

    assert calls == [1]
