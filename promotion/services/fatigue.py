"""Fatigue monitor: detect (pure maths in promotion.fatigue) → archive on Meta → refresh.

A fatigued variant's ad is archived on Meta first, then the variant moves
testing/active → fatigued → archived with its fatigue_score, and a refresh variant (its
weakest fragment replaced by the best unused approved one) is written as a draft for the
cycle to render and upload, with a `SuggestionProvider`'s note on what wore out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings

from productions.models import CreativeFragment
from promotion.choices import PromotionType
from promotion.daystats import Metric, day_stats_from_rows
from promotion.evidence import choose_metric
from promotion.fatigue import FatigueAssessment, FatiguePolicy, assess_fatigue
from promotion.meta.protocol import AdStatus, MetaAdsClient
from promotion.ranking import RankingPolicy
from promotion.selectors import master_objectives
from promotion.services.ad_control import variant_ads_ensure, variant_call_context
from promotion.services.meta_calls import meta_client
from promotion.services.ranking_inputs import decision_seed
from promotion.suggestions import (
    RefreshContext,
    Suggestion,
    SuggestionProvider,
    suggestion_provider_from_settings,
)
from variants.choices import LIVE_STATUSES, VariantStatus
from variants.models import CreativeVariant
from variants.services.generation import GenerationError, variant_create_refresh
from variants.services.lifecycle import variant_mark_archived, variant_mark_fatigued

logger = logging.getLogger(__name__)


@dataclass
class FatigueOutcome:
    variant_id: str
    master_id: str
    metric: Metric  # the event the master is judged by, as ranking chooses it
    assessment: FatigueAssessment
    archived: bool = False
    refresh_variant_id: str | None = None
    refresh_error: str = ""
    suggestion: Suggestion | None = None


def fatigue_review(
    *,
    as_of: dt.datetime,
    master_ids: Sequence[UUID | str] = (),
    run_id: UUID | str | None = None,
    dry_run: bool = False,
    client: MetaAdsClient | None = None,
    policy: FatiguePolicy | None = None,
    ranking_policy: RankingPolicy | None = None,
    suggestions: SuggestionProvider | None = None,
) -> list[FatigueOutcome]:
    """Assess every live variant with an ad; retire and refresh the fatigued ones.

    1. Read live variants (scoped to `master_ids` when given) with their daily rows.
    2. Choose the master's metric from its objective as ranking does
       (`promotion.evidence.judging_metric`), so a variant is retired by the event
       it was promoted on.
    3. `assess_fatigue` each on the cycle's date (14+ days, 20 %+ drop, enough
       impressions, robust to a one-day dip; conversion lag honoured). The clock
       and the baseline start at the variant's first day of delivery, whatever
       its label: an ad wears out by being shown, promoted or not.
    4. For each fatigued one (not in a dry run): archive the ad on Meta, store the
       fatigue score, fatigued → archived, write its refresh and ask `suggestions`
       (default: the provider the settings configure) what wore out.
    """
    policy = policy or FatiguePolicy()
    metric_rule = (ranking_policy or RankingPolicy()).metric_rule
    suggestions = suggestions or suggestion_provider_from_settings(settings)
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
    objectives = master_objectives(master_ids=list(by_master))
    for master_id, siblings in by_master.items():
        days = {
            v.pk: day_stats_from_rows(list(v.daily_metrics.all())) for v in siblings
        }
        metric = choose_metric(
            days.values(),
            as_of=as_of.date(),
            rule=metric_rule,
            objective=objectives[master_id],
        )
        for variant in siblings:
            delivered = [d.date for d in days[variant.pk] if d.impressions > 0]
            if not delivered:
                continue
            assessment = assess_fatigue(
                days=days[variant.pk],
                active_since=min(delivered),
                as_of=as_of.date(),
                metric=metric,
                policy=policy,
            )
            if not assessment.fatigued:
                continue
            outcome = FatigueOutcome(
                variant_id=str(variant.pk),
                master_id=master_id,
                metric=metric,
                assessment=assessment,
            )
            outcomes.append(outcome)
            if not dry_run:
                _retire_and_refresh(
                    variant=variant,
                    outcome=outcome,
                    as_of=as_of,
                    run_id=run_id,
                    client=meta_client(client=client, as_of=as_of),
                    suggestions=suggestions,
                )
    return outcomes


def _retire_and_refresh(
    *,
    variant: CreativeVariant,
    outcome: FatigueOutcome,
    as_of: dt.datetime,
    run_id: UUID | str | None,
    client: MetaAdsClient,
    suggestions: SuggestionProvider,
) -> None:
    numbers = {
        **outcome.assessment.details(),
        "metric": outcome.metric,
        "as_of": as_of.isoformat(),
    }
    with variant_call_context(
        variant, run_id=run_id, promotion_type=PromotionType.ARCHIVE, decision=numbers
    ):
        # A fatigued winner leaves scaling too.
        variant_ads_ensure(variant, AdStatus.ARCHIVED, client=client)
    score = round(float(outcome.assessment.fatigue_score), 6)
    variant_mark_fatigued(variant_id=variant.pk, fatigue_score=score, at=as_of)
    variant_mark_archived(
        variant_id=variant.pk, from_statuses=[VariantStatus.FATIGUED], at=as_of
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
    replaced = refresh.plan_details.get("replaced") or []
    swap = replaced[-1] if replaced else {}
    weak = _fragment(swap.get("old")) or _weakest_fragment(variant)
    weak_score = weak.performance_score if weak else None
    outcome.suggestion = suggestions.suggest_refresh(
        RefreshContext(
            variant_id=str(variant.pk),
            master_title=variant.parent.title,
            tone=str((variant.parent.style_guide or {}).get("tone", "")),
            weak_fragment_id=str(weak.pk) if weak else "",
            weak_fragment_type=weak.fragment_type if weak else "",
            weak_fragment_label=weak.label if weak else "",
            weak_fragment_score=_UNSCORED if weak_score is None else weak_score,
            replacement_fragment_id=swap.get("new"),
            drop=float(outcome.assessment.drop or 0.0),
            frequency_recent=outcome.assessment.frequency_recent,
            frequency_baseline=outcome.assessment.frequency_baseline,
            caption=variant.caption,
        )
    )
    CreativeVariant.objects.filter(pk=refresh.pk).update(
        plan_details={
            **refresh.plan_details,
            "suggestion": outcome.suggestion.details(),
        }
    )


# A fragment not measured yet counts as average.
_UNSCORED = 0.5


def _fragment(fragment_id: str | None) -> CreativeFragment | None:
    if not fragment_id:
        return None
    return CreativeFragment.objects.filter(pk=fragment_id).first()


def _weakest_fragment(variant: CreativeVariant) -> CreativeFragment | None:
    """The variant's fragment with the lowest measured score (unscored count as 0.5)."""
    ids = [slot["fragment_id"] for slot in variant.fragments_order]
    fragments = list(CreativeFragment.objects.filter(pk__in=ids))
    return min(
        fragments,
        key=lambda f: _UNSCORED if f.performance_score is None else f.performance_score,
        default=None,
    )
