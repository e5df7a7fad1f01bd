"""What the broker holds: the ids of task messages waiting in the engine's queues.

The sweep and the cycle re-send a variant's work only when its message is provably
not in flight. With Redis (the engine's broker) waiting messages are lists the broker
can be asked about. A message a worker took lately still counts (Redis keeps it in
its `unacked` hash until the task acks): an outage's retry waits out its countdown in
the worker's hands, not on the queue, and must not look lost. One taken longer ago
than a lease plus the longest countdown is left to the variant's lease, which says
whether that worker lives (a killed worker's message sits there for hours). Other
brokers cannot be asked: None, and the callers fall back to the age of the dispatch
(DISPATCH_STALE_SECONDS).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings

from config.task_outages import OUTAGE_MAX_COUNTDOWN

logger = logging.getLogger(__name__)

ENGINE_QUEUES = ("default", "render", "meta")


def queued_task_ids() -> frozenset[str] | None:
    """Ids of the task messages waiting in the engine's queues; None if unknown.

    In-process (no broker) nothing ever waits: the empty set.
    """
    if not settings.CELERY_BROKER_URL:
        return frozenset()
    from config.celery import app

    if app.conf.task_always_eager:
        return frozenset()
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return None
    ids: set[str] = set()
    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            client = channel.client
            for queue in ENGINE_QUEUES:
                for name in _priority_lists(channel, queue):
                    for raw in client.lrange(name, 0, -1):
                        task_id = _task_id(raw)
                        if task_id:
                            ids.add(task_id)
            ids.update(_recently_taken_task_ids(channel, client))
    except Exception:  # the broker is down: nobody can say what waits
        logger.warning("could not read the broker's queues", exc_info=True)
        return None
    return frozenset(ids)


def dispatch_tokens_in(task_ids: frozenset[str]) -> frozenset[str]:
    """The dispatch tokens behind task ids (`<token>` or `<token>.<step>`)."""
    return frozenset(task_id.split(".", 1)[0] for task_id in task_ids)


def _priority_lists(channel: object, queue: str) -> list[str]:
    steps = getattr(channel, "priority_steps", None) or [0]
    name_for = getattr(channel, "_q_for_pri", None)
    if name_for is None:
        return [queue]
    return sorted({name_for(queue, step) for step in steps})


def in_hand_seconds() -> float:
    """How long a message a worker took still counts as in flight: a lease (a live
    holder renews it) plus the longest outage countdown a retry waits in its hands."""
    return float(settings.WORK_LEASE_SECONDS) + OUTAGE_MAX_COUNTDOWN


def _recently_taken_task_ids(channel: Any, client: Any) -> set[str]:
    """Task ids of the messages workers took within `in_hand_seconds` and have not
    acked: kombu's Redis transport files them in `unacked` by delivery tag and
    timestamps them in `unacked_index`."""
    index_key = getattr(channel, "unacked_index_key", "unacked_index")
    hash_key = getattr(channel, "unacked_key", "unacked")
    tags = client.zrangebyscore(index_key, time.time() - in_hand_seconds(), "+inf")
    if not tags:
        return set()
    ids: set[str] = set()
    for raw in client.hmget(hash_key, tags):
        if raw is None:
            continue
        try:
            message = json.loads(raw)[0]
        except (TypeError, ValueError, IndexError, KeyError):
            continue
        task_id = _message_task_id(message)
        if task_id:
            ids.add(task_id)
    return ids


def _task_id(raw: bytes | str) -> str:
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        return ""
    return _message_task_id(message)


def _message_task_id(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    headers = message.get("headers") or {}
    return str(
        headers.get("id")
        or (message.get("properties") or {}).get("correlation_id")
        or ""
    )
