"""A deterministic ad market for stub mode: truth, delivery, fatigue, noise, spikes.

Pure: plain data in, plain data out, no Django. The stub Meta client persists which ads
exist and their status/budget history, builds a `MarketSimulator` from it, and asks it
for daily rows; benchmarks ask it for the truth. The engine's decisions never see the
truth: they see only the noisy daily rows (`InsightRow`s, as the Graph client reads
them), as they would from Meta.

The model, per ad:
- A hidden true click-through rate (clicks per impression) and conversion rate
  (conversions per click) built from latent qualities of its fragments (the hook
  weighs most), a per-master effect of its narrative structure and duration category,
  and small effects of its caption and colour look. Everything is derived from
  `(seed, feature)` hashes, so the same features always have the same appeal.
- Delivery: an ad set's daily budget is split evenly among its ACTIVE ads for the part
  of the day they are ACTIVE; impressions = spend / CPM. PAUSED or ARCHIVED ads get
  nothing. Zero-delivery days have no row, as on Meta.
- Fatigue: some ads (recorded in the truth) decay after an onset of 2-6 weeks of
  exposure (days of delivery), exponentially down to a floor; the others never decay.
- Noise: binomial clicks and conversions and a jittered CPM, seeded by
  `(seed, ad, date)`; on rare days a one-day spike lifts the rates.
- Late conversions: a conversion may be attributed up to a week late, so a day's
  numbers grow as the clock moves on (later reads correct earlier ones). A day's row
  exists only once the clock is past that day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from promotion.meta.protocol import InsightRow

ACTIVE = "ACTIVE"

STRUCTURES = ("hook_body_cta", "hook_inverted", "cta_forward")
DURATION_CATEGORIES = ("short", "medium", "long")

# Effects every market shares (a mild, plausible prior); each master adds its own.
_GLOBAL_STRUCTURE_CTR = {
    "hook_body_cta": 0.06,
    "hook_inverted": -0.04,
    "cta_forward": 0.0,
}
_GLOBAL_DURATION_CTR = {"short": 0.06, "medium": 0.0, "long": -0.06}
_GLOBAL_DURATION_CVR = {"short": -0.05, "medium": 0.0, "long": 0.08}

_CTR_BOUNDS = (0.002, 0.06)
_CVR_BOUNDS = (0.003, 0.25)
_HOOK_WEIGHT = 0.6
_REST_WEIGHT = 0.4
_SPIKE_PROBABILITY = 0.02
# Share of a day's conversions attributed 0, 1, 2, ... days after the day has ended.
_CONVERSION_LAG = (0.6, 0.2, 0.1, 0.05, 0.03, 0.01, 0.01)
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class AdFeatures:
    """What a viewer of the ad sees; the only inputs of its hidden appeal."""

    master_id: str
    hook_fragment_id: str
    fragment_ids: tuple[str, ...]
    structure: str
    duration_category: str
    caption: str = ""
    look: str = ""


@dataclass(frozen=True)
class TrueAppeal:
    """The hidden truth of one ad. For benchmarks only."""

    ctr: float  # clicks per impression before fatigue
    cvr: float  # conversions per click before fatigue
    cpm: float  # account currency per 1000 impressions
    order_value: float  # revenue per conversion
    decays: bool
    decay_onset_day: int  # days of exposure before the decay starts
    decay_rate_per_day: float
    decay_floor: float  # the multiplier never goes below this

    def fatigue_multiplier(self, exposure_days: float) -> float:
        """What share of the fresh rates is left after `exposure_days` of delivery."""
        if not self.decays or exposure_days <= self.decay_onset_day:
            return 1.0
        excess = exposure_days - self.decay_onset_day
        return max(self.decay_floor, math.exp(-self.decay_rate_per_day * excess))


@dataclass(frozen=True)
class StatusChange:
    at: dt.datetime  # aware
    status: str


@dataclass(frozen=True)
class BudgetChange:
    at: dt.datetime  # aware
    daily_budget: float  # account currency, major units


@dataclass(frozen=True)
class MarketAd:
    ad_id: str
    adset_id: str
    features: AdFeatures
    created_at: dt.datetime
    status_history: tuple[StatusChange, ...] = ()


@dataclass(frozen=True)
class MarketAdSet:
    adset_id: str
    budget_history: tuple[BudgetChange, ...] = ()


def seeded_hash(seed: int, *parts: object) -> int:
    """A 64-bit hash of `(seed, parts...)`: every seeded draw of stub mode starts here,
    so the market and the stub account agree in every process."""
    text = "|".join([str(seed), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _rng(seed: int, *parts: object) -> np.random.Generator:
    return np.random.default_rng(seeded_hash(seed, *parts))


def _normal(seed: int, *parts: object, sd: float = 1.0) -> float:
    return float(_rng(seed, *parts).normal(0.0, sd))


def _uniform(seed: int, *parts: object, low: float = 0.0, high: float = 1.0) -> float:
    return float(_rng(seed, *parts).uniform(low, high))


def _clip(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("The market runs on aware datetimes.")
    return value.astimezone(dt.UTC)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + _DAY


class MarketSimulator:
    """The market for one seed. Same seed and history, same numbers, every time."""

    def __init__(
        self,
        *,
        seed: int,
        ads: Iterable[MarketAd] = (),
        adsets: Iterable[MarketAdSet] = (),
        default_daily_budget: float = 50.0,
    ) -> None:
        self.seed = seed
        self.default_daily_budget = default_daily_budget
        self._ads: dict[str, MarketAd] = {}
        self._by_adset: dict[str, list[MarketAd]] = {}
        self._adsets: dict[str, MarketAdSet] = {}
        # The appeal is a pure function of the features, and a costly one (dozens of
        # seeded generators): every daily row of an ad asks for it again.
        self._appeals: dict[AdFeatures, TrueAppeal] = {}
        for adset in adsets:
            self._adsets[adset.adset_id] = adset
        for ad in ads:
            self.add_ad(ad)

    def add_ad(self, ad: MarketAd) -> None:
        if ad.ad_id in self._ads:
            raise ValueError(f"The market already has ad {ad.ad_id}.")
        history = tuple(sorted(ad.status_history, key=lambda c: _utc(c.at)))
        stored = MarketAd(
            ad_id=ad.ad_id,
            adset_id=ad.adset_id,
            features=ad.features,
            created_at=ad.created_at,
            status_history=history,
        )
        self._ads[ad.ad_id] = stored
        self._by_adset.setdefault(ad.adset_id, []).append(stored)

    # --- truth ----------------------------------------------------------------------

    def appeal(self, features: AdFeatures) -> TrueAppeal:
        """The hidden appeal of any ad with these features."""
        cached = self._appeals.get(features)
        if cached is None:
            cached = self._appeals[features] = self._compute_appeal(features)
        return cached

    def _compute_appeal(self, features: AdFeatures) -> TrueAppeal:
        s = self.seed
        master = features.master_id
        base_ctr = math.exp(math.log(0.012) + _normal(s, "master-ctr", master, sd=0.3))
        base_cvr = math.exp(math.log(0.04) + _normal(s, "master-cvr", master, sd=0.3))

        hook_ctr, hook_cvr = self._fragment_quality(features.hook_fragment_id)
        rest = [f for f in features.fragment_ids if f != features.hook_fragment_id]
        if rest:
            qualities = [self._fragment_quality(f) for f in rest]
            rest_ctr = sum(q[0] for q in qualities) / len(qualities)
            rest_cvr = sum(q[1] for q in qualities) / len(qualities)
        else:
            rest_ctr = rest_cvr = 0.0

        structure = features.structure
        duration = features.duration_category
        log_ctr = (
            math.log(base_ctr)
            + _HOOK_WEIGHT * hook_ctr
            + _REST_WEIGHT * rest_ctr
            + _GLOBAL_STRUCTURE_CTR.get(structure, 0.0)
            + _normal(s, "structure-ctr", master, structure, sd=0.15)
            + _GLOBAL_DURATION_CTR.get(duration, 0.0)
            + _normal(s, "duration-ctr", master, duration, sd=0.1)
            + _normal(s, "caption", features.caption, sd=0.05)
            + _normal(s, "look", features.look, sd=0.03)
        )
        log_cvr = (
            math.log(base_cvr)
            + 0.3 * hook_cvr
            + 0.7 * rest_cvr
            + _normal(s, "structure-cvr", master, structure, sd=0.1)
            + _GLOBAL_DURATION_CVR.get(duration, 0.0)
            + _normal(s, "caption-cvr", features.caption, sd=0.05)
        )
        key = _features_key(features)
        return TrueAppeal(
            ctr=_clip(math.exp(log_ctr), _CTR_BOUNDS),
            cvr=_clip(math.exp(log_cvr), _CVR_BOUNDS),
            cpm=_uniform(s, "cpm", master, low=5.0, high=12.0)
            * math.exp(_normal(s, "cpm-ad", key, sd=0.05)),
            order_value=_uniform(s, "order-value", master, low=20.0, high=80.0),
            decays=_uniform(s, "decays", key) < 0.65,
            decay_onset_day=14 + int(_uniform(s, "onset", key) * 29),
            decay_rate_per_day=_uniform(s, "decay-rate", key, low=0.02, high=0.05),
            decay_floor=_uniform(s, "decay-floor", key, low=0.3, high=0.5),
        )

    def truth(self, ad_id: str) -> TrueAppeal:
        """The hidden appeal of a known ad (KeyError if the market never saw it)."""
        return self.appeal(self._ads[ad_id].features)

    def is_spike_day(self, ad_id: str, day: dt.date) -> bool:
        """Whether `day` is one of the ad's one-day spikes (truth, for benchmarks)."""
        return _uniform(self.seed, "spike", ad_id, day.isoformat()) < _SPIKE_PROBABILITY

    def _fragment_quality(self, fragment_id: str) -> tuple[float, float]:
        ctr_q = _normal(self.seed, "fragment-ctr", fragment_id, sd=0.35)
        cvr_q = 0.5 * ctr_q + _normal(self.seed, "fragment-cvr", fragment_id, sd=0.25)
        return ctr_q, cvr_q

    # --- delivery -------------------------------------------------------------------

    def exposure_days(self, ad_id: str, day: dt.date) -> float:
        """Days of delivery the ad had before `day` began (fatigue's clock)."""
        ad = self._ads[ad_id]
        first = _utc(ad.created_at).date()
        return sum(
            self._active_fraction(ad, first + dt.timedelta(days=i))
            for i in range((day - first).days)
        )

    def daily_row(
        self, ad_id: str, day: dt.date, *, as_of: dt.datetime
    ) -> InsightRow | None:
        """The ad's row for `day` as read at `as_of`; None if no delivery or not yet."""
        rows = self.daily_rows([ad_id], since=day, until=day, as_of=as_of)
        return rows[0] if rows else None

    def daily_rows(
        self,
        ad_ids: Sequence[str],
        *,
        since: dt.date,
        until: dt.date,
        as_of: dt.datetime,
    ) -> list[InsightRow]:
        """Rows for these ads and days, skipping days with no delivery and days the
        clock (`as_of`) has not finished yet."""
        last_complete = _utc(as_of).date() - _DAY
        until = min(until, last_complete)
        rows: list[InsightRow] = []
        for ad_id in ad_ids:
            ad = self._ads.get(ad_id)
            if ad is None:
                continue
            first = max(since, _utc(ad.created_at).date())
            exposure = self.exposure_days(ad_id, first)
            day = first
            while day <= until:
                share = self._budget_share(ad, day)
                fraction = self._active_fraction(ad, day)
                if share > 0:
                    row = self._draw_row(ad, day, share, exposure + fraction / 2, as_of)
                    if row.impressions > 0:
                        rows.append(row)
                exposure += fraction
                day += _DAY
        return rows

    def _status_at(self, ad: MarketAd, moment: dt.datetime) -> str:
        status = "PAUSED"
        for change in ad.status_history:
            if _utc(change.at) <= moment:
                status = change.status
            else:
                break
        return status

    def _active_fraction(self, ad: MarketAd, day: dt.date) -> float:
        start, end = _day_bounds(day)
        points = self._cut_points(start, end, [ad])
        active = 0.0
        for a, b in itertools.pairwise(points):
            if self._status_at(ad, a) == ACTIVE:
                active += (b - a) / _DAY
        return active

    def _budget_at(self, adset_id: str, moment: dt.datetime) -> float:
        adset = self._adsets.get(adset_id)
        budget = self.default_daily_budget
        if adset is None:
            return budget
        for change in sorted(adset.budget_history, key=lambda c: _utc(c.at)):
            if _utc(change.at) <= moment:
                budget = change.daily_budget
            else:
                break
        return budget

    def _cut_points(
        self, start: dt.datetime, end: dt.datetime, ads: Iterable[MarketAd]
    ) -> list[dt.datetime]:
        points = {start, end}
        for ad in ads:
            for change in ad.status_history:
                at = _utc(change.at)
                if start < at < end:
                    points.add(at)
        return sorted(points)

    def _budget_share(self, ad: MarketAd, day: dt.date) -> float:
        """The budget the ad spends on `day`: its ad set's budget split evenly among
        the ad set's ACTIVE ads, for the part of the day each is ACTIVE."""
        start, end = _day_bounds(day)
        siblings = self._by_adset[ad.adset_id]
        points = set(self._cut_points(start, end, siblings))
        adset = self._adsets.get(ad.adset_id)
        if adset is not None:
            points |= {
                _utc(c.at) for c in adset.budget_history if start < _utc(c.at) < end
            }
        ordered = sorted(points)
        share = 0.0
        for a, b in itertools.pairwise(ordered):
            if self._status_at(ad, a) != ACTIVE:
                continue
            active = sum(1 for s in siblings if self._status_at(s, a) == ACTIVE)
            share += self._budget_at(ad.adset_id, a) / active * ((b - a) / _DAY)
        return share

    def _draw_row(
        self,
        ad: MarketAd,
        day: dt.date,
        budget: float,
        exposure: float,
        as_of: dt.datetime,
    ) -> InsightRow:
        truth = self.appeal(ad.features)
        rng = _rng(self.seed, "day", ad.ad_id, day.isoformat())
        spike = self.is_spike_day(ad.ad_id, day)
        fatigue = truth.fatigue_multiplier(exposure)

        cpm = truth.cpm * float(rng.lognormal(0.0, 0.1))
        spend = round(budget * float(rng.uniform(0.9, 1.0)), 2)
        impressions = int(spend / cpm * 1000)
        ctr = truth.ctr * fatigue * float(rng.lognormal(0.0, 0.08))
        cvr = truth.cvr * math.sqrt(fatigue)
        if spike:
            ctr *= float(rng.uniform(2.0, 4.0))
            cvr *= float(rng.uniform(1.5, 3.0))
        ctr = min(ctr, 0.5)
        cvr = min(cvr, 0.9)
        clicks = int(rng.binomial(impressions, ctr)) if impressions else 0
        conversions_total = int(rng.binomial(clicks, cvr)) if clicks else 0
        conversions = self._attributed(ad.ad_id, day, conversions_total, as_of)
        value = truth.order_value * float(rng.lognormal(0.0, 0.15))

        frequency = round(1.0 + min(exposure, 60.0) * 0.04, 2)
        plays = int(rng.binomial(impressions, 0.55)) if impressions else 0
        retention = min(0.95, 0.45 + truth.ctr * 10)
        p25 = int(plays * retention)
        p50 = int(p25 * retention)
        p75 = int(p50 * retention)
        p100 = int(p75 * retention)
        return InsightRow(
            ad_id=ad.ad_id,
            date=day,
            impressions=impressions,
            reach=int(impressions / frequency),
            frequency=frequency,
            clicks=clicks,
            conversions=conversions,
            spend=Decimal(str(spend)),
            revenue=Decimal(str(round(conversions * value, 2))),
            video_plays=plays,
            video_p25=p25,
            video_p50=p50,
            video_p75=p75,
            video_p100=p100,
            video_avg_watch_seconds=round(2.0 + 6.0 * retention, 2),
        )

    def _attributed(
        self, ad_id: str, day: dt.date, conversions: int, as_of: dt.datetime
    ) -> int:
        """How many of the day's conversions Meta has attributed by `as_of`."""
        if conversions == 0:
            return 0
        age = (_utc(as_of).date() - day).days  # 1 on the morning after
        lags = _rng(self.seed, "lag", ad_id, day.isoformat()).choice(
            len(_CONVERSION_LAG), size=conversions, p=_CONVERSION_LAG
        )
        return int(np.sum(lags < age))


def _features_key(features: AdFeatures) -> str:
    return "|".join(
        [
            features.master_id,
            features.hook_fragment_id,
            ",".join(features.fragment_ids),
            features.structure,
            features.duration_category,
            features.caption,
            features.look,
        ]
    )
