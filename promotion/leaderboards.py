"""Leaderboards: which fragments and structures delivered, with the evidence behind it.

Pure: plain rows in (one per variant, summed over the chosen days), ranked entries
out. A fragment's numbers pool every variant that used it; a structure's, every
variant built on it. Rates carry a 95 % Wilson interval, and entries are ranked by
the interval's lower bound: a hook with 2 clicks in 40 impressions (5 %, but anywhere
from 1 % to 17 %) must not outrank one with 300 in 10,000 (3 %, 2.7 % to 3.4 %).
ROAS has no binomial interval; it is ranked by its value, with its spend shown.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from promotion.delivery import DeliveryTotals

Metric = Literal["ctr", "cvr", "roas"]
METRICS: dict[str, str] = {
    "ctr": "CTR (clicks per impression)",
    "cvr": "CVR (conversions per click)",
    "roas": "ROAS (revenue per spend)",
}
Z_95 = 1.959964


def wilson_interval(
    successes: int, trials: int, z: float = Z_95
) -> tuple[float, float] | None:
    """The Wilson score interval for a rate; None without trials. Unlike the normal
    approximation it stays inside [0, 1] and is honest for small counts."""
    if trials <= 0:
        return None
    p = min(max(successes / trials, 0.0), 1.0)
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    half /= denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def interval(totals: DeliveryTotals, metric: Metric) -> tuple[float, float] | None:
    """The 95 % interval of a rate; ROAS has none."""
    if metric == "ctr":
        return wilson_interval(totals.clicks, totals.impressions)
    if metric == "cvr":
        return wilson_interval(totals.conversions, totals.clicks)
    return None


@dataclass(frozen=True)
class VariantTotals:
    """One variant's delivery over the chosen days, with what it is made of."""

    variant_id: str
    master_id: str
    campaign_id: str
    structure: str
    fragment_ids: tuple[str, ...]
    totals: DeliveryTotals


@dataclass(frozen=True)
class FragmentInfo:
    fragment_id: str
    fragment_type: str  # hook, body, cta
    label: str
    master_title: str


@dataclass(frozen=True)
class Entry:
    """One row of a leaderboard: a name, its delivery, and the evidence on `metric`."""

    key: str
    label: str
    detail: str
    variants: int
    totals: DeliveryTotals
    metric: Metric

    @cached_property
    def value(self) -> float | None:
        value: float | None = getattr(self.totals, self.metric)
        return value

    @cached_property
    def interval(self) -> tuple[float, float] | None:
        return interval(self.totals, self.metric)


def _ranked(entries: Iterable[Entry]) -> list[Entry]:
    """Best first: by the interval's lower bound for rates, by value for ROAS;
    entries without a value (no clicks, no spend) last."""

    def key(entry: Entry) -> tuple[bool, float, float, int, str]:
        floor = entry.interval[0] if entry.interval else entry.value
        return (
            entry.value is None,
            -(floor or 0.0),
            -(entry.value or 0.0),
            -entry.totals.impressions,
            entry.label,
        )

    return sorted(entries, key=key)


def rank_fragments(
    variants: Iterable[VariantTotals],
    fragments: Mapping[str, FragmentInfo],
    *,
    metric: Metric = "ctr",
) -> dict[str, list[Entry]]:
    """Per fragment type (hook, body, cta), the fragments ranked by what the variants
    that used them delivered. A variant using a fragment twice counts once."""
    pooled: dict[str, DeliveryTotals] = defaultdict(DeliveryTotals)
    users: dict[str, int] = defaultdict(int)
    for variant in variants:
        for fragment_id in set(variant.fragment_ids):
            if fragment_id in fragments:
                pooled[fragment_id] += variant.totals
                users[fragment_id] += 1
    boards: dict[str, list[Entry]] = defaultdict(list)
    for fragment_id, totals in pooled.items():
        info = fragments[fragment_id]
        boards[info.fragment_type].append(
            Entry(
                fragment_id,
                info.label,
                info.master_title,
                users[fragment_id],
                totals,
                metric,
            )
        )
    return {kind: _ranked(entries) for kind, entries in boards.items()}


def rank_structures(
    variants: Iterable[VariantTotals],
    *,
    metric: Metric = "ctr",
    structure_names: Mapping[str, str] | None = None,
) -> list[Entry]:
    """Narrative structures ranked by what their variants delivered."""
    names = structure_names or {}
    pooled: dict[str, DeliveryTotals] = defaultdict(DeliveryTotals)
    users: dict[str, int] = defaultdict(int)
    for variant in variants:
        pooled[variant.structure] += variant.totals
        users[variant.structure] += 1
    return _ranked(
        Entry(s, names.get(s, s), "", users[s], totals, metric)
        for s, totals in pooled.items()
    )


def structures_by_campaign(
    variants: Iterable[VariantTotals],
    *,
    metric: Metric = "ctr",
    structure_names: Mapping[str, str] | None = None,
) -> dict[str, list[Entry]]:
    """Per campaign, its structures ranked: the best structure is found per campaign."""
    by_campaign: dict[str, list[VariantTotals]] = defaultdict(list)
    for variant in variants:
        by_campaign[variant.campaign_id].append(variant)
    return {
        campaign: rank_structures(rows, metric=metric, structure_names=structure_names)
        for campaign, rows in sorted(by_campaign.items())
    }
