"""What the ranking judges: a master's live variants, the policy, the windowed evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from promotion.daystats import DayStats, SpikeGuard
from promotion.evidence import MIN_CONVERSIONS, MetricRule
from promotion.policy_checks import (
    require_at_least,
    require_fraction,
    require_not_negative,
    require_positive,
)

LIVE_STATUSES = ("testing", "active")


@dataclass(frozen=True)
class RankingPolicy:
    """Evidence gates and damping for promotion. Hours and days are wall-clock."""

    min_age_hours: float = 48.0
    min_impressions: int = 1000
    # Impressions times the master's pooled rate: the events an average variant
    # would have produced with this much exposure.
    min_expected_events: float = 5.0
    min_days: int = 2
    # For ROAS and CPA the gates are in money too: a variant is judged only once it
    # has spent this much (account currency), so nothing is paused on $12.
    min_spend: float = 20.0
    # A test ad that has not reached the gates after this long is paused: the
    # auction's own estimate starved it, and it blocks the testing pool's refill.
    max_test_hours: float = 7 * 24.0
    top_n: int = 3
    # Weight of the prior (the master's baseline, moved by the attributes a variant
    # shares with its siblings), in events (alpha of the prior).
    prior_strength: float = 10.0
    # Prior sd of one attribute's effect on the log rate (a hook, a body fragment, a
    # structure...): 0.25 lets one attribute move the rate by about ±25 %.
    feature_effect_sd: float = 0.25
    # The click prior also follows the variant's own hook rate (3-second views per
    # impression): the prior sd of the log-CTR change per unit of log hook rate, and
    # the impressions' worth of the master's hook rate a variant's is shrunk with.
    hook_rate_effect_sd: float = 1.0
    hook_rate_prior_impressions: float = 300.0
    # Mature conversions a master needs before ranking switches from CTR to them.
    conversions_min_total: int = MIN_CONVERSIONS
    conversion_lag_days: int = 1
    # Only recent days are ranked; None ranks every day.
    lookback_days: int | None = 56
    spike_ratio: float = 1.8
    spike_z: float = 3.0
    cooldown_hours: float = 24.0
    # A top variant whose lead vanishes without its best day is held back only when
    # that day's rate is at least this multiple of its other days.
    lead_day_ratio: float = 1.5
    lead_day_z: float = 2.0
    loser_pause_probability: float = 0.02
    thompson_draws: int = 4000
    credible_level: float = 0.95

    def __post_init__(self) -> None:
        require_at_least(self, "top_n", 1)
        require_at_least(self, "min_days", 1)
        require_positive(self, "prior_strength")
        require_positive(self, "feature_effect_sd")
        require_fraction(self, "credible_level")
        require_at_least(self, "thompson_draws", 100)
        require_not_negative(self, "conversion_lag_days")
        if self.lookback_days is not None and self.lookback_days < self.min_days:
            raise ValueError("lookback_days must cover min_days.")

    @property
    def spike_guard(self) -> SpikeGuard:
        return SpikeGuard(ratio=self.spike_ratio, z=self.spike_z)

    @property
    def metric_rule(self) -> MetricRule:
        return MetricRule(
            min_conversions=self.conversions_min_total,
            conversion_lag_days=self.conversion_lag_days,
            lookback_days=self.lookback_days,
        )


@dataclass(frozen=True)
class Candidate:
    """One live variant of the master, with its daily rows (any order)."""

    variant_id: str
    status: str  # "testing" | "active"
    age_hours: float
    days: Sequence[DayStats]
    last_status_change_at_hours_ago: float | None
    narrative_structure: str
    campaign_id: str
    # The opening fragment: variants sharing it share most of what a viewer notices
    # first, so their evidence informs each other's prior ("" = no sharing).
    hook_fragment_id: str = ""
    # The rest of what a viewer sees, as named attributes ("fragment:<id>",
    # "structure:<name>", "length:<bucket>", "look:<name>"); shared attributes
    # inform each other's prior the same way.
    features: tuple[str, ...] = ()

    def all_features(self) -> frozenset[str]:
        extra = {f"hook:{self.hook_fragment_id}"} if self.hook_fragment_id else set()
        return frozenset(self.features) | extra


@dataclass(frozen=True)
class CandidateEvidence:
    candidate: Candidate
    days: tuple[DayStats, ...]  # windowed, mature, spikes removed
    spikes: tuple[dt.date, ...]
    successes: int
    trials: int
    clicks: int
