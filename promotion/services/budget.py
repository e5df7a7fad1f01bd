"""The ROAS engine applied: a master's ad set budget follows what its winners earn.

The maths is `promotion.budget.plan_budget` (pure); this reads the spend and the
recent changes, asks it, and sets the new budget on Meta (one logged call).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.conf import settings

from productions.choices import Objective
from productions.models import CreativeProduction
from promotion.budget import BudgetPolicy, plan_budget
from promotion.choices import PromotionType
from promotion.evidence import objective_is_money
from promotion.meta.protocol import MetaAdsClient
from promotion.selectors import adset_budget_change_hours
from promotion.services.meta_calls import meta_call_context
from variants.models import CreativeVariant

BUDGET_LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class BudgetStep:
    """What the ROAS engine decided for an ad set, and the numbers behind it."""

    action: str  # budget_change | budget_hold
    reason: str
    numbers: dict[str, Any] = field(default_factory=dict)


def adset_budget_step(
    *,
    master: CreativeProduction,
    variants: Sequence[CreativeVariant],
    winners: Sequence[str],
    as_of: dt.datetime,
    run_id: UUID | str | None,
    client: MetaAdsClient | None,
    policy: BudgetPolicy,
    objective: str = Objective.ROAS,
    adset_id: str = "",
) -> BudgetStep | None:
    """The ROAS engine (10.5): the ad set's budget follows measured ROAS/CPA.

    1. Only once the master has winners, on the ad set they run in (`adset_id`:
       the scaling ad set when there is one, else the master's or the default),
       and only for money objectives: a CTR master's budget is a person's call.
    2. Sum the last `BUDGET_LOOKBACK_DAYS` complete days of spend, revenue and
       conversions over the winners: the ad set's budget buys more of them, so it
       follows what they earn, not what the variants still being tested earn.
    3. `plan_budget` (pure): capped step, cooldown, Meta's hourly limit.
    4. Unless `client` is None (a dry run), read the current budget and set the new.
    """
    adset_id = adset_id or master.adset_id or settings.META_DEFAULT_ADSET_ID
    if not adset_id or not winners or not objective_is_money(objective):
        return None
    window_start = as_of.date() - dt.timedelta(days=BUDGET_LOOKBACK_DAYS)
    spend = revenue = 0.0
    conversions = 0
    winner_ids = {str(w) for w in winners}
    for variant in variants:
        if str(variant.pk) not in winner_ids:
            continue
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
        # The one objective decides the basis: CPA masters against the CPA target,
        # ROAS masters against the ROAS target.
        target_cpa=settings.CPA_TARGET if objective == Objective.CPA else None,
        recent_change_times_hours_ago=adset_budget_change_hours(
            adset_id=adset_id, as_of=as_of
        ),
        policy=policy,
    )
    numbers = {
        "adset_id": adset_id,
        "objective": str(objective),
        "current_daily_budget_minor": current,
        "new_daily_budget_minor": decision.new_daily_budget_minor,
        "change_ratio": decision.change_ratio,
        "measured_roas": decision.measured_roas,
        "measured_cpa": decision.measured_cpa,
        "spend_7d": round(spend, 2),
        "revenue_7d": round(revenue, 2),
        "conversions_7d": conversions,
        "winners": list(winners),
        "as_of": as_of.isoformat(),
    }
    if client is not None and decision.new_daily_budget_minor is not None:
        with meta_call_context(
            promotion_type=PromotionType.SCALE, decision=numbers, **context
        ):
            client.set_adset_budget(
                adset_id=adset_id, daily_budget_minor=decision.new_daily_budget_minor
            )
    return BudgetStep(
        action="budget_change" if decision.changed else "budget_hold",
        reason=decision.reason,
        numbers=numbers,
    )
