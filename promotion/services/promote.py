"""The creative optimizer (10.16) applied: top 3 ACTIVE, losers paused, budgets stepped.

The maths lives in `promotion.ranking` (pure); this module reads the evidence
(`promotion.selectors`, `promotion.services.ranking_inputs`), asks the ranking for a
verdict, carries it out on Meta and steps the budget (`promotion.services.budget`) —
each call logged in PromotionLog by the observer, each decision logged with the
posterior numbers behind it. Times are taken
from `as_of` (the cycle's clock), so a simulated cycle judges by simulated hours.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from productions.models import CreativeProduction
from promotion.budget import BudgetPolicy
from promotion.choices import PromotionStatus, PromotionType
from promotion.meta.protocol import AdStatus, MetaAdsClient
from promotion.ranking import (
    Action,
    RankingPolicy,
    StructureReport,
    best_structure,
    rank_master,
)
from promotion.selectors import live_variants_with_metrics, master_objective
from promotion.services.ad_control import (
    ad_status_ensure,
    scaling_ad_ensure,
    variant_call_context,
)
from promotion.services.budget import adset_budget_step
from promotion.services.manual import (
    PromotionRefused,
    variant_archive,
    variant_promote_manual,
)
from promotion.services.meta_calls import meta_client, promotion_log_decision
from promotion.services.placement import (
    adset_for_scaling,
    adset_for_testing,
    variant_graduate,
)
from promotion.services.ranking_inputs import (
    budget_policy_from_settings,
    candidates_for,
    decision_seed,
)
from variants.choices import VariantStatus
from variants.models import CreativeVariant
from variants.services.lifecycle import (
    variant_activate,
    variant_demote,
    variant_pause,
)

# Kept importable from here for callers written before the split (the API views and
# the decision benchmark); new code imports them from their own modules.
__all__ = [
    "MasterPromotionOutcome",
    "PromotionDecision",
    "PromotionRefused",
    "VerdictExecution",
    "candidates_for",
    "live_variants_with_metrics",
    "master_promote_top",
    "variant_action_carry_out",
    "variant_archive",
    "variant_promote_manual",
]

logger = logging.getLogger(__name__)


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
    objective: str | None = None
    metric: str | None = None
    winners: tuple[str, ...] = ()
    decisions: list[PromotionDecision] = field(default_factory=list)
    structures: dict[str, StructureReport] = field(default_factory=dict)


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
    3. Promote (the winner graduates into the scaling ad set, `placement`, or
       without one its ad goes ACTIVE; variant active), demote (variant testing), pause losers
       (ad PAUSED, variant paused: not archived, a person may still promote it);
       every other testing variant's ad is made ACTIVE
       so it gathers evidence (ads are created PAUSED).
    4. Step the winners' ad set's budget by the master's objective (≤ 20 %, ≤ 4 per hour).
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
    objective = master_objective(master_id=master.pk)
    result = rank_master(
        candidates_for(variants, as_of=as_of),
        policy=policy,
        seed=decision_seed(master.pk, as_of.date()),
        as_of=as_of.date(),
        objective=objective,
    )
    outcome.objective = str(objective)
    outcome.metric, outcome.winners = result.metric, result.winners
    outcome.structures = result.structures or best_structure_for_variants(variants)
    by_id = {str(v.pk): v for v in variants}
    client = None if dry_run else meta_client(client=client, as_of=as_of)
    scaling_adset_id = adset_for_scaling(master)
    execution = (
        None
        if client is None
        else VerdictExecution(client, as_of, run_id, scaling_adset_id=scaling_adset_id)
    )
    for judgement in result.judgements:
        variant = by_id[judgement.variant_id]
        numbers = {
            **judgement.details(),
            "objective": str(objective),
            "metric": result.metric,
        }
        decision = PromotionDecision(
            action=str(judgement.action),
            reason=judgement.reason,
            variant_id=judgement.variant_id,
            master_id=str(master.pk),
            numbers=numbers,
        )
        outcome.decisions.append(decision)
        if execution is None:  # a dry run: nothing is sent, nothing written
            continue
        variant_action_carry_out(variant, judgement.action, numbers, on=execution)
    budget = adset_budget_step(
        master=master,
        variants=variants,
        winners=result.winners,
        as_of=as_of,
        run_id=run_id,
        client=client,
        policy=budget_policy,
        objective=objective,
        # The budget engine works where the winners run.
        adset_id=scaling_adset_id or adset_for_testing(master),
    )
    if budget is not None:
        outcome.decisions.append(
            PromotionDecision(
                action=budget.action,
                reason=budget.reason,
                variant_id=None,
                master_id=str(master.pk),
                numbers=budget.numbers,
            )
        )
    return outcome


@dataclass(frozen=True)
class _StatusMove:
    """How the optimizer carries out one status-changing action."""

    promotion_type: str
    ad_status: AdStatus | None  # the ad's status on Meta first, when it changes
    # The lifecycle service that moves the variant, called with the cycle's time.
    transition: Callable[..., None]
    log_operation: str | None  # a decision row in PromotionLog, when wanted
    log_reason: bool = False  # its message is the judgement's reason


_MOVES = {
    Action.PROMOTE: _StatusMove(
        PromotionType.WINNER,
        AdStatus.ACTIVE,
        variant_activate,
        log_operation="promote_top",
    ),
    Action.DEMOTE: _StatusMove(
        PromotionType.TEST,
        None,
        variant_demote,
        log_operation="demote",
        log_reason=True,
    ),
    Action.PAUSE: _StatusMove(
        PromotionType.PAUSE,
        AdStatus.PAUSED,
        variant_pause,
        log_operation=None,
    ),
}


@dataclass(frozen=True)
class VerdictExecution:
    """Where and when one master's verdict is carried out: on Meta through `client`,
    at the cycle's time, in its run; winners graduate into the scaling ad set (none:
    they stay ACTIVE in testing)."""

    client: MetaAdsClient
    as_of: dt.datetime
    run_id: UUID | str | None
    scaling_adset_id: str = ""


def variant_action_carry_out(
    variant: CreativeVariant,
    action: Action,
    numbers: dict[str, Any],
    *,
    on: VerdictExecution,
) -> None:
    """Carry out one action on Meta and in the variant's lifecycle, logged with its
    numbers. The top-3 step calls it, and so do the decision benchmark's baselines,
    so every policy's choice is carried out alike."""
    client, as_of, scaling_adset_id = on.client, on.as_of, on.scaling_adset_id
    context = {"run_id": on.run_id, "decision": {**numbers, "as_of": as_of.isoformat()}}
    move = _MOVES.get(action)
    if move is None:
        if (
            action == Action.KEEP_ACTIVE
            and scaling_adset_id
            and variant.scaling_ad_status != "ACTIVE"
        ):
            # A winner promoted elsewhere (by a person, before scaling was set up)
            # graduates now.
            with variant_call_context(
                variant, promotion_type=PromotionType.SCALE, **context
            ):
                variant_graduate(
                    variant, scaling_adset_id=scaling_adset_id, client=client
                )
        elif (
            variant.status == VariantStatus.TESTING
            and variant.meta_ad_status != "ACTIVE"
        ):
            # Keep testing: the ad needs delivery to gather evidence.
            with variant_call_context(
                variant, promotion_type=PromotionType.TEST, **context
            ):
                ad_status_ensure(variant, AdStatus.ACTIVE, client=client)
        return
    with variant_call_context(variant, promotion_type=move.promotion_type, **context):
        if action == Action.PROMOTE and scaling_adset_id:
            # The winner moves money: its creative runs in the scaling ad set.
            variant_graduate(variant, scaling_adset_id=scaling_adset_id, client=client)
        elif move.ad_status is not None:
            ad_status_ensure(variant, move.ad_status, client=client)
        if action in (Action.DEMOTE, Action.PAUSE):
            # It leaves scaling; a demoted one is judged again in testing.
            scaling_ad_ensure(variant, AdStatus.PAUSED, client=client)
            if action == Action.DEMOTE:
                ad_status_ensure(variant, AdStatus.ACTIVE, client=client)
        move.transition(variant_id=variant.pk, at=as_of)
        if move.log_operation:
            promotion_log_decision(
                operation=move.log_operation,
                message=str(numbers.get("reason", "")) if move.log_reason else "",
                promotion_type=move.promotion_type,
                status=PromotionStatus.SUCCEEDED,
                details=numbers,
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
