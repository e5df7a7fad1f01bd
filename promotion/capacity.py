"""How many new variants a master's delivery can judge: the testing budget sizes a batch.

Pure: numbers in, a number out. Every live variant shares the ad set's delivery, and
none is ranked before it has `RankingPolicy.min_impressions`. A batch of 15 on an ad set
that delivers 600 impressions a day splits them 20 ways: each test then needs a month
to be judged, the winners wait and the losers keep spending. So a new batch is sized to
what the master's recent delivery can judge within `judge_within_days`, counting the
variants already live. The cycle still plans at least the SPEC's 5 per batch; this
only stops it from planning more than the budget can test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from promotion.policy_checks import require_at_least, require_positive
from promotion.ranking import RankingPolicy


@dataclass(frozen=True)
class CapacityPolicy:
    # A new variant should pass the impressions gate within this many days.
    judge_within_days: float = 4.0
    min_impressions: int = RankingPolicy.min_impressions

    def __post_init__(self) -> None:
        require_positive(self, "judge_within_days")
        require_at_least(self, "min_impressions", 1)


def new_variant_capacity(
    *,
    daily_impressions: float | None,
    live_variants: int,
    policy: CapacityPolicy = CapacityPolicy(),
) -> int | None:
    """New variants the delivery can judge in time, beside the `live_variants`.

    None when the delivery is not known yet (no complete day of data): no limit.
    """
    if live_variants < 0:
        raise ValueError("live_variants must not be negative.")
    if daily_impressions is None:
        return None
    if daily_impressions < 0 or not math.isfinite(daily_impressions):
        raise ValueError("daily_impressions must be a finite, non-negative number.")
    judged = daily_impressions * policy.judge_within_days / policy.min_impressions
    return max(math.floor(judged) - live_variants, 0)
