"""Guarded status transitions: one conditional UPDATE per transition.

`filter(id=…, status__in=EXPECTED).update(status=NEW)` proceeds only if it changed one
row; a retried task or a racing worker finds the row moved on and gets
`VariantTransitionRefused` instead of doing the work twice.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.utils import timezone

from variants.choices import (
    DISPATCHABLE_STATUSES,
    LIVE_STATUSES,
    VARIANT_TRANSITIONS,
    WORKING_STATUSES,
    VariantStatus,
)
from variants.models import CreativeVariant

logger = logging.getLogger(__name__)


class VariantTransitionRefused(Exception):
    """The variant was not in an expected state (someone else moved it, or it is gone)."""


def variant_transition(
    *,
    variant_id: UUID | str,
    from_statuses: Iterable[str],
    to_status: str,
    # Typed Any so `**{"…_at": datetime}` callers type-check; a Mapping or None.
    expect: Any = None,
    **fields: Any,
) -> None:
    """Move a variant from one of `from_statuses` to `to_status`, setting `fields` too.

    `expect`: further column values the row must still have (a lease holder, a
    dispatch token). Leaving a working state ends its lease; reaching a state no
    message works on (testing, failed, ...) ends its dispatch.
    """
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
    if to_status not in WORKING_STATUSES:
        changes.setdefault("lease_holder", "")
        changes.setdefault("lease_expires_at", None)
    if to_status not in DISPATCHABLE_STATUSES:
        changes.setdefault("dispatch_token", "")
    updated = CreativeVariant.objects.filter(
        id=variant_id, status__in=expected, **dict(expect or {})
    ).update(**changes)
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


def _stamped(at: dt.datetime | None, *stamps: str) -> dict[str, dt.datetime]:
    """`status_changed_at` and a transition's own timestamps at `at`, the caller's
    clock (a cycle's `as_of`); none when `at` is None, so the transition's now holds."""
    if at is None:
        return {}
    return dict.fromkeys(("status_changed_at", *stamps), at)


def variant_mark_rendered(
    *,
    variant_id: UUID | str,
    video_file: str,
    poster_file: str,
    video_checksum: str,
    probed_duration: float,
) -> None:
    """Rendering → rendered, with the stored files; an earlier failure is forgotten."""
    variant_transition(
        variant_id=variant_id,
        from_statuses=[VariantStatus.RENDERING],
        to_status=VariantStatus.RENDERED,
        video_file=video_file,
        poster_file=poster_file,
        video_checksum=video_checksum,
        probed_duration=probed_duration,
        rendered_at=timezone.now(),
        failure_reason="",
    )


def variant_release_upload(*, variant_id: UUID | str) -> None:
    """Uploading → rendered: the upload stops for now and a later attempt (the sweep,
    the next cycle) takes it again."""
    variant_transition(
        variant_id=variant_id,
        from_statuses=[VariantStatus.UPLOADING],
        to_status=VariantStatus.RENDERED,
    )


def variant_activate(*, variant_id: UUID | str, at: dt.datetime | None = None) -> None:
    """Testing → active: a winner (of the ranking or of a person) runs as one."""
    variant_transition(
        variant_id=variant_id,
        from_statuses=[VariantStatus.TESTING],
        to_status=VariantStatus.ACTIVE,
        **_stamped(at, "activated_at"),
    )


def variant_demote(*, variant_id: UUID | str, at: dt.datetime | None = None) -> None:
    """Active → testing: a former winner is judged again with the others."""
    variant_transition(
        variant_id=variant_id,
        from_statuses=[VariantStatus.ACTIVE],
        to_status=VariantStatus.TESTING,
        **_stamped(at),
    )


def variant_pause(*, variant_id: UUID | str, at: dt.datetime | None = None) -> None:
    """Testing/active → paused: judged a loser; its ad is paused, not retired."""
    variant_transition(
        variant_id=variant_id,
        from_statuses=list(LIVE_STATUSES),
        to_status=VariantStatus.PAUSED,
        **_stamped(at),
    )


def variant_mark_fatigued(
    *, variant_id: UUID | str, fatigue_score: float, at: dt.datetime | None = None
) -> None:
    """Testing/active → fatigued, with the score that said so."""
    variant_transition(
        variant_id=variant_id,
        from_statuses=list(LIVE_STATUSES),
        to_status=VariantStatus.FATIGUED,
        is_fatigued=True,
        fatigue_score=fatigue_score,
        **_stamped(at),
    )


def variant_mark_archived(
    *,
    variant_id: UUID | str,
    from_statuses: Iterable[str],
    at: dt.datetime | None = None,
    failure_reason: str | None = None,
) -> None:
    """One of `from_statuses` → archived, for good.

    The callers archive from different places (paused by the ranking, fatigued, or
    by hand from wherever it stood), so they name them; `failure_reason`, when given,
    replaces the stored one (a person's reason, or "" to clear it).
    """
    fields = {} if failure_reason is None else {"failure_reason": failure_reason}
    variant_transition(
        variant_id=variant_id,
        from_statuses=from_statuses,
        to_status=VariantStatus.ARCHIVED,
        **_stamped(at, "archived_at"),
        **fields,
    )
