"""Guarded status transitions: one conditional UPDATE per transition.

`filter(id=…, status__in=EXPECTED).update(status=NEW)` proceeds only if it changed one
row; a retried task or a racing worker finds the row moved on and gets
`VariantTransitionRefused` instead of doing the work twice.
"""

import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.utils import timezone

from variants.choices import VARIANT_TRANSITIONS, VariantStatus
from variants.models import CreativeVariant

logger = logging.getLogger(__name__)


class VariantTransitionRefused(Exception):
    """The variant was not in an expected state (someone else moved it, or it is gone)."""


def variant_transition(
    *,
    variant_id: UUID | str,
    from_statuses: Iterable[str],
    to_status: str,
    **fields: Any,
) -> None:
    """Move a variant from one of `from_statuses` to `to_status`, setting `fields` too."""
    expected = [str(s) for s in from_statuses]
    illegal = [s for s in expected if to_status not in VARIANT_TRANSITIONS[s]]
    if illegal:
        raise ValueError(
            f"No transition {', '.join(illegal)} → {to_status} in the lifecycle."
        )
    now = timezone.now()
    changes: dict[str, Any] = {"status": to_status, "status_changed_at": now, **fields}
    if to_status == VariantStatus.ACTIVE:
        changes.setdefault("activated_at", now)
    if to_status == VariantStatus.ARCHIVED:
        changes.setdefault("archived_at", now)
    updated = CreativeVariant.objects.filter(id=variant_id, status__in=expected).update(
        **changes
    )
    if updated != 1:
        current = (
            CreativeVariant.objects.filter(id=variant_id)
            .values_list("status", flat=True)
            .first()
        )
        raise VariantTransitionRefused(
            f"Variant {variant_id} is {current or 'missing'}, not {'/'.join(expected)}; "
            f"refused to move it to {to_status}."
        )
    logger.info("variant %s: %s → %s", variant_id, "/".join(expected), to_status)


def variant_mark_failed(*, variant_id: UUID | str, reason: str) -> None:
    """Any working state → failed, with the reason kept for humans."""
    working = [
        s
        for s, targets in VARIANT_TRANSITIONS.items()
        if VariantStatus.FAILED in targets
    ]
    variant_transition(
        variant_id=variant_id,
        from_statuses=working,
        to_status=VariantStatus.FAILED,
        failure_reason=reason[:4000],
    )
    logger.error("variant %s failed: %s", variant_id, reason)
