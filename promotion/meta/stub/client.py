"""`StubMetaClient`: the Meta Ads client of stub mode. No network, same contract.

Each call runs as Meta's would: its failure is drawn (`failures`), it acts on the
account (`account`), and the attempt is reported to the observer as a `MetaCall`,
exactly as the Graph client does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F

from promotion.choices import StubObjectKind
from promotion.meta.create_once import create_once, raise_at_once
from promotion.meta.enhancements import opt_out_spec
from promotion.meta.errors import MetaError, MetaRateLimitError
from promotion.meta.protocol import (
    AdSetInfo,
    AdSpec,
    AdStatus,
    CreativeResult,
    CreativeSpec,
    InsightRow,
    MediaInput,
    MetaCall,
    MetaCallObserver,
    VideoState,
    VideoStatus,
    media_source,
)
from promotion.meta.stub.account import StubAccount
from promotion.meta.stub.account_market import load_stub_market, video_features
from promotion.meta.stub.failures import (
    UPLOAD_OPERATIONS,
    FailurePlan,
    failure_error,
    invalid_parameter,
    lost_answer_error,
)
from promotion.models import StubMetaAttempt, StubMetaObject

T = TypeVar("T")

_BUDGET_CHANGES_PER_HOUR = 4
_MIN_DAILY_BUDGET_MINOR = 100


class StubMetaClient(StubAccount):
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
        self._failures = FailurePlan(
            seed=seed, failure_rate=failure_rate, scripted=inject_failures
        )
        super().__init__(
            seed=seed,
            clock=clock,
            default_daily_budget_minor=default_daily_budget_minor,
        )
        self.failure_rate = failure_rate
        self._observer = observer
        # Simulated network time per call (worker tests need a window to kill in).
        self._latency = max(latency_seconds, 0.0)

    # --- videos and images ----------------------------------------------------------

    def upload_video(self, *, path: MediaInput, name: str, resume: bool = False) -> str:
        source = media_source(path)

        def act() -> str:
            size = source.size
            features = video_features(name, source.filename)
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

    def upload_image(self, *, path: MediaInput, name: str) -> str:
        source = media_source(path)

        def act() -> str:
            with source.open() as handle:
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
                raise invalid_parameter(
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
                raise invalid_parameter(
                    "Invalid parameter: status must be ACTIVE or PAUSED"
                )
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
                    raise invalid_parameter(
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
                raise invalid_parameter(
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
            return market.daily_rows(
                ad_ids, since=since, until=until, as_of=self._now()
            )

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
            failure = self._failures.kind_for(operation, name, attempt)
            if failure not in ("ok", "ambiguous"):
                raise failure_error(failure, operation)
            result = action()
            if failure == "ambiguous":
                raise lost_answer_error(operation)
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

    def _find_by_name(self, operation: str, kind: str, name: str) -> str | None:
        """A lookup by name, reported to the observer like any call to Meta."""
        return self._call(
            operation, name, lambda: self._find(kind, name), details={"name": name}
        )
