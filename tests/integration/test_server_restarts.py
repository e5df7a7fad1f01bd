"""Real restarts, not dropped connections: a PostgreSQL server and a Redis server of
this module's own are restarted while a real Celery worker renders, uploads and runs
the window's cycle. Tasks retry with backoff and finish; the sweep and the dispatch
tokens re-send what a Redis restart lost; after healing nothing is left rendering,
uploading or running, and every variant has one ad.

Bounded (each test well under two minutes) and seeded; the shared servers on 5432
and 6379 are never touched (`tests/integration/private_servers.py`).
"""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest
from django.db.models import F

from config.task_outages import OUTAGE_ERRORS, close_database_connections
from creative_engine.models import IN_FLIGHT_STATUSES, CycleRun, RunStatus
from creative_engine.services.run_recovery import recovery_grace
from creative_engine.tasks import recover_scheduled_runs
from promotion.tasks import sweep_stuck_work
from tests.integration.conftest import (
    TINY_RENDER,
    add_drafts,
    beat_fires,
    live_worker_env,
    tiny_live_master,
    wait_for,
)
from variants.choices import VariantStatus
from variants.models import CreativeVariant

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SEED = 1313
DRAFTS = 5  # a full testing pool: the cycle renders these and generates no more
OUTAGE_SECONDS = 3.0
HEAL_TIMEOUT = 90.0
WORKING = [
    VariantStatus.DRAFT,
    VariantStatus.RENDERING,
    VariantStatus.RENDERED,
    VariantStatus.UPLOADING,
]
WORKER_ENV = {
    **TINY_RENDER,
    "CYCLE_LOCK_RETRY_SECONDS": "1",
    "WORK_LEASE_SECONDS": "10",
    "META_TIMEOUT_SECONDS": "10",
}


def _master_with_drafts(tmp_path, settings):
    master = tiny_live_master(tmp_path, settings)
    add_drafts(master, count=DRAFTS)
    return master


def _safely(check):
    """Ask the database; False (and fresh connections) while it is still down."""
    try:
        return check()
    except OUTAGE_ERRORS:
        close_database_connections()
        return False


def _periodic_tasks(resent: Counter) -> None:
    """What beat would send every two minutes: the sweep and the cycle's check;
    `resent` counts what they sent again."""
    try:
        resent.update(sweep_stuck_work.apply().get())
        resent["cycle"] += recover_scheduled_runs.apply().get()
    except OUTAGE_ERRORS:
        close_database_connections()


def _healed(resent: Counter) -> bool:
    def check() -> bool:
        _periodic_tasks(resent)
        return (
            not CreativeVariant.objects.filter(status__in=WORKING).exists()
            and not CycleRun.objects.filter(status__in=IN_FLIGHT_STATUSES).exists()
        )

    return _safely(check)


def _assert_one_ad_per_variant_and_nothing_working(master, run, fake) -> dict:
    variants = CreativeVariant.objects.filter(parent=master)
    statuses = Counter(variants.values_list("status", flat=True))
    ads_per_variant = Counter(
        ad["name"].rsplit("-", 1)[0] for ad in list(fake.state.ads.values())
    )
    assert set(statuses) == {VariantStatus.TESTING}, list(
        variants.values_list("status", "failure_reason")
    )
    assert set(ads_per_variant) == set(
        variants.values_list("meta_object_key", flat=True)
    )
    assert set(ads_per_variant.values()) == {1}, ads_per_variant
    assert set(variants.values_list("meta_ad_id", flat=True)) == set(fake.state.ads)
    assert not CreativeVariant.objects.filter(
        status__in=[VariantStatus.RENDERING, VariantStatus.UPLOADING]
    ).exists()
    assert not CycleRun.objects.filter(status__in=IN_FLIGHT_STATUSES).exists()
    window_runs = CycleRun.objects.filter(scheduled_window=run.scheduled_window)
    assert window_runs.count() == 1
    done = window_runs.get()
    assert done.status in {RunStatus.SUCCEEDED, RunStatus.PARTIAL}, done.errors
    return dict(statuses)


def _retries_in(log: str) -> Counter:
    """Outage retries the worker logged, by task."""
    return Counter(
        line.split(": ", 1)[0].rsplit(" ", 1)[-1]
        for line in log.splitlines()
        if "during an outage; retrying in" in line
    )


def _killed_by_outage(log: str) -> list[str]:
    """Tasks that failed on an outage instead of retrying (Celery's own words)."""
    return [
        line
        for line in log.splitlines()
        if "raised unexpected" in line
        and ("OperationalError" in line or "InterfaceError" in line)
    ]


def test_a_postgresql_restart_mid_cycle_and_mid_render_is_retried_and_heals(
    private_worker_factory, private_postgres, live_graph, tmp_path, settings
):
    rng = random.Random(SEED)
    # Given five drafts, a worker, and the beat firing the window's cycle, whose
    # preflight waits a few seconds on Meta
    master = _master_with_drafts(tmp_path, settings)
    live_graph.faults.timeout_next("GET", r"^me$", seconds=6, work="before")
    worker = private_worker_factory(
        **live_worker_env(live_graph, settings, **WORKER_ENV)
    )
    run = beat_fires()

    # When PostgreSQL restarts while the cycle runs (a few seconds of outage)...
    wait_for(
        lambda: (
            CycleRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).exists()
            and any(r.node_path == "me" for r in list(live_graph.requests))
        ),
        timeout=60,
        what=f"the cycle to start\n{worker.log()}",
        poll=0.05,
    )
    private_postgres.restart(outage=OUTAGE_SECONDS)
    close_database_connections()
    # ...and again while variants render or upload
    wait_for(
        lambda: _safely(
            lambda: CreativeVariant.objects.filter(
                status__in=[VariantStatus.RENDERING, VariantStatus.UPLOADING]
            ).exists()
        ),
        timeout=60,
        what=f"a render or upload\n{worker.log()}",
        poll=0.05,
    )
    time.sleep(rng.uniform(0.2, 1.0))
    private_postgres.restart(outage=OUTAGE_SECONDS)
    close_database_connections()

    # Then the tasks come back with backoff and everything finishes
    resent = Counter()
    wait_for(
        lambda: _healed(resent),
        timeout=HEAL_TIMEOUT,
        what=f"healing\n{worker.log()}",
        poll=2,
    )
    statuses = _assert_one_ad_per_variant_and_nothing_working(master, run, live_graph)
    log = worker.log_path.read_text(errors="replace")
    retries = _retries_in(log)
    print(
        f"\npostgresql restarts: statuses={statuses} "
        f"outage_retries={dict(retries)} resent={dict(+resent)}"
    )
    assert retries["creative_engine.run_scheduled_cycle"] >= 1, log
    assert sum(retries.values()) >= 2, log
    assert _killed_by_outage(log) == [], log


def test_a_redis_restart_losing_the_windows_message_and_queued_renders_heals(
    private_worker_factory, private_redis, live_graph, tmp_path, settings
):
    rng = random.Random(SEED + 1)
    # Given five drafts, and the beat's message for the window waiting on Redis
    master = _master_with_drafts(tmp_path, settings)
    run = beat_fires()

    # When Redis restarts before any worker takes it (the message is lost)...
    private_redis.restart(outage=OUTAGE_SECONDS)
    worker = private_worker_factory(
        **live_worker_env(live_graph, settings, **WORKER_ENV)
    )
    # ...minutes pass: the periodic check finds the window's run lost, sends it again
    CycleRun.objects.filter(pk=run.pk).update(
        heartbeat_at=F("heartbeat_at") - recovery_grace()
    )
    assert recover_scheduled_runs.apply().get() == 1
    # ...and Redis restarts again while renders wait in the queue behind the first
    wait_for(
        lambda: CreativeVariant.objects.filter(
            status__in=[VariantStatus.RENDERING, VariantStatus.RENDERED]
        ).exists(),
        timeout=60,
        what=f"a render\n{worker.log()}",
        poll=0.05,
    )
    time.sleep(rng.uniform(0.2, 1.0))
    private_redis.restart(outage=OUTAGE_SECONDS)

    # Then the sweep re-sends what was lost, once per variant, and all of it finishes
    resent = Counter()
    wait_for(
        lambda: _healed(resent),
        timeout=HEAL_TIMEOUT,
        what=f"healing\n{worker.log()}",
        poll=2,
    )
    statuses = _assert_one_ad_per_variant_and_nothing_working(master, run, live_graph)
    done = CycleRun.objects.get(pk=run.pk)
    print(f"\nredis restarts: statuses={statuses} resent={dict(+resent)}")
    assert [r["action"] for r in done.recoveries] == ["resend"]
    assert resent["render"] + resent["upload"] >= 1, resent  # lost in the restart
