"""Celery tasks of the variants app: thin, they take ids and call one service."""

import logging
from collections.abc import Iterable
from functools import partial
from uuid import UUID

from celery import shared_task
from django.db import transaction

from variants.rendering.errors import TransientRenderError

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
def render_variant(self, variant_id: str) -> None:  # type: ignore[no-untyped-def]
    """Render one variant. Re-running it on a rendered variant does nothing.

    Permanent failures are recorded on the variant by the service and end here. Only
    transient ones (disk full, network, ffmpeg overloaded) are retried, with exponential
    backoff, at most RENDER_MAX_RETRIES times; the service has marked the variant failed
    with the reason, and a retry revives it (failed → draft → rendering). In-process (no
    broker) the next attempt runs at once, within the same bound.
    """
    # Imported here so the worker's autodiscovery stays light on non-render queues.
    from variants.services.rendering import variant_render

    retries = self.request.retries
    while True:
        try:
            variant_render(variant_id=variant_id, revive_failed=retries > 0)
            return
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


def renders_queue(variant_ids: Iterable[UUID | str]) -> None:
    """Queue one render per variant once the batch that wrote them commits."""
    for variant_id in variant_ids:
        # robust: one failed enqueue must not drop the others; the sweep heals it.
        transaction.on_commit(
            partial(render_variant.delay, str(variant_id)), robust=True
        )
