"""A real Celery worker process on the real broker, sharing the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from tests.integration.private_servers import (
    PrivatePostgres,
    PrivateRedis,
    postgres_missing,
    redis_missing,
)

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    def __init__(self, process: subprocess.Popen, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no acks — what a crashed machine does."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def require_worker_services() -> str:
    """The broker URL; skips unless a second process can see this test's database
    (PostgreSQL) and reach a broker (CELERY_BROKER_URL): CI's PostgreSQL run."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker or connection.vendor != "postgresql":
        pytest.skip("needs CELERY_BROKER_URL and PostgreSQL (the CI PostgreSQL run)")
    return broker


def purge_queues(*, unacked: bool = False) -> None:
    with celery_app.connection_for_write() as conn:
        for queue in ("default", "render", "meta"):
            if _queue_exists(conn, queue):
                conn.default_channel.queue_purge(queue)
        if unacked:
            # Messages a killed worker held would come back after the visibility
            # timeout and haunt a later run: drop them with the test.
            conn.default_channel.client.delete("unacked", "unacked_index")


def start_worker(
    *,
    broker: str,
    log_path: Path,
    queues: str = "default,render,meta",
    env: dict[str, str] | None = None,
) -> WorkerProcess:
    """`celery worker` (solo pool) on `broker` against this test's database."""
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "LOG_LEVEL": "INFO",
        **(env or {}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queues,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{log_path.stem}@%h",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = WorkerProcess(process, log_path)
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the worker did not start:\n{worker.log()}")
        time.sleep(0.2)
    return worker


@pytest.fixture
def celery_worker_process(worker_factory):
    """Start `celery worker` on the configured broker against this test's database.

    Needs PostgreSQL (a second process must see the test database) and a broker
    (CELERY_BROKER_URL); CI's PostgreSQL run has both.
    """
    return worker_factory()


@pytest.fixture
def worker_factory(tmp_path, settings):
    """Start workers (`start(**env)`) as often as a test kills them; all are killed
    and the queues purged at the end."""
    yield from _workers_on(require_worker_services(), tmp_path, settings)


def use_broker(url: str) -> None:
    """Point this process's Celery app at `url` (its producers included)."""
    conf = celery_app.conf
    if (conf.broker_url, conf.broker_write_url, conf.broker_read_url) != (url,) * 3:
        # The read and write URLs were resolved from the first one at start-up.
        conf.broker_url = conf.broker_write_url = conf.broker_read_url = url
        # kombu keeps one pool per URL for the process: pick that URL's, close none.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


def _workers_on(broker, tmp_path, settings):
    celery_app.conf.task_always_eager = False
    use_broker(broker)
    purge_queues()
    base_env = {
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "META_STUB_LATENCY_SECONDS": os.environ.get("TEST_WORKER_STUB_LATENCY", "0.3"),
        "META_STUB_UPLOAD_FAILURE_RATE": "0",
    }
    workers: list[WorkerProcess] = []

    def start(**extra_env: str) -> WorkerProcess:
        worker = start_worker(
            broker=broker,
            log_path=tmp_path / f"worker-{len(workers)}.log",
            env={**base_env, **extra_env},
        )
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.kill()
        celery_app.conf.task_always_eager = True
        purge_queues(unacked=True)


# --- private servers, for restarts -------------------------------------------------


@pytest.fixture(scope="module")
def private_postgres(django_db_setup, django_db_blocker):
    """This module's tests run on a PostgreSQL server of their own (a copy of the test
    database), which they may restart; the shared server is never touched."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "the test database must be PostgreSQL to move it onto a private server "
            "(the PostgreSQL run: DATABASE_URL)"
        )
    missing = postgres_missing()
    if missing:
        pytest.skip(missing)
    server = PrivatePostgres()
    saved = {key: connection.settings_dict.get(key) for key in ("HOST", "PORT")}
    try:
        server.start()
        db = connection.settings_dict
        server.copy_database(
            name=db["NAME"],
            host=db.get("HOST") or "127.0.0.1",
            port=str(db.get("PORT") or "5432"),
            user=db.get("USER") or "postgres",
        )
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(server.port))
        yield server
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        server.destroy()


@pytest.fixture(scope="module")
def private_redis():
    """A Redis of this module's own (no persistence), which its tests may restart."""
    missing = redis_missing()
    if missing:
        pytest.skip(missing)
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def private_worker_factory(private_postgres, private_redis, tmp_path, settings):
    """Workers on the private servers (`start(**env)`); killed at the end."""
    settings.CELERY_BROKER_URL = private_redis.url
    previous = celery_app.conf.broker_url
    try:
        yield from _workers_on(private_redis.url, tmp_path, settings)
    finally:
        use_broker(previous)


def wait_for(predicate, *, timeout: float, what: str, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")


def beat_fires():
    """The real beat entry through the engine's scheduler: claim the window, send its
    message; the window's run."""
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from creative_engine.beat import CycleScheduler
    from creative_engine.models import CycleRun
    from creative_engine.schedule import CYCLE_TASK_NAME

    call_command("setup_schedule")  # a transactional test starts from empty tables
    scheduler = CycleScheduler(app=celery_app, lazy=True)
    entry = ModelEntry(PeriodicTask.objects.get(name=CYCLE_TASK_NAME), app=celery_app)
    assert scheduler.apply_async(entry, advance=False) is not None
    return CycleRun.objects.get(
        scheduled_window__isnull=False, finished_at__isnull=True
    )


def _queue_exists(conn, queue: str) -> bool:
    try:
        conn.default_channel.queue_declare(queue=queue, passive=True)
    except Exception:
        return False
    return True


# --- what the worker tests build --------------------------------------------------


def live_worker_env(live_graph, settings, **extra: str) -> dict[str, str]:
    """A worker in live mode against the fake Graph API, on this test's account."""
    return {
        "CREATIVE_ENGINE_MODE": "live",
        "META_GRAPH_URL": live_graph.base_url,
        "META_ACCESS_TOKEN": settings.META_ACCESS_TOKEN,
        "META_AD_ACCOUNT_ID": settings.META_AD_ACCOUNT_ID,
        "META_PAGE_ID": settings.META_PAGE_ID,
        "META_DEFAULT_ADSET_ID": settings.META_DEFAULT_ADSET_ID,
        **extra,
    }


TINY_RENDER = {"RENDER_WIDTH": "144", "RENDER_HEIGHT": "256"}


def tiny_live_master(tmp_path, settings):
    """A short, tiny master with approved cuts, bound to no campaign or ad set of its
    own (live mode: the default ad set), rendered small here and on the workers."""
    from django.core.files import File

    from tests.factories import master_with_approved_cuts
    from variants.rendering.demo_media import make_synthetic_master

    settings.RENDER_WIDTH, settings.RENDER_HEIGHT = 144, 256
    video = make_synthetic_master(
        tmp_path / "master.mp4", duration=12.0, width=144, height=256
    )
    with video.open("rb") as fh:
        return master_with_approved_cuts(
            campaign_id="",
            adset_id="",
            video_url="",
            video_file=File(fh, name="master.mp4"),
            style_guide={"hashtags": ["#newmusic"]},
        )


def add_drafts(master, *, count: int, batch: int = 1) -> None:
    """`count` drafts of `master` in `batch`, each using every approved cut."""
    from tests.factories import VariantFactory
    from tests.promotion.builders import slots_of

    for n in range(1, count + 1):
        VariantFactory(
            parent=master,
            batch_number=batch,
            variant_number=n,
            fragments_order=slots_of(master),
            pixel_id=master.authorized_pixels[0],
            color_look="",
        )
