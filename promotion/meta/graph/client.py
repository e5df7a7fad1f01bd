"""`GraphMetaClient`: the engine's `MetaAdsClient` against the real Graph API.

The resources (videos, images, creatives, ads, ad sets, insights) on top of
`ChunkedVideoUpload` and `GraphTransport`; row parsing lives in `insights`.

A thin httpx client for the ~12 endpoints the engine uses, written from the wire
facts in meta-graph-api.md rather than on the facebook-business SDK, because:
- every host must derive from `META_GRAPH_URL`; the SDK hard-codes
  `https://graph-video.facebook.com` for chunked uploads;
- every call must have a timeout; the SDK's default is none;
- the SDK installs a crash reporter that posts tracebacks to Meta unless told not
  to, and its licence (Facebook Platform licence, not OSI) is a grant "in
  connection with" Meta's APIs that a legal review should see before it ships in
  our runtime; it stays a dev dependency, used to prove the fake speaks Meta;
- its generated code (~1,000 modules) gives no retry, dedupe or observer hooks,
  which are the hard part here.

Guarantees:
- Every HTTP attempt is recorded before it is sent (`attempt_recorder`, the
  write-ahead log) and reported to the observer as a `MetaCall` once answered.
- Errors are parsed from Meta's JSON envelope into typed exceptions
  (`promotion.meta.errors`); retries follow `RetryPolicy`; waits longer than a
  task may hold raise `MetaRetryLater`.
- Creates never duplicate (`create_once`): the name carries the caller's
  deterministic key; when the caller resumes, and after any failure that might
  have done the work (timeout, reset, 5xx, a transient code), the object is looked
  up by name before it is created again.
- Every creative opts out of each Advantage+ creative feature, and what Meta
  reports back is returned.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from promotion.meta import protocol
from promotion.meta.create_once import raise_at_once
from promotion.meta.enhancements import ADVANTAGE_CREATIVE_FEATURES, opt_out_spec
from promotion.meta.errors import MetaApiError, MetaError
from promotion.meta.graph.insights import (
    DEFAULT_PURCHASE_ACTION_TYPES,
    INSIGHT_FIELDS,
    INSIGHTS_ADS_PER_REQUEST,
    parse_insight_row,
)
from promotion.meta.graph.transport import API_VERSION_RE, id_of
from promotion.meta.graph.video_upload import (
    DEFAULT_CHUNK_THRESHOLD,
    ChunkedVideoUpload,
)
from promotion.meta.retry import DEFAULT_RETRY_POLICY, RandomSource, RetryPolicy

logger = logging.getLogger(__name__)


class GraphMetaClient(ChunkedVideoUpload):
    """The live Meta client (httpx). See the module docstring for guarantees."""

    mode = "live"

    def __init__(
        self,
        *,
        base_url: str,
        api_version: str,
        access_token: str,
        ad_account_id: str,
        page_id: str,
        instagram_user_id: str = "",
        app_secret: str = "",
        timeout: float = 60.0,
        observer: protocol.MetaCallObserver | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        chunk_threshold_bytes: int = DEFAULT_CHUNK_THRESHOLD,
        transport: httpx.BaseTransport | None = None,
        rng: RandomSource | None = None,
        clock: Callable[[], float] = time.monotonic,
        poll_interval: float = 5.0,
        page_size: int = 100,
        creative_features: Sequence[str] = ADVANTAGE_CREATIVE_FEATURES,
        purchase_action_types: Sequence[str] = DEFAULT_PURCHASE_ACTION_TYPES,
        attempt_recorder: protocol.MetaAttemptRecorder | None = None,
    ) -> None:
        if not access_token:
            raise ValueError(
                "GraphMetaClient needs an access token (META_ACCESS_TOKEN)"
            )
        if not ad_account_id.startswith("act_"):
            raise ValueError("The ad account id must look like act_<digits>")
        if not API_VERSION_RE.match(api_version):
            raise ValueError(f"API version must look like v25.0, not {api_version!r}")
        if timeout <= 0:
            raise ValueError("Every Meta call needs a positive timeout")
        super().__init__(
            base_url=base_url,
            api_version=api_version,
            access_token=access_token,
            app_secret=app_secret,
            timeout=timeout,
            observer=observer,
            retry_policy=retry_policy,
            sleep=sleep,
            transport=transport,
            rng=rng,
            page_size=page_size,
            attempt_recorder=attempt_recorder,
        )
        self.ad_account_id = ad_account_id
        self.page_id = page_id
        self.instagram_user_id = instagram_user_id
        self.chunk_threshold_bytes = chunk_threshold_bytes
        self.poll_interval = poll_interval
        self.creative_features = tuple(creative_features)
        self.purchase_action_types = tuple(purchase_action_types)
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        observer: protocol.MetaCallObserver | None = None,
        attempt_recorder: protocol.MetaAttemptRecorder | None = None,
    ) -> GraphMetaClient:
        """Build from the META_* settings (the only Django import here)."""
        from django.conf import settings

        return cls(
            base_url=settings.META_GRAPH_URL,
            api_version=settings.META_API_VERSION,
            access_token=settings.META_ACCESS_TOKEN,
            ad_account_id=settings.META_AD_ACCOUNT_ID,
            page_id=settings.META_PAGE_ID,
            instagram_user_id=settings.META_INSTAGRAM_USER_ID,
            app_secret=settings.META_APP_SECRET,
            timeout=settings.META_TIMEOUT_SECONDS,
            observer=observer,
            attempt_recorder=attempt_recorder,
        )

    def __enter__(self) -> GraphMetaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ videos
    def upload_video(
        self, *, path: protocol.MediaInput, name: str, resume: bool = False
    ) -> str:
        """Upload an MP4 named `name` (the variant's dedupe key); video id.

        Small files go in one multipart POST; larger ones use the chunked
        start/transfer/finish protocol and resume where Meta says (retrying inside
        each phase, so a failed chunked upload is only looked up, not repeated).
        """
        source = protocol.media_source(path)
        size = source.size
        if size > self.chunk_threshold_bytes:
            return self._create_once(
                "upload_video",
                name=name,
                resume=resume,
                create=lambda attempt: self._upload_chunked(
                    account_path=f"{self.ad_account_id}/advideos",
                    source=source,
                    name=name,
                    size=size,
                ),
                find=lambda: self.find_video_by_name(name=name),
                wait_or_raise=raise_at_once,
            )

        def create(attempt: int) -> str:
            body = self._post_file(
                "upload_video",
                "advideos",
                attempt=attempt,
                field="source",
                file=(source, source.filename, "video/mp4"),
                params={"name": name, "title": name},
                details={"name": name, "bytes": size},
            )
            return id_of(body)

        return self._create_once(
            "upload_video",
            name=name,
            resume=resume,
            create=create,
            find=lambda: self.find_video_by_name(name=name),
        )

    def find_video_by_name(self, *, name: str) -> str | None:
        """The newest library video titled `name` (advideos reads `title`)."""
        return self._find_listed(
            "find_video_by_name", f"{self.ad_account_id}/advideos", title=name
        )

    def wait_video_ready(
        self, *, video_id: str, timeout_seconds: float
    ) -> protocol.VideoStatus:
        """Poll `fields=status` until ready, error or the deadline (then PROCESSING)."""
        deadline = self._clock() + timeout_seconds
        while True:
            body = self._read_fields("wait_video_ready", video_id, "status")
            status = body.get("status") or {}
            state = str(status.get("video_status", ""))
            if state == protocol.VideoState.READY:
                return protocol.VideoStatus(
                    video_id=video_id, state=protocol.VideoState.READY
                )
            if state in ("error", "expired"):
                return protocol.VideoStatus(
                    video_id=video_id,
                    state=protocol.VideoState.ERROR,
                    detail=_phase_errors(status) or f"video_status={state}",
                )
            remaining = deadline - self._clock()
            if remaining <= 0:
                return protocol.VideoStatus(
                    video_id=video_id,
                    state=protocol.VideoState.PROCESSING,
                    detail=f"still {state or 'processing'} after {timeout_seconds:g}s",
                )
            self._sleep(min(self.poll_interval, remaining))

    # ------------------------------------------------------------------ images
    def upload_image(self, *, path: protocol.MediaInput, name: str) -> str:
        """Upload the poster; its hash. Image hashes are content addresses, so a
        repeated upload yields the same hash and needs no dedupe lookup."""

        source = protocol.media_source(path)

        def attempt_upload(attempt: int) -> str:
            body = self._post_file(
                "upload_image",
                "adimages",
                attempt=attempt,
                field="filename",
                file=(source, name, "image/jpeg"),
                details={"name": name},
            )
            images = body.get("images") or {}
            entry = images.get(name) or next(iter(images.values()), None)
            if not isinstance(entry, Mapping) or not entry.get("hash"):
                raise MetaApiError(
                    "adimages answered without an image hash", http_status=200
                )
            return str(entry["hash"])

        return self._retrying("upload_image", attempt_upload)

    def _post_file(
        self,
        operation: str,
        edge: str,
        *,
        attempt: int,
        field: str,
        file: tuple[protocol.MediaSource, str, str],
        details: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST one file (`file`: source, filename, content type) as multipart
        `field` to an edge of the ad account, streamed from wherever it lies."""
        source, filename, content_type = file
        with source.open() as fh:
            return self._send(
                operation,
                "POST",
                f"{self.ad_account_id}/{edge}",
                attempt=attempt,
                params=params,
                files={field: (filename, fh, content_type)},
                details=details,
            )

    # --------------------------------------------------------------- creatives
    def create_creative(
        self, *, spec: protocol.CreativeSpec, resume: bool = False
    ) -> protocol.CreativeResult:
        """Create the video creative, opted out of every Advantage+ feature, then
        read back what Meta reports for those features."""
        video_data: dict[str, Any] = {
            "video_id": spec.video_id,
            "message": spec.message,
            "title": spec.title,
            "call_to_action": {
                "type": spec.call_to_action_type,
                "value": {"link": spec.link},
            },
        }
        if spec.image_hash:
            video_data["image_hash"] = spec.image_hash
        else:
            video_data["image_url"] = self._preferred_thumbnail(spec.video_id)
        story: dict[str, Any] = {
            "page_id": spec.page_id or self.page_id,
            "video_data": video_data,
        }
        instagram_user_id = spec.instagram_user_id or self.instagram_user_id
        if instagram_user_id:
            story["instagram_user_id"] = instagram_user_id
        params = {
            "name": spec.name,
            "object_story_spec": story,
            "degrees_of_freedom_spec": opt_out_spec(self.creative_features),
        }

        creative_id = self._create_once_in_account(
            "create_creative",
            "adcreatives",
            name=spec.name,
            resume=resume,
            params=params,
            details={"name": spec.name, "video_id": spec.video_id},
            find=lambda: self.find_creative_by_name(name=spec.name),
        )
        try:
            enhancements = self.get_creative_enhancements(creative_id=creative_id)
        except MetaError:
            # The creative exists; losing its id would be worse than an unknown
            # read-back, which the caller can repeat with get_creative_enhancements.
            logger.warning("Could not read back creative %s features", creative_id)
            enhancements = {}
        return protocol.CreativeResult(
            creative_id=creative_id, enhancements=enhancements
        )

    def get_creative_enhancements(self, *, creative_id: str) -> dict[str, str]:
        """feature -> enroll_status as Meta reports it for this creative."""
        body = self._read_fields(
            "read_creative", creative_id, "id,name,degrees_of_freedom_spec"
        )
        dof = body.get("degrees_of_freedom_spec") or {}
        features = dof.get("creative_features_spec") or {}
        return {
            str(name): str((detail or {}).get("enroll_status", ""))
            for name, detail in features.items()
        }

    def find_creative_by_name(self, *, name: str) -> str | None:
        return self._find_listed(
            "find_creative_by_name", f"{self.ad_account_id}/adcreatives", name=name
        )

    def _create_once_in_account(
        self,
        operation: str,
        edge: str,
        *,
        name: str,
        resume: bool,
        params: Mapping[str, Any],
        details: Mapping[str, Any],
        find: Callable[[], str | None],
    ) -> str:
        """Create-once (`_create_once`) an object POSTed to an edge of the ad
        account; its id."""

        def create(attempt: int) -> str:
            body = self._send(
                operation,
                "POST",
                f"{self.ad_account_id}/{edge}",
                attempt=attempt,
                params=params,
                details=details,
            )
            return id_of(body)

        return self._create_once(
            operation, name=name, resume=resume, create=create, find=find
        )

    def _find_listed(
        self,
        operation: str,
        path: str,
        *,
        filtering: list[dict[str, str]] | None = None,
        **match: str,
    ) -> str | None:
        """The id of the first object of the edge whose one named field (`name=`,
        `title=`) is exactly the value given (Graph's own filters only narrow: names
        may contain one another)."""
        ((field, value),) = match.items()
        params: dict[str, Any] = {"fields": f"id,{field}"}
        if filtering is not None:
            params["filtering"] = filtering
        for obj in self._paged(operation, path, params):
            if obj.get(field) == value:
                return str(obj["id"])
        return None

    def _preferred_thumbnail(self, video_id: str) -> str:
        """A poster URL for a creative given no image hash: Meta requires one."""
        thumbs = list(self._paged("read_thumbnails", f"{video_id}/thumbnails", {}))
        preferred = [t for t in thumbs if t.get("is_preferred")] or thumbs
        if not preferred:
            raise MetaApiError(f"Video {video_id} has no thumbnail to use as poster")
        return str(preferred[0]["uri"])

    # --------------------------------------------------------------------- ads
    def create_ad(self, *, spec: protocol.AdSpec, resume: bool = False) -> str:
        """Create the ad with an explicit status (Meta's default would be ACTIVE)."""
        if spec.status not in (protocol.AdStatus.PAUSED, protocol.AdStatus.ACTIVE):
            raise ValueError("An ad is created PAUSED or ACTIVE")
        params: dict[str, Any] = {
            "name": spec.name,
            "adset_id": spec.adset_id,
            "creative": {"creative_id": spec.creative_id},
            "status": spec.status.value,
        }
        if spec.pixel_id:
            params["tracking_specs"] = [
                {"action.type": ["offsite_conversion"], "fb_pixel": [spec.pixel_id]}
            ]

        return self._create_once_in_account(
            "create_ad",
            "ads",
            name=spec.name,
            resume=resume,
            params=params,
            details={"name": spec.name, "adset_id": spec.adset_id},
            find=lambda: self.find_ad_by_name(adset_id=spec.adset_id, name=spec.name),
        )

    def find_ad_by_name(self, *, adset_id: str, name: str) -> str | None:
        """The ad set's ad named exactly `name` (archived/deleted ads excluded, as
        Graph does by default). The CONTAIN filter narrows; the match is exact."""
        filtering = [{"field": "name", "operator": "CONTAIN", "value": name}]
        return self._find_listed(
            "find_ad_by_name", f"{adset_id}/ads", name=name, filtering=filtering
        )

    def set_ad_status(self, *, ad_id: str, status: protocol.AdStatus) -> None:
        self._update(
            "set_ad_status",
            ad_id,
            {"status": protocol.AdStatus(status).value},
            verify=lambda: (
                self._read_fields("set_ad_status", ad_id, "configured_status").get(
                    "configured_status"
                )
                == protocol.AdStatus(status).value
            ),
        )

    # ----------------------------------------------------------------- ad sets
    def get_adset(self, *, adset_id: str) -> protocol.AdSetInfo:
        body = self._read_fields(
            "get_adset", adset_id, "id,campaign_id,daily_budget,status"
        )
        budget = body.get("daily_budget")
        return protocol.AdSetInfo(
            adset_id=str(body.get("id", adset_id)),
            campaign_id=str(body.get("campaign_id", "")),
            daily_budget_minor=int(budget) if budget not in (None, "", "0") else None,
            status=str(body.get("status", "")),
        )

    def set_adset_budget(self, *, adset_id: str, daily_budget_minor: int) -> None:
        """Set the daily budget (minor units). After an unanswered attempt the
        budget is read first: a repeat would spend one of the four hourly changes."""
        self._update(
            "set_adset_budget",
            adset_id,
            {"daily_budget": int(daily_budget_minor)},
            verify=lambda: (
                self.get_adset(adset_id=adset_id).daily_budget_minor
                == int(daily_budget_minor)
            ),
        )

    # --------------------------------------------------------------- preflight
    def get_token_owner(self) -> dict[str, Any]:
        """Who the access token speaks for (`/me`); an invalid token raises 190."""
        return self._read("check_token", "me", {"fields": "id,name"})

    def get_ad_account(self) -> dict[str, Any]:
        """The ad account's status, currency, spend cap and amount spent."""
        return self._read(
            "check_ad_account",
            self.ad_account_id,
            {
                "fields": "id,name,account_status,disable_reason,currency,"
                "spend_cap,amount_spent"
            },
            object_id=self.ad_account_id,
        )

    def get_page(self, *, page_id: str) -> dict[str, Any]:
        return self._read_fields("check_page", page_id, "id,name")

    def get_adset_for_preflight(self, *, adset_id: str) -> dict[str, Any]:
        return self._read_fields(
            "check_adset",
            adset_id,
            "id,name,status,effective_status,campaign_id,account_id",
        )

    # ---------------------------------------------------------------- insights
    def get_daily_insights(
        self, *, ad_ids: Sequence[str], since: dt.date, until: dt.date
    ) -> Iterator[protocol.InsightRow]:
        """Daily rows per ad, every page (re-requesting with `after`, as the SDK)."""
        ids = [str(a) for a in ad_ids]
        for start in range(0, len(ids), INSIGHTS_ADS_PER_REQUEST):
            batch = ids[start : start + INSIGHTS_ADS_PER_REQUEST]
            params = {
                "level": "ad",
                "fields": ",".join(INSIGHT_FIELDS),
                "time_range": {"since": since.isoformat(), "until": until.isoformat()},
                "time_increment": 1,
                "filtering": [{"field": "ad.id", "operator": "IN", "value": batch}],
            }
            for row in self._paged(
                "get_daily_insights", f"{self.ad_account_id}/insights", params
            ):
                yield parse_insight_row(
                    row, purchase_action_types=self.purchase_action_types
                )


def _phase_errors(status: Mapping[str, Any]) -> str:
    messages = []
    for phase in ("uploading_phase", "processing_phase", "publishing_phase"):
        for error in (status.get(phase) or {}).get("errors") or []:
            messages.append(f"{phase}: {error.get('code')} {error.get('message')}")
    return "; ".join(messages)
