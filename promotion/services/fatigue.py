"""Fatigue monitor: detect (pure maths in promotion.fatigue) → archive on Meta → refresh.

A fatigued variant's ad is archived on Meta first, then the variant moves
testing/active → fatigued → archived with its fatigue_score, and a refresh variant (its
weakest fragment replaced by the best unused approved one) is written as a draft for the
cycle to render and upload.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from productions.models import CreativeFragment
from promotion.choices import PromotionType
from promotion.daystats import day_stats_from_rows
from promotion.fatigue import FatigueAssessment, FatiguePolicy, assess_fatigue
from promotion.meta.protocol import AdStatus, MetaAdsClient
from promotion.ranking import RankingPolicy
from promotion.services.ad_control import ad_status_ensure
from promotion.services.meta_calls import meta_call_context, meta_client
from promotion.services.promote import decision_seed
from variants.choices import LIVE_STATUSES, VariantStatus
from variants.models import CreativeVariant
from variants.services.generation import GenerationError, variant_create_refresh
from variants.services.lifecycle import variant_transition

logger = logging.getLogger(__name__)

# What the refresh-suggestion port receives and returns (plain dicts keep this layer
# free of creative_engine imports).
SuggestRefresh = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class FatigueOutcome:
    variant_id: str
    master_id: str
    assessment: FatigueAssessment
    archived: bool = False
    refresh_variant_id: str | None = None
    refresh_error: str = ""
    suggestion: dict[str, Any] = field(default_factory=dict)


def _metric_for_master(variants: Sequence[CreativeVariant]) -> str:
    """Conversions once the master has enough of them, else CTR (as ranking does)."""
    total = sum(m.conversions for v in variants for m in v.daily_metrics.all())
    return "cvr" if total >= RankingPolicy().conversions_min_total else "ctr"


def fatigue_review(
    *,
    as_of: dt.datetime,
    master_ids: Sequence[UUID | str] = (),
    run_id: UUID | str | None = None,
    dry_run: bool = False,
    client: MetaAdsClient | None = None,
    policy: FatiguePolicy | None = None,
    suggest: SuggestRefresh | None = None,
) -> list[FatigueOutcome]:
    """Assess every live variant with an ad; retire and refresh the fatigued ones.

    1. Read live variants (scoped to `master_ids` when given) with their daily rows.
    2. `assess_fatigue` each on the cycle's date (14+ days, 20 %+ drop, enough
       impressions, robust to a one-day dip; conversion lag honoured).
    3. For each fatigued one (not in a dry run): archive the ad on Meta, store the
       fatigue score, fatigued → archived, write its refresh and its suggestion.
    """
    policy = policy or FatiguePolicy()
    query = CreativeVariant.objects.filter(status__in=LIVE_STATUSES).exclude(
        meta_ad_id=""
    )
    if master_ids:
        query = query.filter(parent_id__in=list(master_ids))
    variants = list(
        query.select_related("parent").prefetch_related("daily_metrics").order_by("id")
    )
    by_master: dict[str, list[CreativeVariant]] = {}
    for variant in variants:
        by_master.setdefault(str(variant.parent_id), []).append(variant)
    outcomes: list[FatigueOutcome] = []
    for master_id, siblings in by_master.items():
        metric = _metric_for_master(siblings)
        for variant in siblings:
            since = variant.activated_at or variant.uploaded_at or variant.generated_at
            assessment = assess_fatigue(
                days=day_stats_from_rows(list(variant.daily_metrics.all())),
                active_since=since.date(),
                as_of=as_of.date(),
                metric=metric,  # type: ignore[arg-type]
                policy=policy,
            )
            if not assessment.fatigued:
                continue
            outcome = FatigueOutcome(
                variant_id=str(variant.pk), master_id=master_id, assessment=assessment
            )
            outcomes.append(outcome)
            if not dry_run:
                _retire_and_refresh(
                    variant=variant,
                    outcome=outcome,
                    metric=metric,
                    as_of=as_of,
                    run_id=run_id,
                    client=meta_client(client=client, as_of=as_of),
                    suggest=suggest,
                )
    return outcomes


def _retire_and_refresh(
    *,
    variant: CreativeVariant,
    outcome: FatigueOutcome,
    metric: str,
    as_of: dt.datetime,
    run_id: UUID | str | None,
    client: MetaAdsClient,
    suggest: SuggestRefresh | None,
) -> None:
    numbers = {
        **outcome.assessment.details(),
        "metric": metric,
        "as_of": as_of.isoformat(),
    }
    with meta_call_context(
        variant_id=variant.pk,
        run_id=run_id,
        promotion_type=PromotionType.ARCHIVE,
        campaign_id=variant.campaign_id,
        adset_id=variant.adset_id,
        meta_ad_id=variant.meta_ad_id,
        decision=numbers,
    ):
        ad_status_ensure(variant, AdStatus.ARCHIVED, client=client)
    score = round(float(outcome.assessment.fatigue_score), 6)
    variant_transition(
        variant_id=variant.pk,
        from_statuses=list(LIVE_STATUSES),
        to_status=VariantStatus.FATIGUED,
        is_fatigued=True,
        fatigue_score=score,
        status_changed_at=as_of,
    )
    variant_transition(
        variant_id=variant.pk,
        from_statuses=[VariantStatus.FATIGUED],
        to_status=VariantStatus.ARCHIVED,
        archived_at=as_of,
        status_changed_at=as_of,
    )
    outcome.archived = True
    try:
        refresh = variant_create_refresh(
            fatigued_variant_id=variant.pk,
            seed=decision_seed(variant.pk, "refresh", as_of.date()),
            extra_details={"fatigue": numbers},
        )
    except GenerationError as exc:
        outcome.refresh_error = str(exc)
        logger.warning("no refresh for fatigued variant %s: %s", variant.pk, exc)
        return
    outcome.refresh_variant_id = str(refresh.pk)
    if suggest is None:
        return
    replaced = refresh.plan_details.get("replaced") or []
    swap = replaced[-1] if replaced else {}
    weak = _fragment_summary(swap.get("old")) or _weakest_fragment(variant)
    outcome.suggestion = suggest(
        {
            "variant_id": str(variant.pk),
            "master_title": variant.parent.title,
            "tone": str((variant.parent.style_guide or {}).get("tone", "")),
            "weak_fragment": weak,
            "replacement_fragment_id": swap.get("new"),
            "drop": float(outcome.assessment.drop or 0.0),
            "frequency_recent": outcome.assessment.frequency_recent,
            "frequency_baseline": outcome.assessment.frequency_baseline,
            "caption": variant.caption,
        }
    )
    CreativeVariant.objects.filter(pk=refresh.pk).update(
        plan_details={**refresh.plan_details, "suggestion": outcome.suggestion}
    )


def _describe(fragment: CreativeFragment) -> dict[str, Any]:
    score = fragment.performance_score
    return {
        "id": str(fragment.pk),
        "type": fragment.fragment_type,
        "label": fragment.label,
        "score": 0.5 if score is None else score,
    }


def _fragment_summary(fragment_id: str | None) -> dict[str, Any]:
    fragment = (
        CreativeFragment.objects.filter(pk=fragment_id).first() if fragment_id else None
    )
    return _describe(fragment) if fragment else {}


def _weakest_fragment(variant: CreativeVariant) -> dict[str, Any]:
    """The variant's fragment with the lowest measured score (unscored count as 0.5)."""
    ids = [slot["fragment_id"] for slot in variant.fragments_order]
    fragments = list(CreativeFragment.objects.filter(pk__in=ids))
    if not fragments:
        return {}
    described = [_describe(f) for f in fragments]
    return min(described, key=lambda d: d["score"])
