"""The upload pipeline against the stub: rendered variant → paused ad, exactly once."""

import datetime as dt

import pytest
from celery.canvas import Signature
from celery.exceptions import Retry
from django.utils import timezone

from promotion import tasks
from promotion.choices import PromotionStatus, PromotionType
from promotion.meta.errors import MetaRetryLater, MetaTransientError
from promotion.meta.retry import RetryPolicy, TaskAction, TaskRetryDecision
from promotion.models import PromotionLog, StubMetaObject
from promotion.services import meta_calls
from promotion.services.upload import (
    UploadConfigurationError,
    UploadOutcome,
    variant_upload,
)
from promotion.tasks import (
    MAX_RETRY_COUNTDOWN,
    UPLOAD_TIME_LIMIT,
    sweep_stuck_work,
    upload_variant,
)
from tests.factories import VariantFactory, master_with_approved_cuts
from tests.promotion.builders import (
    rendered_variant,
    stub_client,
)
from variants.choices import UploadStatus, VariantStatus

pytestmark = pytest.mark.django_db


class WorkerDies(Exception):
    """Stands in for a worker killed mid-task (not a Meta error: nothing catches it)."""


class DiesAt:
    """A stub that 'crashes the worker' when `operation` is called."""

    def __init__(self, client, operation: str) -> None:
        self._client = client
        self._operation = operation

    def __getattr__(self, name):
        if name == self._operation:
            raise WorkerDies(f"killed before {name}")
        return getattr(self._client, name)


def stub_objects(kind: str, name: str) -> int:
    return StubMetaObject.objects.filter(kind=kind, name=name).count()


def test_rendered_variant_becomes_testing_with_its_ids_and_one_log_row_per_call():
    # Given a rendered variant of a master with an ad set
    variant = rendered_variant()

    # When it is uploaded
    outcome = variant_upload(variant_id=variant.id, client=stub_client())

    # Then it is testing, with every Meta id saved
    variant.refresh_from_db()
    assert outcome == UploadOutcome.UPLOADED
    assert variant.status == VariantStatus.TESTING
    assert variant.upload_status == UploadStatus.AD_CREATED
    assert variant.uploaded_at is not None
    assert variant.meta_object_key.startswith(f"ce-{variant.id.hex[:8]}-b1-v")
    assert variant.meta_video_id and variant.meta_image_hash
    assert variant.meta_creative_id and variant.meta_ad_id
    assert variant.adset_id == variant.parent.adset_id
    # And one PromotionLog row per call, in order, all successful uploads
    logs = list(PromotionLog.objects.filter(variant=variant).order_by("created_at"))
    assert [log.operation for log in logs] == [
        "upload_video",
        "wait_video_ready",
        "upload_image",
        "create_creative",
        "create_ad",
    ]
    assert all(
        log.success and log.promotion_type == PromotionType.UPLOAD for log in logs
    )
    assert logs[-1].meta_ad_id == variant.meta_ad_id
    assert logs[-1].meta_creative_id == variant.meta_creative_id
    assert logs[-1].adset_id == variant.adset_id
    # And on "Meta" the ad waits, paused, in the master's ad set
    ad = StubMetaObject.objects.get(kind="ad", meta_id=variant.meta_ad_id)
    assert ad.status == variant.meta_ad_status == "PAUSED"
    assert ad.parent_meta_id == variant.parent.adset_id


def test_ambiguous_failures_leave_exactly_one_object_of_each_kind():
    # Given a stub that does the work but loses the answer on every create
    variant = rendered_variant()
    client = stub_client(
        inject_failures={
            "upload_video": ["ambiguous"],
            "create_creative": ["ambiguous"],
            "create_ad": ["ambiguous"],
        }
    )

    # When the variant is uploaded
    outcome = variant_upload(variant_id=variant.id, client=client)

    # Then each object was found by name instead of created twice
    variant.refresh_from_db()
    key = variant.meta_object_key
    assert outcome == UploadOutcome.UPLOADED
    assert stub_objects("video", f"{key}-video") == 1
    assert stub_objects("creative", f"{key}-creative") == 1
    assert stub_objects("ad", f"{key}-ad") == 1
    assert StubMetaObject.objects.get(kind="ad").meta_id == variant.meta_ad_id
    failed = PromotionLog.objects.filter(variant=variant, success=False)
    assert failed.count() == 3


def test_a_retry_after_an_ambiguous_failure_and_a_lost_lookup_creates_no_second_ad():
    # Given an ad created on "Meta" whose answer was lost, and a failed lookup
    variant = rendered_variant()
    first = stub_client(
        inject_failures={"create_ad": ["ambiguous"], "find_ad": ["transient"]}
    )
    with pytest.raises(MetaTransientError):
        variant_upload(variant_id=variant.id, client=first)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.UPLOADING and not variant.meta_ad_id

    # When the task retries
    outcome = variant_upload(variant_id=variant.id, client=stub_client(), resume=True)

    # Then the ad is adopted by name: still exactly one
    variant.refresh_from_db()
    assert outcome == UploadOutcome.UPLOADED
    assert stub_objects("ad", f"{variant.meta_object_key}-ad") == 1
    assert variant.meta_ad_id == StubMetaObject.objects.get(kind="ad").meta_id


def test_a_crash_after_the_creative_resumes_without_a_second_creative():
    # Given an upload whose worker died right after the creative was created
    variant = rendered_variant()
    with pytest.raises(WorkerDies):
        variant_upload(variant_id=variant.id, client=DiesAt(stub_client(), "create_ad"))
    variant.refresh_from_db()
    assert variant.status == VariantStatus.UPLOADING
    assert variant.meta_creative_id and not variant.meta_ad_id
    creative_id = variant.meta_creative_id

    # When the sweep's re-dispatch runs it after the lease has expired
    variant.status_changed_at = timezone.now() - dt.timedelta(hours=1)
    variant.lease_expires_at = timezone.now() - dt.timedelta(hours=1)
    variant.save(update_fields=["status_changed_at", "lease_expires_at"])
    outcome = variant_upload(variant_id=variant.id, client=stub_client())

    # Then it continued at the ad: one video, one creative, one ad
    variant.refresh_from_db()
    key = variant.meta_object_key
    assert outcome == UploadOutcome.UPLOADED
    assert variant.meta_creative_id == creative_id
    assert stub_objects("video", f"{key}-video") == 1
    assert stub_objects("creative", f"{key}-creative") == 1
    assert stub_objects("ad", f"{key}-ad") == 1


def test_a_fresh_upload_in_progress_is_not_taken_by_a_second_worker():
    variant = rendered_variant()
    with pytest.raises(WorkerDies):
        variant_upload(variant_id=variant.id, client=DiesAt(stub_client(), "create_ad"))

    outcome = variant_upload(variant_id=variant.id, client=stub_client())

    assert outcome == UploadOutcome.BUSY
    assert StubMetaObject.objects.filter(kind="ad").count() == 0


def test_a_permanent_meta_error_fails_the_variant_with_the_reason():
    variant = rendered_variant()
    client = stub_client(inject_failures={"create_ad": ["permanent"]})

    outcome = variant_upload(variant_id=variant.id, client=client)

    variant.refresh_from_db()
    assert outcome == UploadOutcome.FAILED
    assert variant.status == VariantStatus.FAILED
    assert variant.upload_status == UploadStatus.FAILED
    assert "create_ad" in variant.failure_reason
    assert "2490427" in variant.failure_reason
    log = PromotionLog.objects.get(variant=variant, operation="create_ad")
    assert (log.success, log.error_code, log.error_subcode) == (False, "100", "2490427")


def test_a_transient_error_leaves_the_variant_uploading_for_the_retry():
    variant = rendered_variant()
    client = stub_client(inject_failures={"create_creative": ["transient"]})

    with pytest.raises(MetaTransientError):
        variant_upload(variant_id=variant.id, client=client)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.UPLOADING
    assert variant.meta_video_id and not variant.meta_creative_id


def test_without_an_ad_set_anywhere_the_upload_is_a_clear_error_and_sends_nothing(
    settings,
):
    # Given a master without an ad set and no default
    settings.META_DEFAULT_ADSET_ID = ""
    variant = rendered_variant(master_with_approved_cuts(adset_id=""))

    # When it is uploaded
    with pytest.raises(UploadConfigurationError, match="META_DEFAULT_ADSET_ID"):
        variant_upload(variant_id=variant.id, client=stub_client())

    # Then nothing reached "Meta", the variant still waits, and the reason is logged
    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED
    assert not StubMetaObject.objects.exists()
    refusal = PromotionLog.objects.get(variant=variant)
    assert refusal.operation == "upload_refused"
    assert "ad set" in refusal.error_message


def test_the_default_ad_set_takes_ads_of_masters_without_one(settings):
    settings.META_DEFAULT_ADSET_ID = "120299999999999"
    variant = rendered_variant(master_with_approved_cuts(adset_id=""))

    variant_upload(variant_id=variant.id, client=stub_client())

    variant.refresh_from_db()
    assert variant.adset_id == "120299999999999"
    ad = StubMetaObject.objects.get(kind="ad")
    assert ad.parent_meta_id == "120299999999999"


def test_at_the_running_ads_cap_the_upload_is_refused_and_the_variant_stays_rendered(
    settings,
):
    # Given a Page at its cap of two running ads
    settings.META_MAX_RUNNING_ADS_PER_PAGE = 2
    VariantFactory(status=VariantStatus.TESTING, meta_ad_id="120200000000101")
    VariantFactory(status=VariantStatus.ACTIVE, meta_ad_id="120200000000102")
    variant = rendered_variant()

    # When another variant is uploaded
    outcome = variant_upload(variant_id=variant.id, client=stub_client())

    # Then it is refused with the reason logged, not failed, and nothing was sent
    variant.refresh_from_db()
    assert outcome == UploadOutcome.REFUSED_CAP
    assert variant.status == VariantStatus.RENDERED
    assert not StubMetaObject.objects.exists()
    refusal = PromotionLog.objects.get(variant=variant)
    assert refusal.promotion_status == PromotionStatus.SKIPPED
    assert refusal.error_code == "running_ads_cap"
    assert "cap" in refusal.error_message


def test_an_unauthorized_pixel_is_refused_before_anything_reaches_meta():
    # Given a variant carrying a pixel its master never authorized
    variant = rendered_variant(pixel_id="999999999999999")

    # When it is uploaded
    outcome = variant_upload(variant_id=variant.id, client=stub_client())

    # Then it is failed by the human rules, logged, and "Meta" has nothing
    variant.refresh_from_db()
    assert outcome == UploadOutcome.FAILED
    assert variant.status == VariantStatus.FAILED
    assert "999999999999999" in variant.failure_reason
    assert not StubMetaObject.objects.exists()
    refusal = PromotionLog.objects.get(variant=variant)
    assert refusal.error_code == "unauthorized_pixel_refused"


def test_uploading_an_uploaded_variant_does_nothing():
    variant = rendered_variant()
    variant_upload(variant_id=variant.id, client=stub_client())
    calls = PromotionLog.objects.count()

    outcome = variant_upload(variant_id=variant.id, client=stub_client())

    assert outcome == UploadOutcome.ALREADY_UPLOADED
    assert PromotionLog.objects.count() == calls


def test_activate_sets_the_new_ad_active_and_logs_it_as_a_test():
    variant = rendered_variant()

    variant_upload(variant_id=variant.id, client=stub_client(), activate=True)

    variant.refresh_from_db()
    assert StubMetaObject.objects.get(meta_id=variant.meta_ad_id).status == "ACTIVE"
    assert variant.meta_ad_status == "ACTIVE"
    log = PromotionLog.objects.get(variant=variant, operation="set_ad_status")
    assert log.promotion_type == PromotionType.TEST


# --- the task ----------------------------------------------------------------------


@pytest.fixture
def shared_stub(monkeypatch):
    """Make the services' client factory hand out one stub for the whole test."""

    def install(**kwargs):
        client = stub_client(**kwargs)
        monkeypatch.setattr(meta_calls, "get_meta_client", lambda **kwargs: client)
        return client

    return install


def test_the_task_retries_transient_errors_until_the_ad_exists(shared_stub):
    # Given Meta failing twice in a row, then recovering
    shared_stub(inject_failures={"create_ad": ["transient", "throttled"]})
    variant = rendered_variant()

    # When the task runs (in-process, retries run at once)
    upload_variant.delay(str(variant.id))

    # Then the variant is testing with exactly one ad
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING
    assert StubMetaObject.objects.filter(kind="ad").count() == 1
    attempts = PromotionLog.objects.filter(variant=variant, operation="create_ad")
    assert [log.success for log in attempts.order_by("created_at")] == [
        False,
        False,
        True,
    ]


def test_the_task_gives_up_after_a_bounded_number_of_retries(shared_stub):
    shared_stub(inject_failures={"create_creative": ["transient"] * 10})
    variant = rendered_variant()

    upload_variant.delay(str(variant.id))

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "Gave up after 6 attempts" in variant.failure_reason
    assert PromotionLog.objects.filter(operation="create_creative").count() == 6


def test_the_task_is_routed_to_the_meta_queue_and_acked_late():
    assert upload_variant.name == "promotion.upload_variant"
    assert upload_variant.queue == "meta"
    assert upload_variant.acks_late and upload_variant.reject_on_worker_lost


def test_the_sweep_redispatches_stuck_uploads_and_lost_enqueues(
    shared_stub, django_capture_on_commit_callbacks
):
    # Given an upload whose worker died an hour ago and a variant rendered long ago
    shared_stub()
    stuck = rendered_variant()
    with pytest.raises(WorkerDies):
        variant_upload(variant_id=stuck.id, client=DiesAt(stub_client(), "create_ad"))
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    type(stuck).objects.filter(id=stuck.id).update(
        status_changed_at=an_hour_ago, lease_expires_at=an_hour_ago
    )
    forgotten = rendered_variant()
    type(forgotten).objects.filter(id=forgotten.id).update(
        status_changed_at=an_hour_ago
    )
    fresh = rendered_variant()
    type(fresh).objects.filter(id=fresh.id).update(status_changed_at=timezone.now())

    # When the sweep runs and its enqueues are committed
    with django_capture_on_commit_callbacks(execute=True):
        counts = sweep_stuck_work.delay()

    # Then both stuck variants are uploaded; the fresh one is left to its cycle
    for variant in (stuck, forgotten, fresh):
        variant.refresh_from_db()
    assert stuck.status == forgotten.status == VariantStatus.TESTING
    assert fresh.status == VariantStatus.RENDERED
    assert StubMetaObject.objects.filter(kind="creative").count() == 2
    assert counts is not None


class RaisesOn:
    """A stub that raises `error` when `operation` is called."""

    def __init__(self, client, operation: str, error: Exception) -> None:
        self._client = client
        self._operation = operation
        self._error = error

    def __getattr__(self, name):
        if name == self._operation:

            def fail(**kwargs):
                raise self._error

            return fail
        return getattr(self._client, name)


@pytest.mark.parametrize(
    ("error", "expected_countdown"),
    [
        (MetaRetryLater("blocked for policy", retry_after_seconds=900.0), 900.0),
        (MetaRetryLater("wait a day", retry_after_seconds=86400.0), None),
        (MetaTransientError("try later", code=2, is_transient=True), None),
    ],
)
def test_on_a_worker_a_retry_is_scheduled_inside_the_visibility_timeout(
    monkeypatch, settings, error, expected_countdown
):
    # Given Meta failing in a retryable way on a real (non-eager) worker
    variant = rendered_variant()
    client = RaisesOn(stub_client(), "create_ad", error)
    monkeypatch.setattr(meta_calls, "get_meta_client", lambda **kwargs: client)
    scheduled = []
    monkeypatch.setattr(
        Signature, "apply_async", lambda sig, *a, **kw: scheduled.append(sig)
    )

    # When the task runs and fails
    upload_variant.push_request(retries=0, is_eager=False, called_directly=False)
    try:
        with pytest.raises(Retry):
            upload_variant.run(str(variant.id))
    finally:
        upload_variant.pop_request()

    # Then it comes back later, never later than the broker keeps it invisible
    countdown = scheduled[0].options["countdown"]
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert 1 <= countdown <= MAX_RETRY_COUNTDOWN < visibility - UPLOAD_TIME_LIMIT
    if expected_countdown is not None:
        assert countdown == expected_countdown
    variant.refresh_from_db()
    assert variant.status == VariantStatus.UPLOADING


# --- the service and the task follow the retry policy --------------------------------


def test_the_service_fails_the_variant_when_the_policy_calls_the_error_permanent(
    monkeypatch,
):
    # Given a policy that calls every error permanent, and a transient failure
    monkeypatch.setattr(RetryPolicy, "is_permanent", lambda self, error: True)
    variant = rendered_variant()
    client = stub_client(inject_failures={"create_creative": ["transient"]})

    # When the variant is uploaded
    outcome = variant_upload(variant_id=variant.id, client=client)

    # Then the service failed it instead of leaving it to a retry
    variant.refresh_from_db()
    assert outcome == UploadOutcome.FAILED
    assert variant.status == VariantStatus.FAILED


def test_the_task_retries_as_often_as_the_policy_allows(shared_stub, monkeypatch):
    # Given a policy allowing two retries, and Meta failing for good
    monkeypatch.setattr(tasks, "UPLOAD_RETRY_POLICY", RetryPolicy(task_max_retries=2))
    shared_stub(inject_failures={"create_creative": ["transient"] * 10})
    variant = rendered_variant()

    # When the task runs
    upload_variant.delay(str(variant.id))

    # Then it tried three times and failed the variant with the policy's reason
    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "Gave up after 3 attempts" in variant.failure_reason
    assert PromotionLog.objects.filter(operation="create_creative").count() == 3


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (TaskAction.POSTPONE, VariantStatus.RENDERED),
        (TaskAction.FAIL, VariantStatus.FAILED),
    ],
)
def test_when_the_policy_gives_up_the_task_postpones_or_fails_as_told(
    shared_stub, monkeypatch, action, status
):
    decision = TaskRetryDecision(action, 0.0, "policy says no")
    monkeypatch.setattr(RetryPolicy, "decide_task", lambda self, *a, **kw: decision)
    shared_stub(inject_failures={"create_ad": ["transient"]})
    variant = rendered_variant()

    upload_variant.delay(str(variant.id))

    variant.refresh_from_db()
    assert variant.status == status


def test_on_a_worker_the_task_comes_back_after_the_policys_countdown(monkeypatch):
    # Given a policy answering "retry in 123 s" and Meta failing once
    decision = TaskRetryDecision(TaskAction.RETRY, 123.0, "policy says later")
    monkeypatch.setattr(RetryPolicy, "decide_task", lambda self, *a, **kw: decision)
    variant = rendered_variant()
    client = RaisesOn(stub_client(), "create_ad", MetaTransientError("x", code=2))
    monkeypatch.setattr(meta_calls, "get_meta_client", lambda **kwargs: client)
    scheduled = []
    monkeypatch.setattr(
        Signature, "apply_async", lambda sig, *a, **kw: scheduled.append(sig)
    )

    # When the task runs on a worker and fails
    upload_variant.push_request(retries=0, is_eager=False, called_directly=False)
    try:
        with pytest.raises(Retry):
            upload_variant.run(str(variant.id))
    finally:
        upload_variant.pop_request()

    # Then it is scheduled exactly when the policy said
    assert scheduled[0].options["countdown"] == 123.0
