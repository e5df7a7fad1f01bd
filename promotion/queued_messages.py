"""What the broker holds: the ids of task messages waiting in the engine's queues.

The sweep and the cycle re-send a variant's work only when its message is provably
not in flight. With Redis (the engine's broker) waiting messages are lists the broker
can be asked about; a message a worker has taken is not waiting, and its variant's
lease says whether that worker lives. Other brokers cannot be asked: None, and the
callers fall back to the age of the dispatch (DISPATCH_STALE_SECONDS).
"""

from __future__ import annotations

import json
import logging

from django.conf import settings

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


def _task_id(raw: bytes | str) -> str:
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        return ""
    headers = message.get("headers") or {}
    return str(
        headers.get("id")
        or (message.get("properties") or {}).get("correlation_id")
        or ""
    )
