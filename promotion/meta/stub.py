"""`StubMetaClient`: the Meta Ads client of stub mode. No network, same contract.

It behaves like the Graph API where the engine can tell the difference:
- ids are Meta-shaped numeric strings, deterministic per seed and object name;
- uploads fail at a configured rate, with the typed errors real Meta gives (transient
  code 2, throttling 17, creative "oops" 100/1487390, permanent rejections, and the
  ambiguous kind where Meta did the work but the answer was lost), drawn per
  (seed, operation, name, attempt);
- objects can be found by name, so an ambiguous failure can be deduplicated;
- creatives opt out of every Advantage+ enhancement;
- an ad set's budget may change at most 4 times an hour (code 17 beyond);
- daily insights come from the market simulator (`promotion.meta.market`), only for
  days the client's clock has finished.

The account lives in the database (`StubMetaObject`), one account per seed, so workers
and `run_cycle --as-of` runs in separate processes see one market. Every attempt is
reported to the observer as a `MetaCall`, exactly as the Graph client does.

The stub plays the audience too: what a viewer would see in a video (its fragments,
structure, length, caption, look) is read from the variant the video was rendered
from, found through the dedupe key in the object's name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from promotion.fragment_scoring import fragment_ids_in_order, hook_fragment_id
from promotion.meta.create_once import create_once, raise_at_once
from promotion.meta.enhancements import opt_out_spec
from promotion.meta.errors import (
    MetaAmbiguousError,
    MetaApiError,
    MetaError,
    MetaInvalidParameterError,
    MetaRateLimitError,
    MetaTransientError,
    MetaVideoUploadError,
)
from promotion.meta.market import (
    AdFeatures,
    BudgetChange,
    MarketAd,
    MarketAdSet,
    MarketSimulator,
    StatusChange,
)
from promotion.meta.protocol import (
    AdSetInfo,
    AdSpec,
    AdStatus,
    CreativeResult,
    CreativeSpec,
    InsightRow,
    MetaCall,
    MetaCallObserver,
    VideoState,
    VideoStatus,
)
from promotion.models import StubMetaAttempt, StubMetaObject, StubObjectKind
from variants.models import CreativeVariant

T = TypeVar("T")

# The calls that make up one upload; the failure rate applies to the upload as a whole.
UPLOAD_OPERATIONS = ("upload_video", "upload_image", "create_creative", "create_ad")

# Which failure a failing upload call shows, by cumulative share.
_FAILURE_MIX = (
    (0.45, "transient"),
    (0.55, "throttled"),
    (0.75, "ambiguous"),
    (0.85, "oops"),
    (1.00, "permanent"),
)
_BUDGET_CHANGES_PER_HOUR = 4
_MIN_DAILY_BUDGET_MINOR = 100
# Meta-shaped ids: videos have 16 digits, creatives and ads 18 starting 1202.
_ID_PREFIX: dict[str, str] = {
    StubObjectKind.VIDEO: "10",
    StubObjectKind.CREATIVE: "1202",
    StubObjectKind.AD: "1202",
}


class StubMetaClient:
    """A simulated Meta ad account. Deterministic per seed (and clock)."""

    mode = "stub"

    def __init__(
        self,
        *,
        seed: int,
        failure_rate: float,
        observer: MetaCallObserver | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        inject_failures: Mapping[str, Sequence[str]] | None = None,
        default_daily_budget_minor: int = 5000,
        latency_seconds: float = 0.0,
    ) -> None:
        """`failure_rate` is the share of uploads (video, poster, creative, ad) that
        meet at least one failure. `inject_failures` scripts failures for tests:
        operation → kinds for its next calls on this instance ("ok", "transient",
        "throttled", "ambiguous", "oops", "permanent")."""
        if not 0.0 <= failure_rate < 1.0:
            raise ValueError("failure_rate must be in [0, 1).")
        self.seed = seed
        self.failure_rate = failure_rate
        self._observer = observer
        self._clock = clock or timezone.now
        self._scripted = {
            op: list(kinds) for op, kinds in (inject_failures or {}).items()
        }
        self._default_budget_minor = default_daily_budget_minor
        # Simulated network time per call (worker tests need a window to kill in).
        self._latency = max(latency_seconds, 0.0)
        # Per call: 1 - (1 - rate) ** (1 / calls), so an upload of four calls meets a
        # failure at `failure_rate`.
        self._call_failure_p = 1.0 - (1.0 - failure_rate) ** (
            1.0 / len(UPLOAD_OPERATIONS)
        )

    # --- videos and images ----------------------------------------------------------

    def upload_video(self, *, path: str, name: str, resume: bool = False) -> str:
        def act() -> str:
            size = os.path.getsize(path)
            features = _features_for(name, path)
            obj = self._create(
                StubObjectKind.VIDEO,
                name,
                status=VideoState.READY,
                payload={"size": size, "features": features},
            )
            return obj.meta_id

        return self._create_once(
            create=lambda: self._call(
                "upload_video", name, act, details={"name": name}
            ),
            find=lambda: self.find_video_by_name(name=name),
            resume=resume,
        )

    def find_video_by_name(self, *, name: str) -> str | None:
        return self._find_by_name("find_video", StubObjectKind.VIDEO, name)

    def wait_video_ready(self, *, video_id: str, timeout_seconds: float) -> VideoStatus:
        def act() -> VideoStatus:
            obj = self._get(StubObjectKind.VIDEO, video_id)
            return VideoStatus(video_id=video_id, state=VideoState(obj.status))

        return self._call(
            "wait_video_ready",
            "",
            act,
            details={"video_id": video_id},
            object_id=video_id,
        )

    def upload_image(self, *, path: str, name: str) -> str:
        def act() -> str:
            with open(path, "rb") as handle:
                image_hash = hashlib.md5(
                    handle.read(), usedforsecurity=False
                ).hexdigest()
            StubMetaObject.objects.get_or_create(
                seed=self.seed,
                kind=StubObjectKind.IMAGE,
                meta_id=image_hash,
                defaults={"name": name, "created_at": self._now()},
            )
            return image_hash

        # Image hashes are content hashes: an upload whose answer was lost is
        # found by its name like any other object, and is the same image anyway.
        return self._create_once(
            create=lambda: self._call(
                "upload_image", name, act, details={"name": name}
            ),
            find=lambda: self._find_by_name("find_image", StubObjectKind.IMAGE, name),
            resume=False,
        )

    # --- creatives and ads ----------------------------------------------------------

    def create_creative(
        self, *, spec: CreativeSpec, resume: bool = False
    ) -> CreativeResult:
        def act() -> CreativeResult:
            video = self._get(StubObjectKind.VIDEO, spec.video_id)
            if not spec.page_id:
                raise _invalid(
                    "Invalid parameter: object_story_spec.page_id is required"
                )
            degrees_of_freedom = opt_out_spec()
            # What Meta reports back: each feature as the spec enrolled it.
            enhancements = {
                feature: detail["enroll_status"]
                for feature, detail in degrees_of_freedom[
                    "creative_features_spec"
                ].items()
            }
            obj = self._create(
                StubObjectKind.CREATIVE,
                spec.name,
                parent=video.meta_id,
                status="ACTIVE",
                payload={
                    "spec": dataclasses.asdict(spec),
                    "degrees_of_freedom_spec": degrees_of_freedom,
                    "features": video.payload.get("features", {}),
                    "enhancements": enhancements,
                },
            )
            return CreativeResult(creative_id=obj.meta_id, enhancements=enhancements)

        def find() -> CreativeResult | None:
            creative_id = self.find_creative_by_name(name=spec.name)
            if creative_id is None:
                return None
            creative = self._get(StubObjectKind.CREATIVE, creative_id)
            return CreativeResult(
                creative_id=creative_id,
                enhancements=creative.payload.get("enhancements", {}),
            )

        return self._create_once(
            create=lambda: self._call(
                "create_creative",
                spec.name,
                act,
                details={"name": spec.name, "video_id": spec.video_id},
                object_id_of=lambda r: r.creative_id,
            ),
            find=find,
            resume=resume,
        )

    def find_creative_by_name(self, *, name: str) -> str | None:
        return self._find_by_name("find_creative", StubObjectKind.CREATIVE, name)

    def create_ad(self, *, spec: AdSpec, resume: bool = False) -> str:
        def act() -> str:
            creative = self._get(StubObjectKind.CREATIVE, spec.creative_id)
            self._ensure_adset(spec.adset_id)
            if spec.status not in (AdStatus.ACTIVE, AdStatus.PAUSED):
                raise _invalid("Invalid parameter: status must be ACTIVE or PAUSED")
            obj = self._create(
                StubObjectKind.AD,
                spec.name,
                parent=spec.adset_id,
                status=spec.status,
                payload={
                    "creative_id": creative.meta_id,
                    "pixel_id": spec.pixel_id,
                    "features": creative.payload.get("features", {}),
                    "market_seed": self.seed,
                },
                history=[{"at": self._now().isoformat(), "status": str(spec.status)}],
            )
            return obj.meta_id

        return self._create_once(
            create=lambda: self._call(
                "create_ad",
                spec.name,
                act,
                details={
                    "name": spec.name,
                    "adset_id": spec.adset_id,
                    "creative_id": spec.creative_id,
                    "status": str(spec.status),
                    "pixel_id": spec.pixel_id,
                },
            ),
            find=lambda: self.find_ad_by_name(adset_id=spec.adset_id, name=spec.name),
            resume=resume,
        )

    def find_ad_by_name(self, *, adset_id: str, name: str) -> str | None:
        def act() -> str | None:
            return (
                StubMetaObject.objects.filter(
                    seed=self.seed,
                    kind=StubObjectKind.AD,
                    name=name,
                    parent_meta_id=adset_id,
                )
                .values_list("meta_id", flat=True)
                .first()
            )

        return self._call(
            "find_ad", name, act, details={"name": name, "adset_id": adset_id}
        )

    def set_ad_status(self, *, ad_id: str, status: AdStatus) -> None:
        def act() -> None:
            with transaction.atomic():
                ad = self._get(StubObjectKind.AD, ad_id, for_update=True)
                if ad.status == status:
                    return
                if ad.status in (AdStatus.ARCHIVED, AdStatus.DELETED):
                    raise _invalid(
                        f"Ad {ad_id} is {ad.status}: only its name can be edited.",
                        subcode=1885088,
                    )
                ad.status = status
                ad.history = [
                    *ad.history,
                    {"at": self._now().isoformat(), "status": str(status)},
                ]
                ad.save(update_fields=["status", "history"])

        self._call(
            "set_ad_status",
            "",
            act,
            details={"ad_id": ad_id, "status": str(status)},
            object_id=ad_id,
        )

    # --- ad sets --------------------------------------------------------------------

    def get_adset(self, *, adset_id: str) -> AdSetInfo:
        def act() -> AdSetInfo:
            adset = self._ensure_adset(adset_id)
            return AdSetInfo(
                adset_id=adset.meta_id,
                campaign_id=adset.payload["campaign_id"],
                daily_budget_minor=adset.payload["daily_budget_minor"],
                status=adset.status,
            )

        return self._call(
            "get_adset", "", act, details={"adset_id": adset_id}, object_id=adset_id
        )

    def set_adset_budget(self, *, adset_id: str, daily_budget_minor: int) -> None:
        def act() -> None:
            if daily_budget_minor < _MIN_DAILY_BUDGET_MINOR:
                raise _invalid(
                    "Your budget is too low. The minimum daily budget is 1.00.",
                    subcode=1885272,
                )
            self._ensure_adset(adset_id)
            now = self._now()
            with transaction.atomic():
                adset = StubMetaObject.objects.select_for_update().get(
                    seed=self.seed, kind=StubObjectKind.ADSET, meta_id=adset_id
                )
                hour_ago = now - dt.timedelta(hours=1)
                recent = [
                    c
                    for c in adset.history[1:]
                    if dt.datetime.fromisoformat(c["at"]) > hour_ago
                ]
                if len(recent) >= _BUDGET_CHANGES_PER_HOUR:
                    raise MetaRateLimitError(
                        "(#17) User request limit reached: an ad set's budget may "
                        "change at most 4 times an hour.",
                        code=17,
                        subcode=2446079,
                        is_transient=True,
                        http_status=400,
                        error_type="OAuthException",
                    )
                adset.payload = {
                    **adset.payload,
                    "daily_budget_minor": daily_budget_minor,
                }
                adset.history = [
                    *adset.history,
                    {"at": now.isoformat(), "daily_budget_minor": daily_budget_minor},
                ]
                adset.save(update_fields=["payload", "history"])

        self._call(
            "set_adset_budget",
            "",
            act,
            details={"adset_id": adset_id, "daily_budget_minor": daily_budget_minor},
            object_id=adset_id,
        )

    # --- insights -------------------------------------------------------------------

    def get_daily_insights(
        self, *, ad_ids: Sequence[str], since: dt.date, until: dt.date
    ) -> Iterator[InsightRow]:
        ad_ids = [str(a) for a in ad_ids]

        def act() -> list[InsightRow]:
            market = load_stub_market(seed=self.seed, ad_ids=ad_ids)
            rows = market.daily_rows(
                ad_ids, since=since, until=until, as_of=self._now()
            )
            return [_insight_row(r) for r in rows]

        rows = self._call(
            "get_daily_insights",
            "",
            act,
            details={
                "ad_ids": ad_ids,
                "since": since.isoformat(),
                "until": until.isoformat(),
            },
        )
        return iter(rows)

    # --- plumbing -------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        now = self._clock()
        if timezone.is_naive(now):
            raise ValueError("The stub's clock must return aware datetimes.")
        return now

    @staticmethod
    def _create_once(
        *, create: Callable[[], T], find: Callable[[], T | None], resume: bool
    ) -> T:
        """Create-once as the Graph client does; every retry is left to the task
        (the stub's attempts are counted across processes, not inside a call)."""
        return create_once(
            create=lambda attempt: create(),
            find=find,
            resume=resume,
            wait_or_raise=raise_at_once,
            # The lookup is a reported call of its own.
            adopt=lambda found, attempt: found,
        )

    def _call(
        self,
        operation: str,
        name: str,
        action: Callable[[], T],
        *,
        details: Mapping[str, Any],
        object_id: str = "",
        object_id_of: Callable[[Any], str] | None = None,
    ) -> T:
        """Run one simulated call: draw its failure, act, report it to the observer."""
        attempt = self._next_attempt(operation, name)
        started = time.perf_counter()
        if self._latency:
            time.sleep(self._latency)
        try:
            failure = self._failure_for(operation, name, attempt)
            if failure not in ("ok", "ambiguous"):
                raise _failure_error(failure, operation)
            result = action()
            if failure == "ambiguous":
                raise MetaAmbiguousError(
                    f"{operation}: the connection was reset after Meta received the "
                    "request; it may have done the work. Look it up by name.",
                    http_status=None,
                )
        except MetaError as exc:
            self._report(
                MetaCall.failed(
                    operation,
                    attempt,
                    exc,
                    started=started,
                    object_id=object_id,
                    details=details,
                )
            )
            raise
        if object_id_of is not None:
            object_id = object_id_of(result)
        elif isinstance(result, str):
            object_id = result
        self._report(
            MetaCall(
                operation=operation,
                attempt=attempt,
                success=True,
                object_id=object_id,
                http_status=200,
                duration_ms=(time.perf_counter() - started) * 1000,
                details=details,
            )
        )
        return result

    def _report(self, call: MetaCall) -> None:
        if self._observer is not None:
            self._observer(call)

    def _next_attempt(self, operation: str, name: str) -> int:
        """Attempts at one named upload call, counted across processes."""
        if operation not in UPLOAD_OPERATIONS or not name:
            return 1
        counter, _ = StubMetaAttempt.objects.get_or_create(
            seed=self.seed, operation=operation, name=name
        )
        StubMetaAttempt.objects.filter(pk=counter.pk).update(attempts=F("attempts") + 1)
        return counter.attempts + 1

    def _failure_for(self, operation: str, name: str, attempt: int) -> str:
        scripted = self._scripted.get(operation)
        if scripted:
            return scripted.pop(0)
        if operation not in UPLOAD_OPERATIONS or self._call_failure_p <= 0:
            return "ok"
        if _unit(self.seed, "fail", operation, name, attempt) >= self._call_failure_p:
            return "ok"
        draw = _unit(self.seed, "kind", operation, name, attempt)
        return next(kind for share, kind in _FAILURE_MIX if draw < share)

    def _create(
        self,
        kind: str,
        name: str,
        *,
        parent: str = "",
        status: str = "",
        payload: Mapping[str, Any],
        history: list[dict[str, Any]] | None = None,
    ) -> StubMetaObject:
        prefix = _ID_PREFIX[kind]
        ordinal = StubMetaObject.objects.filter(
            seed=self.seed, kind=kind, name=name
        ).count()
        while True:
            try:
                with transaction.atomic():
                    return StubMetaObject.objects.create(
                        seed=self.seed,
                        kind=kind,
                        meta_id=_numeric_id(self.seed, prefix, kind, name, ordinal),
                        name=name,
                        parent_meta_id=parent,
                        status=str(status),
                        payload=dict(payload),
                        history=history or [],
                        created_at=self._now(),
                    )
            except IntegrityError:
                ordinal += 1

    def _find_by_name(self, operation: str, kind: str, name: str) -> str | None:
        """A lookup by name, reported to the observer like any call to Meta."""
        return self._call(
            operation, name, lambda: self._find(kind, name), details={"name": name}
        )

    def _find(self, kind: str, name: str) -> str | None:
        return (
            StubMetaObject.objects.filter(seed=self.seed, kind=kind, name=name)
            .values_list("meta_id", flat=True)
            .first()
        )

    def _get(
        self, kind: str, meta_id: str, *, for_update: bool = False
    ) -> StubMetaObject:
        queryset = StubMetaObject.objects.filter(
            seed=self.seed, kind=kind, meta_id=meta_id
        )
        if for_update:
            queryset = queryset.select_for_update()
        obj = queryset.first()
        if obj is None:
            raise _invalid(
                f"Unsupported get request. Object with ID '{meta_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support "
                "this operation.",
                subcode=33,
            )
        return obj

    def _ensure_adset(self, adset_id: str) -> StubMetaObject:
        """The stub account has every ad set it is told about, with a default budget."""
        if not adset_id:
            raise _invalid("Invalid parameter: adset_id is required")
        now = self._now()
        adset, _ = StubMetaObject.objects.get_or_create(
            seed=self.seed,
            kind=StubObjectKind.ADSET,
            meta_id=adset_id,
            defaults={
                "name": f"Stub ad set {adset_id}",
                "status": "ACTIVE",
                "payload": {
                    "campaign_id": _numeric_id(self.seed, "1202", "campaign", adset_id),
                    "daily_budget_minor": self._default_budget_minor,
                },
                "history": [
                    {
                        "at": now.isoformat(),
                        "daily_budget_minor": self._default_budget_minor,
                    }
                ],
                "created_at": now,
            },
        )
        return adset


def load_stub_market(
    *, seed: int, ad_ids: Sequence[str] | None = None
) -> MarketSimulator:
    """The stub account's market as the simulator sees it (ads, statuses, budgets).

    With `ad_ids`, only those ads and their ad-set siblings (which share the budget)
    are loaded. Benchmarks use this for the truth; the engine never does.
    """
    ads = StubMetaObject.objects.filter(seed=seed, kind=StubObjectKind.AD)
    if ad_ids is not None:
        adset_ids = set(
            ads.filter(meta_id__in=ad_ids).values_list("parent_meta_id", flat=True)
        )
        ads = ads.filter(parent_meta_id__in=adset_ids)
    ads_list = list(ads)
    adsets = StubMetaObject.objects.filter(
        seed=seed,
        kind=StubObjectKind.ADSET,
        meta_id__in={a.parent_meta_id for a in ads_list},
    )
    return MarketSimulator(
        seed=seed,
        ads=[_market_ad(a) for a in ads_list],
        adsets=[
            MarketAdSet(
                adset_id=s.meta_id,
                budget_history=tuple(
                    BudgetChange(
                        at=dt.datetime.fromisoformat(c["at"]),
                        daily_budget=c["daily_budget_minor"] / 100,
                    )
                    for c in s.history
                    if "daily_budget_minor" in c
                ),
            )
            for s in adsets
        ],
    )


def _market_ad(obj: StubMetaObject) -> MarketAd:
    features = obj.payload.get("features") or {}
    return MarketAd(
        ad_id=obj.meta_id,
        adset_id=obj.parent_meta_id,
        features=AdFeatures(
            master_id=str(features.get("master_id", "")),
            hook_fragment_id=str(features.get("hook_fragment_id", "")),
            fragment_ids=tuple(features.get("fragment_ids", ())),
            structure=str(features.get("structure", "")),
            duration_category=str(features.get("duration_category", "")),
            caption=str(features.get("caption", "")),
            look=str(features.get("look", "")),
        ),
        created_at=obj.created_at,
        status_history=tuple(
            StatusChange(at=dt.datetime.fromisoformat(c["at"]), status=c["status"])
            for c in obj.history
            if "status" in c
        ),
    )


def _features_for(name: str, path: str) -> dict[str, Any]:
    """What a viewer sees in the video: read from the variant it was rendered from."""
    key = name.rsplit("-", 1)[0]
    variant = (
        CreativeVariant.objects.filter(meta_object_key=key).first() if key else None
    )
    if variant is None:
        # A video the engine did not render (hand-made tests): its name stands in.
        return {
            "master_id": "unknown",
            "hook_fragment_id": name,
            "fragment_ids": [name],
            "structure": "hook_body_cta",
            "duration_category": "medium",
            "caption": os.path.basename(path),
            "look": "",
        }
    order = variant.fragments_order or []
    hashtags = " ".join(str(h) for h in variant.hashtags or [])
    return {
        "master_id": str(variant.parent_id),
        "hook_fragment_id": hook_fragment_id(order),
        "fragment_ids": fragment_ids_in_order(order),
        "structure": variant.narrative_structure,
        "duration_category": variant.duration_category,
        "caption": f"{variant.caption} {hashtags}".strip(),
        "look": variant.color_look,
    }


def _insight_row(row: Any) -> InsightRow:
    return InsightRow(
        ad_id=row.ad_id,
        date=row.date,
        impressions=row.impressions,
        reach=row.reach,
        frequency=row.frequency,
        clicks=row.clicks,
        spend=Decimal(str(row.spend)),
        conversions=row.conversions,
        revenue=Decimal(str(row.revenue)),
        video_plays=row.video_plays,
        video_p25=row.video_p25,
        video_p50=row.video_p50,
        video_p75=row.video_p75,
        video_p100=row.video_p100,
        video_avg_watch_seconds=row.video_avg_watch_seconds,
    )


def _invalid(
    message: str, *, subcode: int | None = None, **extra: Any
) -> MetaInvalidParameterError:
    return MetaInvalidParameterError(
        message,
        code=100,
        subcode=subcode,
        http_status=400,
        error_type="OAuthException",
        **extra,
    )


def _failure_error(kind: str, operation: str) -> MetaApiError:
    """The error real Meta gives for this kind of failure of this call."""
    if kind == "throttled":
        return MetaRateLimitError(
            "(#17) User request limit reached",
            code=17,
            subcode=2446079,
            is_transient=True,
            http_status=400,
            error_type="OAuthException",
            headers={
                "x-business-use-case-usage": json.dumps(
                    {
                        "act_stub": [
                            {
                                "type": "ads_management",
                                "call_count": 100,
                                "estimated_time_to_regain_access": 1,
                            }
                        ]
                    }
                )
            },
        )
    if kind == "oops" and operation == "create_creative":
        return _invalid(
            "Invalid parameter",
            subcode=1487390,
            user_title="Adcreative Create Failed",
            user_message="Oops, something went wrong. Please try again later",
        )
    if kind == "permanent":
        if operation == "upload_video":
            return MetaVideoUploadError(
                "There was a problem uploading your video file. Please try again "
                "with another file.",
                code=6000,
                subcode=1363045,
                http_status=400,
                error_type="OAuthException",
                user_title="Error Uploading Video",
            )
        if operation == "create_ad":
            return _invalid(
                "Invalid parameter",
                subcode=2490427,
                user_title="Ad Rejected",
                user_message="The ad was rejected by ad review.",
            )
        return _invalid("Invalid parameter: the request was rejected", subcode=2446383)
    if kind in ("transient", "oops"):
        return MetaTransientError(
            "An unexpected error has occurred. Please retry your request later.",
            code=2,
            is_transient=True,
            http_status=503,
            error_type="OAuthException",
        )
    raise ValueError(f"Unknown stub failure kind {kind!r}.")


def _hash_int(seed: int, *parts: object) -> int:
    text = "|".join([str(seed), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _numeric_id(seed: int, prefix: str, *parts: object) -> str:
    digits = 18 - len(prefix) if prefix == "1202" else 16 - len(prefix)
    return f"{prefix}{_hash_int(seed, *parts) % 10**digits:0{digits}d}"


def _unit(seed: int, *parts: object) -> float:
    return _hash_int(seed, *parts) / 2**64
