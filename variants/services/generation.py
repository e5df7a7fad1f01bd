"""Generate a batch of variants for one master: plan (pure), check the human rules, write.

Nothing is written unless every plan of the batch passes the guard, and renders are
queued only after the batch is committed.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from productions.guard import check_variant_respects_human_rules
from productions.models import CreativeFragment, CreativeProduction
from productions.selectors import approved_fragment_ids
from variants.choices import VariantStatus
from variants.models import CreativeVariant
from variants.planning import (
    BatchPlan,
    FatiguedVariantInput,
    FragmentInput,
    MasterInput,
    PerformanceHints,
    PlannedPieces,
    PlanningError,
    VariantPlan,
    plan_batch,
    plan_refresh,
    planned_pieces,
    slots_from_fragments_order,
)

logger = logging.getLogger(__name__)

# Variants whose pieces a render worker has encoded and may still keep.
_PIECES_KEPT_FOR = (
    VariantStatus.RENDERED,
    VariantStatus.UPLOADING,
    VariantStatus.TESTING,
    VariantStatus.ACTIVE,
    VariantStatus.FATIGUED,
)


class GenerationError(ValueError):
    """This master cannot get new variants now; the message says why, for humans."""


def generation_seed(*, master_id: UUID | str, batch_number: int) -> int:
    """The default seed: a rerun of the same batch of the same master plans the same."""
    digest = hashlib.sha256(f"{master_id}:{batch_number}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def master_input(master: CreativeProduction) -> MasterInput:
    return MasterInput(
        id=str(master.pk),
        title=master.title,
        duration=float(master.duration or 0.0),
        genre=master.genre,
        style_guide=master.style_guide if isinstance(master.style_guide, dict) else {},
        human_instructions=master.human_instructions,
        authorized_subgenres=tuple(master.authorized_subgenres or ()),
        authorized_pixels=tuple(str(p) for p in master.authorized_pixels or ()),
    )


def _scores(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {
        str(k): float(v)
        for k, v in value.items()
        if isinstance(v, int | float) and math.isfinite(v)
    }


def fragment_input(fragment: CreativeFragment) -> FragmentInput:
    return FragmentInput(
        id=str(fragment.pk),
        fragment_type=fragment.fragment_type,
        start_time=fragment.start_time,
        end_time=fragment.end_time,
        performance_score=fragment.performance_score,
        usage_count=fragment.usage_count,
        success_rate=fragment.success_rate,
        performance_by_structure=_scores(fragment.performance_by_structure),
    )


def _lock_master(master_id: UUID | str) -> CreativeProduction:
    try:
        pk = UUID(str(master_id))
    except ValueError as exc:
        raise GenerationError(f"{master_id!r} is not a valid master id.") from exc
    master = CreativeProduction.objects.select_for_update().filter(pk=pk).first()
    if master is None:
        raise GenerationError(f"No master with id {pk}.")
    if not master.is_active:
        raise GenerationError(
            f"Master {pk} ({master.title}) is inactive; activate it to generate variants."
        )
    if master.duration is None or master.duration < 1.0:
        raise GenerationError(
            f"Master {pk} ({master.title}) has no usable duration yet; probe its video "
            "first."
        )
    return master


def _variant_row(
    *,
    master: CreativeProduction,
    batch: BatchPlan,
    batch_number: int,
    plan: VariantPlan,
    now: Any,
) -> CreativeVariant:
    variant = CreativeVariant(
        parent=master,
        batch_number=batch_number,
        variant_number=plan.variant_number,
        variant_type=plan.variant_type,
        narrative_structure=plan.narrative_structure,
        fragments_order=plan.fragments_order(),
        caption=plan.caption,
        hashtags=list(plan.hashtags),
        text_overlay=plan.text_overlay,
        color_look=plan.color_look,
        pixel_id=plan.pixel_id or "",
        duration_seconds=plan.duration_seconds,
        duration_category=plan.duration_category,
        estimated_score=plan.estimated_score,
        confidence=plan.confidence,
        plan_seed=batch.seed,
        plan_details={
            **plan.rationale,
            "signature": plan.signature,
            "batch_diversity": batch.diversity,
            "batch_notes": list(batch.notes),
        },
        status=VariantStatus.DRAFT,
        status_changed_at=now,
        campaign_id=master.campaign_id,
        adset_id=master.adset_id,
        mode=settings.CREATIVE_ENGINE_MODE,
    )
    # Field checks only: the parent is the row we hold locked, and the database
    # enforces uniqueness and the check constraints in the same INSERT.
    variant.full_clean(
        exclude=["parent"], validate_unique=False, validate_constraints=False
    )
    return variant


@dataclass(frozen=True)
class _Earlier:
    """What the master's earlier variants say about its next batch."""

    batch_number: int  # the next batch's number
    signatures: frozenset[str]  # plans already made, not to be made again
    # What the render workers' piece caches may hold for the master: the pieces of
    # its rendered and live variants.
    pieces: PlannedPieces


def _earlier(master: CreativeProduction) -> _Earlier:
    """The master's earlier variants, in one query of the columns planning needs."""
    # The default order within one master, without the default's join to the master.
    rows = (
        CreativeVariant.objects.filter(parent=master)
        .order_by("-batch_number", "variant_number")
        .values_list(
            "batch_number",
            "plan_details__signature",
            "status",
            "color_look",
            "text_overlay",
            "fragments_order",
        )
    )
    batches, signatures, kept = [0], set(), []
    for batch, signature, status, look, overlay, order in rows:
        batches.append(batch)
        if signature:
            signatures.add(str(signature))
        if status in _PIECES_KEPT_FOR:
            kept.append((look, overlay, slots_from_fragments_order(order or [])))
    return _Earlier(
        batch_number=max(batches) + 1,
        signatures=frozenset(signatures),
        pieces=planned_pieces(kept),
    )


@transaction.atomic
def variants_generate(
    *,
    master_id: UUID | str,
    seed: int | None = None,
    count: int | None = None,
    hints: PerformanceHints | None = None,
) -> list[CreativeVariant]:
    """Plan and write the master's next batch of 5-15 draft variants.

    1. Lock the master; refuse an unknown or inactive one, or one without a duration.
    2. Load its approved fragments, the signatures of its earlier variants and the
       next batch number; the seed defaults to one derived from both ids.
    3. Plan the batch (pure; `hints`, what earlier variants measured, come from the
       caller, which reads them from promotion; none plans from the neutral prior).
    4. Check every plan against the human rules before anything is written.
    5. Write the variants in one INSERT and count them on the master (F() update).

    Renders are the caller's to queue (`variants.tasks.renders_queue`): the cycle
    chains render → upload itself.
    """
    master = _lock_master(master_id)
    fragments = [
        fragment_input(f)
        for f in CreativeFragment.objects.filter(
            master_creative=master, approved=True
        ).order_by("start_time", "id")
    ]
    earlier = _earlier(master)
    batch_number = earlier.batch_number
    if seed is None:
        seed = generation_seed(master_id=master.pk, batch_number=batch_number)
    try:
        batch = plan_batch(
            master=master_input(master),
            fragments=fragments,
            hints=hints,
            seed=seed,
            max_variants=min(15, max(5, settings.VARIANTS_PER_MASTER_MAX)),
            count=count,
            exclude_signatures=earlier.signatures,
            earlier_pieces=earlier.pieces,
        )
    except PlanningError as exc:
        raise GenerationError(str(exc)) from exc

    # One read of the approved set for the whole batch (under the master's lock).
    approved = approved_fragment_ids(production_id=master.pk)
    for plan in batch.plans:
        check_variant_respects_human_rules(
            master=master,
            fragment_ids=list(plan.fragment_ids),
            hashtags=plan.hashtags,
            pixel_id=plan.pixel_id,
            approved_fragment_ids=approved,
        )

    now = timezone.now()
    variants = CreativeVariant.objects.bulk_create(
        [
            _variant_row(
                master=master,
                batch=batch,
                batch_number=batch_number,
                plan=plan,
                now=now,
            )
            for plan in batch.plans
        ]
    )
    CreativeProduction.objects.filter(pk=master.pk).update(
        total_variants_generated=F("total_variants_generated") + len(variants)
    )
    logger.info(
        "master %s: batch %s of %s variants planned (seed %s, diversity %s)",
        master.pk,
        batch_number,
        len(variants),
        seed,
        batch.diversity,
    )

    return variants


@transaction.atomic
def variant_create_refresh(
    *,
    fatigued_variant_id: UUID | str,
    seed: int,
    extra_details: dict[str, Any] | None = None,
) -> CreativeVariant:
    """Write the refresh of a fatigued variant: its weakest fragment replaced.

    1. Lock the master; load its approved fragments and their measured scores.
    2. `plan_refresh` (pure) swaps the weakest fragment for the best unused approved
       one of the same type (or replaces a fragment that lost its approval).
    3. Check the plan against the human rules; write it as a one-variant batch that
       points back at the fatigued variant. Renders are queued by the cycle.
    """
    fatigued = CreativeVariant.objects.get(pk=fatigued_variant_id)
    master = _lock_master(fatigued.parent_id)
    approved = list(
        CreativeFragment.objects.filter(master_creative=master, approved=True).order_by(
            "start_time", "id"
        )
    )
    scores = {
        str(f.pk): f.performance_score
        for f in approved
        if f.performance_score is not None
    }
    earlier = _earlier(master)
    fatigued_input = FatiguedVariantInput(
        narrative_structure=fatigued.narrative_structure,
        slots=slots_from_fragments_order(fatigued.fragments_order),
        duration_seconds=fatigued.duration_seconds,
        caption=fatigued.caption,
        hashtags=tuple(fatigued.hashtags),
        color_look=fatigued.color_look,
    )
    try:
        plan = plan_refresh(
            master=master_input(master),
            fragments=[fragment_input(f) for f in approved],
            fatigued=fatigued_input,
            fragment_scores=scores,
            seed=seed,
            variant_number=1,
            exclude_signatures=earlier.signatures,
            earlier_pieces=earlier.pieces,
        )
    except PlanningError as exc:
        raise GenerationError(str(exc)) from exc
    check_variant_respects_human_rules(
        master=master,
        fragment_ids=list(plan.fragment_ids),
        hashtags=plan.hashtags,
        pixel_id=plan.pixel_id,
        approved_fragment_ids=approved_fragment_ids(production_id=master.pk),
    )
    batch = BatchPlan(plans=(plan,), diversity=0.0, seed=seed)
    variant = _variant_row(
        master=master,
        batch=batch,
        batch_number=earlier.batch_number,
        plan=plan,
        now=timezone.now(),
    )
    variant.refreshed_from = fatigued
    variant.plan_details = {**variant.plan_details, **(extra_details or {})}
    variant.save()
    CreativeProduction.objects.filter(pk=master.pk).update(
        total_variants_generated=F("total_variants_generated") + 1
    )
    return variant
