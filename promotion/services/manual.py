"""Promotion by hand: a person promotes or archives one variant (admin, API, command).

The human rules hold always; `force` only waives the engine's own caution (the
cooldown, a budget step that resets Meta's learning) and may render and upload a
variant first. Each Meta call is logged like the optimizer's.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from uuid import UUID

from django.utils import timezone

from productions.guard import Actor, check_variant_respects_human_rules
from productions.selectors import approved_fragment_ids
from promotion.budget import BudgetPolicy
from promotion.choices import PromotedBy, PromotionStatus, PromotionType
from promotion.meta.protocol import AdStatus, MetaAdsClient
from promotion.models import PromotionLog
from promotion.ranking import RankingPolicy
from promotion.services.ad_control import (
    ad_status_ensure,
    variant_ads_ensure,
    variant_call_context,
)
from promotion.services.meta_calls import meta_client, promotion_log_decision
from promotion.services.ranking_inputs import budget_policy_from_settings, hours_between
from promotion.services.upload import variant_upload
from variants.choices import LIVE_STATUSES, VARIANT_TRANSITIONS, VariantStatus
from variants.models import CreativeVariant
from variants.services.lifecycle import (
    variant_activate,
    variant_mark_archived,
    variant_pause,
)
from variants.services.rendering import variant_render

logger = logging.getLogger(__name__)


class PromotionRefused(Exception):
    """A promotion a person asked for cannot be done; the message says why."""


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

    1. Refuse what cannot be promoted: a budget outside the deployment's bounds (the
       ceiling the engine obeys binds people too, `force` or not), not uploaded yet,
       archived/failed, or an ad that lives in another ad set than the one named (an
       ad cannot move ad sets). Nothing is rendered, uploaded or changed before that.
    2. The human rules are checked always; `force` never overrides them.
    3. Without `force`, the cooldown after the last status change is respected.
    4. Ad ACTIVE, variant active; with `budget`, the ad set's daily budget is set
       (steps above 20 % need `force`: they reset Meta's learning phase).
    """
    now = timezone.now()
    if budget is not None:
        _check_budget_bounds(budget)
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
    hours = hours_between(now, variant.status_changed_at)
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
    with variant_call_context(
        variant,
        promotion_type=PromotionType.WINNER,
        promoted_by=promoted_by,
        adset_id=target_adset,
        decision=numbers,
    ):
        if budget is not None:
            _set_budget_by_hand(
                adset_id=target_adset, budget=budget, force=force, client=client
            )
        ad_status_ensure(variant, AdStatus.ACTIVE, client=client)
        if variant.status == VariantStatus.TESTING:
            variant_activate(variant_id=variant.pk, at=now)
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
        variant_render(variant_id=variant.pk)
    variant_upload(variant_id=variant.pk, promoted_by=promoted_by, client=client)
    variant = CreativeVariant.objects.select_related("parent").get(pk=variant.pk)
    if variant.status not in LIVE_STATUSES:
        raise PromotionRefused(
            f"Variant {variant.pk} could not be uploaded ({variant.status}: "
            f"{variant.failure_reason or 'see its promotion logs'})."
        )
    return variant


def _check_budget_bounds(budget: Decimal) -> None:
    """A person may set any positive daily budget up to the deployment's ceiling
    (ROAS_MAX_DAILY_BUDGET_MINOR), the same one the ROAS engine never passes."""
    if budget <= 0:
        raise PromotionRefused("The budget must be positive.")
    ceiling_minor = budget_policy_from_settings().max_daily_budget_minor
    if budget * 100 > ceiling_minor:
        raise PromotionRefused(
            f"A daily budget of {budget:,.2f} is above this deployment's ceiling of "
            f"{Decimal(ceiling_minor) / 100:,.2f} (ROAS_MAX_DAILY_BUDGET_MINOR); "
            "force does not lift it. Ask an admin to raise the ceiling."
        )


def _set_budget_by_hand(
    *, adset_id: str, budget: Decimal, force: bool, client: MetaAdsClient
) -> None:
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
    """Retire a variant by hand: its ads (test and scaling) are archived on Meta
    first, then the variant."""
    variant = CreativeVariant.objects.get(pk=variant_id)
    if variant.status == VariantStatus.ARCHIVED:
        return variant
    if variant.meta_ad_id or variant.scaling_ad_id:
        with variant_call_context(
            variant,
            promotion_type=PromotionType.ARCHIVE,
            promoted_by=PromotedBy.MANUAL,
            decision={"actor": actor.name, "reason": reason},
        ):
            variant_ads_ensure(
                variant, AdStatus.ARCHIVED, client=meta_client(client=client)
            )
    sources = [s for s in VariantStatus.values if s != VariantStatus.ARCHIVED]
    allowed = [s for s in sources if VariantStatus.ARCHIVED in VARIANT_TRANSITIONS[s]]
    if variant.status not in allowed:
        raise PromotionRefused(
            f"Variant {variant.pk} is {variant.status}; wait until its work finishes."
        )
    variant_mark_archived(
        variant_id=variant.pk,
        from_statuses=[variant.status],
        failure_reason=f"archived by {actor.name}: {reason}"[:4000] if reason else "",
    )
    variant.refresh_from_db()
    return variant


def variant_pause_manual(
    *,
    variant_id: UUID | str,
    actor: Actor,
    reason: str = "",
    client: MetaAdsClient | None = None,
) -> CreativeVariant:
    """Pause a live variant by hand: its ads (test and scaling) are paused on Meta
    first, then the variant; unlike archiving, a person may promote it again."""
    variant = CreativeVariant.objects.get(pk=variant_id)
    if variant.status == VariantStatus.PAUSED:
        return variant
    if variant.status not in LIVE_STATUSES:
        raise PromotionRefused(
            f"Only a testing or active variant can be paused; this one is "
            f"{variant.get_status_display().lower()}."
        )
    meta = meta_client(client=client)
    decision = {"action": "pause", "actor": actor.name, "reason": reason}
    with variant_call_context(
        variant,
        promotion_type=PromotionType.PAUSE,
        promoted_by=PromotedBy.MANUAL,
        decision=decision,
    ):
        variant_ads_ensure(variant, AdStatus.PAUSED, client=meta)
        variant_pause(variant_id=variant.pk)
        # The decision itself, whether or not an ad had to change on Meta.
        promotion_log_decision(
            operation="pause_by_hand",
            message=reason,
            promotion_type=PromotionType.PAUSE,
            status=PromotionStatus.SUCCEEDED,
            details=decision,
        )
    variant.refresh_from_db()
    return variant
