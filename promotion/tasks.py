"""Celery tasks of the promotion app, on the `meta` queue: thin, ids in, one service.

Every task is idempotent (the services move state by conditional updates and skip
work already done), so `acks_late` with `reject_on_worker_lost` is safe: a task lost
with its worker runs again. Retry delays stay below the broker's visibility timeout,
or Redis would hand a waiting task to a second worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from promotion.meta.errors import MetaError
from promotion.meta.retry import DEFAULT_RETRY_POLICY, RetryPolicy, TaskAction
from promotion.selectors import (
    running_ads_count,
    variants_stuck_rendering,
    variants_stuck_uploading,
    variants_waiting_for_upload,
)
from promotion.services.insights import insights_collect
from promotion.services.upload import (
    UPLOAD_LEASE,
    UploadConfigurationError,
    variant_upload,
    variant_upload_abandon,
)
from variants.tasks import render_variant

logger = logging.getLogger(__name__)

# How often and when an upload comes back is the policy's answer, as for the client.
UPLOAD_RETRY_POLICY: RetryPolicy = DEFAULT_RETRY_POLICY
UPLOAD_SOFT_TIME_LIMIT = 10 * 60
UPLOAD_TIME_LIMIT = 12 * 60
_VISIBILITY_TIMEOUT = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
    "visibility_timeout", 3600
)
# The longest countdown a retry may have: well inside the visibility timeout.
MAX_RETRY_COUNTDOWN = max(60, min(3600, _VISIBILITY_TIMEOUT - UPLOAD_TIME_LIMIT - 300))
# A rendered variant is left to the cycle that rendered it for this long.
RENDERED_GRACE = dt.timedelta(minutes=10)
# Longer than the render task's hard time limit (12 min) plus its retries' start.
RENDER_STUCK_AFTER = dt.timedelta(minutes=30)
SWEEP_BATCH = 200
# Every task here: on the meta queue, acked late (each is idempotent, see above),
# results ignored (state lives in our tables).
META_TASK_OPTIONS: dict[str, Any] = {
    "queue": "meta",
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
}
# Calls to Meta get time to finish, and a hard stop.
META_CALL_TIME_LIMITS: dict[str, Any] = {
    "soft_time_limit": UPLOAD_SOFT_TIME_LIMIT,
    "time_limit": UPLOAD_TIME_LIMIT,
}


@shared_task(
    bind=True,
    name="promotion.upload_variant",
    max_retries=UPLOAD_RETRY_POLICY.task_max_retries,
    **META_TASK_OPTIONS,
    **META_CALL_TIME_LIMITS,
)
def upload_variant(  # type: ignore[no-untyped-def]
    self,
    variant_id: str,
    run_id: str | None = None,
    as_of: str | None = None,
    activate: bool = False,
) -> str:
    """Upload one rendered variant to Meta (see `variant_upload`).

    After a Meta error the retry policy decides (`RetryPolicy.decide_task`): come
    back after its countdown, within its bound; or give up, failing the variant or
    returning it to `rendered` for the sweep when Meta was only throttling.
    Permanent errors were already recorded on the variant by the service.
    In-process (no broker) the next attempt runs at once, within the same bound.
    """
    retries = self.request.retries
    while True:
        result = _upload_attempt(variant_id, run_id, as_of, activate, retries=retries)
        if isinstance(result, str):
            return result
        error, countdown = result
        if self.request.is_eager:
            retries += 1
            continue
        raise self.retry(exc=error, countdown=countdown) from error


def _upload_attempt(
    variant_id: str,
    run_id: str | None,
    as_of: str | None,
    activate: bool,
    *,
    retries: int,
) -> str | tuple[MetaError, float]:
    """One attempt: its outcome, or the error to retry on and the countdown."""
    try:
        outcome = variant_upload(
            variant_id=variant_id,
            run_id=run_id,
            as_of=dt.datetime.fromisoformat(as_of) if as_of else None,
            resume=retries > 0,
            activate=activate,
        )
    except UploadConfigurationError as exc:
        logger.error("upload of variant %s refused: %s", variant_id, exc)
        return "refused"
    except MetaError as exc:
        decision = UPLOAD_RETRY_POLICY.decide_task(
            exc, retries, rng=random.Random(), max_countdown=MAX_RETRY_COUNTDOWN
        )
        if decision.action == TaskAction.STOP:
            logger.error("upload of variant %s stopped: %s", variant_id, exc)
            return "stopped"
        if decision.action == TaskAction.RETRY:
            return exc, decision.countdown
        variant_upload_abandon(
            variant_id=variant_id,
            reason=decision.reason,
            retry_later=decision.action == TaskAction.POSTPONE,
        )
        return "abandoned"
    return str(outcome)


@shared_task(
    name="promotion.collect_insights", **META_TASK_OPTIONS, **META_CALL_TIME_LIMITS
)
def collect_insights(
    until: str | None = None, run_id: str | None = None, as_of: str | None = None
) -> int:
    """Pull daily insights up to `until` (default: yesterday on the clock)."""
    clock = dt.datetime.fromisoformat(as_of) if as_of else None
    last_day = (
        dt.date.fromisoformat(until)
        if until
        else (clock or timezone.now()).date() - dt.timedelta(days=1)
    )
    return insights_collect(until=last_day, run_id=run_id, as_of=clock)


@shared_task(name="promotion.sweep_stuck_work", **META_TASK_OPTIONS)
def sweep_stuck_work() -> dict[str, Any]:
    """Re-dispatch work that a crash or a lost message left behind.

    - `uploading` past the upload lease: the worker died; resume the upload.
    - `rendered` for RENDERED_GRACE and never uploaded: the enqueue was lost (unless
      the Page is at its running-ads cap, where uploading would only be refused).
    - `rendering` for RENDER_STUCK_AFTER: render again.
    Tasks are enqueued after commit, at most SWEEP_BATCH of each kind per sweep.
    """
    now = timezone.now()
    uploading = variants_stuck_uploading(changed_before=now - UPLOAD_LEASE)
    waiting: list[Any] = []
    if running_ads_count() < settings.META_MAX_RUNNING_ADS_PER_PAGE:
        waiting = variants_waiting_for_upload(changed_before=now - RENDERED_GRACE)
    rendering = variants_stuck_rendering(changed_before=now - RENDER_STUCK_AFTER)

    for variant_id in [*uploading[:SWEEP_BATCH], *waiting[:SWEEP_BATCH]]:
        upload_variant.delay_on_commit(str(variant_id))
    for variant_id in rendering[:SWEEP_BATCH]:
        render_variant.delay_on_commit(str(variant_id))
    counts = {
        "uploads_resumed": min(len(uploading), SWEEP_BATCH),
        "uploads_started": min(len(waiting), SWEEP_BATCH),
        "renders_restarted": min(len(rendering), SWEEP_BATCH),
    }
    if any(counts.values()):
        logger.warning("sweep re-dispatched stuck work: %s", counts)
    return counts
