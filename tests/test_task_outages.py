"""A PostgreSQL restart is a transient error for tasks: the connection is closed and
the task retried with backoff; the retry reconnects."""

from __future__ import annotations

import psycopg2
import pytest
from celery.exceptions import Retry
from django.db import OperationalError, connection

from config.task_outages import (
    OUTAGE_ERRORS,
    OUTAGE_MAX_COUNTDOWN,
    outage_countdown,
)
from promotion.tasks import sweep_stuck_work


def _terminate_my_backend() -> None:
    """What a PostgreSQL restart does to this process's connection."""
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    other = psycopg2.connect(**params)
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()


@pytest.mark.django_db(transaction=True)
def test_a_task_meeting_a_dropped_connection_retries_and_the_retry_reconnects():
    if connection.vendor != "postgresql":
        pytest.skip("a dropped server connection needs PostgreSQL")
    # Given a worker whose database connection the server dropped (a restart)
    connection.ensure_connection()
    _terminate_my_backend()

    # When a task meets it on its next query, on a worker (not in-process)
    request = {"is_eager": False, "retries": 0, "called_directly": False}
    sweep_stuck_work.push_request(**request)
    try:
        with pytest.raises(Retry) as retry:
            sweep_stuck_work.run()
    finally:
        sweep_stuck_work.pop_request()

    # Then it is retried after a short backoff, and the retry's queries work
    assert isinstance(retry.value.exc, OUTAGE_ERRORS)
    assert 0 < float(retry.value.when) <= OUTAGE_MAX_COUNTDOWN
    assert sweep_stuck_work.run() is not None


def test_outage_backoff_grows_and_stays_bounded():
    waits = [outage_countdown(n) for n in range(12)]

    assert waits[0] <= 1.0 < waits[4]
    assert max(waits) <= OUTAGE_MAX_COUNTDOWN
    assert OperationalError in OUTAGE_ERRORS
