"""Database and broker outages are transient for every task.

A PostgreSQL restart drops every connection (OperationalError on the next query,
InterfaceError "connection already closed" after it); a Redis restart fails publishes.
A task meeting one closes its database connections, so the retry opens fresh ones,
and comes back with exponential backoff (1 s, 2 s, 4 s, … at most 60 s) within a
bound. Work a task held stays leased to the same task id, so its retry takes it back.
"""

from __future__ import annotations

import logging
import random
from typing import Any, NoReturn

from django.db import InterfaceError, OperationalError, connections
from kombu.exceptions import OperationalError as BrokerOperationalError

logger = logging.getLogger(__name__)

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    BrokerOperationalError,
)
OUTAGE_MAX_RETRIES = 10
OUTAGE_MAX_COUNTDOWN = 60.0


def outage_countdown(retries: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: about 1, 2, 4, … seconds, at most a minute."""
    base = min(OUTAGE_MAX_COUNTDOWN, 2.0 ** min(retries, 10))
    return round(base * (0.5 + (rng or random.Random()).random() / 2), 2)


def close_database_connections() -> None:
    """Drop this thread's connections: the next query reconnects."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Exception:  # already broken; closing is all we wanted
            logger.debug("closing a broken connection failed", exc_info=True)


def retry_after_outage(task: Any, exc: BaseException) -> NoReturn:
    """Close the connections and raise the task's retry (or `exc` past the bound, or
    in-process, where there is no broker to come back through)."""
    close_database_connections()
    retries = int(task.request.retries or 0)
    if task.request.is_eager or retries >= OUTAGE_MAX_RETRIES + (task.max_retries or 0):
        raise exc
    countdown = outage_countdown(retries)
    logger.warning(
        "%s: %s during an outage; retrying in %.1fs",
        task.name,
        type(exc).__name__,
        countdown,
    )
    raise task.retry(
        exc=exc,
        countdown=countdown,
        max_retries=OUTAGE_MAX_RETRIES + (task.max_retries or 0),
    )
