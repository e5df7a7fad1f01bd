"""The one interface the engine uses to talk to Meta (10.2 MetaAdsClient).

Two implementations: `StubMetaClient` (no network, simulated market) and `GraphMetaClient`
(the real Graph API over HTTPS). The upload pipeline, insights and promotion services see
only this protocol.

Every call attempt is reported to the `observer` the client was built with, so the services
can write one PromotionLog row per call to Meta, success or failure.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any, Protocol, runtime_checkable

from productions.storage import StoredMedia
from promotion.meta.errors import MetaError
from promotion.meta.redaction import redact_secrets


class AdStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ARCHIVED = "ARCHIVED"
    DELETED = "DELETED"


class VideoState(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    ERROR = "error"


class MediaSource(Protocol):
    """A video or poster to upload, wherever it lies: its name, size, a stream, and
    byte windows (a chunked upload reads one window at a time). Stored media
    (`productions.storage.StoredMedia`) stream from the storage, a file on this disk
    through a storage of its folder."""

    @property
    def filename(self) -> str: ...

    @property
    def size(self) -> int: ...

    def open(self) -> AbstractContextManager[IO[bytes]]: ...

    def read_range(self, start: int, length: int) -> bytes: ...


MediaInput = str | os.PathLike[str] | MediaSource


def media_source(value: MediaInput) -> MediaSource:
    """`value` as a MediaSource (a path on this disk becomes `StoredMedia.local`)."""
    if isinstance(value, str | os.PathLike):
        return StoredMedia.local(value)
    return value


@dataclass(frozen=True)
class MetaCall:
    """One attempt of one call to Meta, as reported to the observer."""

    operation: str  # upload_video, create_creative, create_ad, set_ad_status, ...
    attempt: int
    success: bool
    object_id: str = ""
    error_code: int | None = None
    error_subcode: int | None = None
    error_message: str = ""
    http_status: int | None = None
    duration_ms: float = 0.0
    details: Mapping[str, Any] = field(default_factory=dict)
    # The write-ahead record of this attempt (`MetaAttemptRecorder`), if one was made.
    attempt_id: str = ""

    @classmethod
    def failed(
        cls,
        operation: str,
        attempt: int,
        error: MetaError,
        *,
        started: float,
        object_id: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> MetaCall:
        """The failed attempt that began at `started` (time.perf_counter)."""
        return cls(
            operation=operation,
            attempt=attempt,
            success=False,
            object_id=object_id,
            error_code=error.code,
            error_subcode=error.subcode,
            error_message=redact_secrets(str(error)),
            http_status=getattr(error, "http_status", None),
            duration_ms=(time.perf_counter() - started) * 1000,
            details=dict(details or {}),
        )


MetaCallObserver = Callable[[MetaCall], None]


@dataclass(frozen=True)
class MetaAttempt:
    """A request about to be sent to Meta (write-ahead: recorded before it leaves)."""

    operation: str
    attempt: int
    object_id: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


# Records an attempt before it is sent and returns its id; the completed `MetaCall`
# carries that id. If it raises, the request is not sent: an unrecorded call to Meta
# is worse than one not made.
MetaAttemptRecorder = Callable[[MetaAttempt], str]


@dataclass(frozen=True)
class VideoStatus:
    video_id: str
    state: VideoState
    detail: str = ""


@dataclass(frozen=True)
class CreativeSpec:
    """A single-video ad creative. `name` carries the variant's dedupe key."""

    name: str
    page_id: str
    video_id: str
    message: str  # the caption (with hashtags)
    title: str
    call_to_action_type: str  # e.g. LEARN_MORE
    link: str
    image_hash: str = ""  # the poster
    instagram_user_id: str = ""


@dataclass(frozen=True)
class CreativeResult:
    creative_id: str
    # What Meta reports back for degrees_of_freedom_spec.creative_features_spec:
    # feature name → enroll_status ("OPT_OUT" expected for every one).
    enhancements: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AdSpec:
    """An ad in an ad set, always created PAUSED. `name` carries the dedupe key."""

    name: str
    adset_id: str
    creative_id: str
    pixel_id: str = ""  # must be one of the master's authorized pixels (guard checked)
    status: AdStatus = AdStatus.PAUSED


@dataclass(frozen=True)
class AdSetInfo:
    adset_id: str
    campaign_id: str
    daily_budget_minor: int | None  # minor currency units (cents); None if CBO
    status: str


@dataclass(frozen=True)
class InsightRow:
    """One ad, one day. Money in account currency major units."""

    ad_id: str
    date: dt.date
    impressions: int
    reach: int
    frequency: float
    clicks: int
    spend: Decimal
    conversions: int
    revenue: Decimal
    video_plays: int = 0
    video_p25: int = 0
    video_p50: int = 0
    video_p75: int = 0
    video_p100: int = 0
    video_avg_watch_seconds: float = 0.0
    # Retention: 3-second video views (the `video_view` action) and ThruPlays.
    video_3s_views: int = 0
    thruplays: int = 0


@runtime_checkable
class MetaAdsClient(Protocol):
    mode: str  # "stub" or "live"

    def upload_video(self, *, path: MediaInput, name: str, resume: bool = False) -> str:
        """Upload an MP4 (simple below the chunk threshold, resumable above); video id.

        `path` is a local path or a MediaSource (stored media stream from storage).

        Create-once, as `create_creative` and `create_ad`: `name` carries the
        caller's dedupe key; with `resume` (an earlier attempt may have created
        it), and after any failure that may have done the work, the client looks
        the object up by name before it creates, and returns what it found.
        """
        ...

    def find_video_by_name(self, *, name: str) -> str | None: ...

    def wait_video_ready(
        self, *, video_id: str, timeout_seconds: float
    ) -> VideoStatus: ...

    def upload_image(self, *, path: MediaInput, name: str) -> str:
        """Upload the poster JPEG (a local path or a MediaSource); its image hash."""
        ...

    def create_creative(
        self, *, spec: CreativeSpec, resume: bool = False
    ) -> CreativeResult:
        """Create a video creative that opts out of every Advantage+ enhancement."""
        ...

    def find_creative_by_name(self, *, name: str) -> str | None: ...

    def create_ad(self, *, spec: AdSpec, resume: bool = False) -> str: ...

    def find_ad_by_name(self, *, adset_id: str, name: str) -> str | None: ...

    def set_ad_status(self, *, ad_id: str, status: AdStatus) -> None: ...

    def get_adset(self, *, adset_id: str) -> AdSetInfo: ...

    def set_adset_budget(self, *, adset_id: str, daily_budget_minor: int) -> None: ...

    def get_daily_insights(
        self, *, ad_ids: Sequence[str], since: dt.date, until: dt.date
    ) -> Iterator[InsightRow]:
        """Daily rows (time_increment=1) for these ads, following every page."""
        ...
