"""Chaos: a real worker killed at random points of render and upload, against the fake
Graph API losing answers, then healed; then beats and manual triggers fired together
(one window's message lost after its claim, and sent again by the periodic check).

Seeded and bounded (about two minutes on the CI machine). Needs PostgreSQL and Redis,
where the worker is the point; skipped elsewhere. Prints the counts it asserts on.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from creative_engine.models import CycleRun, RunStatus, RunTrigger
from creative_engine.schedule import next_scheduled_run
from creative_engine.services.cycle import (
    CycleAlreadyRunning,
    cycle_execute,
    cycle_request,
    cycle_schedule_window,
)
from creative_engine.services.run_recovery import recovery_grace
from creative_engine.tasks import recover_scheduled_runs, run_scheduled_cycle
from promotion.models import PromotionLog
from promotion.tasks import sweep_stuck_work
from tests.integration.conftest import (
    TINY_RENDER,
    add_drafts,
    live_worker_env,
    tiny_live_master,
    wait_for,
)
from variants.choices import VariantStatus
from variants.models import CreativeVariant

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SEED = 1317
VARIANTS = 6
KILLS = 20
WINDOWS = 6
LOST_ANSWER_RATE = 0.25
HEAL_TIMEOUT = 120.0
# How long a kill waits for the new worker to render or upload (a loaded machine
# starts a worker slowly; a killed worker's work is re-sent only after its lease).
BUSY_WAIT = 20.0
WORKING = (
    VariantStatus.DRAFT,
    VariantStatus.RENDERING,
    VariantStatus.RENDERED,
    VariantStatus.UPLOADING,
)


def _crash_point(fake) -> str:
    """Where the kill landed: what the variants were doing, and Meta's last request."""
    working = sorted(
        {
            f"{status}:{upload}" if status == VariantStatus.UPLOADING else status
            for status, upload in CreativeVariant.objects.filter(
                status__in=[VariantStatus.RENDERING, VariantStatus.UPLOADING]
            ).values_list("status", "upload_status")
        }
    )
    last = fake.requests[-1] if fake.requests else None
    request = f"{last.method} {last.node_path.split('/')[-1]}" if last else "-"
    return f"{'+'.join(working) or 'idle'} @ {request}"


def _busy_or_out_of_work(sweep, more_drafts) -> bool:
    """Whether a variant is rendering or uploading now; sweeps meanwhile, and adds
    drafts when every variant has finished."""
    sweep.apply()
    if not CreativeVariant.objects.filter(status__in=WORKING).exists():
        more_drafts()
    return CreativeVariant.objects.filter(
        status__in=[VariantStatus.RENDERING, VariantStatus.UPLOADING]
    ).exists()


def _unlogged_requests(fake) -> int:
    """Requests the fake received beyond the PromotionLog rows for that request."""
    rows: Counter[tuple[str, str]] = Counter()
    for details in PromotionLog.objects.values_list("decision_details", flat=True):
        call = details.get("call") or {}
        if call.get("method"):
            rows[(call["method"], call["path"])] += 1
    received = Counter((r.method, r.node_path) for r in list(fake.requests))
    return sum(max(0, n - rows[key]) for key, n in received.items())


def test_killed_workers_and_lost_answers_heal_to_one_ad_per_variant_and_one_cycle_per_window(
    worker_factory, live_graph, settings, tmp_path
):
    rng = random.Random(SEED)
    # Given a short, tiny master with approved cuts and six drafts to render and upload
    master = tiny_live_master(tmp_path, settings)
    batches = iter(range(1, 100))

    def more_drafts() -> None:
        add_drafts(master, count=VARIANTS, batch=next(batches))

    more_drafts()
    # ...and Meta losing a quarter of the answers to its creates
    for path in (r"act_\d+/advideos$", r"act_\d+/adcreatives$", r"act_\d+/ads$"):
        live_graph.faults.lose_response_randomly(
            "POST", path, rate=LOST_ANSWER_RATE, seed=rng.randrange(10**6)
        )
    env = live_worker_env(
        live_graph,
        settings,
        **TINY_RENDER,
        META_TIMEOUT_SECONDS="2",
        CYCLE_LOCK_RETRY_SECONDS="1",
    )
    started = time.monotonic()

    # When a worker is killed at a random moment of its work, again and again, and
    # after each kill a new one starts and the sweep re-sends what was abandoned
    kills, points = 0, Counter()
    while kills < KILLS:
        worker = worker_factory(**env)
        # A killed worker's message counts as in flight for a lease and the longest
        # countdown, so the sweep may hold its work back for a minute: the kill
        # waits (a while, not forever) for the worker to render or upload.
        waited = time.monotonic() + BUSY_WAIT
        while not _busy_or_out_of_work(sweep_stuck_work, more_drafts):
            if time.monotonic() > waited:
                break
            time.sleep(0.5)
        time.sleep(rng.uniform(0.1, 1.5))
        points[_crash_point(live_graph)] += 1
        worker.kill()
        kills += 1
        if not CreativeVariant.objects.filter(status__in=WORKING).exists():
            more_drafts()  # everything finished: more work for the next kills
    render_upload_points = sum(
        n for point, n in points.items() if not point.startswith("idle")
    )

    # ...then a worker is left alive and the sweep heals what the kills left behind
    worker = worker_factory(**env)

    def healed() -> bool:
        sweep_stuck_work.apply()
        return not CreativeVariant.objects.filter(status__in=WORKING).exists()

    wait_for(healed, timeout=HEAL_TIMEOUT, what=f"healing\n{worker.log()}", poll=2)
    chaos_seconds = time.monotonic() - started

    # Then every variant has exactly one ad, nothing is stuck, every request is logged
    by_status = Counter(
        CreativeVariant.objects.filter(parent=master).values_list("status", flat=True)
    )
    ads_per_variant = Counter()
    for ad in live_graph.state.ads.values():
        ads_per_variant[ad["name"].rsplit("-", 1)[0]] += 1
    keys = set(
        CreativeVariant.objects.filter(parent=master).values_list(
            "meta_object_key", flat=True
        )
    )
    stuck = CreativeVariant.objects.filter(status__in=WORKING).count()
    unlogged = _unlogged_requests(live_graph)

    # When beats and manual triggers fire together for several windows
    first = next_scheduled_run(timezone.now()) + dt.timedelta(seconds=5)
    manual_outcomes = Counter()
    lost_window, resent_windows = rng.randrange(WINDOWS), 0
    for k in range(WINDOWS):
        moment = first + dt.timedelta(hours=12 * k)
        manual_first = rng.random() < 0.5
        ran_manual = threading.Event()

        def manual(at=moment, done=ran_manual):
            try:
                run = cycle_request(as_of=at, options={"generate_variants": False})
            except CycleAlreadyRunning:
                manual_outcomes["refused"] += 1
            else:
                manual_outcomes["ran"] += 1
                cycle_execute(run_id=run.pk)
            finally:
                connection.close()
                done.set()

        thread = threading.Thread(target=manual)
        if manual_first:
            thread.start()
            time.sleep(0.05)
        claims = [cycle_schedule_window(now=moment) for _ in range(2)]  # two beats
        window_run = next(c for c in claims if c is not None)
        if k != lost_window:  # one window's message is lost after its claim
            run_scheduled_cycle.apply_async(
                kwargs={
                    "run_id": str(window_run.pk),
                    "token": window_run.dispatch_token,
                },
                task_id=window_run.dispatch_token,
            )
        if not manual_first:
            thread.start()
        thread.join(timeout=60)
        if k == lost_window:  # minutes later the periodic check sends it again
            CycleRun.objects.filter(pk=window_run.pk).update(
                heartbeat_at=F("heartbeat_at") - recovery_grace()
            )
            resent_windows += recover_scheduled_runs.apply().get()
        wait_for(
            lambda pk=window_run.pk: CycleRun.objects.filter(
                pk=pk, finished_at__isnull=False
            ).exists(),
            timeout=60,
            what=f"the window's cycle\n{worker.log()}",
        )
    scheduled = CycleRun.objects.filter(trigger=RunTrigger.SCHEDULER)
    per_window = Counter(scheduled.values_list("scheduled_window", flat=True))
    real = Counter(
        scheduled.filter(
            status__in=[RunStatus.SUCCEEDED, RunStatus.PARTIAL]
        ).values_list("scheduled_window", flat=True)
    )

    print(
        f"\nchaos (seed {SEED}, {chaos_seconds:.0f}s): kills={kills} "
        f"crash_points_hit={len(points)} (render/upload kills {render_upload_points}) "
        f"ads_per_variant={sorted(ads_per_variant.values())} stuck_rows={stuck} "
        f"unlogged_calls={unlogged} requests={len(live_graph.requests)} "
        f"lost_answers={sum(1 for f in live_graph.faults.fired if f[0] == 'lose')} "
        f"statuses={dict(by_status)}\n"
        f"windows: cycles_per_window={sorted(per_window.values())} "
        f"real_cycles_per_window={sorted(real.values())} manual={dict(manual_outcomes)} "
        f"lost_window_messages_resent={resent_windows}"
        f"\ncrash points: {dict(points)}"
    )
    assert kills >= KILLS
    assert render_upload_points >= KILLS // 2, dict(points)
    assert set(by_status) == {VariantStatus.TESTING}, dict(by_status)
    assert set(ads_per_variant) == keys and set(ads_per_variant.values()) == {1}
    assert {v.meta_ad_id for v in CreativeVariant.objects.filter(parent=master)} == set(
        live_graph.state.ads
    )
    assert stuck == 0
    assert unlogged == 0
    # And every window got exactly one scheduled cycle, and it really ran
    assert len(per_window) == WINDOWS and set(per_window.values()) == {1}
    assert real == per_window, list(scheduled.values("status", "errors"))
    assert resent_windows == 1
