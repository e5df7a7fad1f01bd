"""The best narrative structure per campaign, with how sure the posterior is of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from promotion.ranking.posteriors import beta_ppf, seed_bits


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
        rng = np.random.default_rng([seed_bits(seed), index])
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
