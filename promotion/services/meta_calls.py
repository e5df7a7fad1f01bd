"""One PromotionLog row per call to Meta, success or failure, with its context.

Write-ahead: the live client records each HTTP request before it leaves
(`record_meta_attempt`: a row `attempting`) and completes that row once Meta answers
(`record_meta_call`, the observer). A worker that dies in between leaves the row
`attempting`: visible as "outcome unknown", and resolved by the next upload of the
variant (`promotion_logs_resolve`): found by name → succeeded, not found → failed. A
failed log write raises; it is never swallowed.

What the client cannot know (which variant, which cycle run, who asked, why) comes
from `meta_call_context`, set by the service around its calls.

Rows are written in autocommit, outside the callers' transactions on purpose: a call
to Meta happened whether or not the caller's work later rolls back.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from promotion.choices import PromotedBy, PromotionStatus, PromotionType
from promotion.meta.configured import get_meta_client
from promotion.meta.protocol import MetaAdsClient, MetaAttempt, MetaCall
from promotion.meta.redaction import redact_secrets
from promotion.models import PromotionLog

_STATUS_TYPES = {
    "PAUSED": PromotionType.PAUSE,
    "ARCHIVED": PromotionType.ARCHIVE,
    "DELETED": PromotionType.ARCHIVE,
    "ACTIVE": PromotionType.TEST,
}


@dataclass(frozen=True)
class CallContext:
    variant_id: UUID | str | None = None
    run_id: UUID | str | None = None
    promoted_by: str = PromotedBy.SCHEDULER
    promotion_type: str | None = None  # None: derived from the operation
    campaign_id: str = ""
    adset_id: str = ""
    meta_ad_id: str = ""
    meta_creative_id: str = ""
    targeting: Mapping[str, Any] | None = None
    decision: Mapping[str, Any] | None = None


_NO_CONTEXT = CallContext()
_context: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar(
    "meta_call_context", default=None
)


def current_call_context() -> CallContext:
    return _context.get() or _NO_CONTEXT


@contextlib.contextmanager
def meta_call_context(**fields: Any) -> Iterator[CallContext]:
    """Attach `fields` (see CallContext) to the Meta calls made inside the block."""
    merged = replace(current_call_context(), **fields)
    token = _context.set(merged)
    try:
        yield merged
    finally:
        _context.reset(token)


def meta_client(
    *, client: MetaAdsClient | None = None, as_of: dt.datetime | None = None
) -> MetaAdsClient:
    """The given client, or the configured one logging to PromotionLog.

    `as_of` fixes the stub's clock (a cycle run "as if" at that time).
    """
    if client is not None:
        return client
    clock: Callable[[], dt.datetime] | None = (lambda: as_of) if as_of else None
    return get_meta_client(
        observer=record_meta_call, clock=clock, attempt_recorder=record_meta_attempt
    )


# Creates whose lost outcome a later lookup by name settles.
_CREATE_OPERATIONS = frozenset({"upload_video", "create_creative", "create_ad"})


def record_meta_attempt(attempt: MetaAttempt) -> str:
    """Write-ahead: an `attempting` row before the request is sent; its id."""
    ctx = current_call_context()
    details = dict(attempt.details)
    now = timezone.now()
    row = PromotionLog.objects.create(
        variant_id=ctx.variant_id,
        run_id=ctx.run_id,
        promotion_type=_promotion_type(
            attempt.operation, str(details.get("status", "")), ctx
        ),
        operation=attempt.operation[:40],
        meta_creative_id=ctx.meta_creative_id[:64],
        meta_ad_id=(
            ctx.meta_ad_id
            or (attempt.object_id if attempt.operation == "set_ad_status" else "")
        )[:64],
        campaign_id=ctx.campaign_id[:64],
        adset_id=str(details.get("adset_id", "") or ctx.adset_id)[:64],
        promotion_status=PromotionStatus.ATTEMPTING,
        upload_timestamp=now,
        success=False,
        attempt=min(max(attempt.attempt, 1), 32767),
        decision_details={
            **dict(ctx.decision or {}),
            "call": _jsonable(details),
            "object_id": attempt.object_id,
        },
        promoted_by=ctx.promoted_by,
        mode=settings.CREATIVE_ENGINE_MODE,
    )
    return str(row.pk)


def record_meta_call(call: MetaCall) -> None:
    """The observer: complete this attempt's row (or write it, when the client kept
    no write-ahead record, as the stub and the lookups' own reports)."""
    ctx = current_call_context()
    details = dict(call.details)
    now = timezone.now()
    status = str(details.get("status", ""))
    meta_ad_id = str(details.get("ad_id", "") or ctx.meta_ad_id)
    meta_creative_id = str(details.get("creative_id", "") or ctx.meta_creative_id)
    if call.operation in ("create_ad", "find_ad") and call.object_id:
        meta_ad_id = call.object_id
    if call.operation in ("create_creative", "find_creative") and call.object_id:
        meta_creative_id = call.object_id
    budget_minor = details.get("daily_budget_minor")
    fields: dict[str, Any] = dict(
        variant_id=ctx.variant_id,
        run_id=ctx.run_id,
        promotion_type=_promotion_type(call.operation, status, ctx),
        operation=call.operation[:40],
        meta_creative_id=meta_creative_id[:64],
        meta_ad_id=meta_ad_id[:64],
        meta_campaign_id=str(details.get("campaign_id", "") or ctx.campaign_id)[:64],
        campaign_id=ctx.campaign_id[:64],
        adset_id=str(details.get("adset_id", "") or ctx.adset_id)[:64],
        promotion_status=(
            PromotionStatus.SUCCEEDED if call.success else PromotionStatus.FAILED
        ),
        upload_timestamp=now - dt.timedelta(milliseconds=call.duration_ms),
        completed_timestamp=now,
        success=call.success,
        error_message=_without_secrets(call.error_message)[:4000],
        error_code="" if call.error_code is None else str(call.error_code),
        error_subcode="" if call.error_subcode is None else str(call.error_subcode),
        attempt=min(max(call.attempt, 1), 32767),
        budget_allocated=(
            None if budget_minor is None else Decimal(int(budget_minor)) / 100
        ),
        targeting_details=dict(ctx.targeting or details.get("targeting") or {}),
        decision_details={
            **dict(ctx.decision or {}),
            "call": _jsonable(details),
            "object_id": call.object_id,
            "http_status": call.http_status,
            "duration_ms": round(call.duration_ms, 1),
        },
        promoted_by=ctx.promoted_by,
        mode=str(details.get("mode", "") or settings.CREATIVE_ENGINE_MODE),
    )
    completed = 0
    if call.attempt_id:
        fields.pop("upload_timestamp")
        completed = PromotionLog.objects.filter(pk=call.attempt_id).update(**fields)
    if not completed:
        PromotionLog.objects.create(**fields)
    if call.success and ctx.variant_id and call.operation in _CREATE_OPERATIONS:
        _resolve_earlier_attempts(call, variant_id=ctx.variant_id)


def _resolve_earlier_attempts(call: MetaCall, *, variant_id: UUID | str) -> None:
    """A create of this variant is settled: the same create's rows a lost worker left
    `attempting` are settled with it. Found by name: one of them did it. Created
    afresh after the lookup found nothing: none of them did."""
    found = bool(call.details.get("found_by_name"))
    earlier = PromotionLog.objects.filter(
        variant_id=UUID(str(variant_id)),
        operation=call.operation,
        promotion_status=PromotionStatus.ATTEMPTING,
    )
    if call.attempt_id:
        earlier = earlier.exclude(pk=call.attempt_id)
    if found:
        earlier.update(
            promotion_status=PromotionStatus.SUCCEEDED,
            success=True,
            completed_timestamp=timezone.now(),
            error_message=(
                f"Outcome was unknown (worker lost); resolved by lookup: Meta had "
                f"created {call.object_id}."
            )[:4000],
        )
    else:
        earlier.update(
            promotion_status=PromotionStatus.FAILED,
            completed_timestamp=timezone.now(),
            error_message=(
                "Outcome was unknown (worker lost); resolved by lookup: Meta had not "
                f"created it (created now as {call.object_id})."
            )[:4000],
        )


def promotion_logs_resolve(*, variant_id: UUID | str) -> int:
    """After the variant's upload finished: its rows still `attempting` (reads and
    polls a lost worker left unanswered) are closed as such; how many."""
    return PromotionLog.objects.filter(
        variant_id=UUID(str(variant_id)), promotion_status=PromotionStatus.ATTEMPTING
    ).update(
        promotion_status=PromotionStatus.FAILED,
        completed_timestamp=timezone.now(),
        error_message=(
            "Outcome unknown: the worker was lost while waiting for Meta's answer; "
            "the upload that followed completed without it."
        ),
    )


def promotion_log_decision(
    *,
    operation: str,
    message: str,
    promotion_type: str = PromotionType.UPLOAD,
    status: str = PromotionStatus.SKIPPED,
    error_code: str = "",
    details: Mapping[str, Any] | None = None,
) -> PromotionLog:
    """A row for something the engine decided not to send to Meta (and why)."""
    ctx = current_call_context()
    now = timezone.now()
    return PromotionLog.objects.create(
        variant_id=ctx.variant_id,
        run_id=ctx.run_id,
        promotion_type=ctx.promotion_type or promotion_type,
        operation=operation[:40],
        campaign_id=ctx.campaign_id[:64],
        adset_id=ctx.adset_id[:64],
        promotion_status=status,
        upload_timestamp=now,
        completed_timestamp=now,
        # A decision carried out is a success: `success` must agree with the status,
        # or the row reads "Succeeded" beside a failure (and counts as one).
        success=status == PromotionStatus.SUCCEEDED,
        error_message=_without_secrets(message)[:4000],
        error_code=error_code[:32],
        decision_details={**dict(ctx.decision or {}), **_jsonable(details or {})},
        promoted_by=ctx.promoted_by,
        mode=settings.CREATIVE_ENGINE_MODE,
    )


def _promotion_type(operation: str, status: str, ctx: CallContext) -> str:
    if operation == "get_daily_insights":
        return PromotionType.INSIGHTS
    if ctx.promotion_type:
        return ctx.promotion_type
    if operation == "set_ad_status":
        return _STATUS_TYPES.get(status, PromotionType.TEST)
    if operation == "set_adset_budget":
        return PromotionType.BUDGET
    return PromotionType.UPLOAD


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _without_secrets(message: str) -> str:
    """The last line of defence before a row is written: the configured credentials
    never reach PromotionLog, whatever text carried them."""
    return redact_secrets(
        message, (settings.META_ACCESS_TOKEN, settings.META_APP_SECRET)
    )
