"""The creative optimizer: which of a master's live variants run ACTIVE (top 3).

Pure: plain dataclasses in, plain dataclasses out; no ORM, no settings. The cycle
converts a master's testing/active variants and their VariantDailyMetric rows into
`Candidate`s, calls `rank_master`, and acts on each judgement's `action`, storing
`CandidateJudgement.details()` on the PromotionLog row as the numbers behind it.

The maths, per master:
1. Metric: the master's objective decides (`promotion.evidence.judging_metric`):
   for ROAS/CPA, conversions per impression once the master has
   `conversions_min_total` mature conversions, else clicks per impression (CTR);
   for CTR, clicks. Conversions of the last `conversion_lag_days` are still
   arriving, so those days do not count for it.
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
   for conversions, the clicks the CTR factor rests on); for ROAS/CPA objectives
   also spend (`min_spend`), the objective's own units.
   Nobody below a gate is ranked or promoted; a test ad still below them after
   `max_test_hours` is paused (the auction starved it; its slot is refilled).
6. Winners: the `top_n` eligible variants by posterior mean, except one whose lead
   rests on one day (without its best day it would fall below the first challenger);
   its place goes to the next-ranked variant whose standing rests on no single day,
   and only when none is left to a fragile leader, in rank order: an empty place
   buys nothing (in the decision bench, with worn winners retired within days, one
   seed ran a single winner for 5 days while fragile leaders waited; 3 winners were
   live on 91.2 % of cycles, 96.2 % once they fill the places).
7. Thompson draws (seeded) give each eligible variant's probability of being in the
   top n; a non-winner whose probability is below `loser_pause_probability` is
   paused, the rest keep testing, so uncertain variants still get traffic.
8. A variant whose status changed within `cooldown_hours` keeps it: a decision that
   would change it again is held (a decision that keeps it needs no hold).

The posteriors of step 4 are in `promotion.ranking.posteriors`; the best narrative
structure per campaign, reported beside the verdict, in `promotion.ranking.structures`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from productions.choices import Objective
from promotion.daystats import (
    DayStats,
    Metric,
    binomial_upper_tail,
    spike_days,
    totals,
)
from promotion.evidence import choose_metric, objective_is_money, usable_days
from promotion.ranking.policy import (
    LIVE_STATUSES,
    Candidate,
    CandidateEvidence,
    RankingPolicy,
)
from promotion.ranking.posteriors import (
    beta_ppf,
    binomial_posterior,
    click_informed_posterior,
    seed_bits,
)
from promotion.ranking.structures import StructureReport, StructureRow, best_structure

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
    objective: str = Objective.CPA

    def judgement(self, variant_id: str) -> CandidateJudgement:
        for judgement in self.judgements:
            if judgement.variant_id == variant_id:
                return judgement
        raise KeyError(variant_id)


def rank_master(
    candidates: Sequence[Candidate],
    *,
    policy: RankingPolicy | None = None,
    seed: int,
    as_of: dt.date | None = None,
    objective: str = Objective.CPA,
) -> RankingResult:
    """Judge one master's testing/active variants; see the module docstring.

    `as_of` is the day the decision is made: rows dated on or after it are partial
    and ignored. Without it, the day after the newest row is used.
    """
    policy = policy or RankingPolicy()
    _check_candidates(candidates)
    as_of = as_of or _day_after_newest(candidates)
    rule = policy.metric_rule
    metric = choose_metric(
        (c.days for c in candidates), as_of=as_of, rule=rule, objective=objective
    )
    guard = policy.spike_guard
    evidence = []
    for candidate in candidates:
        usable = usable_days(candidate.days, metric, as_of=as_of, rule=rule)
        spikes = spike_days(usable, metric, guard)
        clean = tuple(d for d in usable if d.date not in spikes and d.impressions)
        counted = totals(clean, metric)
        clicks = sum(min(d.clicks, d.impressions) for d in clean)
        evidence.append(
            CandidateEvidence(
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
        posterior, dispersion = click_informed_posterior(evidence, policy)
    else:
        posterior, dispersion = binomial_posterior(evidence, pooled_rate, policy)
    prior_alpha, prior_beta = posterior("", 0, 0, 0)

    def posterior_mean(
        variant_id: str, successes: int, trials: int, clicks: int
    ) -> float:
        alpha, beta = posterior(variant_id, successes, trials, clicks)
        return alpha / (alpha + beta)

    gates = {
        e.candidate.variant_id: _failed_gates(
            e, evidence_rate, policy, money=objective_is_money(objective)
        )
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
        # The leaders, and those who would fill a leader's place if it were fragile.
        for e in eligible:
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
    # A place a fragile leader leaves is filled by the next-ranked variant whose
    # standing rests on no single day, so 3 winners run whenever 3 can.
    steady = [
        e.candidate.variant_id
        for e in eligible
        if e.candidate.variant_id not in fragile
    ]
    # Places no steady variant can fill go to fragile ones in rank order: an empty
    # winner's place buys nothing, a fragile leader at least runs on its evidence.
    spare = [
        e.candidate.variant_id for e in eligible if e.candidate.variant_id in fragile
    ]
    winners = tuple((steady + spare)[: policy.top_n])
    fragile &= {e.candidate.variant_id for e in top}

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
        objective=str(objective),
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


def _day_stands_out(
    evidence: CandidateEvidence, day: DayStats, metric: Metric, policy: RankingPolicy
) -> bool:
    """Whether `day`'s rate is `lead_day_ratio` times the variant's other days, with a
    binomial excess as unlikely as `lead_day_z` standard errors. The tail is exact:
    with a handful of conversions a day the normal approximation is far too bold
    (2 conversions where 0.5 were expected is z 2.1, yet happens 9 % of days), and
    it marked nearly every leader fragile, leaving winners' places empty."""
    rest_events = evidence.successes - day.successes(metric)
    rest_trials = evidence.trials - day.impressions
    if day.impressions <= 0:
        return False
    day_rate = day.successes(metric) / day.impressions
    if rest_trials <= 0 or rest_events <= 0:
        return day_rate > 0
    rest_rate = rest_events / rest_trials
    # Both a large ratio and a real excess: with a few events a day, ratios of 2 are
    # everyday noise.
    if day_rate < policy.lead_day_ratio * rest_rate:
        return False
    tail = binomial_upper_tail(day.successes(metric), day.impressions, rest_rate)
    return tail <= 1.0 - NormalDist().cdf(policy.lead_day_z)


def _failed_gates(
    evidence: CandidateEvidence,
    pooled_rate: float,
    policy: RankingPolicy,
    *,
    money: bool,
) -> tuple[str, ...]:
    failed = []
    if money and sum(d.spend for d in evidence.days) < policy.min_spend:
        failed.append("spend")
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
    rng = np.random.default_rng(seed_bits(seed))
    draws = rng.beta(alphas, betas, size=(policy.thompson_draws, len(ids)))
    # Column positions of each draw's n largest values.
    top = np.argpartition(-draws, policy.top_n - 1, axis=1)[:, : policy.top_n]
    counts = np.bincount(top.ravel(), minlength=len(ids))
    return {
        variant_id: float(count) / policy.thompson_draws
        for variant_id, count in zip(ids, counts, strict=True)
    }


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
    if failed_gates and not active and candidate.age_hours > policy.max_test_hours:
        action = Action.PAUSE
        reason = (
            f"still below the evidence gates ({', '.join(failed_gates)}) after "
            f"{candidate.age_hours / 24:.0f} days of testing: delivery starved it"
        )
    elif failed_gates:
        action = Action.KEEP_ACTIVE if active else Action.KEEP_TESTING
        reason = "below the evidence gates (" + ", ".join(failed_gates) + ")"
    elif is_winner and is_fragile:
        action = Action.KEEP_ACTIVE if active else Action.PROMOTE
        reason = (
            f"rank {rank}; the lead rests on one day, but no steady variant is left "
            f"to fill the top {policy.top_n}"
        )
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
