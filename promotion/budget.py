"""The ROAS engine: an ad set's next daily budget from its measured ROAS or CPA.

Pure: numbers in, a decision out. Capped steps and a cooldown keep inside Meta's
learning phase and its change-rate limit; `promotion.services.budget` applies it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from promotion.policy_checks import require_fraction, require_positive


@dataclass(frozen=True)
class BudgetPolicy:
    """Budget steps Meta's learning phase tolerates. Budgets in minor units (cents).

    Steps above ~20 % reset an ad set's learning and Meta allows at most 4 budget
    changes per ad set per hour; the cooldown keeps us well inside both.
    """

    max_step: float = 0.20
    max_changes_per_hour: int = 4
    target_roas: float = 2.0
    min_daily_budget_minor: int = 500
    max_daily_budget_minor: int = 1_000_000
    cooldown_hours: float = 6.0
    # Performance within this fraction of target is "on target": no change, so
    # noise does not walk the budget up and down.
    deadband: float = 0.10
    # Conversions needed before the budget follows measured ROAS/CPA upward.
    min_conversions: int = 3

    def __post_init__(self) -> None:
        require_fraction(self, "max_step")
        if self.min_daily_budget_minor > self.max_daily_budget_minor:
            raise ValueError("min_daily_budget_minor exceeds max_daily_budget_minor.")
        require_positive(self, "target_roas")


@dataclass(frozen=True)
class BudgetDecision:
    new_daily_budget_minor: int | None  # None: leave the budget as it is
    change_ratio: float  # new / current - 1; 0.0 when unchanged
    reason: str
    measured_roas: float | None
    measured_cpa: float | None

    @property
    def changed(self) -> bool:
        return self.new_daily_budget_minor is not None


def plan_budget(
    *,
    current_daily_budget_minor: int | None,
    spend: float,
    revenue: float,
    conversions: int,
    target_cpa: float | None,
    recent_change_times_hours_ago: Sequence[float],
    policy: BudgetPolicy = BudgetPolicy(),
) -> BudgetDecision:
    """The next daily budget for an ad set from its measured ROAS (or CPA).

    Performance is measured against target as a ratio (ROAS / target ROAS, or
    target CPA / CPA when a CPA target is given), and the budget moves by that
    ratio, capped at ±max_step and clamped to the policy's bounds. No change when
    the budget lives on the campaign, within the cooldown, at Meta's hourly limit,
    inside the deadband, or without enough conversions to judge (except that a CPA
    target already overspent without conversions steps down).
    """
    roas = revenue / spend if spend > 0 else None
    cpa = spend / conversions if conversions > 0 else None

    def hold(reason: str) -> BudgetDecision:
        return BudgetDecision(None, 0.0, reason, roas, cpa)

    if current_daily_budget_minor is None:
        return hold("the budget is set on the campaign (CBO)")
    if current_daily_budget_minor <= 0:
        raise ValueError("current_daily_budget_minor must be positive.")
    last_hour = [t for t in recent_change_times_hours_ago if 0 <= t < 1.0]
    if len(last_hour) >= policy.max_changes_per_hour:
        return hold(f"{len(last_hour)} budget changes in the last hour (Meta's limit)")
    if recent_change_times_hours_ago:
        latest = min(recent_change_times_hours_ago)
        if latest < policy.cooldown_hours:
            return hold(
                f"last change {latest:.1f} h ago, cooldown {policy.cooldown_hours} h"
            )

    if conversions >= policy.min_conversions:
        if target_cpa is not None and cpa is not None:
            performance, basis = target_cpa / cpa, f"CPA {cpa:.2f} vs {target_cpa:.2f}"
        else:
            performance = (roas or 0.0) / policy.target_roas
            basis = f"ROAS {roas or 0.0:.2f} vs {policy.target_roas:.2f}"
    elif target_cpa is not None and spend >= target_cpa * policy.min_conversions:
        # Spent what min_conversions should have cost and got fewer: clearly over.
        performance = conversions / policy.min_conversions
        basis = f"{conversions} conversions for {spend:.2f} spent (target CPA {target_cpa:.2f})"
    else:
        return hold(f"only {conversions} conversions: not enough to judge")

    if abs(performance - 1.0) <= policy.deadband:
        return hold(f"on target ({basis})")
    current = current_daily_budget_minor
    # Move with performance, at most max_step, never past a bound; a budget already
    # outside the bounds is left to the operator rather than jumped back in.
    if performance > 1.0:
        cap = min(
            math.floor(current * (1.0 + policy.max_step)), policy.max_daily_budget_minor
        )
        new = min(math.floor(current * performance), cap)
    else:
        floor = max(
            math.ceil(current * (1.0 - policy.max_step)), policy.min_daily_budget_minor
        )
        new = max(math.ceil(current * performance), floor)
    if (new - current) * (performance - 1.0) <= 0:
        return hold(f"at its bound ({basis})")
    direction = "up" if new > current else "down"
    return BudgetDecision(
        new_daily_budget_minor=new,
        change_ratio=new / current - 1.0,
        reason=f"step {direction} ({basis})",
        measured_roas=roas,
        measured_cpa=cpa,
    )
