"""The upload pipeline: a rendered variant becomes a paused Meta ad, exactly once.

rendered → uploading → video → (poster) → creative → ad in the master's ad set (or
META_DEFAULT_ADSET_ID) → ids on the variant → testing.

Resumable from the database: every id Meta returns is saved on the variant at once
(its own small write), and a step whose id is already there is skipped, so a crashed
or retried upload continues where it stopped. No duplicates: the variant's dedupe key
(`meta_object_key`) is saved before the first create and is in every object's name;
the client creates once by that name (it looks up before creating when the upload is
resumed and after an ambiguous failure), and this service only says when it resumes.
Whether a Meta error is permanent is the retry policy's answer (`promotion.meta.retry`).

Not one transaction on purpose: what Meta has done must stay recorded even when a
later step fails. Each write is a single UPDATE; state moves by conditional updates
(`variant_transition`), so a second worker finds the variant moved on.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from productions.guard import HumanRuleViolation, check_variant_respects_human_rules
from productions.models import CreativeProduction
from productions.selectors import approved_fragment_ids
from productions.storage import StoredMedia
from promotion.choices import PromotionStatus
from promotion.fragment_scoring import fragment_ids_in_order
from promotion.meta.errors import MetaError, MetaTransientError
from promotion.meta.protocol import (
    AdSpec,
    AdStatus,
    CreativeSpec,
    MetaAdsClient,
    VideoState,
)
from promotion.meta.retry import DEFAULT_RETRY_POLICY, is_account_error
from promotion.selectors import running_ads_count
from promotion.services.meta_calls import (
    meta_call_context,
    meta_client,
    promotion_log_decision,
    promotion_logs_resolve,
)
from promotion.services.placement import adset_for_testing
from variants.choices import LIVE_STATUSES, UploadStatus, VariantStatus
from variants.models import CreativeVariant
from variants.services.lifecycle import (
    VariantTransitionRefused,
    variant_release_upload,
    variant_transition,
)
from variants.services.work import (
    Claim,
    dispatch_superseded,
    lease_fields,
    lease_holder_name,
)

logger = logging.getLogger(__name__)

VIDEO_READY_TIMEOUT_SECONDS = 300.0
STUB_PAGE_ID = "100000000000001"
DEFAULT_CALL_TO_ACTION = "LEARN_MORE"
# For claims made before leases existed (no holder recorded): an `uploading` variant
# untouched for longer than this has lost its worker. Longer than any time limit.
UPLOAD_LEASE = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 10 * 60)

_UPLOAD_ORDER = [
    UploadStatus.NOT_UPLOADED,
    UploadStatus.VIDEO_UPLOADING,
    UploadStatus.VIDEO_READY,
    UploadStatus.CREATIVE_CREATED,
    UploadStatus.AD_CREATED,
]


class UploadOutcome(StrEnum):
    UPLOADED = "uploaded"
    ALREADY_UPLOADED = "already_uploaded"
    REFUSED_CAP = "refused_cap"  # at the running-ads cap; the variant stays rendered
    BUSY = "busy"  # another worker holds the upload
    SKIPPED = "skipped"  # not in an uploadable state
    FAILED = "failed"  # permanent error; the variant is failed with the reason


class UploadConfigurationError(Exception):
    """The engine is not set up to upload (no ad set, no Page). Nothing was sent."""


class VideoStillProcessing(MetaTransientError):
    """Meta has the video but has not finished processing it: try again later."""


def object_key_for(variant: CreativeVariant) -> str:
    """The variant's dedupe key, in the name of each of its Meta objects."""
    return f"ce-{variant.id.hex[:8]}-b{variant.batch_number}-v{variant.variant_number}"


def variant_upload(
    *,
    variant_id: UUID | str,
    run_id: UUID | str | None = None,
    promoted_by: str = "scheduler",
    as_of: dt.datetime | None = None,
    resume: bool = False,
    activate: bool = False,
    client: MetaAdsClient | None = None,
    holder: str = "",
    token: str | None = None,
) -> UploadOutcome:
    """Upload one rendered variant as a PAUSED ad; resumable and idempotent.

    1. Skip if the variant already has its ad, or is not rendered/uploading.
    2. Refuse (nothing sent) without an ad set, or if the human rules are broken
       (the variant fails with the violation).
    3. Claim it with a lease for `holder`: rendered → uploading (refused at the
       running-ads cap, the variant stays rendered); an `uploading` variant is taken
       over only by a retry (`resume=True`, or the same task) or once its holder is
       provably gone (`variants.services.work`). A message whose dispatch `token`
       was superseded does nothing (BUSY).
    4. Save the dedupe key, then each step unless its id is already saved: video
       (and wait until Meta has processed it), poster image, creative (every
       Advantage+ enhancement opted out), ad in the ad set - after re-checking the
       rules and the cap. A resumed upload asks the client to look up first.
    5. Optionally set the ad ACTIVE (`activate=True`), then uploading → testing.

    Errors: a permanent Meta error fails the variant (returns FAILED); a retryable
    one leaves it `uploading` and is raised for the task to retry; an account error
    (token, permission, version) returns it to `rendered` and is raised.
    """
    variant = CreativeVariant.objects.select_related("parent").get(id=variant_id)
    if variant.meta_ad_id and variant.status in LIVE_STATUSES:
        return UploadOutcome.ALREADY_UPLOADED
    if variant.status not in (VariantStatus.RENDERED, VariantStatus.UPLOADING):
        logger.info("variant %s is %s: nothing to upload", variant.id, variant.status)
        return UploadOutcome.SKIPPED
    master = variant.parent
    adset_id = adset_for_testing(master)
    client = meta_client(client=client, as_of=as_of)
    with meta_call_context(
        variant_id=variant.id,
        run_id=run_id,
        promoted_by=promoted_by,
        campaign_id=master.campaign_id,
        adset_id=adset_id,
    ):
        page_id = settings.META_PAGE_ID or (
            STUB_PAGE_ID if client.mode == "stub" else ""
        )
        _check_configuration(master=master, adset_id=adset_id, page_id=page_id)
        if not _rules_respected(variant, master):
            return UploadOutcome.FAILED
        claim = _claim(
            variant, resume=resume, holder=holder or lease_holder_name(), token=token
        )
        if claim == _Claim.BUSY:
            return UploadOutcome.BUSY
        if claim == _Claim.AT_CAP:
            return UploadOutcome.REFUSED_CAP
        pipeline = _Pipeline(
            variant=variant,
            adset_id=adset_id,
            page_id=page_id,
            client=client,
            resuming=claim == _Claim.RESUMED,
        )
        try:
            outcome = pipeline.run(activate=activate)
        except MetaError as exc:
            return _after_meta_error(variant, exc, step=pipeline.step)
        except _PermanentUploadError as exc:
            _fail(variant, str(exc))
            return UploadOutcome.FAILED
        if outcome != UploadOutcome.UPLOADED:
            return outcome
        variant_transition(
            variant_id=variant.id,
            from_statuses=[VariantStatus.UPLOADING],
            to_status=VariantStatus.TESTING,
            upload_status=UploadStatus.AD_CREATED,
            uploaded_at=as_of or timezone.now(),
            # Ranking's cooldown reads this on the cycle's clock.
            status_changed_at=as_of or timezone.now(),
        )
        promotion_logs_resolve(variant_id=variant.id)
    logger.info("variant %s uploaded as ad %s", variant.id, variant.meta_ad_id)
    return UploadOutcome.UPLOADED


def variant_upload_abandon(
    *, variant_id: UUID | str, reason: str, retry_later: bool
) -> None:
    """Give up an upload whose retries are spent: back to `rendered` for the sweep
    (`retry_later`, e.g. still throttled) or `failed` with the reason."""
    if retry_later:
        variant_release_upload(variant_id=variant_id)
        logger.warning("variant %s upload postponed: %s", variant_id, reason)
        return
    _mark_upload_failed(
        variant_id=variant_id, from_statuses=[VariantStatus.UPLOADING], reason=reason
    )
    logger.error("variant %s upload failed: %s", variant_id, reason)


# --- steps -------------------------------------------------------------------------


class _PermanentUploadError(Exception):
    """A problem retrying will not fix (no video file, video rejected, enrolled
    enhancements)."""


@dataclass(kw_only=True, eq=False)
class _Pipeline:
    variant: CreativeVariant  # with its master (`parent`) selected
    adset_id: str
    page_id: str
    client: MetaAdsClient
    resuming: bool
    step: str = field(default="start", init=False)

    @property
    def master(self) -> CreativeProduction:
        return self.variant.parent

    def run(self, *, activate: bool) -> UploadOutcome:
        """Every step not done yet; the ad only if the rules and the cap allow."""
        self.key = _ensure_object_key(self.variant)
        self.video()
        self.poster()
        self.creative()
        if not self.variant.meta_ad_id:
            # Approvals may have been withdrawn while the video uploaded.
            if not _rules_respected(self.variant, self.master):
                return UploadOutcome.FAILED
            if not _room_under_cap(self.variant, releasing=True):
                return UploadOutcome.REFUSED_CAP
            self.ad()
        if activate and self.variant.meta_ad_status != AdStatus.ACTIVE:
            self.step = "activate"
            with meta_call_context(meta_ad_id=self.variant.meta_ad_id):
                self.client.set_ad_status(
                    ad_id=self.variant.meta_ad_id, status=AdStatus.ACTIVE
                )
            _save(self.variant, meta_ad_status=str(AdStatus.ACTIVE))
        return UploadOutcome.UPLOADED

    def video(self) -> None:
        v = self.variant
        self.step = "upload_video"
        if not v.meta_video_id:
            if _before(v.upload_status, UploadStatus.VIDEO_UPLOADING):
                _save(v, upload_status=UploadStatus.VIDEO_UPLOADING)
            video_id = self.client.upload_video(
                path=_stored(v.video_file, what="rendered video"),
                name=f"{self.key}-video",
                resume=self.resuming,
            )
            _save(v, meta_video_id=video_id)
        if _before(v.upload_status, UploadStatus.VIDEO_READY):
            self.step = "wait_video_ready"
            status = self.client.wait_video_ready(
                video_id=v.meta_video_id, timeout_seconds=VIDEO_READY_TIMEOUT_SECONDS
            )
            if status.state == VideoState.ERROR:
                raise _PermanentUploadError(
                    f"Meta could not process video {v.meta_video_id}: "
                    f"{status.detail or 'processing error'}"
                )
            if status.state != VideoState.READY:
                raise VideoStillProcessing(
                    f"Video {v.meta_video_id} is still processing after "
                    f"{VIDEO_READY_TIMEOUT_SECONDS:.0f}s.",
                    is_transient=True,
                )
            _save(v, upload_status=UploadStatus.VIDEO_READY)

    def poster(self) -> None:
        v = self.variant
        if v.meta_image_hash or not v.poster_file:
            return
        self.step = "upload_image"
        name = f"{self.key}-poster"
        image_hash = self.client.upload_image(
            path=_stored(v.poster_file, what="poster"), name=name
        )
        _save(v, meta_image_hash=image_hash)

    def creative(self) -> None:
        v = self.variant
        if v.meta_creative_id:
            return
        self.step = "create_creative"
        result = self.client.create_creative(
            spec=self._creative_spec(f"{self.key}-creative"), resume=self.resuming
        )
        _save(
            v,
            meta_creative_id=result.creative_id,
            upload_status=UploadStatus.CREATIVE_CREATED,
        )
        enrolled = sorted(f for f, s in result.enhancements.items() if s != "OPT_OUT")
        if enrolled:
            raise _PermanentUploadError(
                f"Creative {result.creative_id} is enrolled in Advantage+ enhancements "
                f"{', '.join(enrolled)}: what runs would differ from what humans "
                "approved."
            )

    def ad(self) -> None:
        v = self.variant
        self.step = "create_ad"
        spec = AdSpec(
            name=f"{self.key}-ad",
            adset_id=self.adset_id,
            creative_id=v.meta_creative_id,
            pixel_id=v.pixel_id,
            status=AdStatus.PAUSED,
        )
        with meta_call_context(meta_creative_id=v.meta_creative_id):
            ad_id = self.client.create_ad(spec=spec, resume=self.resuming)
        _save(
            v,
            meta_ad_id=ad_id,
            meta_ad_status=str(AdStatus.PAUSED),
            adset_id=self.adset_id,
            campaign_id=self.master.campaign_id,
            upload_status=UploadStatus.AD_CREATED,
        )

    def _creative_spec(self, name: str) -> CreativeSpec:
        v, master = self.variant, self.master
        style = master.style_guide if isinstance(master.style_guide, dict) else {}
        hashtags = " ".join(h for h in (v.hashtags or []) if h not in v.caption)
        message = f"{v.caption}\n\n{hashtags}".strip() if hashtags else v.caption
        return CreativeSpec(
            name=name,
            page_id=self.page_id,
            video_id=v.meta_video_id,
            message=message,
            title=(v.text_overlay or master.title)[:255],
            call_to_action_type=str(style.get("cta_type") or DEFAULT_CALL_TO_ACTION),
            link=str(style.get("link_url") or ""),
            image_hash=v.meta_image_hash,
            instagram_user_id=settings.META_INSTAGRAM_USER_ID,
        )


# --- helpers -----------------------------------------------------------------------


def _rules_respected(variant: CreativeVariant, master: CreativeProduction) -> bool:
    """Check the human rules; a violation fails the variant, logged, nothing sent."""
    try:
        check_variant_respects_human_rules(
            master=master,
            fragment_ids=fragment_ids_in_order(variant.fragments_order),
            hashtags=variant.hashtags or [],
            pixel_id=variant.pixel_id or None,
            approved_fragment_ids=approved_fragment_ids(production_id=master.pk),
        )
    except HumanRuleViolation as exc:
        promotion_log_decision(
            operation="upload_refused",
            message=str(exc),
            status=PromotionStatus.FAILED,
            error_code=exc.code,
        )
        _fail(variant, f"Refused by the human rules: {exc}")
        return False
    return True


class _Claim(StrEnum):
    FRESH = "fresh"
    RESUMED = "resumed"  # an earlier attempt may have created objects
    BUSY = "busy"
    AT_CAP = "at_cap"


def _claim(
    variant: CreativeVariant, *, resume: bool, holder: str, token: str | None
) -> _Claim:
    """Take the upload, or say why not."""
    if dispatch_superseded(current=variant.dispatch_token, token=token):
        logger.info("variant %s: upload message superseded; dropped", variant.id)
        return _Claim.BUSY
    expect = {"dispatch_token": variant.dispatch_token}
    if variant.status == VariantStatus.RENDERED:
        if not _room_under_cap(variant, releasing=False):
            return _Claim.AT_CAP
        try:
            variant_transition(
                variant_id=variant.id,
                from_statuses=[VariantStatus.RENDERED],
                to_status=VariantStatus.UPLOADING,
                expect=expect,
                **lease_fields(holder),
            )
        except VariantTransitionRefused:
            return _Claim.BUSY  # another worker took it a moment ago
        # upload_status leaves NOT_UPLOADED just before the first create, so anything
        # else means an earlier attempt may have created objects on Meta.
        if variant.upload_status == UploadStatus.NOT_UPLOADED:
            return _Claim.FRESH
        return _Claim.RESUMED
    seen = variant.status_changed_at
    if not (
        resume or Claim.of(variant).may_be_taken_by(holder, stale_after=UPLOAD_LEASE)
    ):
        logger.info("variant %s is being uploaded by another worker", variant.id)
        return _Claim.BUSY
    # Take the lease; a racing worker that read the same holder loses this update.
    renewed = CreativeVariant.objects.filter(
        id=variant.id,
        status=VariantStatus.UPLOADING,
        status_changed_at=seen,
        lease_holder=variant.lease_holder,
        **expect,
    ).update(status_changed_at=timezone.now(), **lease_fields(holder))
    return _Claim.RESUMED if renewed == 1 else _Claim.BUSY


def _check_configuration(
    *, master: CreativeProduction, adset_id: str, page_id: str
) -> None:
    """Refuse, before anything is sent, when the account is not set up."""
    problem = ""
    if not adset_id:
        problem = (
            f"Master {master.pk} names no ad set and META_DEFAULT_ADSET_ID is unset: "
            "set one of them to upload its variants."
        )
    elif not page_id:
        problem = "META_PAGE_ID is unset: creatives need the Page the ads run for."
    if problem:
        promotion_log_decision(
            operation="upload_refused", message=problem, error_code="configuration"
        )
        raise UploadConfigurationError(problem)


def _room_under_cap(variant: CreativeVariant, *, releasing: bool) -> bool:
    """Whether another ad may run on the Page; at the cap, log why and stay rendered."""
    cap = settings.META_MAX_RUNNING_ADS_PER_PAGE
    running = running_ads_count()
    if running < cap:
        return True
    message = (
        f"{running} ads are running on the Page and the cap "
        f"(META_MAX_RUNNING_ADS_PER_PAGE) is {cap}: the variant waits, rendered, "
        "until an ad is archived."
    )
    promotion_log_decision(
        operation="upload_refused",
        message=message,
        error_code="running_ads_cap",
        details={"running_ads": running, "cap": cap},
    )
    if releasing:
        variant_release_upload(variant_id=variant.id)
    logger.warning("variant %s not uploaded: %s", variant.id, message)
    return False


def _after_meta_error(
    variant: CreativeVariant, exc: MetaError, *, step: str
) -> UploadOutcome:
    if is_account_error(exc):
        variant_release_upload(variant_id=variant.id)
        raise exc
    if not DEFAULT_RETRY_POLICY.is_permanent(exc):
        logger.warning("variant %s: %s failed, will retry: %s", variant.id, step, exc)
        raise exc
    _fail(variant, f"Meta refused {step}: {exc}")
    return UploadOutcome.FAILED


def _fail(variant: CreativeVariant, reason: str) -> None:
    try:
        _mark_upload_failed(
            variant_id=variant.id,
            from_statuses=[VariantStatus.RENDERED, VariantStatus.UPLOADING],
            reason=reason,
        )
    except VariantTransitionRefused:
        logger.warning(
            "variant %s could not be failed (moved on): %s", variant.id, reason
        )
        return
    logger.error("variant %s failed: %s", variant.id, reason)


def _mark_upload_failed(
    *, variant_id: UUID | str, from_statuses: list[VariantStatus], reason: str
) -> None:
    """The variant and its upload failed, with the reason kept for humans."""
    variant_transition(
        variant_id=variant_id,
        from_statuses=from_statuses,
        to_status=VariantStatus.FAILED,
        failure_reason=reason[:4000],
        upload_status=UploadStatus.FAILED,
    )


def _ensure_object_key(variant: CreativeVariant) -> str:
    if not variant.meta_object_key:
        key = object_key_for(variant)
        claimed = CreativeVariant.objects.filter(
            id=variant.id, meta_object_key=""
        ).update(meta_object_key=key)
        if claimed:
            variant.meta_object_key = key
        else:  # another attempt saved its key first: that one names the objects
            variant.refresh_from_db(fields=["meta_object_key"])
    return variant.meta_object_key


def _save(variant: CreativeVariant, **fields: Any) -> None:
    """Persist ids the moment Meta returns them (a crash after this keeps them)."""
    for name, value in fields.items():
        setattr(variant, name, value)
    variant.save(update_fields=list(fields))


def _before(current: str, target: str) -> bool:
    order = [str(s) for s in _UPLOAD_ORDER]
    return current not in order or order.index(current) < order.index(str(target))


def _stored(field: FieldFile, *, what: str) -> StoredMedia:
    """The stored file as the client streams it (from disk or bucket, no copy)."""
    if not field or not field.name or not field.storage.exists(field.name):
        raise _PermanentUploadError(f"The {what} is missing from storage.")
    return StoredMedia(storage=field.storage, name=str(field.name))
