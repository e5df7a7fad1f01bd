"""Evidence → scores: Beta posteriors for fragments, Thompson sampling for exploration.

A fragment with a measured score s over n uses is Beta(1 + s·n, 1 + (1 - s)·n); a fresh
fragment is Beta(1, 1). Sampling from the posterior (Thompson sampling) picks proven
fragments most of the time and still tries fresh ones, whose draws are wide.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from productions.choices import FragmentType
from variants.planning.inputs import FragmentInput, PerformanceHints

PRIOR_MEAN = 0.5
# Usage count at which a component's confidence reaches one half.
CONFIDENCE_HALF_AT = 20
# How the parts of a plan add up to its estimated score (sum to 1).
SCORE_WEIGHTS: dict[str, float] = {
    "fragments": 0.6,
    "structure": 0.15,
    "duration": 0.1,
    "caption": 0.1,
    "look": 0.05,
}
# Within the fragments part: what a viewer sees first weighs most.
ROLE_WEIGHTS: dict[str, float] = {
    FragmentType.HOOK: 0.4,
    FragmentType.BODY: 0.3,
    FragmentType.CTA: 0.3,
    FragmentType.OUTRO: 0.1,
}


def clamp01(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


@dataclass(frozen=True)
class Evidence:
    """An observed mean on [0, 1] (None: never measured) and the uses it rests on."""

    mean: float | None
    count: int

    @property
    def alpha(self) -> float:
        return 1.0 + (self.mean or 0.0) * self.count

    @property
    def beta(self) -> float:
        return 1.0 + (1.0 - (self.mean or 0.0)) * self.count

    @property
    def posterior_mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def sample(self, rng: random.Random) -> float:
        return rng.betavariate(self.alpha, self.beta)


def fragment_evidence(
    fragment: FragmentInput, structure: str, override: float | None = None
) -> Evidence:
    """The fragment's score in this structure if measured, else its overall score.

    The success rate (share of its variants that won) is blended in at a quarter.
    `override` replaces the measured score (a refresh passes the fatigued variant's
    per-fragment results).
    """
    score = override
    if score is None:
        score = fragment.performance_by_structure.get(structure)
    if score is None:
        score = fragment.performance_score
    if score is not None and fragment.success_rate is not None:
        score = 0.75 * clamp01(score) + 0.25 * clamp01(fragment.success_rate)
    elif score is None:
        score = fragment.success_rate
    if score is None:
        return Evidence(mean=None, count=0)
    return Evidence(mean=clamp01(score), count=max(int(fragment.usage_count), 1))


def hint_score(scores: Mapping[str, float], key: str) -> float:
    value = scores.get(key)
    return PRIOR_MEAN if value is None else clamp01(value)


def count_confidence(count: int) -> float:
    return count / (count + CONFIDENCE_HALF_AT) if count > 0 else 0.0


def estimate_plan(
    *,
    fragments: Sequence[tuple[str, Evidence]],
    structure: str,
    duration_category: str,
    caption_score: float,
    look: str,
    hints: PerformanceHints,
) -> tuple[float, float, dict[str, float]]:
    """(estimated_score, confidence, parts) of a plan from its evidence.

    The score is the weighted sum of posterior means (0.5 where nothing is known); the
    confidence is the evidence-weighted share of parts that rest on measurements, so a
    plan of fresh fragments scores 0.5 with confidence 0.
    """
    role_total = sum(ROLE_WEIGHTS.get(role, 0.1) for role, _ in fragments)
    fragment_part = (
        sum(ROLE_WEIGHTS.get(role, 0.1) * ev.posterior_mean for role, ev in fragments)
        / role_total
    )
    fragment_confidence = (
        sum(
            ROLE_WEIGHTS.get(role, 0.1) * count_confidence(ev.count)
            for role, ev in fragments
        )
        / role_total
    )
    parts = {
        "fragments": fragment_part,
        "structure": hint_score(hints.structure_scores, structure),
        "duration": hint_score(hints.duration_scores, duration_category),
        "caption": clamp01(caption_score),
        "look": hint_score(hints.look_scores, look),
    }
    score = sum(SCORE_WEIGHTS[name] * value for name, value in parts.items())
    hinted = (
        (structure in hints.structure_scores)
        + (duration_category in hints.duration_scores)
        + (look in hints.look_scores)
    ) / 3
    hints_confidence = count_confidence(hints.evidence) * hinted
    confidence = (
        SCORE_WEIGHTS["fragments"] * fragment_confidence
        + (1 - SCORE_WEIGHTS["fragments"]) * hints_confidence
    )
    return (
        round(score, 4),
        round(clamp01(confidence), 4),
        {k: round(v, 4) for k, v in parts.items()},
    )
