"""The creative optimizer: which of a master's live variants run ACTIVE (top 3).

Pure: plain dataclasses in, plain dataclasses out; no ORM, no settings. The cycle
converts a master's testing/active variants and their VariantDailyMetric rows into
`Candidate`s, calls `rank_master`, and acts on each judgement's `action`, storing
`CandidateJudgement.details()` on the PromotionLog row as the numbers behind it.

The maths, per master:
1. Metric: conversions per impression once the master has `conversions_min_total`
   mature conversions, else clicks per impression (CTR). Conversions of the last
   `conversion_lag_days` are still arriving, so those days do not count for it.
2. One-day spikes (see `promotion.daystats.spike_days`) are dropped per variant.
3. Empirical-Bayes prior: a Beta worth `prior_strength` events whose mean is what
   the variant's siblings say about its attributes (its hook, other fragments,
   structure, length, look: a ridge-penalised log-linear model fitted on the other
   variants' evidence), else the master's pooled rate. A variant with little
   evidence sits near what its parts did elsewhere; one with a lot speaks for itself.
4. Beta-Binomial posterior per variant, with a credible interval (for conversions
   per impression: CTR × conversions per click, each with its own posterior, so the
   plentiful clicks inform the ranking while conversions are still few). Daily rates vary
   more than binomial noise (auctions, placements, weekdays), so the evidence is
   divided by the master's quasi-binomial dispersion: with a million impressions
   the posterior is as sure as the day-to-day variation allows, not more.
5. Gates: age, delivered days, impressions and expected events (impressions times
   the master's rate, so a weak variant is not held back for having few events;
   for conversions, the clicks the CTR factor rests on).
   Nobody below a gate is ranked, promoted or paused.
6. Winners: the `top_n` eligible variants by posterior mean, except one whose lead
   rests on one day (without its best day it would fall below the first challenger).
7. Thompson draws (seeded) give each eligible variant's probability of being in the
   top n; a non-winner whose probability is below `loser_pause_probability` is
   paused, the rest keep testing, so uncertain variants still get traffic.
8. A variant whose status changed within `cooldown_hours` keeps it: a decision that
   would change it again is held (a decision that keeps it needs no hold).

`plan_budget` is the ROAS engine (capped budget steps, Meta's change-rate limit) and
`best_structure` reports the best narrative structure per campaign.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np

from promotion.daystats import (
    DayStats,
    Metric,
    SpikeGuard,
    beta_cdf,
    extra_binomial_dispersion,
    log_beta,
    spike_days,
    totals,
)
from promotion.evidence import MIN_CONVERSIONS, MetricRule, choose_metric, usable_days

__all__ = [
    "Action",
    "BudgetDecision",
    "BudgetPolicy",
    "Candidate",
    "CandidateJudgement",
    "DayStats",
    "RankingPolicy",
    "RankingResult",
    "StructureReport",
    "StructureRow",
    "StructureStats",
    "best_structure",
    "beta_ppf",
    "plan_budget",
    "rank_master",
]

LIVE_STATUSES = ("testing", "active")
_DAY = dt.timedelta(days=1)


class Action(enum.StrEnum):
    PROMOTE = "promote"  # testing -> active
    KEEP_ACTIVE = "keep_active"
    DEMOTE = "demote"  # active -> testing: no longer in the top n
    KEEP_TESTING = "keep_testing"
    PAUSE = "pause"  # almost surely not a top-n variant: stop spending on it
    HOLD_COOLDOWN = "hold_cooldown"  # would change status, but changed too recently


_STATUS_CHANGES = frozenset({Action.PROMOTE, Action.DEMOTE, Action.PAUSE})


@dataclass(frozen=True)
class RankingPolicy:
    """Evidence gates and damping for promotion. Hours and days are wall-clock."""

    min_age_hours: float = 48.0
    min_impressions: int = 1000
    # Impressions times the master's pooled rate: the events an average variant
    # would have produced with this much exposure.
    min_expected_events: float = 5.0
    min_days: int = 2
    top_n: int = 3
    # Weight of the prior (the master's baseline, moved by the attributes a variant
    # shares with its siblings), in events (alpha of the prior).
    prior_strength: float = 10.0
    # Prior sd of one attribute's effect on the log rate (a hook, a body fragment, a
    # structure...): 0.25 lets one attribute move the rate by about ±25 %.
    feature_effect_sd: float = 0.25
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
        if self.top_n < 1:
            raise ValueError("top_n must be at least 1.")
        if self.min_days < 1:
            raise ValueError("min_days must be at least 1.")
        if self.prior_strength <= 0:
            raise ValueError("prior_strength must be positive.")
        if self.feature_effect_sd <= 0:
            raise ValueError("feature_effect_sd must be positive.")
        if not 0 < self.credible_level < 1:
            raise ValueError("credible_level must be between 0 and 1.")
        if self.thompson_draws < 100:
            raise ValueError("thompson_draws must be at least 100.")
        if self.conversion_lag_days < 0:
            raise ValueError("conversion_lag_days must not be negative.")
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
class CandidateJudgement:
    """The decision on one candidate and every number behind it."""

    variant_id: str
    status: str
    eligible: bool  # passed every evidence gate
    gate_reasons: tuple[str, ...]  # the gates it failed: age, days, ...
    successes: int
    trials: int
    days_used: int
    dispersion: float  # the master's; the posterior counts evidence / dispersion
    posterior_alpha: float
    posterior_beta: float
    posterior_mean: float
    ci_low: float
    ci_high: float
    prob_top_n: float | None  # None when not eligible: it was not in the contest
    spike_days_excluded: tuple[dt.date, ...]
    rank: int | None  # 1-based among eligible candidates by posterior mean
    fragile_lead: bool  # in the top n only thanks to one day
    action: Action
    reason: str

    def details(self) -> dict[str, Any]:
        """JSON-ready numbers for PromotionLog.decision_details."""
        return {
            "variant_id": self.variant_id,
            "status": self.status,
            "eligible": self.eligible,
            "gate_reasons": list(self.gate_reasons),
            "successes": self.successes,
            "trials": self.trials,
            "days_used": self.days_used,
            "dispersion": self.dispersion,
            "posterior_alpha": self.posterior_alpha,
            "posterior_beta": self.posterior_beta,
            "posterior_mean": self.posterior_mean,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "prob_top_n": self.prob_top_n,
            "spike_days_excluded": [d.isoformat() for d in self.spike_days_excluded],
            "rank": self.rank,
            "fragile_lead": self.fragile_lead,
            "action": str(self.action),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RankingResult:
    metric: Metric
    as_of: dt.date
    pooled_rate: float
    prior_alpha: float
    prior_beta: float
    # Extra-binomial variation of the master's days (>= 1); evidence is divided by it.
    dispersion: float
    # Ranked candidates first (by rank), then the ineligible ones by id.
    judgements: tuple[CandidateJudgement, ...]
    # The posterior's verdict: who should be ACTIVE. Act on each `action`, which
    # also honours the cooldown.
    winners: tuple[str, ...]
    structures: dict[str, StructureReport] = field(default_factory=dict)

    def judgement(self, variant_id: str) -> CandidateJudgement:
        for judgement in self.judgements:
            if judgement.variant_id == variant_id:
                return judgement
        raise KeyError(variant_id)


@dataclass(frozen=True)
class _Evidence:
    candidate: Candidate
    days: tuple[DayStats, ...]  # windowed, mature, spikes removed
    spikes: tuple[dt.date, ...]
    successes: int
    trials: int
    clicks: int


def rank_master(
    candidates: Sequence[Candidate],
    *,
    policy: RankingPolicy = RankingPolicy(),
    seed: int,
    as_of: dt.date | None = None,
) -> RankingResult:
    """Judge one master's testing/active variants; see the module docstring.

    `as_of` is the day the decision is made: rows dated on or after it are partial
    and ignored. Without it, the day after the newest row is used.
    """
    _check_candidates(candidates)
    as_of = as_of or _day_after_newest(candidates)
    rule = policy.metric_rule
    metric = choose_metric((c.days for c in candidates), as_of=as_of, rule=rule)
    guard = policy.spike_guard
    evidence = []
    for candidate in candidates:
        usable = usable_days(candidate.days, metric, as_of=as_of, rule=rule)
        spikes = spike_days(usable, metric, guard)
        clean = tuple(d for d in usable if d.date not in spikes and d.impressions)
        counted = totals(clean, metric)
        clicks = sum(min(d.clicks, d.impressions) for d in clean)
        evidence.append(
            _Evidence(
                candidate, clean, spikes, counted.successes, counted.trials, clicks
            )
        )

    pooled_successes = sum(e.successes for e in evidence)
    pooled_trials = sum(e.trials for e in evidence)
    pooled_rate = (pooled_successes + 0.5) / (pooled_trials + 1.0)
    # The events the posterior mostly rests on: for conversions per impression that is
    # clicks (the CTR factor), so the expected-events gate counts clicks there;
    # counting the few conversions would hold every variant back for weeks.
    evidence_rate = (
        (sum(e.clicks for e in evidence) + 0.5) / (pooled_trials + 1.0)
        if metric == "cvr"
        else pooled_rate
    )
    if metric == "cvr":
        # Conversions per impression = CTR × conversions per click. Clicks are several
        # times more plentiful than conversions, so each factor gets its own posterior
        # and the product is ranked: click evidence separates variants long before
        # their handful of conversions can.
        posterior, dispersion = _click_informed_posterior(evidence, policy)
    else:
        posterior, dispersion = _binomial_posterior(evidence, pooled_rate, policy)
    prior_alpha, prior_beta = posterior("", 0, 0, 0)

    def posterior_mean(
        variant_id: str, successes: int, trials: int, clicks: int
    ) -> float:
        alpha, beta = posterior(variant_id, successes, trials, clicks)
        return alpha / (alpha + beta)

    gates = {
        e.candidate.variant_id: _failed_gates(e, evidence_rate, policy)
        for e in evidence
    }
    eligible = sorted(
        (e for e in evidence if not gates[e.candidate.variant_id]),
        key=lambda e: (
            -posterior_mean(e.candidate.variant_id, e.successes, e.trials, e.clicks),
            e.candidate.variant_id,
        ),
    )
    ranks = {e.candidate.variant_id: i for i, e in enumerate(eligible, start=1)}
    prob_top = _prob_top_n(
        {
            e.candidate.variant_id: posterior(
                e.candidate.variant_id, e.successes, e.trials, e.clicks
            )
            for e in eligible
        },
        policy,
        seed,
    )

    top = eligible[: policy.top_n]
    challenger = eligible[policy.top_n] if len(eligible) > policy.top_n else None
    fragile: set[str] = set()
    if challenger is not None:
        bar = posterior_mean(
            challenger.candidate.variant_id,
            challenger.successes,
            challenger.trials,
            challenger.clicks,
        )
        for e in top:
            without, day = min(
                (
                    (
                        posterior_mean(
                            e.candidate.variant_id,
                            e.successes - d.successes(metric),
                            e.trials - d.impressions,
                            e.clicks - min(d.clicks, d.impressions),
                        ),
                        d,
                    )
                    for d in e.days
                ),
                key=lambda pair: pair[0],
            )
            # Fragile only when one unusual day carries the lead: in a close race every
            # leader drops below the next without its best day, and that is no reason
            # to promote no one.
            if without < bar and _day_stands_out(e, day, metric, policy):
                fragile.add(e.candidate.variant_id)
    winners = tuple(
        e.candidate.variant_id for e in top if e.candidate.variant_id not in fragile
    )

    tail = (1.0 - policy.credible_level) / 2.0
    judgements = []
    for e in evidence:
        c = e.candidate
        alpha, beta = posterior(c.variant_id, e.successes, e.trials, e.clicks)
        action, reason = _decide(
            c,
            failed_gates=gates[c.variant_id],
            rank=ranks.get(c.variant_id),
            is_winner=c.variant_id in winners,
            is_fragile=c.variant_id in fragile,
            prob_top_n=prob_top.get(c.variant_id),
            policy=policy,
        )
        judgements.append(
            CandidateJudgement(
                variant_id=c.variant_id,
                status=c.status,
                eligible=not gates[c.variant_id],
                gate_reasons=gates[c.variant_id],
                successes=e.successes,
                trials=e.trials,
                days_used=len(e.days),
                dispersion=dispersion,
                posterior_alpha=alpha,
                posterior_beta=beta,
                posterior_mean=alpha / (alpha + beta),
                ci_low=beta_ppf(tail, alpha, beta),
                ci_high=beta_ppf(1.0 - tail, alpha, beta),
                prob_top_n=prob_top.get(c.variant_id),
                spike_days_excluded=e.spikes,
                rank=ranks.get(c.variant_id),
                fragile_lead=c.variant_id in fragile,
                action=action,
                reason=reason,
            )
        )
    judgements.sort(
        key=lambda j: (j.rank is None, j.rank or 0, j.variant_id),
    )
    structure_rows = [
        StructureRow(
            e.candidate.campaign_id,
            e.candidate.narrative_structure,
            e.successes,
            e.trials,
        )
        for e in evidence
    ]
    return RankingResult(
        metric=metric,
        as_of=as_of,
        pooled_rate=pooled_rate,
        prior_alpha=prior_alpha,
        prior_beta=prior_beta,
        dispersion=dispersion,
        judgements=tuple(judgements),
        winners=winners,
        structures=best_structure(
            structure_rows, prior_strength=policy.prior_strength, seed=seed
        ),
    )


def _check_candidates(candidates: Sequence[Candidate]) -> None:
    seen: set[str] = set()
    for c in candidates:
        if c.status not in LIVE_STATUSES:
            raise ValueError(
                f"{c.variant_id}: only testing/active variants are ranked, "
                f"got {c.status!r}."
            )
        if c.variant_id in seen:
            raise ValueError(f"{c.variant_id} appears twice.")
        seen.add(c.variant_id)


def _day_after_newest(candidates: Sequence[Candidate]) -> dt.date:
    dates = [d.date for c in candidates for d in c.days]
    return max(dates) + _DAY if dates else dt.date.min + _DAY


Posterior = Any  # (variant_id, successes, trials, clicks) -> (alpha, beta)


def _binomial_posterior(
    evidence: Sequence[_Evidence], pooled_rate: float, policy: RankingPolicy
) -> tuple[Posterior, float]:
    """Beta-Binomial on CTR, the prior worth `prior_strength` events."""
    strength = policy.prior_strength
    dispersion = extra_binomial_dispersion((e.days for e in evidence), "ctr")
    prior_means = _feature_prior_means(
        evidence, pooled_rate, policy, dispersion=dispersion
    )

    def posterior(
        variant_id: str, successes: int, trials: int, clicks: int
    ) -> tuple[float, float]:
        mean = prior_means.get(variant_id, pooled_rate)
        # Evidence counts 1/dispersion per impression: days vary more than coins.
        return (
            strength + successes / dispersion,
            strength * (1.0 - mean) / mean + (trials - successes) / dispersion,
        )

    return posterior, dispersion


def _click_informed_posterior(
    evidence: Sequence[_Evidence], policy: RankingPolicy
) -> tuple[Posterior, float]:
    """Conversions per impression as Beta(CTR) × Beta(conversions per click).

    Each factor has an empirical-Bayes prior at the master's pooled rate worth
    `prior_strength` events; the CTR evidence is divided by the master's click
    dispersion. The product is summarised as the Beta with the same mean and
    variance, so intervals, Thompson draws and the one-day check work unchanged.
    """
    strength = policy.prior_strength
    impressions = sum(e.trials for e in evidence)
    clicks = sum(e.clicks for e in evidence)
    conversions = sum(e.successes for e in evidence)
    ctr0 = (clicks + 0.5) / (impressions + 1.0)
    per_click0 = min((conversions + 0.5) / (clicks + 1.0), 0.999)
    dispersion = extra_binomial_dispersion((e.days for e in evidence), "ctr")
    ctr_means = _feature_prior_means(
        evidence, ctr0, policy, dispersion=dispersion, use_clicks=True
    )

    def posterior(
        variant_id: str, successes: int, trials: int, clicks: int
    ) -> tuple[float, float]:
        clicks = max(min(clicks, trials), 0)
        successes = max(min(successes, clicks), 0)
        prior_ctr = ctr_means.get(variant_id, ctr0)
        a1 = strength + clicks / dispersion
        b1 = strength * (1.0 - prior_ctr) / prior_ctr + (trials - clicks) / dispersion
        a2 = strength + successes
        b2 = strength * (1.0 - per_click0) / per_click0 + (clicks - successes)
        m1, v1 = _beta_moments(a1, b1)
        m2, v2 = _beta_moments(a2, b2)
        mean = m1 * m2
        variance = (v1 + m1 * m1) * (v2 + m2 * m2) - mean * mean
        common = mean * (1.0 - mean) / variance - 1.0
        return mean * common, (1.0 - mean) * common

    return posterior, dispersion


def _feature_prior_means(
    evidence: Sequence[_Evidence],
    base_rate: float,
    policy: RankingPolicy,
    *,
    dispersion: float,
    use_clicks: bool = False,
) -> dict[str, float]:
    """Each variant's prior mean, predicted from its siblings' evidence on the
    attributes it shares with them (hook, other fragments, structure, length, ...).

    Variants are recombinations of the same approved fragments, so a new variant's
    rate is mostly told by how its hook, body, structure and length did elsewhere.
    The model is log(rate) = intercept + the sum of its attributes' effects, each
    effect a priori Normal(0, `feature_effect_sd`), fitted as a ridge-penalised
    Poisson regression on the other variants' events (evidence divided by the
    master's dispersion). A variant's own evidence is left out of its prior (it
    enters the likelihood), so nothing is counted twice. Attributes no sibling
    shares, or that every variant has, teach nothing and are dropped; without any
    shared attribute the master's rate stands.
    """
    features = [e.candidate.all_features() for e in evidence]
    shared = collections.Counter(f for fs in features for f in fs)
    columns = sorted(f for f, n in shared.items() if 2 <= n < len(evidence))
    if not columns:
        return {}
    index = {f: j for j, f in enumerate(columns)}
    design = np.zeros((len(evidence), len(columns) + 1))
    design[:, 0] = 1.0  # the intercept
    for i, fs in enumerate(features):
        for f in fs:
            if f in index:
                design[i, index[f] + 1] = 1.0
    events = np.array(
        [(e.clicks if use_clicks else e.successes) / dispersion for e in evidence]
    )
    exposure = np.array([e.trials / dispersion for e in evidence])
    penalty = np.full(len(columns) + 1, 1.0 / policy.feature_effect_sd**2)
    penalty[0] = 0.0
    start = np.zeros(len(columns) + 1)
    start[0] = math.log(base_rate)
    means: dict[str, float] = {}
    for i, e in enumerate(evidence):
        others = np.arange(len(evidence)) != i
        if exposure[others].sum() <= 0.0:
            continue
        coefficients = _ridge_poisson_fit(
            design[others], events[others], exposure[others], penalty, start
        )
        means[e.candidate.variant_id] = float(
            np.clip(math.exp(design[i] @ coefficients), 1e-9, 0.999)
        )
    return means


def _ridge_poisson_fit(
    design: np.ndarray,
    events: np.ndarray,
    exposure: np.ndarray,
    penalty: np.ndarray,
    start: np.ndarray,
) -> np.ndarray:
    """Penalised maximum likelihood of events ~ Poisson(exposure × exp(design @ b)):
    Newton's method; the ridge makes the problem strictly concave once the intercept
    has any exposure, so it converges in a handful of steps."""
    coefficients = start.copy()
    # With no events at all the intercept's optimum is -inf: floor the rate instead.
    floor = math.log(0.5 / max(float(exposure.sum()), 1.0))
    for _ in range(50):
        linear = np.clip(design @ coefficients, -30.0, 0.0)
        expected = exposure * np.exp(linear)
        gradient = design.T @ (events - expected) - penalty * coefficients
        hessian = design.T @ (design * expected[:, None]) + np.diag(penalty)
        hessian[0, 0] += 1e-9
        step = np.linalg.solve(hessian, gradient)
        coefficients = coefficients + step
        coefficients[0] = max(coefficients[0], floor)
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return coefficients


def _day_stands_out(
    evidence: _Evidence, day: DayStats, metric: Metric, policy: RankingPolicy
) -> bool:
    """Whether `day`'s rate is `lead_day_ratio` times the variant's other days, with a
    binomial excess of at least `lead_day_z` standard errors."""
    rest_events = evidence.successes - day.successes(metric)
    rest_trials = evidence.trials - day.impressions
    if day.impressions <= 0:
        return False
    day_rate = day.successes(metric) / day.impressions
    if rest_trials <= 0 or rest_events <= 0:
        return day_rate > 0
    rest_rate = rest_events / rest_trials
    expected = day.impressions * rest_rate
    # Both a large ratio and a real excess: with a few events a day, ratios of 2 are
    # everyday noise.
    z = (day.successes(metric) - expected) / math.sqrt(expected * (1.0 - rest_rate))
    return day_rate >= policy.lead_day_ratio * rest_rate and z >= policy.lead_day_z


def _beta_moments(alpha: float, beta: float) -> tuple[float, float]:
    total = alpha + beta
    return alpha / total, alpha * beta / (total * total * (total + 1.0))


def _failed_gates(
    evidence: _Evidence, pooled_rate: float, policy: RankingPolicy
) -> tuple[str, ...]:
    failed = []
    if evidence.candidate.age_hours < policy.min_age_hours:
        failed.append("age")
    if len(evidence.days) < policy.min_days:
        failed.append("days")
    if evidence.trials < policy.min_impressions:
        failed.append("impressions")
    if evidence.trials * pooled_rate < policy.min_expected_events:
        failed.append("expected_events")
    return tuple(failed)


def _prob_top_n(
    posteriors: dict[str, tuple[float, float]], policy: RankingPolicy, seed: int
) -> dict[str, float]:
    """P(in the top n) per eligible variant, from seeded joint posterior draws."""
    ids = list(posteriors)
    if len(ids) <= policy.top_n:
        return dict.fromkeys(ids, 1.0)
    alphas = np.array([posteriors[i][0] for i in ids])
    betas = np.array([posteriors[i][1] for i in ids])
    rng = np.random.default_rng(_seed_bits(seed))
    draws = rng.beta(alphas, betas, size=(policy.thompson_draws, len(ids)))
    # Column positions of each draw's n largest values.
    top = np.argpartition(-draws, policy.top_n - 1, axis=1)[:, : policy.top_n]
    counts = np.bincount(top.ravel(), minlength=len(ids))
    return {
        variant_id: float(count) / policy.thompson_draws
        for variant_id, count in zip(ids, counts, strict=True)
    }


def _seed_bits(seed: int) -> int:
    """Any int (a hash may be negative) as the non-negative seed NumPy wants."""
    return seed & 0xFFFF_FFFF_FFFF_FFFF


def _decide(
    candidate: Candidate,
    *,
    failed_gates: tuple[str, ...],
    rank: int | None,
    is_winner: bool,
    is_fragile: bool,
    prob_top_n: float | None,
    policy: RankingPolicy,
) -> tuple[Action, str]:
    active = candidate.status == "active"
    if failed_gates:
        action = Action.KEEP_ACTIVE if active else Action.KEEP_TESTING
        reason = "below the evidence gates (" + ", ".join(failed_gates) + ")"
    elif is_winner:
        action = Action.KEEP_ACTIVE if active else Action.PROMOTE
        reason = f"rank {rank} of the posterior, in the top {policy.top_n}"
    elif is_fragile:
        action = Action.KEEP_ACTIVE if active else Action.KEEP_TESTING
        reason = f"rank {rank}, but the lead rests on one day"
    elif prob_top_n is not None and prob_top_n < policy.loser_pause_probability:
        action = Action.PAUSE
        reason = (
            f"rank {rank}; P(top {policy.top_n}) = {prob_top_n:.3f} is below "
            f"{policy.loser_pause_probability}"
        )
    else:
        action = Action.DEMOTE if active else Action.KEEP_TESTING
        reason = f"rank {rank}; P(top {policy.top_n}) = {prob_top_n:.3f}"

    since = candidate.last_status_change_at_hours_ago
    if (
        action in _STATUS_CHANGES
        and since is not None
        and since < policy.cooldown_hours
    ):
        return Action.HOLD_COOLDOWN, (
            f"would {action} ({reason}), but the status changed {since:.0f} h ago "
            f"(cooldown {policy.cooldown_hours:.0f} h)"
        )
    return action, reason


# --- Beta quantiles (no SciPy in the stack) ------------------------------------------


def beta_ppf(q: float, a: float, b: float) -> float:
    """The q-quantile of Beta(a, b): safeguarded Newton from a normal start."""
    if not 0.0 < q < 1.0:
        raise ValueError("q must be strictly between 0 and 1.")
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))
    x = min(max(mean + NormalDist().inv_cdf(q) * sd, 1e-12), 1.0 - 1e-12)
    low, high = 0.0, 1.0
    log_norm = log_beta(a, b)
    for _ in range(200):
        error = beta_cdf(x, a, b) - q
        if error == 0.0:
            return x
        if error < 0.0:
            low = x
        else:
            high = x
        density = math.exp(
            (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - log_norm
        )
        step = x - error / density if density > 0.0 else (low + high) / 2.0
        if not low < step < high:
            step = (low + high) / 2.0
        if abs(step - x) <= 1e-15 + 1e-12 * x:
            return step
        x = step
    return x


# --- Best narrative structure per campaign ------------------------------------------


class StructureRow(NamedTuple):
    campaign_id: str
    narrative_structure: str
    successes: int
    trials: int


@dataclass(frozen=True)
class StructureStats:
    structure: str
    successes: int
    trials: int
    posterior_mean: float
    ci_low: float
    ci_high: float
    prob_best: float


@dataclass(frozen=True)
class StructureReport:
    campaign_id: str
    best: str | None  # None when the campaign has no impressions yet
    structures: tuple[StructureStats, ...]  # best first
    # The best structure wins in at least `confident_at` of the posterior draws.
    confident: bool

    @property
    def posterior_means(self) -> dict[str, float]:
        return {s.structure: s.posterior_mean for s in self.structures}


def best_structure(
    rows: Iterable[StructureRow | tuple[str, str, int, int]],
    *,
    prior_strength: float = 10.0,
    confident_at: float = 0.9,
    credible_level: float = 0.95,
    draws: int = 4000,
    seed: int = 0,
) -> dict[str, StructureReport]:
    """The narrative structure with the highest posterior rate, per campaign.

    Rows (one per variant, or pre-summed) are pooled by (campaign, structure). Each
    campaign's own pooled rate is the mean of its Beta prior, worth `prior_strength`
    events, so a structure tried once does not win on luck. `prob_best` comes from
    seeded posterior draws and says how sure the report is.
    """
    pooled: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    for row in rows:
        campaign_id, structure, successes, trials = row
        if successes < 0 or trials < successes:
            raise ValueError(f"{campaign_id}/{structure}: bad counts.")
        cell = pooled[campaign_id][structure]
        cell[0] += successes
        cell[1] += trials

    tail = (1.0 - credible_level) / 2.0
    reports = {}
    for index, campaign_id in enumerate(sorted(pooled)):
        cells = sorted(pooled[campaign_id].items())
        s_total = sum(s for _, (s, _) in cells)
        n_total = sum(n for _, (_, n) in cells)
        rate = (s_total + 0.5) / (n_total + 1.0)
        prior_a, prior_b = prior_strength, prior_strength * (1.0 - rate) / rate
        alphas = np.array([prior_a + s for _, (s, _) in cells])
        betas = np.array([prior_b + n - s for _, (s, n) in cells])
        rng = np.random.default_rng([_seed_bits(seed), index])
        sample = rng.beta(alphas, betas, size=(draws, len(cells)))
        wins = np.bincount(sample.argmax(axis=1), minlength=len(cells)) / draws
        stats = sorted(
            (
                StructureStats(
                    structure=structure,
                    successes=s,
                    trials=n,
                    posterior_mean=float(a / (a + b)),
                    ci_low=beta_ppf(tail, float(a), float(b)),
                    ci_high=beta_ppf(1.0 - tail, float(a), float(b)),
                    prob_best=float(w),
                )
                for (structure, (s, n)), a, b, w in zip(
                    cells, alphas, betas, wins, strict=True
                )
            ),
            key=lambda st: (-st.posterior_mean, st.structure),
        )
        best = stats[0] if n_total else None
        reports[campaign_id] = StructureReport(
            campaign_id=campaign_id,
            best=best.structure if best else None,
            structures=tuple(stats),
            confident=best is not None and best.prob_best >= confident_at,
        )
    return reports


# --- Budget (the ROAS engine) --------------------------------------------------------


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
        if not 0 < self.max_step < 1:
            raise ValueError("max_step must be between 0 and 1.")
        if self.min_daily_budget_minor > self.max_daily_budget_minor:
            raise ValueError("min_daily_budget_minor exceeds max_daily_budget_minor.")
        if self.target_roas <= 0:
            raise ValueError("target_roas must be positive.")


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
