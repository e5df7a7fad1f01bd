"""`GraphMetaClient`: the engine's `MetaAdsClient` against the real Graph API.

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
- Every HTTP attempt is reported to the observer as a `MetaCall`.
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
import hashlib
import hmac
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import httpx

from promotion.meta.create_once import create_once, raise_at_once
from promotion.meta.enhancements import ADVANTAGE_CREATIVE_FEATURES, opt_out_spec
from promotion.meta.errors import (
    CONNECT_ERROR_TYPE,
    MetaAmbiguousError,
    MetaApiError,
    MetaError,
    MetaRetryLater,
    MetaTransientError,
    MetaVideoUploadError,
    error_from_payload,
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
from promotion.meta.retry import (
    DEFAULT_RETRY_POLICY,
    UPLOAD_RESUME_SUBCODE,
    RandomSource,
    RetryPolicy,
    may_have_succeeded,
    usage_percent,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

API_VERSION_RE = re.compile(r"^v\d+\.\d+$")
DEFAULT_CHUNK_THRESHOLD = 25 * 1024 * 1024
USER_AGENT = "creative-engine/0.1 (httpx)"

# Purchases appear under several action types; count one, never their sum
# (§5.3). The first type present in a row is used for count and revenue alike.
DEFAULT_PURCHASE_ACTION_TYPES: tuple[str, ...] = (
    "omni_purchase",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
)
INSIGHT_FIELDS = (
    "ad_id",
    "date_start",
    "date_stop",
    "impressions",
    "reach",
    "frequency",
    "clicks",
    "spend",
    "actions",
    "action_values",
    "video_play_actions",
    "video_p25_watched_actions",
    "video_p50_watched_actions",
    "video_p75_watched_actions",
    "video_p100_watched_actions",
    "video_avg_time_watched_actions",
)
INSIGHTS_ADS_PER_REQUEST = 50


def appsecret_proof(app_secret: str, access_token: str) -> str:
    """HMAC-SHA256 of the token keyed by the app secret (securing-requests)."""
    return hmac.new(
        app_secret.encode(), access_token.encode(), hashlib.sha256
    ).hexdigest()


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Encode like the SDK: dicts, lists and bools as compact sorted JSON,
    everything else as text; None is left out."""
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (dict, list, tuple, bool)):
            encoded[key] = json.dumps(value, sort_keys=True, separators=(",", ":"))
        else:
            encoded[key] = str(value)
    return encoded


def parse_insight_row(
    row: Mapping[str, Any],
    *,
    purchase_action_types: Sequence[str] = DEFAULT_PURCHASE_ACTION_TYPES,
) -> InsightRow:
    """One Graph insights row (numbers as strings, missing metrics omitted)."""
    actions = _actions_by_type(row.get("actions"))
    values = _actions_by_type(row.get("action_values"))
    purchase_type = next((t for t in purchase_action_types if t in actions), None)
    conversions = actions.get(purchase_type, Decimal(0)) if purchase_type else 0
    revenue = values.get(purchase_type, Decimal(0)) if purchase_type else Decimal(0)
    return InsightRow(
        ad_id=str(row["ad_id"]),
        date=dt.date.fromisoformat(str(row["date_start"])),
        impressions=int(_decimal(row.get("impressions"))),
        reach=int(_decimal(row.get("reach"))),
        frequency=float(_decimal(row.get("frequency"))),
        clicks=int(_decimal(row.get("clicks"))),
        spend=_decimal(row.get("spend")),
        conversions=int(conversions),
        revenue=revenue,
        video_plays=int(_video_views(row, "video_play_actions")),
        video_p25=int(_video_views(row, "video_p25_watched_actions")),
        video_p50=int(_video_views(row, "video_p50_watched_actions")),
        video_p75=int(_video_views(row, "video_p75_watched_actions")),
        video_p100=int(_video_views(row, "video_p100_watched_actions")),
        video_avg_watch_seconds=float(
            _video_views(row, "video_avg_time_watched_actions")
        ),
    )


class GraphMetaClient:
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
        observer: MetaCallObserver | None = None,
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
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.ad_account_id = ad_account_id
        self.page_id = page_id
        self.instagram_user_id = instagram_user_id
        self.timeout = timeout
        self.retry_policy = retry_policy
        self.chunk_threshold_bytes = chunk_threshold_bytes
        self.poll_interval = poll_interval
        self.page_size = page_size
        self.creative_features = tuple(creative_features)
        self.purchase_action_types = tuple(purchase_action_types)
        self._access_token = access_token
        self._proof = appsecret_proof(app_secret, access_token) if app_secret else ""
        self._observer = observer
        self._sleep = sleep
        self._rng: RandomSource = rng or random.Random()
        self._clock = clock
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, observer: MetaCallObserver | None = None) -> GraphMetaClient:
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
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphMetaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ videos
    def upload_video(self, *, path: str, name: str, resume: bool = False) -> str:
        """Upload an MP4 named `name` (the variant's dedupe key); video id.

        Small files go in one multipart POST; larger ones use the chunked
        start/transfer/finish protocol and resume where Meta says (retrying inside
        each phase, so a failed chunked upload is only looked up, not repeated).
        """
        size = os.path.getsize(path)
        if size > self.chunk_threshold_bytes:
            return self._create_once(
                "upload_video",
                name=name,
                resume=resume,
                create=lambda attempt: self._upload_chunked(
                    path=path, name=name, size=size
                ),
                find=lambda: self.find_video_by_name(name=name),
                wait_or_raise=raise_at_once,
            )

        def create(attempt: int) -> str:
            with open(path, "rb") as fh:
                body = self._send(
                    "upload_video",
                    "POST",
                    f"{self.ad_account_id}/advideos",
                    attempt=attempt,
                    params={"name": name, "title": name},
                    files={"source": (os.path.basename(path), fh, "video/mp4")},
                    details={"name": name, "bytes": size},
                )
            return _id_of(body)

        return self._create_once(
            "upload_video",
            name=name,
            resume=resume,
            create=create,
            find=lambda: self.find_video_by_name(name=name),
        )

    def find_video_by_name(self, *, name: str) -> str | None:
        """The newest library video titled `name` (advideos reads `title`)."""
        for video in self._paged(
            "find_video_by_name",
            f"{self.ad_account_id}/advideos",
            {"fields": "id,title"},
        ):
            if video.get("title") == name:
                return str(video["id"])
        return None

    def wait_video_ready(self, *, video_id: str, timeout_seconds: float) -> VideoStatus:
        """Poll `fields=status` until ready, error or the deadline (then PROCESSING)."""
        deadline = self._clock() + timeout_seconds
        while True:
            body = self._read(
                "wait_video_ready",
                video_id,
                {"fields": "status"},
                object_id=video_id,
            )
            status = body.get("status") or {}
            state = str(status.get("video_status", ""))
            if state == VideoState.READY:
                return VideoStatus(video_id=video_id, state=VideoState.READY)
            if state in ("error", "expired"):
                return VideoStatus(
                    video_id=video_id,
                    state=VideoState.ERROR,
                    detail=_phase_errors(status) or f"video_status={state}",
                )
            remaining = deadline - self._clock()
            if remaining <= 0:
                return VideoStatus(
                    video_id=video_id,
                    state=VideoState.PROCESSING,
                    detail=f"still {state or 'processing'} after {timeout_seconds:g}s",
                )
            self._sleep(min(self.poll_interval, remaining))

    def _upload_chunked(self, *, path: str, name: str, size: int) -> str:
        account_path = f"{self.ad_account_id}/advideos"
        start = self._retrying(
            "upload_video",
            lambda attempt: self._send(
                "upload_video",
                "POST",
                account_path,
                attempt=attempt,
                params={"upload_phase": "start", "file_size": size},
                details={"phase": "start", "name": name, "bytes": size},
            ),
        )
        session_id = str(start["upload_session_id"])
        video_id = str(start["video_id"])
        offset, end = int(start["start_offset"]), int(start["end_offset"])
        # Meta's own SDK allows one resume per 10 MiB, at least two.
        resumes_left = max(size // (10 * 1024 * 1024), 2)
        attempt = 1
        with open(path, "rb") as fh:
            while offset < end:
                fh.seek(offset)
                chunk = fh.read(end - offset)
                try:
                    body = self._send(
                        "upload_video",
                        "POST",
                        account_path,
                        attempt=attempt,
                        object_id=video_id,
                        params={
                            "upload_phase": "transfer",
                            "upload_session_id": session_id,
                            "start_offset": offset,
                        },
                        files={
                            "video_file_chunk": (
                                os.path.basename(path),
                                chunk,
                                "application/octet-stream",
                            )
                        },
                        details={"phase": "transfer", "start_offset": offset},
                    )
                except MetaError as exc:
                    window = _resume_window(exc)
                    if window is None:
                        # Same window again; if Meta got it after all, it answers
                        # 1363037 naming where to go on.
                        self._wait_or_raise("upload_video", exc, attempt)
                        attempt += 1
                        continue
                    if resumes_left <= 0:
                        raise
                    resumes_left -= 1
                    offset, end = window
                    continue
                offset, end = int(body["start_offset"]), int(body["end_offset"])
                attempt = 1
        self._finish_upload(session_id=session_id, video_id=video_id, name=name)
        return video_id

    def _finish_upload(self, *, session_id: str, video_id: str, name: str) -> None:
        attempt, unsure = 1, False
        while True:
            if unsure and self._upload_complete(video_id):
                self._report(
                    MetaCall(
                        "upload_video",
                        attempt,
                        True,
                        object_id=video_id,
                        details={"phase": "finish", "verified_by_status": True},
                    )
                )
                return
            try:
                self._send(
                    "upload_video",
                    "POST",
                    f"{self.ad_account_id}/advideos",
                    attempt=attempt,
                    object_id=video_id,
                    params={
                        "upload_phase": "finish",
                        "upload_session_id": session_id,
                        "title": name,
                    },
                    details={"phase": "finish", "name": name},
                )
                return
            except MetaError as exc:
                unsure = may_have_succeeded(exc)
                self._wait_or_raise("upload_video", exc, attempt)
            attempt += 1

    def _upload_complete(self, video_id: str) -> bool:
        body = self._read(
            "upload_video", video_id, {"fields": "status"}, object_id=video_id
        )
        phase = (body.get("status") or {}).get("uploading_phase") or {}
        return phase.get("status") == "complete"

    # ------------------------------------------------------------------ images
    def upload_image(self, *, path: str, name: str) -> str:
        """Upload the poster; its hash. Image hashes are content addresses, so a
        repeated upload yields the same hash and needs no dedupe lookup."""

        def attempt_upload(attempt: int) -> str:
            with open(path, "rb") as fh:
                body = self._send(
                    "upload_image",
                    "POST",
                    f"{self.ad_account_id}/adimages",
                    attempt=attempt,
                    files={"filename": (name, fh, "image/jpeg")},
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

    # --------------------------------------------------------------- creatives
    def create_creative(
        self, *, spec: CreativeSpec, resume: bool = False
    ) -> CreativeResult:
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

        def create(attempt: int) -> str:
            body = self._send(
                "create_creative",
                "POST",
                f"{self.ad_account_id}/adcreatives",
                attempt=attempt,
                params=params,
                details={"name": spec.name, "video_id": spec.video_id},
            )
            return _id_of(body)

        creative_id = self._create_once(
            "create_creative",
            name=spec.name,
            resume=resume,
            create=create,
            find=lambda: self.find_creative_by_name(name=spec.name),
        )
        try:
            enhancements = self.get_creative_enhancements(creative_id=creative_id)
        except MetaError:
            # The creative exists; losing its id would be worse than an unknown
            # read-back, which the caller can repeat with get_creative_enhancements.
            logger.warning("Could not read back creative %s features", creative_id)
            enhancements = {}
        return CreativeResult(creative_id=creative_id, enhancements=enhancements)

    def get_creative_enhancements(self, *, creative_id: str) -> dict[str, str]:
        """feature -> enroll_status as Meta reports it for this creative."""
        body = self._read(
            "read_creative",
            creative_id,
            {"fields": "id,name,degrees_of_freedom_spec"},
            object_id=creative_id,
        )
        dof = body.get("degrees_of_freedom_spec") or {}
        features = dof.get("creative_features_spec") or {}
        return {
            str(name): str((detail or {}).get("enroll_status", ""))
            for name, detail in features.items()
        }

    def find_creative_by_name(self, *, name: str) -> str | None:
        for creative in self._paged(
            "find_creative_by_name",
            f"{self.ad_account_id}/adcreatives",
            {"fields": "id,name"},
        ):
            if creative.get("name") == name:
                return str(creative["id"])
        return None

    def _preferred_thumbnail(self, video_id: str) -> str:
        """A poster URL for a creative given no image hash: Meta requires one."""
        thumbs = list(self._paged("read_thumbnails", f"{video_id}/thumbnails", {}))
        preferred = [t for t in thumbs if t.get("is_preferred")] or thumbs
        if not preferred:
            raise MetaApiError(f"Video {video_id} has no thumbnail to use as poster")
        return str(preferred[0]["uri"])

    # --------------------------------------------------------------------- ads
    def create_ad(self, *, spec: AdSpec, resume: bool = False) -> str:
        """Create the ad with an explicit status (Meta's default would be ACTIVE)."""
        if spec.status not in (AdStatus.PAUSED, AdStatus.ACTIVE):
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

        def create(attempt: int) -> str:
            body = self._send(
                "create_ad",
                "POST",
                f"{self.ad_account_id}/ads",
                attempt=attempt,
                params=params,
                details={"name": spec.name, "adset_id": spec.adset_id},
            )
            return _id_of(body)

        return self._create_once(
            "create_ad",
            name=spec.name,
            resume=resume,
            create=create,
            find=lambda: self.find_ad_by_name(adset_id=spec.adset_id, name=spec.name),
        )

    def find_ad_by_name(self, *, adset_id: str, name: str) -> str | None:
        """The ad set's ad named exactly `name` (archived/deleted ads excluded, as
        Graph does by default). The CONTAIN filter narrows; the match is exact."""
        filtering = [{"field": "name", "operator": "CONTAIN", "value": name}]
        for ad in self._paged(
            "find_ad_by_name",
            f"{adset_id}/ads",
            {"fields": "id,name", "filtering": filtering},
        ):
            if ad.get("name") == name:
                return str(ad["id"])
        return None

    def set_ad_status(self, *, ad_id: str, status: AdStatus) -> None:
        self._update(
            "set_ad_status",
            ad_id,
            {"status": AdStatus(status).value},
            verify=lambda: (
                self._read(
                    "set_ad_status",
                    ad_id,
                    {"fields": "configured_status"},
                    object_id=ad_id,
                ).get("configured_status")
                == AdStatus(status).value
            ),
        )

    # ----------------------------------------------------------------- ad sets
    def get_adset(self, *, adset_id: str) -> AdSetInfo:
        body = self._read(
            "get_adset",
            adset_id,
            {"fields": "id,campaign_id,daily_budget,status"},
            object_id=adset_id,
        )
        budget = body.get("daily_budget")
        return AdSetInfo(
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

    # ---------------------------------------------------------------- insights
    def get_daily_insights(
        self, *, ad_ids: Sequence[str], since: dt.date, until: dt.date
    ) -> Iterator[InsightRow]:
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

    # ---------------------------------------------------------------- plumbing
    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.strip('/')}"

    def _auth(self) -> dict[str, str]:
        auth = {"access_token": self._access_token}
        if self._proof:
            auth["appsecret_proof"] = self._proof
        return auth

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        attempt: int,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        object_id: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One HTTP attempt, reported to the observer; the JSON body or a typed
        error. Auth travels in the query for reads and in the body for writes."""
        encoded = encode_params(params or {})
        started = time.perf_counter()
        call_details = {"method": method, "path": path, **(details or {})}
        status: int | None = None
        try:
            if method == "GET":
                response = self._http.get(
                    self._url(path), params={**encoded, **self._auth()}
                )
            else:
                response = self._http.request(
                    method,
                    self._url(path),
                    data={**encoded, **self._auth()},
                    files=files,
                )
            status = response.status_code
            body = _parse_response(response)
        except httpx.TransportError as exc:
            error = _transport_error(exc, self.timeout)
            self._report_failure(
                operation, attempt, error, started, object_id, call_details
            )
            raise error from exc
        except MetaError as exc:
            self._report_failure(
                operation, attempt, exc, started, object_id, call_details
            )
            raise
        pct = usage_percent(response.headers)
        if pct:
            call_details["usage_pct"] = pct
        self._report(
            MetaCall(
                operation=operation,
                attempt=attempt,
                success=True,
                object_id=str(body.get("id") or object_id),
                http_status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                details=call_details,
            )
        )
        return body

    def _report_failure(
        self,
        operation: str,
        attempt: int,
        error: MetaError,
        started: float,
        object_id: str,
        details: dict[str, Any],
    ) -> None:
        self._report(
            MetaCall(
                operation=operation,
                attempt=attempt,
                success=False,
                object_id=object_id,
                error_code=error.code,
                error_subcode=error.subcode,
                error_message=str(error),
                http_status=getattr(error, "http_status", None),
                duration_ms=(time.perf_counter() - started) * 1000,
                details={**details, "error_type": type(error).__name__},
            )
        )

    def _report(self, call: MetaCall) -> None:
        if self._observer is None:
            return
        try:
            self._observer(call)
        except Exception:
            # A failing log write must not turn a done create into a retry.
            logger.exception("Meta call observer failed for %s", call.operation)

    def _wait_or_raise(self, operation: str, error: MetaError, attempt: int) -> None:
        """Sleep before the next attempt, or raise: the error itself when it is
        final, `MetaRetryLater` when the wait is too long to hold a worker."""
        decision = self.retry_policy.decide(error, attempt, rng=self._rng)
        if decision.reschedule:
            raise MetaRetryLater(
                f"{operation}: {decision.reason}; retry in "
                f"{decision.delay_seconds:.0f}s",
                retry_after_seconds=decision.delay_seconds,
                operation=operation,
                cause=error,
            ) from error
        if not decision.retry:
            raise error
        if decision.delay_seconds > 0:
            self._sleep(decision.delay_seconds)

    def _retrying(self, operation: str, attempt_fn: Callable[[int], T]) -> T:
        """Run an idempotent call under the retry policy."""
        attempt = 1
        while True:
            try:
                return attempt_fn(attempt)
            except MetaError as exc:
                self._wait_or_raise(operation, exc, attempt)
            attempt += 1

    def _read(
        self,
        operation: str,
        path: str,
        params: Mapping[str, Any],
        *,
        object_id: str = "",
    ) -> dict[str, Any]:
        return self._retrying(
            operation,
            lambda attempt: self._send(
                operation,
                "GET",
                path,
                attempt=attempt,
                params=params,
                object_id=object_id,
            ),
        )

    def _paged(
        self, operation: str, path: str, params: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Every item of an edge. Like the SDK's Cursor: continue while the page
        has both `cursors.after` and `next`, re-requesting with `after`."""
        query: dict[str, Any] = {"limit": self.page_size, **params}
        while True:
            body = self._read(operation, path, query)
            yield from body.get("data") or []
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not (after and paging.get("next")):
                return
            query = {**query, "after": after}

    def _create_once(
        self,
        operation: str,
        *,
        name: str,
        resume: bool,
        create: Callable[[int], str],
        find: Callable[[], str | None],
        wait_or_raise: Callable[[MetaError, int], None] | None = None,
    ) -> str:
        """Create under the retry policy, never twice (see `create_once`)."""
        return create_once(
            create=create,
            find=find,
            resume=resume,
            wait_or_raise=wait_or_raise
            or (lambda exc, attempt: self._wait_or_raise(operation, exc, attempt)),
            adopt=lambda found, attempt: self._found_by_name(
                operation, attempt, found, name
            ),
        )

    def _found_by_name(
        self, operation: str, attempt: int, found: str, name: str
    ) -> str:
        self._report(
            MetaCall(
                operation=operation,
                attempt=attempt,
                success=True,
                object_id=found,
                details={"found_by_name": True, "name": name},
            )
        )
        return found

    def _update(
        self,
        operation: str,
        object_id: str,
        params: Mapping[str, Any],
        *,
        verify: Callable[[], bool],
    ) -> None:
        """POST an update; after an unanswered attempt, check before repeating."""
        attempt, unsure = 1, False
        while True:
            if unsure and verify():
                self._report(
                    MetaCall(
                        operation,
                        attempt,
                        True,
                        object_id=object_id,
                        details={"verified_by_read": True, **params},
                    )
                )
                return
            try:
                body = self._send(
                    operation,
                    "POST",
                    object_id,
                    attempt=attempt,
                    params=params,
                    object_id=object_id,
                    details=dict(params),
                )
                if body.get("success") is not True:
                    raise MetaApiError(f"{operation}: Meta did not confirm the update")
                return
            except MetaError as exc:
                unsure = may_have_succeeded(exc)
                self._wait_or_raise(operation, exc, attempt)
            attempt += 1


# ------------------------------------------------------------------- helpers


def _parse_response(response: httpx.Response) -> dict[str, Any]:
    """Graph's body or a typed error. Branch on the envelope, not the status:
    a 5xx without an `error` object says nothing about whether work was done."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    headers = dict(response.headers)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        raise error_from_payload(body, http_status=status, headers=headers)
    if status >= 500 or status in (408, 429):
        raise MetaAmbiguousError(
            f"HTTP {status} without a Graph error body", http_status=status
        )
    if status >= 400:
        raise MetaApiError(
            f"HTTP {status} without a Graph error body",
            http_status=status,
            headers=headers,
        )
    if not isinstance(body, dict):
        raise MetaAmbiguousError(
            f"HTTP {status} with an unreadable body", http_status=status
        )
    if body.get("success") is False:
        raise MetaApiError("Meta answered success=false", http_status=status)
    return body


def _transport_error(exc: httpx.TransportError, timeout: float) -> MetaError:
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        # Never reached Meta: safe to retry, nothing to look up.
        return MetaTransientError(
            f"Could not connect to Meta: {exc}",
            is_transient=True,
            error_type=CONNECT_ERROR_TYPE,
        )
    if isinstance(exc, httpx.TimeoutException):
        return MetaAmbiguousError(f"No answer from Meta within {timeout:g}s ({exc!r})")
    return MetaAmbiguousError(f"Connection to Meta failed mid-request ({exc!r})")


def _resume_window(error: MetaError) -> tuple[int, int] | None:
    """The [start, end) Meta names in a 6001/1363037 error, if any."""
    if not isinstance(error, MetaVideoUploadError):
        return None
    if error.subcode != UPLOAD_RESUME_SUBCODE:
        return None
    try:
        return (
            int(error.error_data["start_offset"]),
            int(error.error_data["end_offset"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _id_of(body: Mapping[str, Any]) -> str:
    object_id = body.get("id")
    if not object_id:
        raise MetaApiError("Meta answered a create without an id", http_status=200)
    return str(object_id)


def _phase_errors(status: Mapping[str, Any]) -> str:
    messages = []
    for phase in ("uploading_phase", "processing_phase", "publishing_phase"):
        for error in (status.get(phase) or {}).get("errors") or []:
            messages.append(f"{phase}: {error.get('code')} {error.get('message')}")
    return "; ".join(messages)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _actions_by_type(items: Any) -> dict[str, Decimal]:
    if not isinstance(items, list):
        return {}
    return {
        str(item.get("action_type")): _decimal(item.get("value"))
        for item in items
        if isinstance(item, Mapping)
    }


def _video_views(row: Mapping[str, Any], name: str) -> Decimal:
    by_type = _actions_by_type(row.get(name))
    return by_type.get("video_view", sum(by_type.values(), Decimal(0)))
