"""Every write on human inputs: masters, fragments, approvals — each with its audit row.

The audit rows are written explicitly in the same transaction as the change, so bulk
approvals (one `QuerySet.update()`) are audited as well as single ones.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import models, transaction
from django.utils import timezone

from productions.choices import ApprovalAction, FragmentType
from productions.guard import (
    PROTECTED_FIELDS,
    Actor,
    check_human_actor,
    human_authorization,
)
from productions.media import CorruptMediaError, master_local_path, probe_media
from productions.models import ApprovalAudit, CreativeFragment, CreativeProduction
from productions.thumbnails import ProbeSummary, probe_summary_store
from productions.uploads import prepared_master_file
from productions.url_safety import (
    FetchError,
    IPNetwork,
    Resolver,
    UnsafeURLError,
    system_resolver,
)
from productions.validators import refuse_non_numbers

M = TypeVar("M", bound=models.Model)
logger = logging.getLogger(__name__)

# Fields a person may set on a master through the services (the rest are system-owned).
MASTER_EDITABLE_FIELDS = (
    "title",
    "video_url",
    "video_file",
    "duration",
    "authorized_pixels",
    "authorized_subgenres",
    "genre",
    "style_guide",
    "human_instructions",
    "campaign_id",
    "adset_id",
    "scaling_adset_id",
    "objective",
    "is_active",
)
FRAGMENT_EDITABLE_FIELDS = (
    "fragment_type",
    "start_time",
    "end_time",
    "label",
    "video_url",
)
FRAGMENT_CUT_SECONDS = ("start_time", "end_time")
# Fields of a fragment that approvals and the engine set; a person never types them.
FRAGMENT_SYSTEM_FIELDS = (
    "approved",
    "approved_by",
    "approved_at",
    "performance_score",
    "usage_count",
    "success_rate",
    "best_for_structure",
    "best_with_pixels",
    "performance_by_structure",
    "hook_rate",
    "hold_rate",
)


@dataclass(frozen=True)
class FragmentData:
    """A fragment as a person describes it: a typed cut of the master."""

    fragment_type: str
    start_time: float
    end_time: float
    label: str = ""
    video_url: str = ""


def _audit_value(value: Any) -> Any:
    """JSON-safe snapshot of a field value for the audit trail."""
    if isinstance(value, File) or (hasattr(value, "name") and hasattr(value, "url")):
        return getattr(value, "name", "") or ""
    if isinstance(value, UUID):
        return str(value)
    return value


def _audit(
    *,
    actor: Actor,
    action: str,
    production: CreativeProduction | None,
    fragment: CreativeFragment | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> ApprovalAudit:
    return ApprovalAudit.objects.create(
        action=action,
        actor_id=actor.user_id,
        actor_name=actor.name,
        production=production,
        fragment=fragment,
        object_repr=str(fragment or production)[:300],
        before={k: _audit_value(v) for k, v in (before or {}).items()},
        after={k: _audit_value(v) for k, v in (after or {}).items()},
    )


def _refuse_system_fields(
    changes: Mapping[str, Any], *, editable: Sequence[str]
) -> None:
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        raise ValidationError(
            {
                f: "This field is managed by the engine and cannot be set."
                for f in unknown
            }
        )


def _locked_with_changes(
    model: type[M],
    pk: UUID | str,
    changes: Mapping[str, Any],
    *,
    editable: Sequence[str],
) -> tuple[M, dict[str, Any], dict[str, Any]]:
    """Lock the row, apply the editable `changes` and validate the result.

    Returns the row, the old values of what changed, and the new values; an
    unchanged row is returned as it was (nothing validated, nothing to save).
    """
    _refuse_system_fields(changes, editable=editable)
    row = model._default_manager.select_for_update().get(pk=pk)
    before, changed = _apply_changes(row, changes)
    if changed:
        row.full_clean()
    return row, before, changed


def _apply_changes(
    instance: Any, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the values that differ; return (before, changed) for saving and auditing."""
    before = {f: getattr(instance, f) for f in changes}
    changed = {f: v for f, v in changes.items() if before[f] != v}
    for field, value in changed.items():
        setattr(instance, field, value)
    return before, changed


def _protected_changes(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f: values[f] for f in PROTECTED_FIELDS if f in values}


@transaction.atomic
def production_create(
    *,
    actor: Actor,
    title: str,
    video_file: File | None = None,
    video_url: str = "",
    duration: float | None = None,
    authorized_pixels: Sequence[str] = (),
    authorized_subgenres: Sequence[str] = (),
    genre: str = "",
    style_guide: Mapping[str, Any] | None = None,
    human_instructions: str = "",
    campaign_id: str = "",
    adset_id: str = "",
    scaling_adset_id: str = "",
    objective: str = "",
    is_active: bool = True,
    fragments: Iterable[FragmentData] = (),
) -> CreativeProduction:
    """Create a master and its (unapproved) fragments in one transaction.

    1. Build and validate the master (pixels/subgenres/genre need the permission).
    2. Save it and audit the creation.
    3. Create each fragment, validated against the master's duration, audited.
    """
    check_human_actor(actor=actor, action="create a master")
    refuse_non_numbers({"duration": duration}, fields=["duration"], optional=True)
    production = CreativeProduction(
        title=title,
        video_url=video_url,
        duration=duration,
        authorized_pixels=list(authorized_pixels),
        authorized_subgenres=list(authorized_subgenres),
        genre=genre,
        style_guide=dict(style_guide or {}),
        human_instructions=human_instructions,
        campaign_id=campaign_id,
        adset_id=adset_id,
        scaling_adset_id=scaling_adset_id,
        objective=objective,
        is_active=is_active,
        created_by_id=actor.user_id,
    )
    if video_file is not None:
        production.video_file = prepared_master_file(video_file)  # type: ignore[assignment]
    production.full_clean()
    protected = {f: v for f, v in _protected_changes(production.__dict__).items() if v}
    if protected:
        with human_authorization(actor):
            production.save()
    else:
        production.save()
    _audit(
        actor=actor,
        action=ApprovalAction.MASTER_CREATED,
        production=production,
        after={f: getattr(production, f) for f in MASTER_EDITABLE_FIELDS},
    )
    for data in fragments:
        fragment_create(actor=actor, production=production, data=data)
    return production


@transaction.atomic
def production_update(
    *, actor: Actor, production_id: UUID | str, changes: Mapping[str, Any]
) -> CreativeProduction:
    """Change a master; protected fields only for a person holding the permission.

    1. Lock the row, refuse unknown or system-owned fields.
    2. Apply, validate (including every fragment against a new duration).
    3. Save only the changed fields, inside human_authorization if protected ones change.
    4. Audit: one row for the authorization change, one for the rest.
    """
    refuse_non_numbers(changes, fields=["duration"], optional=True)
    if changes.get("video_file"):
        changes = {**changes, "video_file": prepared_master_file(changes["video_file"])}
    production, before, changed = _locked_with_changes(
        CreativeProduction, production_id, changes, editable=MASTER_EDITABLE_FIELDS
    )
    if not changed:
        return production
    if "duration" in changed and production.duration is not None:
        _check_fragments_fit(production)
    protected = _protected_changes(changed)
    if protected:
        with human_authorization(actor):
            production.save(update_fields=[*changed, "updated_at"])
        _audit(
            actor=actor,
            action=ApprovalAction.AUTHORIZATION_CHANGED,
            production=production,
            before={f: before[f] for f in protected},
            after=protected,
        )
    else:
        check_human_actor(actor=actor, action="change a master")
        production.save(update_fields=[*changed, "updated_at"])
    rest = {f: v for f, v in changed.items() if f not in protected}
    if rest:
        _audit(
            actor=actor,
            action=ApprovalAction.MASTER_CHANGED,
            production=production,
            before={f: before[f] for f in rest},
            after={f: getattr(production, f) for f in rest},
        )
    return production


def _check_fragments_fit(production: CreativeProduction) -> None:
    if production.duration is None:
        return
    too_long = production.fragment_set.filter(end_time__gt=production.duration + 1e-6)
    if too_long.exists():
        raise ValidationError(
            {
                "duration": (
                    f"{too_long.count()} fragment(s) end after {production.duration:.2f}s; "
                    "shorten them first."
                )
            }
        )


@transaction.atomic
def fragment_create(
    *, actor: Actor, production: CreativeProduction, data: FragmentData
) -> CreativeFragment:
    """A new fragment starts unapproved: approval is a separate, explicit act."""
    check_human_actor(actor=actor, action="add a fragment")
    refuse_non_numbers(asdict(data), fields=FRAGMENT_CUT_SECONDS)
    if data.fragment_type not in FragmentType.values:
        raise ValidationError(
            {
                "fragment_type": (
                    f"Unknown fragment type {data.fragment_type!r}; "
                    f"use one of {', '.join(FragmentType.values)}."
                )
            }
        )
    fragment = CreativeFragment(master_creative=production, **asdict(data))
    fragment.full_clean()
    fragment.save()
    _audit(
        actor=actor,
        action=ApprovalAction.FRAGMENT_CREATED,
        production=production,
        fragment=fragment,
        after={f: getattr(fragment, f) for f in FRAGMENT_EDITABLE_FIELDS},
    )
    return fragment


@transaction.atomic
def fragment_update(
    *, actor: Actor, fragment_id: UUID | str, changes: Mapping[str, Any]
) -> CreativeFragment:
    """Edit a fragment. Changing its cut withdraws its approval: the approved cut is gone."""
    check_human_actor(actor=actor, action="change a fragment")
    refuse_non_numbers(changes, fields=FRAGMENT_CUT_SECONDS)
    fragment, before, changed = _locked_with_changes(
        CreativeFragment, fragment_id, changes, editable=FRAGMENT_EDITABLE_FIELDS
    )
    if not changed:
        return fragment
    update_fields = list(changed)
    cut_changed = bool({"fragment_type", "start_time", "end_time"} & set(changed))
    if cut_changed and fragment.approved:
        before["approved"] = True
        fragment.approved, fragment.approved_by_id, fragment.approved_at = (
            False,
            None,
            None,
        )
        update_fields += ["approved", "approved_by", "approved_at"]
        changed["approved"] = False
    fragment.save(update_fields=update_fields)
    _audit(
        actor=actor,
        action=ApprovalAction.FRAGMENT_CHANGED,
        production=fragment.master_creative,
        fragment=fragment,
        before=before,
        after=changed,
    )
    if cut_changed:
        _sync_approved_snapshot(fragment.master_creative_id)
    return fragment


@transaction.atomic
def fragment_delete(*, actor: Actor, fragment_id: UUID | str) -> None:
    check_human_actor(actor=actor, action="delete a fragment")
    fragment = CreativeFragment.objects.select_for_update().get(pk=fragment_id)
    production_id = fragment.master_creative_id
    _audit(
        actor=actor,
        action=ApprovalAction.FRAGMENT_CHANGED,
        production=fragment.master_creative,
        fragment=None,
        before={"deleted_fragment": str(fragment.pk), "approved": fragment.approved},
        after={"deleted": True},
    )
    fragment.delete()
    _sync_approved_snapshot(production_id)


@transaction.atomic
def fragments_approve(*, actor: Actor, fragment_ids: Iterable[UUID | str]) -> int:
    """Approve fragments in bulk; returns how many changed (already approved are skipped)."""
    check_human_actor(actor=actor, action="approve fragments")
    now = timezone.now()
    return _fragments_set_approval(
        actor=actor,
        fragment_ids=fragment_ids,
        approved=True,
        approver={"approved_by_id": actor.user_id, "approved_at": now},
        audit_action=ApprovalAction.FRAGMENT_APPROVED,
        audit_after={"approved": True, "approved_at": now.isoformat()},
    )


@transaction.atomic
def fragments_reject(*, actor: Actor, fragment_ids: Iterable[UUID | str]) -> int:
    """Withdraw approval in bulk; the engine stops using them at its next write."""
    check_human_actor(actor=actor, action="reject fragments")
    return _fragments_set_approval(
        actor=actor,
        fragment_ids=fragment_ids,
        approved=False,
        approver={"approved_by_id": None, "approved_at": None},
        audit_action=ApprovalAction.FRAGMENT_REJECTED,
        audit_after={"approved": False},
    )


def _fragments_set_approval(
    *,
    actor: Actor,
    fragment_ids: Iterable[UUID | str],
    approved: bool,
    approver: Mapping[str, Any],
    audit_action: str,
    audit_after: Mapping[str, Any],
) -> int:
    """Move fragments to `approved` (with who and when in `approver`); count the changes.

    1. Lock those among the ids not already in that state.
    2. One conditional UPDATE for all of them.
    3. One audit row per fragment (bulk_create), then refresh each master's snapshot.
    """
    pending = list(
        CreativeFragment.objects.select_for_update()
        .filter(pk__in=list(fragment_ids), approved=not approved)
        .select_related("master_creative")
    )
    if not pending:
        return 0
    changed = CreativeFragment.objects.filter(
        pk__in=[f.pk for f in pending], approved=not approved
    ).update(approved=approved, **approver)
    _bulk_audit(
        actor=actor,
        action=audit_action,
        fragments=pending,
        before={"approved": not approved},
        after=audit_after,
    )
    for production_id in {f.master_creative_id for f in pending}:
        _sync_approved_snapshot(production_id)
    verb = "approved" if approved else "rejected"
    logger.info("%s %s %d fragment(s)", actor.name, verb, changed)
    return changed


def _bulk_audit(
    *,
    actor: Actor,
    action: str,
    fragments: Sequence[CreativeFragment],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    ApprovalAudit.objects.bulk_create(
        [
            ApprovalAudit(
                action=action,
                actor_id=actor.user_id,
                actor_name=actor.name,
                production_id=f.master_creative_id,
                fragment_id=f.pk,
                object_repr=str(f)[:300],
                before=dict(before),
                after=dict(after),
            )
            for f in fragments
        ]
    )


def _sync_approved_snapshot(production_id: UUID | str) -> None:
    """Keep the master's `fragments` JSON (SPEC's approved set) equal to the table."""
    approved_ids = [
        str(pk)
        for pk in CreativeFragment.objects.filter(
            master_creative_id=UUID(str(production_id)), approved=True
        )
        .order_by("fragment_type", "start_time")
        .values_list("pk", flat=True)
    ]
    CreativeProduction.objects.filter(pk=production_id).update(fragments=approved_ids)


# A probed duration this close to the saved one is the same video (container rounding).
PROBE_DURATION_TOLERANCE_SECONDS = 0.05


def production_probe(
    *,
    actor: Actor,
    production_id: UUID | str,
    resolver: Resolver = system_resolver,
    allowed_networks: Collection[IPNetwork] = (),
) -> ProbeSummary:
    """Read the master's video again and take its duration from it.

    A master given by URL, or saved before uploads were probed, may have no duration
    (or a typed one), and generation refuses it until the video says how long it is.
    Not one transaction: fetching a URL may take seconds, and no row is locked while.
    1. Fetch or open the video and probe it (an unreadable video is a ValidationError
       on the field it came from, in words).
    2. Save the probed duration through `production_update` (every fragment must still
       fit, else the refusal names how many do not).
    3. Keep the probe for the console (frame rate for the cutter) and return it.
    """
    check_human_actor(actor=actor, action="probe a master")
    production = CreativeProduction.objects.get(pk=production_id)
    field = "video_file" if production.video_file else "video_url"
    try:
        with master_local_path(
            production, resolver=resolver, allowed_networks=allowed_networks
        ) as source:
            info = probe_media(source)
    except (CorruptMediaError, UnsafeURLError, FetchError) as exc:
        raise ValidationError({field: [f"The video cannot be probed: {exc}"]}) from exc
    duration = round(float(info.duration), 3)
    if (
        production.duration is None
        or abs(production.duration - duration) > PROBE_DURATION_TOLERANCE_SECONDS
    ):
        production = production_update(
            actor=actor, production_id=production.pk, changes={"duration": duration}
        )
    return probe_summary_store(production, info)
