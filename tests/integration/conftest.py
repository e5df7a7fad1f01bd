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
    broker = require_worker_services()
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = broker
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


def _queue_exists(conn, queue: str) -> bool:
    try:
        conn.default_channel.queue_declare(queue=queue, passive=True)
    except Exception:
        return False
    return True
