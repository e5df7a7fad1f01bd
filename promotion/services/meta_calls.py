"""One PromotionLog row per call to Meta, success or failure, with its context.

The Meta clients report every attempt to an observer; `record_meta_call` is the
observer services use. What the client cannot know (which variant, which cycle run,
who asked, why) comes from `meta_call_context`, set by the service around its calls.

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
from promotion.meta.protocol import MetaAdsClient, MetaCall
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
    return get_meta_client(observer=record_meta_call, clock=clock)


def record_meta_call(call: MetaCall) -> None:
    """The observer: one PromotionLog row for this attempt of this call."""
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
    PromotionLog.objects.create(
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
