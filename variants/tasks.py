"""Celery tasks of the variants app: thin, they take ids and call one service."""

from celery import shared_task

from variants.rendering.errors import TransientRenderError

RENDER_MAX_RETRIES = 3


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

    Only transient errors (disk full, network, ffmpeg overloaded) are retried, with
    exponential backoff and a bound; the service has already marked the variant failed
    with the reason, and a retry revives it (failed → draft → rendering).
    """
    # Imported here so the worker's autodiscovery stays light on non-render queues.
    from variants.services.rendering import variant_render

    try:
        variant_render(variant_id=variant_id, revive_failed=self.request.retries > 0)
    except TransientRenderError as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
