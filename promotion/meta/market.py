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
- Rates as practitioners see them: CTR 0.5-2 %, conversions per click 1-5 %, CPM
  5-12; weekday seasonality (weekends click more and cost more).
- Delivery, two modes. ``auction`` (the default, like Meta's): each ad set
  concentrates its budget on the ACTIVE ads its own noisy estimate of their
  conversion value favours (the estimate sharpens as an ad delivers), new ads get a
  floor (at least the average established ad's weight for their first days), and
  fatigued ads cost more per impression. ``even``: the budget is split evenly among
  the ACTIVE ads. Either way only the part of the day an ad is ACTIVE counts;
  impressions = spend / CPM; PAUSED or ARCHIVED ads get nothing; zero-delivery days
  have no row, as on Meta.
- Fatigue: some ads (recorded in the truth) decay after an onset of 2-6 weeks of
  exposure (days of delivery), exponentially down to a floor; the others never decay.
  Frequency wears every ad too: once the people reached have seen it about twice on
  average, each further view of the average person costs rate
  (`FREQUENCY_WEAR_PER_VIEW`).
- Retention: a hidden hook rate (3-second views per impression) from the fragment
  on screen in the first seconds, and a hold rate (ThruPlays per impression) from the
  length and the rest of the cut; both wear with fatigue, and people who do not stop
  do not click, so the hook rate leads the CTR.
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

_CTR_BOUNDS = (0.005, 0.02)
_CVR_BOUNDS = (0.01, 0.05)
_HOOK_BOUNDS = (0.08, 0.6)
# ThruPlays per 3-second view by length: short cuts are watched through more often.
_HOLD_SHARE = {"short": 0.55, "medium": 0.38, "long": 0.25}
DELIVERY_MODES = ("auction", "even")
# People a master's ads can reach; frequency = impressions / people reached.
AUDIENCE_SIZE = 120_000
FREQUENCY_WEAR_FROM = 2.0
FREQUENCY_WEAR_PER_VIEW = 0.12
FREQUENCY_WEAR_FLOOR = 0.5
# The auction: how sharply it favours the ads it rates higher, how noisy its rating
# of a fresh ad is (it sharpens with days of delivery), the share every active ad is
# guaranteed, and how long an ad counts as new.
_AUCTION_SHARPNESS = 2.0
_AUCTION_NOISE_SD = 0.5
_AUCTION_FLOOR = 0.1
_NEW_AD_DAYS = 3.0
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
    hook_rate: float = 0.3  # 3-second views per impression before fatigue
    hold_rate: float = 0.1  # ThruPlays per impression before fatigue

    def fatigue_multiplier(self, exposure_days: float, frequency: float = 1.0) -> float:
        """What share of the fresh rates is left after `exposure_days` of delivery
        at `frequency` (views per person reached so far)."""
        wear = max(
            FREQUENCY_WEAR_FLOOR,
            math.exp(
                -FREQUENCY_WEAR_PER_VIEW * max(0.0, frequency - FREQUENCY_WEAR_FROM)
            ),
        )
        if not self.decays or exposure_days <= self.decay_onset_day:
            return wear
        excess = exposure_days - self.decay_onset_day
        decay = max(self.decay_floor, math.exp(-self.decay_rate_per_day * excess))
        return decay * wear


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
    # Ads of one creative in several ad sets (a winner graduated from testing to
    # scaling) are one post to the audience: exposure and frequency carry over.
    creative_id: str = ""


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


def weekday_season(day: dt.date) -> float:
    """The weekday's rate multiplier: weekends click ~8 % more (and cost more)."""
    return 1.0 + 0.08 * math.cos(2.0 * math.pi * (day.weekday() - 5.5) / 7.0)


def frequency_after(impressions: float) -> float:
    """Views per person reached after `impressions`, on an audience of
    `AUDIENCE_SIZE` (reach saturates: 1 - exp(-impressions / audience))."""
    if impressions <= 0:
        return 1.0
    reach = AUDIENCE_SIZE * (1.0 - math.exp(-impressions / AUDIENCE_SIZE))
    return max(1.0, impressions / reach)


@dataclass
class _AdDay:
    """One ad's state at the start of a day, and the budget it spent that day."""

    exposure: float  # days of delivery before the day
    impressions: float  # expected impressions before the day (frequency's clock)
    share: float  # budget (currency) spent on the day
    active: float  # fraction of the day ACTIVE


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + _DAY


def _revenue_per_impression(truth: TrueAppeal, fatigue: float, day: dt.date) -> float:
    """Expected revenue an impression earns, noise aside: clicks fall with fatigue
    and follow the weekday, conversions per click with the root of fatigue."""
    ctr = truth.ctr * fatigue * weekday_season(day)
    return ctr * truth.cvr * math.sqrt(fatigue) * truth.order_value


class MarketSimulator:
    """The market for one seed. Same seed and history, same numbers, every time."""

    def __init__(
        self,
        *,
        seed: int,
        ads: Iterable[MarketAd] = (),
        adsets: Iterable[MarketAdSet] = (),
        default_daily_budget: float = 50.0,
        delivery: str = "auction",
    ) -> None:
        if delivery not in DELIVERY_MODES:
            raise ValueError(f"delivery must be one of {DELIVERY_MODES}.")
        self.seed = seed
        self.delivery = delivery
        self.default_daily_budget = default_daily_budget
        # Per ad set, each ad's state day by day, simulated forward once (the
        # auction's split depends on every sibling's exposure and frequency).
        self._days: dict[str, dict[str, dict[dt.date, _AdDay]]] = {}
        self._simulated_until: dict[str, dt.date] = {}
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
            creative_id=ad.creative_id,
        )
        self._ads[ad.ad_id] = stored
        self._by_adset.setdefault(ad.adset_id, []).append(stored)
        self._days.pop(ad.adset_id, None)
        self._simulated_until.pop(ad.adset_id, None)

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
        base_ctr = math.exp(math.log(0.01) + _normal(s, "master-ctr", master, sd=0.2))
        base_cvr = math.exp(math.log(0.025) + _normal(s, "master-cvr", master, sd=0.2))

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
        opening = features.fragment_ids[0] if features.fragment_ids else ""
        stop = self._fragment_stop(opening or features.hook_fragment_id)
        hook_rate = _clip(
            0.3 * math.exp(stop + _normal(s, "hook-look", features.look, sd=0.03)),
            _HOOK_BOUNDS,
        )
        hold = _HOLD_SHARE.get(duration, 0.38) * math.exp(0.5 * rest_ctr)
        # People who do not stop do not click: the hook rate leads the CTR.
        log_ctr += 0.5 * stop
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
            hook_rate=hook_rate,
            hold_rate=hook_rate * min(hold, 0.9),
        )

    def truth(self, ad_id: str) -> TrueAppeal:
        """The hidden appeal of a known ad (KeyError if the market never saw it)."""
        return self.appeal(self._ads[ad_id].features)

    def is_spike_day(self, ad_id: str, day: dt.date) -> bool:
        """Whether `day` is one of the ad's one-day spikes (truth, for benchmarks)."""
        return _uniform(self.seed, "spike", ad_id, day.isoformat()) < _SPIKE_PROBABILITY

    def _fragment_stop(self, fragment_id: str) -> float:
        """How strongly a fragment on screen first stops the scroll (log scale)."""
        ctr_q = _normal(self.seed, "fragment-ctr", fragment_id, sd=0.35)
        return 0.6 * ctr_q + _normal(self.seed, "fragment-stop", fragment_id, sd=0.2)

    def _fragment_quality(self, fragment_id: str) -> tuple[float, float]:
        ctr_q = _normal(self.seed, "fragment-ctr", fragment_id, sd=0.35)
        cvr_q = 0.5 * ctr_q + _normal(self.seed, "fragment-cvr", fragment_id, sd=0.25)
        return ctr_q, cvr_q

    # --- delivery -------------------------------------------------------------------

    def exposure_days(self, ad_id: str, day: dt.date) -> float:
        """Days of delivery the ad had before `day` began (fatigue's clock)."""
        state = self._state(self._ads[ad_id], day)
        return state.exposure if state else 0.0

    def frequency(self, ad_id: str, day: dt.date) -> float:
        """Views per person reached before `day` began (frequency's wear)."""
        state = self._state(self._ads[ad_id], day)
        return frequency_after(state.impressions) if state else 1.0

    def true_multiplier(self, ad_id: str, day: dt.date) -> float:
        """What share of the ad's fresh rates is left at the start of `day`."""
        return self.truth(ad_id).fatigue_multiplier(
            self.exposure_days(ad_id, day), self.frequency(ad_id, day)
        )

    def spend_on(self, ad_id: str, day: dt.date) -> float:
        """The budget the ad's ad set spent on it on `day` (expected, before noise)."""
        state = self._state(self._ads[ad_id], day)
        return state.share if state else 0.0

    def expected_day(self, ad_id: str, day: dt.date) -> tuple[float, float]:
        """The ad's expected spend and revenue on `day` as the market draws them
        (mid-day fatigue, the weekday, the auction's CPM premium; no noise, no
        spike): the truth the benchmark scores what the spend bought by."""
        ad = self._ads[ad_id]
        state = self._state(ad, day)
        if state is None or state.share <= 0:
            return 0.0, 0.0
        truth = self.appeal(ad.features)
        cpm = self._cpm(ad, day, state)
        frequency = frequency_after(state.impressions + state.share / cpm * 500.0)
        fatigue = truth.fatigue_multiplier(state.exposure + state.active / 2, frequency)
        impressions = state.share / cpm * 1000.0
        return state.share, impressions * _revenue_per_impression(truth, fatigue, day)

    def expected_roas(self, ad_id: str, day: dt.date) -> float:
        """Revenue per unit of spend the ad would earn at the start of `day` (its
        fatigue and frequency so far, the auction's premium on a worn ad): what a
        clairvoyant judge ranks by."""
        ad = self._ads[ad_id]
        truth = self.appeal(ad.features)
        fatigue = self.true_multiplier(ad_id, day)
        cpm = self._cpm_at(truth, day, fatigue)
        return _revenue_per_impression(truth, fatigue, day) * 1000.0 / cpm

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
            day = max(since, _utc(ad.created_at).date())
            while day <= until:
                state = self._state(ad, day)
                if state is not None and state.share > 0:
                    row = self._draw_row(ad, day, state, as_of)
                    if row.impressions > 0:
                        rows.append(row)
                day += _DAY
        return rows

    def _state(self, ad: MarketAd, day: dt.date) -> _AdDay | None:
        """The ad's state on `day`, simulating its ad set forward as far as needed."""
        if day < _utc(ad.created_at).date():
            return None
        self._simulate(ad.adset_id, day)
        return self._days[ad.adset_id][ad.ad_id].get(day)

    def _simulate(self, adset_id: str, until: dt.date) -> None:
        """Every ad of the ad set, day by day up to `until`: exposure, expected
        impressions so far, and the day's budget share (the split needs every
        sibling's state at the start of the day)."""
        done = self._simulated_until.get(adset_id)
        if done is not None and done >= until:
            return
        siblings = self._by_adset.get(adset_id, [])
        if not siblings:
            return
        days = self._days.setdefault(adset_id, {a.ad_id: {} for a in siblings})
        first = min(_utc(a.created_at).date() for a in siblings)
        day = first if done is None else done + _DAY
        while day <= until:
            previous = day - _DAY
            states: dict[str, _AdDay] = {}
            for ad in siblings:
                if day < _utc(ad.created_at).date():
                    continue
                before = days[ad.ad_id].get(previous)
                if before is None:
                    exposure, impressions = self._carried(ad, day)
                else:
                    exposure = before.exposure + before.active
                    cpm = self._cpm(ad, previous, before)
                    impressions = before.impressions + before.share / cpm * 1000.0
                states[ad.ad_id] = _AdDay(exposure, impressions, 0.0, 0.0)
            for ad in siblings:
                state = states.get(ad.ad_id)
                if state is not None:
                    state.active = self._active_fraction(ad, day)
            for ad_id, share in self._budget_shares(adset_id, day, states).items():
                states[ad_id].share = share
            for ad_id, state in states.items():
                days[ad_id][day] = state
            day += _DAY
        self._simulated_until[adset_id] = until

    def _carried(self, ad: MarketAd, day: dt.date) -> tuple[float, float]:
        """Exposure and impressions the ad's creative already had, by `day`, in the
        other ad sets it ran in before this ad existed."""
        exposure = impressions = 0.0
        if not ad.creative_id:
            return exposure, impressions
        for other in self._ads.values():
            if (
                other.creative_id != ad.creative_id
                or other.adset_id == ad.adset_id
                or _utc(other.created_at) >= _utc(ad.created_at)
            ):
                continue
            state = self._state(other, day)
            if state is not None:
                exposure += state.exposure
                impressions += state.impressions
        return exposure, impressions

    def _cpm(self, ad: MarketAd, day: dt.date, state: _AdDay) -> float:
        """The ad's expected CPM on `day`: its base, the weekday, and (in the
        auction) a premium for fatigue, as the auction charges more for ads people
        have stopped responding to."""
        truth = self.appeal(ad.features)
        fatigue = (
            truth.fatigue_multiplier(state.exposure, frequency_after(state.impressions))
            if self.delivery == "auction"
            else 1.0
        )
        return self._cpm_at(truth, day, fatigue)

    def _cpm_at(self, truth: TrueAppeal, day: dt.date, fatigue: float) -> float:
        """CPM for an ad of `truth` worn to `fatigue` on `day` (the premium on a
        worn ad applies in the auction only)."""
        cpm = truth.cpm * (2.0 - weekday_season(day))
        if self.delivery == "auction":
            cpm /= math.sqrt(max(fatigue, 0.05))
        return cpm

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

    def _budget_shares(
        self, adset_id: str, day: dt.date, states: dict[str, _AdDay]
    ) -> dict[str, float]:
        """The budget each ad spends on `day`: its ad set's budget split among the
        ad set's ACTIVE ads (evenly, or by the auction's weights), for the part of
        the day each is ACTIVE. One pass over the day's segments for all ads."""
        start, end = _day_bounds(day)
        siblings = [s for s in self._by_adset[adset_id] if s.ad_id in states]
        shares = dict.fromkeys((s.ad_id for s in siblings), 0.0)
        candidates = [s for s in siblings if states[s.ad_id].active > 0]
        if not candidates:
            return shares
        points = set(self._cut_points(start, end, candidates))
        adset = self._adsets.get(adset_id)
        if adset is not None:
            points |= {
                _utc(c.at) for c in adset.budget_history if start < _utc(c.at) < end
            }
        weights = (
            self._auction_weights(candidates, day, states)
            if self.delivery == "auction"
            else dict.fromkeys((s.ad_id for s in candidates), 1.0)
        )
        for a, b in itertools.pairwise(sorted(points)):
            active = [s.ad_id for s in candidates if self._status_at(s, a) == ACTIVE]
            if not active:
                continue
            budget = self._budget_at(adset_id, a) * ((b - a) / _DAY)
            total = sum(weights[ad_id] for ad_id in active)
            fair = 1.0 / len(active)
            for ad_id in active:
                if self.delivery == "auction":
                    portion = _AUCTION_FLOOR * fair + (1.0 - _AUCTION_FLOOR) * (
                        weights[ad_id] / total
                    )
                else:
                    portion = fair
                shares[ad_id] += budget * portion
        return shares

    def _auction_weights(
        self, ads: Sequence[MarketAd], day: dt.date, states: dict[str, _AdDay]
    ) -> dict[str, float]:
        """The auction's weight per ad: its own noisy estimate of the ad's value
        (conversions per impression, fatigue included), sharpened; the estimate's
        noise shrinks as the ad delivers. New ads weigh at least as much as the
        average established ad, so each gets a fair first look."""
        weights: dict[str, float] = {}
        new: list[str] = []
        for ad in ads:
            state = states[ad.ad_id]
            truth = self.appeal(ad.features)
            value = (
                truth.ctr
                * truth.cvr
                * truth.fatigue_multiplier(
                    state.exposure, frequency_after(state.impressions)
                )
            )
            sd = _AUCTION_NOISE_SD / math.sqrt(1.0 + state.exposure)
            estimate = value * math.exp(
                _normal(self.seed, "auction", ad.ad_id, day.isoformat(), sd=sd)
            )
            weights[ad.ad_id] = estimate**_AUCTION_SHARPNESS
            if state.exposure < _NEW_AD_DAYS:
                new.append(ad.ad_id)
        established = [w for k, w in weights.items() if k not in new]
        if established:
            floor = sum(established) / len(established)
            for ad_id in new:
                weights[ad_id] = max(weights[ad_id], floor)
        return weights

    def _draw_row(
        self,
        ad: MarketAd,
        day: dt.date,
        state: _AdDay,
        as_of: dt.datetime,
    ) -> InsightRow:
        truth = self.appeal(ad.features)
        rng = _rng(self.seed, "day", ad.ad_id, day.isoformat())
        spike = self.is_spike_day(ad.ad_id, day)
        # Mid-day state: half the day's delivery has happened.
        exposure = state.exposure + state.active / 2
        cpm_expected = self._cpm(ad, day, state)
        frequency = frequency_after(
            state.impressions + state.share / cpm_expected * 500.0
        )
        fatigue = truth.fatigue_multiplier(exposure, frequency)
        season = weekday_season(day)

        cpm = cpm_expected * float(rng.lognormal(0.0, 0.1))
        spend = round(state.share * float(rng.uniform(0.9, 1.0)), 2)
        impressions = int(spend / cpm * 1000)
        ctr = truth.ctr * fatigue * season * float(rng.lognormal(0.0, 0.08))
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

        plays = int(rng.binomial(impressions, 0.55)) if impressions else 0
        retention = min(0.95, 0.45 + truth.ctr * 10)
        p25 = int(plays * retention)
        p50 = int(p25 * retention)
        p75 = int(p50 * retention)
        p100 = int(p75 * retention)
        # Retention wears with fatigue as clicks do (more gently: habit scrolls on).
        hook = min(truth.hook_rate * math.sqrt(fatigue), 0.95)
        views = int(rng.binomial(impressions, hook)) if impressions else 0
        hold = min(truth.hold_rate / truth.hook_rate, 1.0) if truth.hook_rate else 0
        thruplays = int(rng.binomial(views, hold)) if views else 0
        return InsightRow(
            ad_id=ad.ad_id,
            date=day,
            impressions=impressions,
            reach=int(impressions / frequency),
            frequency=round(frequency, 2),
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
            video_3s_views=views,
            thruplays=thruplays,
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
