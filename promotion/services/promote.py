"""The creative optimizer (10.16) applied: top 3 ACTIVE, losers paused, budgets stepped.

The maths lives in `promotion.ranking` (pure); this module reads the evidence, asks the
ranking for a verdict, and carries it out on Meta — each call logged in PromotionLog by
the observer, each decision logged with the posterior numbers behind it. Times are taken
from `as_of` (the cycle's clock), so a simulated cycle judges by simulated hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Prefetch

from productions.guard import Actor, check_variant_respects_human_rules
from productions.models import CreativeProduction
from productions.selectors import approved_fragment_ids
from promotion.choices import PromotedBy, PromotionStatus, PromotionType
from promotion.daystats import day_stats_from_rows
from promotion.fragment_scoring import fragment_ids_in_order, hook_fragment_id
from promotion.meta.protocol import AdStatus, MetaAdsClient
from promotion.models import PromotionLog, VariantDailyMetric
from promotion.ranking import (
    Action,
    BudgetPolicy,
    Candidate,
    RankingPolicy,
    RankingResult,
    StructureReport,
    best_structure,
    plan_budget,
    rank_master,
)
from promotion.services.ad_control import ad_status_ensure
from promotion.services.meta_calls import (
    meta_call_context,
    meta_client,
    promotion_log_decision,
)
from variants.choices import LIVE_STATUSES, VariantStatus
from variants.models import CreativeVariant
from variants.services.lifecycle import variant_transition

logger = logging.getLogger(__name__)

BUDGET_LOOKBACK_DAYS = 7


class PromotionRefused(Exception):
    """A promotion a person asked for cannot be done; the message says why."""


@dataclass(frozen=True)
class PromotionDecision:
    """One thing the optimizer decided about one variant (or ad set), and why."""

    action: str
    reason: str
    variant_id: str | None
    master_id: str
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass
class MasterPromotionOutcome:
    master_id: str
    metric: str | None = None
    winners: tuple[str, ...] = ()
    decisions: list[PromotionDecision] = field(default_factory=list)
    structures: dict[str, StructureReport] = field(default_factory=dict)


# --- reads -------------------------------------------------------------------------


def live_variants_with_metrics(*, master_id: UUID | str) -> list[CreativeVariant]:
    """A master's testing/active variants that have an ad, with their daily rows."""
    return list(
        CreativeVariant.objects.filter(
            parent_id=UUID(str(master_id)), status__in=LIVE_STATUSES
        )
        .exclude(meta_ad_id="")
        .prefetch_related(
            Prefetch(
                "daily_metrics", queryset=VariantDailyMetric.objects.order_by("date")
            )
        )
        .order_by("batch_number", "variant_number")
    )


def _hours_between(later: dt.datetime, earlier: dt.datetime | None) -> float | None:
    if earlier is None:
        return None
    return max((later - earlier).total_seconds() / 3600.0, 0.0)


def candidates_for(
    variants: Sequence[CreativeVariant], *, as_of: dt.datetime
) -> list[Candidate]:
    return [
        Candidate(
            variant_id=str(v.pk),
            status=v.status,
            age_hours=_hours_between(as_of, v.uploaded_at or v.generated_at) or 0.0,
            days=day_stats_from_rows(list(v.daily_metrics.all())),
            last_status_change_at_hours_ago=_hours_between(as_of, v.status_changed_at),
            narrative_structure=v.narrative_structure,
            campaign_id=v.campaign_id or "",
            hook_fragment_id=hook_fragment_id(v.fragments_order),
            features=variant_features(v),
        )
        for v in variants
    ]


def variant_features(variant: CreativeVariant) -> tuple[str, ...]:
    """What a viewer sees besides the hook, as the attributes the ranking's prior
    shares between siblings (see `promotion.ranking.Candidate.features`)."""
    hook = hook_fragment_id(variant.fragments_order)
    fragments = [
        f"fragment:{f}"
        for f in fragment_ids_in_order(variant.fragments_order)
        if f != hook
    ]
    extra = [
        f"structure:{variant.narrative_structure}",
        f"length:{variant.duration_category}",
    ]
    if variant.color_look:
        extra.append(f"look:{variant.color_look}")
    return tuple(sorted(set(fragments))) + tuple(extra)


def budget_policy_from_settings() -> BudgetPolicy:
    """The ROAS engine's target and budget bounds as the deployment configured them."""
    return BudgetPolicy(
        target_roas=settings.ROAS_TARGET,
        min_daily_budget_minor=settings.ROAS_MIN_DAILY_BUDGET_MINOR,
        max_daily_budget_minor=settings.ROAS_MAX_DAILY_BUDGET_MINOR,
    )


def decision_seed(*parts: object) -> int:
    """A stable 63-bit seed from ids and dates: the same decision draws the same."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


# --- the top-3 step ------------------------------------------------------------------


def master_promote_top(
    *,
    master_id: UUID | str,
    as_of: dt.datetime,
    run_id: UUID | str | None = None,
    dry_run: bool = False,
    client: MetaAdsClient | None = None,
    policy: RankingPolicy | None = None,
    budget_policy: BudgetPolicy | None = None,
) -> MasterPromotionOutcome:
    """Rank a master's live variants and carry out the verdict.

    1. Read each testing/active variant with an ad and its daily metrics.
    2. `rank_master`: gates, spike guard, Beta posterior, cooldown → an action each.
    3. Promote (ad ACTIVE, variant active), demote (variant testing), pause losers
       (ad PAUSED, variant archived); every other testing variant's ad is made ACTIVE
       so it gathers evidence (ads are created PAUSED).
    4. Step the ad set's budget from measured ROAS/CPA (≤ 20 %, ≤ 4 per hour).
    In a dry run nothing is sent to Meta and nothing is written; the decisions say
    what would happen.
    """
    policy = policy or RankingPolicy()
    budget_policy = budget_policy or budget_policy_from_settings()
    master = CreativeProduction.objects.get(pk=master_id)
    outcome = MasterPromotionOutcome(master_id=str(master.pk))
    variants = live_variants_with_metrics(master_id=master.pk)
    if not variants:
        return outcome
    result = rank_master(
        candidates_for(variants, as_of=as_of),
        policy=policy,
        seed=decision_seed(master.pk, as_of.date()),
        as_of=as_of.date(),
    )
    outcome.metric, outcome.winners = result.metric, result.winners
    outcome.structures = result.structures or best_structure_for_variants(variants)
    by_id = {str(v.pk): v for v in variants}
    client = None if dry_run else meta_client(client=client, as_of=as_of)
    for judgement in result.judgements:
        variant = by_id[judgement.variant_id]
        numbers = {**judgement.details(), "metric": result.metric}
        decision = PromotionDecision(
            action=str(judgement.action),
            reason=judgement.reason,
            variant_id=judgement.variant_id,
            master_id=str(master.pk),
            numbers=numbers,
        )
        outcome.decisions.append(decision)
        if dry_run or client is None:
            continue
        _carry_out(
            variant=variant,
            action=judgement.action,
            numbers=numbers,
            client=client,
            as_of=as_of,
            run_id=run_id,
        )
    budget = _step_budget(
        master=master,
        variants=variants,
        result=result,
        as_of=as_of,
        run_id=run_id,
        client=client,
        policy=budget_policy,
    )
    if budget is not None:
        outcome.decisions.append(budget)
    return outcome


def _carry_out(
    *,
    variant: CreativeVariant,
    action: Action,
    numbers: dict[str, Any],
    client: MetaAdsClient,
    as_of: dt.datetime,
    run_id: UUID | str | None,
) -> None:
    context = {
        "variant_id": variant.pk,
        "run_id": run_id,
        "campaign_id": variant.campaign_id,
        "adset_id": variant.adset_id,
        "meta_ad_id": variant.meta_ad_id,
        "meta_creative_id": variant.meta_creative_id,
        "decision": {**numbers, "as_of": as_of.isoformat()},
    }
    if action == Action.PROMOTE:
        with meta_call_context(promotion_type=PromotionType.WINNER, **context):
            ad_status_ensure(variant, AdStatus.ACTIVE, client=client)
            variant_transition(
                variant_id=variant.pk,
                from_statuses=[VariantStatus.TESTING],
                to_status=VariantStatus.ACTIVE,
                status_changed_at=as_of,
                activated_at=as_of,
            )
            promotion_log_decision(
                operation="promote_top",
                message="",
                promotion_type=PromotionType.WINNER,
                status=PromotionStatus.SUCCEEDED,
                details=numbers,
            )
    elif action == Action.DEMOTE:
        with meta_call_context(promotion_type=PromotionType.TEST, **context):
            variant_transition(
                variant_id=variant.pk,
                from_statuses=[VariantStatus.ACTIVE],
                to_status=VariantStatus.TESTING,
                status_changed_at=as_of,
            )
            promotion_log_decision(
                operation="demote",
                message=str(numbers.get("reason", "")),
                promotion_type=PromotionType.TEST,
                status=PromotionStatus.SUCCEEDED,
                details=numbers,
            )
    elif action == Action.PAUSE:
        with meta_call_context(promotion_type=PromotionType.PAUSE, **context):
            ad_status_ensure(variant, AdStatus.PAUSED, client=client)
            variant_transition(
                variant_id=variant.pk,
                from_statuses=[VariantStatus.TESTING, VariantStatus.ACTIVE],
                to_status=VariantStatus.ARCHIVED,
                status_changed_at=as_of,
                archived_at=as_of,
            )
    elif variant.status == VariantStatus.TESTING and variant.meta_ad_status != "ACTIVE":
        # Keep testing: the ad needs delivery to gather evidence.
        with meta_call_context(promotion_type=PromotionType.TEST, **context):
            ad_status_ensure(variant, AdStatus.ACTIVE, client=client)


def _recent_budget_changes(*, adset_id: str, as_of: dt.datetime) -> list[float]:
    """Hours since each successful budget change of this ad set, on the cycle's clock."""
    since = dt.timedelta(days=2)
    rows = PromotionLog.objects.filter(
        adset_id=adset_id, operation="set_adset_budget", success=True
    ).order_by("-created_at")[:20]
    hours: list[float] = []
    for row in rows:
        stamp = (row.decision_details or {}).get("as_of")
        moment = dt.datetime.fromisoformat(stamp) if stamp else row.created_at
        if dt.timedelta(0) <= as_of - moment <= since:
            hours.append((as_of - moment).total_seconds() / 3600.0)
    return hours


def _step_budget(
    *,
    master: CreativeProduction,
    variants: Sequence[CreativeVariant],
    result: RankingResult,
    as_of: dt.datetime,
    run_id: UUID | str | None,
    client: MetaAdsClient | None,
    policy: BudgetPolicy,
) -> PromotionDecision | None:
    """The ROAS engine (10.5): the ad set's budget follows measured ROAS/CPA."""
    adset_id = master.adset_id or settings.META_DEFAULT_ADSET_ID
    if not adset_id or not result.winners:
        return None
    window_start = as_of.date() - dt.timedelta(days=BUDGET_LOOKBACK_DAYS)
    spend = revenue = 0.0
    conversions = 0
    for variant in variants:
        for metric in variant.daily_metrics.all():
            if window_start <= metric.date < as_of.date():
                spend += float(metric.spend)
                revenue += float(metric.revenue)
                conversions += metric.conversions
    context = {
        "run_id": run_id,
        "adset_id": adset_id,
        "campaign_id": master.campaign_id,
    }
    if client is None:
        current = None
    else:
        with meta_call_context(promotion_type=PromotionType.BUDGET, **context):
            current = client.get_adset(adset_id=adset_id).daily_budget_minor
    decision = plan_budget(
        current_daily_budget_minor=current,
        spend=spend,
        revenue=revenue,
        conversions=conversions,
        target_cpa=None,
        recent_change_times_hours_ago=_recent_budget_changes(
            adset_id=adset_id, as_of=as_of
        ),
        policy=policy,
    )
    numbers = {
        "adset_id": adset_id,
        "current_daily_budget_minor": current,
        "new_daily_budget_minor": decision.new_daily_budget_minor,
        "change_ratio": decision.change_ratio,
        "measured_roas": decision.measured_roas,
        "measured_cpa": decision.measured_cpa,
        "spend_7d": round(spend, 2),
        "revenue_7d": round(revenue, 2),
        "conversions_7d": conversions,
        "winners": list(result.winners),
        "as_of": as_of.isoformat(),
    }
    if client is not None and decision.new_daily_budget_minor is not None:
        with meta_call_context(
            promotion_type=PromotionType.SCALE, decision=numbers, **context
        ):
            client.set_adset_budget(
                adset_id=adset_id, daily_budget_minor=decision.new_daily_budget_minor
            )
    return PromotionDecision(
        action="budget_change" if decision.changed else "budget_hold",
        reason=decision.reason,
        variant_id=None,
        master_id=str(master.pk),
        numbers=numbers,
    )


def best_structure_for_variants(
    variants: Sequence[CreativeVariant],
) -> dict[str, StructureReport]:
    """Best narrative structure per campaign from measured clicks per impression."""
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for variant in variants:
        for metric in variant.daily_metrics.all():
            cell = rows[(variant.campaign_id or "", variant.narrative_structure)]
            cell[0] += min(metric.clicks, metric.impressions)
            cell[1] += metric.impressions
    return best_structure([(c, s, n[0], n[1]) for (c, s), n in rows.items()])


# --- by hand -------------------------------------------------------------------------


def variant_promote_manual(
    *,
    variant_id: UUID | str,
    actor: Actor,
    campaign_id: str = "",
    adset_id: str = "",
    budget: Decimal | None = None,
    force: bool = False,
    promoted_by: str = PromotedBy.MANUAL,
    client: MetaAdsClient | None = None,
) -> PromotionLog:
    """A person promotes one variant: its ad goes ACTIVE, the variant becomes active.

    1. Refuse what cannot be promoted: not uploaded yet, archived/failed, or an ad that
       lives in another ad set than the one named (an ad cannot move ad sets).
    2. The human rules are checked always; `force` never overrides them.
    3. Without `force`, the cooldown after the last status change is respected.
    4. Ad ACTIVE, variant active; with `budget`, the ad set's daily budget is set
       (steps above 20 % need `force`: they reset Meta's learning phase).
    """
    from django.utils import timezone

    now = timezone.now()
    variant = CreativeVariant.objects.select_related("parent").get(pk=variant_id)
    master = variant.parent
    if variant.status not in LIVE_STATUSES:
        if not force or variant.status not in _FORCEABLE:
            raise PromotionRefused(_refusal(variant, force=force))
        variant = _prepare_forced(
            variant=variant, promoted_by=promoted_by, client=client
        )
    check_variant_respects_human_rules(
        master=master,
        fragment_ids=[slot["fragment_id"] for slot in variant.fragments_order],
        hashtags=variant.hashtags,
        pixel_id=variant.pixel_id or None,
        approved_fragment_ids=approved_fragment_ids(production_id=master.pk),
    )
    if adset_id and variant.adset_id and adset_id != variant.adset_id:
        raise PromotionRefused(
            f"Variant {variant.pk}'s ad lives in ad set {variant.adset_id}; an ad cannot "
            f"move to {adset_id}."
        )
    if campaign_id and variant.campaign_id and campaign_id != variant.campaign_id:
        raise PromotionRefused(
            f"Variant {variant.pk} runs in campaign {variant.campaign_id}, not {campaign_id}."
        )
    hours = _hours_between(now, variant.status_changed_at)
    cooldown = RankingPolicy().cooldown_hours
    if (
        not force
        and hours is not None
        and hours < cooldown
        and variant.status == "testing"
    ):
        raise PromotionRefused(
            f"Variant {variant.pk} changed status {hours:.1f} h ago (cooldown "
            f"{cooldown:.0f} h); pass force to promote it anyway."
        )
    target_adset = adset_id or variant.adset_id or master.adset_id
    client = meta_client(client=client)
    numbers = {
        "actor": actor.name,
        "force": force,
        "budget": str(budget) if budget is not None else None,
        "as_of": now.isoformat(),
    }
    with meta_call_context(
        variant_id=variant.pk,
        promotion_type=PromotionType.WINNER,
        promoted_by=promoted_by,
        campaign_id=variant.campaign_id,
        adset_id=target_adset,
        meta_ad_id=variant.meta_ad_id,
        meta_creative_id=variant.meta_creative_id,
        decision=numbers,
    ):
        if budget is not None:
            _set_budget_by_hand(
                adset_id=target_adset, budget=budget, force=force, client=client
            )
        ad_status_ensure(variant, AdStatus.ACTIVE, client=client)
        if variant.status == VariantStatus.TESTING:
            variant_transition(
                variant_id=variant.pk,
                from_statuses=[VariantStatus.TESTING],
                to_status=VariantStatus.ACTIVE,
                status_changed_at=now,
                activated_at=now,
            )
        log = promotion_log_decision(
            operation="promote_manual",
            message="",
            promotion_type=PromotionType.WINNER,
            status=PromotionStatus.SUCCEEDED,
            details=numbers,
        )
    PromotionLog.objects.filter(pk=log.pk).update(success=True, budget_allocated=budget)
    log.refresh_from_db()
    logger.info("%s promoted variant %s (force=%s)", actor.name, variant.pk, force)
    return log


# Statuses a forced promotion carries through render and upload first.
_FORCEABLE = frozenset({VariantStatus.DRAFT, VariantStatus.RENDERED})


def _refusal(variant: CreativeVariant, *, force: bool) -> str:
    if variant.status in _FORCEABLE:
        return (
            f"Variant {variant.pk} is {variant.status}, not uploaded yet; pass force to "
            "render and upload it now, or let the next cycle do it."
        )
    return (
        f"Variant {variant.pk} is {variant.status}: archived and failed variants stay "
        "retired, even when forced (a new variant or a refresh replaces them)."
    )


def _prepare_forced(
    *, variant: CreativeVariant, promoted_by: str, client: MetaAdsClient | None
) -> CreativeVariant:
    """Render (if needed) and upload now, so a forced promotion has an ad to activate."""
    if variant.status == VariantStatus.DRAFT:
        from variants.services.rendering import variant_render

        variant_render(variant_id=variant.pk)
    from promotion.services.upload import variant_upload

    variant_upload(variant_id=variant.pk, promoted_by=promoted_by, client=client)
    variant = CreativeVariant.objects.select_related("parent").get(pk=variant.pk)
    if variant.status not in LIVE_STATUSES:
        raise PromotionRefused(
            f"Variant {variant.pk} could not be uploaded ({variant.status}: "
            f"{variant.failure_reason or 'see its promotion logs'})."
        )
    return variant


def _set_budget_by_hand(
    *, adset_id: str, budget: Decimal, force: bool, client: MetaAdsClient
) -> None:
    if budget <= 0:
        raise PromotionRefused("The budget must be positive.")
    new_minor = int((budget * 100).to_integral_value())
    current = client.get_adset(adset_id=adset_id).daily_budget_minor
    if current is None:
        raise PromotionRefused(
            f"Ad set {adset_id} has no daily budget of its own (the campaign sets it)."
        )
    step = abs(new_minor / current - 1.0)
    if step > BudgetPolicy().max_step and not force:
        raise PromotionRefused(
            f"A budget change of {step:.0%} resets Meta's learning phase (limit "
            f"{BudgetPolicy().max_step:.0%}); pass force to do it anyway."
        )
    client.set_adset_budget(adset_id=adset_id, daily_budget_minor=new_minor)


def variant_archive(
    *,
    variant_id: UUID | str,
    actor: Actor,
    reason: str = "",
    client: MetaAdsClient | None = None,
) -> CreativeVariant:
    """Retire a variant by hand: its ad is archived on Meta first, then the variant."""
    variant = CreativeVariant.objects.get(pk=variant_id)
    if variant.status == VariantStatus.ARCHIVED:
        return variant
    if variant.meta_ad_id:
        with meta_call_context(
            variant_id=variant.pk,
            promotion_type=PromotionType.ARCHIVE,
            promoted_by=PromotedBy.MANUAL,
            adset_id=variant.adset_id,
            meta_ad_id=variant.meta_ad_id,
            decision={"actor": actor.name, "reason": reason},
        ):
            ad_status_ensure(
                variant, AdStatus.ARCHIVED, client=meta_client(client=client)
            )
    sources = [s for s in VariantStatus.values if s != VariantStatus.ARCHIVED]
    from variants.choices import VARIANT_TRANSITIONS

    allowed = [s for s in sources if VariantStatus.ARCHIVED in VARIANT_TRANSITIONS[s]]
    if variant.status not in allowed:
        raise PromotionRefused(
            f"Variant {variant.pk} is {variant.status}; wait until its work finishes."
        )
    variant_transition(
        variant_id=variant.pk,
        from_statuses=[variant.status],
        to_status=VariantStatus.ARCHIVED,
        failure_reason=f"archived by {actor.name}: {reason}"[:4000] if reason else "",
    )
    variant.refresh_from_db()
    return variant
