"""The cycle lock: held by one process at a time, released when that process dies.

PostgreSQL: a session-level advisory lock on a dedicated connection — the server drops it
the moment the worker's connection goes away, so a crashed worker never blocks the next
cycle. SQLite (one machine): an exclusive `flock` on a file beside the database, which the
kernel releases when the process exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import OperationalError, connections

logger = logging.getLogger(__name__)

# Any fixed 64-bit number; it names "the production cycle" among advisory locks.
CYCLE_LOCK_KEY = 1017_0000_0012


class LockBusy(Exception):
    """Another process holds the lock."""


@contextlib.contextmanager
def cycle_lock() -> Iterator[None]:
    """Hold the cycle lock for the duration of the block, or raise LockBusy at once."""
    vendor = connections["default"].vendor
    if vendor == "postgresql":
        with _postgres_advisory_lock(CYCLE_LOCK_KEY):
            yield
    else:
        with _file_lock(_lock_path()):
            yield


def _lock_path() -> Path:
    name = str(settings.DATABASES["default"]["NAME"])
    if name in {":memory:", ""} or name.startswith("file:"):
        return Path(settings.MEDIA_ROOT) / ".cycle.lock"
    return Path(f"{name}.cycle.lock")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockBusy("another production cycle is running") from exc
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _postgres_advisory_lock(key: int) -> Iterator[None]:
    # A connection of its own: the cycle's transactions come and go on the default
    # connection, while this one only holds the lock for as long as the cycle runs.
    # A server that is down or restarting is Django's OperationalError, as on the
    # default connection, so tasks treat it as the outage it is and retry.
    import psycopg2

    params = connections["default"].get_connection_params()
    try:
        conn = psycopg2.connect(**params)
    except psycopg2.Error as exc:
        raise OperationalError(f"cycle lock: {exc}") from exc
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            (acquired,) = cursor.fetchone()
    except psycopg2.Error as exc:
        with contextlib.suppress(psycopg2.Error):
            conn.close()
        raise OperationalError(f"cycle lock: {exc}") from exc
    try:
        if not acquired:
            raise LockBusy("another production cycle is running")
        try:
            yield
        finally:
            _unlock(conn, key)
    finally:
        with contextlib.suppress(psycopg2.Error):
            conn.close()


def _unlock(conn: Any, key: int) -> None:
    """Let go; on a connection the server already dropped the lock went with it."""
    import psycopg2

    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except psycopg2.Error:
        logger.warning("the cycle lock's connection was gone; the lock with it")
