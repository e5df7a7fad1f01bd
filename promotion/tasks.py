"""Celery tasks of the promotion app, on the `meta` queue: thin, ids in, one service.

Every task is idempotent (the services move state by conditional updates and skip
work already done), so `acks_late` with `reject_on_worker_lost` is safe: a task lost
with its worker runs again. Retry delays stay below the broker's visibility timeout,
or Redis would hand a waiting task to a second worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from typing import Any

from celery import chain, shared_task
from django.conf import settings
from django.utils import timezone

from config.task_outages import OUTAGE_ERRORS, retry_after_outage
from promotion.meta.errors import MetaError
from promotion.meta.retry import DEFAULT_RETRY_POLICY, RetryPolicy, TaskAction
from promotion.queued_messages import dispatch_tokens_in, queued_task_ids
from promotion.selectors import (
    WorkItem,
    WorkKind,
    running_ads_count,
    variants_needing_work,
)
from promotion.services.insights import insights_collect
from promotion.services.upload import (
    UploadConfigurationError,
    variant_upload,
    variant_upload_abandon,
)
from variants.services.work import (
    lease_heartbeat,
    lease_holder_name,
    new_dispatch_token,
    variant_dispatch_claim,
    variant_lease_renew,
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
# A rendered variant never dispatched is left to the cycle that rendered it this long.
RENDERED_GRACE = dt.timedelta(minutes=10)
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
    token: str | None = None,
) -> str:
    """Upload one rendered variant to Meta (see `variant_upload`).

    After a Meta error the retry policy decides (`RetryPolicy.decide_task`): come
    back after its countdown, within its bound; or give up, failing the variant or
    returning it to `rendered` for the sweep when Meta was only throttling.
    Permanent errors were already recorded on the variant by the service.
    In-process (no broker) the next attempt runs at once, within the same bound.
    On a worker a heartbeat renews the upload's lease while it runs, and a retry's
    countdown is added to the lease, so nobody takes over a live upload. Database
    and broker outages are retried with backoff (`config.task_outages`).
    """
    retries = self.request.retries
    holder = lease_holder_name(self.request.id)
    while True:
        try:
            with _heartbeat(self, variant_id, holder):
                result = _upload_attempt(
                    variant_id,
                    run_id,
                    as_of,
                    activate,
                    retries=retries,
                    holder=holder,
                    token=token,
                )
        except OUTAGE_ERRORS as exc:
            retry_after_outage(self, exc)
        if isinstance(result, str):
            return result
        error, countdown = result
        if self.request.is_eager:
            retries += 1
            continue
        variant_lease_renew(
            variant_id=variant_id,
            holder=holder,
            extra=dt.timedelta(seconds=countdown),
        )
        raise self.retry(exc=error, countdown=countdown) from error


def _heartbeat(task: Any, variant_id: str, holder: str) -> Any:
    """The lease heartbeat on a worker; in-process nothing can take over."""
    if task.request.is_eager:
        return contextlib.nullcontext()
    return lease_heartbeat(variant_id=variant_id, holder=holder)


def _upload_attempt(
    variant_id: str,
    run_id: str | None,
    as_of: str | None,
    activate: bool,
    *,
    retries: int,
    holder: str,
    token: str | None,
) -> str | tuple[MetaError, float]:
    """One attempt: its outcome, or the error to retry on and the countdown."""
    try:
        outcome = variant_upload(
            variant_id=variant_id,
            run_id=run_id,
            as_of=dt.datetime.fromisoformat(as_of) if as_of else None,
            resume=retries > 0,
            activate=activate,
            holder=holder,
            token=token,
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
    bind=True,
    name="promotion.collect_insights",
    **META_TASK_OPTIONS,
    **META_CALL_TIME_LIMITS,
)
def collect_insights(  # type: ignore[no-untyped-def]
    self, until: str | None = None, run_id: str | None = None, as_of: str | None = None
) -> int:
    """Pull daily insights up to `until` (default: yesterday on the clock)."""
    clock = dt.datetime.fromisoformat(as_of) if as_of else None
    last_day = (
        dt.date.fromisoformat(until)
        if until
        else (clock or timezone.now()).date() - dt.timedelta(days=1)
    )
    try:
        return insights_collect(until=last_day, run_id=run_id, as_of=clock)
    except OUTAGE_ERRORS as exc:
        retry_after_outage(self, exc)


@shared_task(bind=True, name="promotion.sweep_stuck_work", **META_TASK_OPTIONS)
def sweep_stuck_work(self) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Re-send work that a crash or a lost message left behind, and only that.

    - `rendering` / `uploading` whose lease holder is provably gone (lease run out,
      or its process gone): resume at once.
    - `draft` / `rendered` whose one message is not on the broker any more (lost in
      a Redis restart, or never sent); rendered variants never dispatched are left
      RENDERED_GRACE to the cycle that rendered them, and none is uploaded while the
      Page is at its running-ads cap.
    Each re-send replaces the variant's dispatch token, so a stale message that
    turns up later does nothing. At most SWEEP_BATCH per sweep.
    """
    try:
        return _sweep()
    except OUTAGE_ERRORS as exc:
        retry_after_outage(self, exc)


def _sweep() -> dict[str, Any]:
    now = timezone.now()
    at_cap = running_ads_count() >= settings.META_MAX_RUNNING_ADS_PER_PAGE
    items = [
        item
        for item in variants_needing_work(
            queued_tokens=queued_dispatch_tokens(),
            now=now,
            dispatch_stale_after=dt.timedelta(seconds=settings.DISPATCH_STALE_SECONDS),
            untracked_rendered_before=now - RENDERED_GRACE,
        )
        if not (at_cap and item.kind == WorkKind.UPLOAD)
    ][:SWEEP_BATCH]
    counts = {kind.value: 0 for kind in WorkKind}
    for item in items:
        try:
            sent = work_dispatch(item)
        except Exception:  # in-process the work runs here; one failure is one
            logger.exception(
                "sweep: %s of variant %s failed", item.kind, item.variant_id
            )
            continue
        if sent:
            counts[item.kind.value] += 1
    if any(counts.values()):
        logger.warning("sweep re-dispatched stuck work: %s", counts)
    return counts


def queued_dispatch_tokens() -> frozenset[str] | None:
    """Dispatch tokens of the messages waiting on the broker (None: cannot say)."""
    task_ids = queued_task_ids()
    return None if task_ids is None else dispatch_tokens_in(task_ids)


def work_dispatch(
    item: WorkItem,
    *,
    run_id: str | None = None,
    as_of: str | None = None,
    auto_upload: bool = True,
) -> bool:
    """Send the one message for a variant's next work, replacing the token it had;
    False when someone else dispatched it meanwhile.

    Render work is chained with its upload (one token for both: `<token>` and
    `<token>.upload` are their task ids) unless `auto_upload` is off.
    """
    token = new_dispatch_token()
    if not variant_dispatch_claim(
        variant_id=item.variant_id, expected_token=item.token, token=token
    ):
        return False
    variant_id = str(item.variant_id)
    upload = upload_variant.si(variant_id, run_id=run_id, as_of=as_of, token=token)
    if item.kind in (WorkKind.UPLOAD, WorkKind.RESUME_UPLOAD):
        upload.apply_async(task_id=token)
        return True
    render = render_variant.si(variant_id, token=token).set(task_id=token)
    if not auto_upload:
        render.apply_async()
        return True
    chain(render, upload.set(task_id=f"{token}.upload")).apply_async()
    return True
