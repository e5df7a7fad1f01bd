"""Celery tasks of the variants app: thin, they take ids and call one service."""

import contextlib
import logging
from collections.abc import Iterable
from functools import partial
from typing import Any
from uuid import UUID

from celery import shared_task
from django.db import transaction

from config.task_outages import OUTAGE_ERRORS, retry_after_outage
from variants.rendering.errors import TransientRenderError
from variants.services.work import (
    lease_heartbeat,
    lease_holder_name,
    new_dispatch_token,
    variant_dispatch_claim,
)

logger = logging.getLogger(__name__)

RENDER_MAX_RETRIES = 3
RENDER_RETRY_BASE_SECONDS = 30


@shared_task(
    bind=True,
    name="variants.render_variant",
    queue="render",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=10 * 60,
    time_limit=12 * 60,
    max_retries=RENDER_MAX_RETRIES,
)
def render_variant(self, variant_id: str, token: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Render one variant. Re-running it on a rendered variant does nothing.

    `token` is the message's dispatch token (`variants.services.work`): a superseded
    message does nothing. On a worker, a heartbeat renews the render's lease while
    it runs, so a redelivered or re-sent message takes over at once once this
    worker is gone.

    Permanent failures are recorded on the variant by the service and end here. Only
    transient ones (disk full, network, ffmpeg overloaded) are retried, with exponential
    backoff, at most RENDER_MAX_RETRIES times; the service has marked the variant failed
    with the reason, and a retry revives it (failed → draft → rendering). In-process (no
    broker) the next attempt runs at once, within the same bound.
    """
    # Imported here so the worker's autodiscovery stays light on non-render queues.
    from variants.services.rendering import variant_render

    retries = self.request.retries
    holder = lease_holder_name(self.request.id)
    while True:
        try:
            with _heartbeat(self, variant_id, holder):
                variant_render(
                    variant_id=variant_id,
                    revive_failed=retries > 0,
                    holder=holder,
                    token=token,
                )
            return
        except OUTAGE_ERRORS as exc:
            retry_after_outage(self, exc)
        except TransientRenderError as exc:
            if retries >= RENDER_MAX_RETRIES:
                logger.error(
                    "variant %s: giving up after %d retries: %s",
                    variant_id,
                    retries,
                    exc,
                )
                return
            if self.request.is_eager:
                retries += 1
                continue
            countdown = RENDER_RETRY_BASE_SECONDS * 2**retries
            raise self.retry(exc=exc, countdown=countdown) from exc


def _heartbeat(task: Any, variant_id: str, holder: str) -> Any:
    """The lease heartbeat on a worker; in-process nothing can take over."""
    if task.request.is_eager:
        return contextlib.nullcontext()
    return lease_heartbeat(variant_id=variant_id, holder=holder)


def renders_queue(variant_ids: Iterable[UUID | str]) -> None:
    """Queue one render per variant once the batch that wrote them commits."""
    for variant_id in variant_ids:
        # robust: one failed enqueue must not drop the others; the sweep heals it.
        transaction.on_commit(partial(render_dispatch, str(variant_id)), robust=True)


def render_dispatch(variant_id: str, *, expected_token: str = "") -> bool:
    """Send the variant's one render message (its dispatch token recorded first);
    False when another message was recorded meanwhile."""
    token = new_dispatch_token()
    if not variant_dispatch_claim(
        variant_id=variant_id, expected_token=expected_token, token=token
    ):
        return False
    render_variant.apply_async((variant_id,), {"token": token}, task_id=token)
    return True
