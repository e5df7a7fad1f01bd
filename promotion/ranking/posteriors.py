"""Posteriors of a variant's rate: Beta-Binomial on clicks, or clicks × conversions per
click, each with an empirical-Bayes prior from the attributes shared with siblings
(a ridge-penalised Poisson model), and Beta quantiles (no SciPy in the stack)."""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from promotion.daystats import beta_cdf, extra_binomial_dispersion, log_beta
from promotion.ranking.policy import CandidateEvidence, RankingPolicy

Posterior = Any  # (variant_id, successes, trials, clicks) -> (alpha, beta)


def binomial_posterior(
    evidence: Sequence[CandidateEvidence], pooled_rate: float, policy: RankingPolicy
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


def click_informed_posterior(
    evidence: Sequence[CandidateEvidence], policy: RankingPolicy
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
        m1, v1 = beta_moments(a1, b1)
        m2, v2 = beta_moments(a2, b2)
        mean = m1 * m2
        variance = (v1 + m1 * m1) * (v2 + m2 * m2) - mean * mean
        common = mean * (1.0 - mean) / variance - 1.0
        return mean * common, (1.0 - mean) * common

    return posterior, dispersion


def _feature_prior_means(
    evidence: Sequence[CandidateEvidence],
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
    shared attribute the master's rate stands. One continuous covariate joins them:
    the variant's own hook rate (`hook_rate_signal`), a different event from the
    clicks its likelihood counts, so nothing is counted twice there either.
    """
    features = [e.candidate.all_features() for e in evidence]
    shared = collections.Counter(f for fs in features for f in fs)
    columns = sorted(f for f, n in shared.items() if 2 <= n < len(evidence))
    # Both callers predict clicks, and the hook rate leads clicks.
    stops = hook_rate_signal(evidence, policy)
    if not columns and stops is None:
        return {}
    index = {f: j for j, f in enumerate(columns)}
    extra = 0 if stops is None else 1
    design = np.zeros((len(evidence), len(columns) + 1 + extra))
    design[:, 0] = 1.0  # the intercept
    for i, fs in enumerate(features):
        for f in fs:
            if f in index:
                design[i, index[f] + 1] = 1.0
    if stops is not None:
        design[:, -1] = stops
    events = np.array(
        [(e.clicks if use_clicks else e.successes) / dispersion for e in evidence]
    )
    exposure = np.array([e.trials / dispersion for e in evidence])
    penalty = np.full(design.shape[1], 1.0 / policy.feature_effect_sd**2)
    penalty[0] = 0.0
    if stops is not None:
        penalty[-1] = 1.0 / policy.hook_rate_effect_sd**2
    start = np.zeros(design.shape[1])
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


def hook_rate_signal(
    evidence: Sequence[CandidateEvidence], policy: RankingPolicy
) -> np.ndarray | None:
    """Each variant's log hook rate (3-second views per impression, shrunk towards
    the master's by `hook_rate_prior_impressions`) relative to the master's: the
    covariate of the click prior. People who do not stop do not click, and views are
    some thirty times more plentiful than clicks, so a hook's stopping power is
    clear after a few hundred impressions, long before its clicks are. None when
    nobody reports 3-second views (an image ad, an old row) or every rate is alike.
    """
    views = np.array([sum(d.views_3s for d in e.days) for e in evidence], float)
    shown = np.array([sum(d.impressions for d in e.days) for e in evidence], float)
    if views.sum() <= 0.0 or shown.sum() <= 0.0:
        return None
    master = views.sum() / shown.sum()
    k = policy.hook_rate_prior_impressions
    rates = (views + k * master) / (shown + k)
    signal = np.log(rates / master)
    return signal if float(np.ptp(signal)) > 1e-9 else None


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


def beta_moments(alpha: float, beta: float) -> tuple[float, float]:
    total = alpha + beta
    return alpha / total, alpha * beta / (total * total * (total + 1.0))


def seed_bits(seed: int) -> int:
    """Any int (a hash may be negative) as the non-negative seed NumPy wants."""
    return seed & 0xFFFF_FFFF_FFFF_FFFF


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
