"""Write-ahead logging of Meta calls: a row before every request, completed after; a
crash in between leaves it "attempting" until the next upload's lookup settles it."""

from __future__ import annotations

import pytest

from promotion.choices import PromotionStatus
from promotion.meta.graph import GraphMetaClient
from promotion.meta.protocol import MetaCall
from promotion.models import PromotionLog
from promotion.services.meta_calls import record_meta_attempt, record_meta_call
from promotion.services.upload import UploadOutcome, variant_upload
from tests.factories import master_with_approved_cuts
from tests.promotion.builders import rendered_variant
from variants.choices import VariantStatus

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler sees it."""


def live_client(fake, **overrides) -> GraphMetaClient:
    options = {
        "base_url": fake.base_url,
        "api_version": "v25.0",
        "access_token": "TOK",
        "ad_account_id": fake.state.account_id,
        "page_id": fake.state.page_id,
        "timeout": 2.0,
        "observer": record_meta_call,
        "attempt_recorder": record_meta_attempt,
    }
    return GraphMetaClient(**{**options, **overrides})


def live_variant():
    """A rendered variant of a master naming no ad set: META_DEFAULT_ADSET_ID applies."""
    return rendered_variant(master_with_approved_cuts(adset_id="", campaign_id=""))


def requests_logged(fake) -> tuple[int, int]:
    """(requests the fake received, of those without a PromotionLog row)."""
    rows: dict[tuple[str, str], int] = {}
    for details in PromotionLog.objects.values_list("decision_details", flat=True):
        call = details.get("call") or {}
        if call.get("method"):
            key = (call["method"], call["path"])
            rows[key] = rows.get(key, 0) + 1
    received: dict[tuple[str, str], int] = {}
    for request in list(fake.requests):
        key = (request.method, request.node_path)
        received[key] = received.get(key, 0) + 1
    missing = sum(max(0, n - rows.get(key, 0)) for key, n in received.items())
    return sum(received.values()), missing


def test_every_request_to_meta_has_its_row_written_before_and_completed_after(
    live_graph,
):
    # Given a rendered variant, in live mode against the fake Graph API
    variant = live_variant()

    # When it is uploaded
    outcome = variant_upload(variant_id=variant.pk)

    # Then every request the fake received has its row, none left attempting
    assert outcome == UploadOutcome.UPLOADED
    received, missing = requests_logged(live_graph)
    assert received >= 4 and missing == 0
    assert not PromotionLog.objects.filter(
        promotion_status=PromotionStatus.ATTEMPTING
    ).exists()


def test_a_crash_during_create_ad_leaves_outcome_unknown_until_the_next_upload_resolves_it(
    live_graph,
):
    # Given a worker that dies after create_ad reached Meta, before the answer was logged
    variant = live_variant()

    def dies_on_create_ad(call: MetaCall) -> None:
        if call.operation == "create_ad":
            raise WorkerKilled
        record_meta_call(call)

    with pytest.raises(WorkerKilled):
        variant_upload(
            variant_id=variant.pk,
            client=live_client(live_graph, observer=dies_on_create_ad),
        )

    # Then the call is on record as attempting: its outcome is unknown
    unknown = PromotionLog.objects.get(operation="create_ad")
    assert unknown.promotion_status == PromotionStatus.ATTEMPTING
    assert len(live_graph.state.ads) == 1

    # When the next upload of the variant runs (a retry resumes: lookup by name first)
    outcome = variant_upload(variant_id=variant.pk, resume=True)

    # Then the lookup adopted the ad, and the unknown outcome is resolved as done
    assert outcome == UploadOutcome.UPLOADED
    unknown.refresh_from_db()
    assert unknown.promotion_status == PromotionStatus.SUCCEEDED
    assert "resolved by lookup" in unknown.error_message
    variant.refresh_from_db()
    assert variant.status == VariantStatus.TESTING
    assert list(live_graph.state.ads) == [variant.meta_ad_id]
    assert requests_logged(live_graph)[1] == 0


def test_a_failed_log_write_is_an_error_and_nothing_is_sent(live_graph):
    # Given a log that cannot be written
    def broken_log(attempt):
        raise RuntimeError("database is down")

    client = live_client(live_graph, attempt_recorder=broken_log)

    # When the engine tries to call Meta, then the error is raised, and Meta saw nothing
    with pytest.raises(RuntimeError, match="database is down"):
        client.get_adset(adset_id=live_graph.state.add_adset())
    assert live_graph.requests == []


def test_a_failed_completion_write_is_raised_and_the_retry_finds_the_done_create(
    live_graph,
):
    # Given the row of a successful create_ad cannot be completed
    variant = live_variant()

    def broken_completion(call: MetaCall) -> None:
        if call.operation == "create_ad":
            raise RuntimeError("database is down")
        record_meta_call(call)

    # When the upload runs, then the failure is raised, not swallowed
    with pytest.raises(RuntimeError, match="database is down"):
        variant_upload(
            variant_id=variant.pk,
            client=live_client(live_graph, observer=broken_completion),
        )

    # And the retry adopts the ad Meta made: one ad, nothing unlogged
    assert variant_upload(variant_id=variant.pk, resume=True) == UploadOutcome.UPLOADED
    assert len(live_graph.state.ads) == 1
    assert requests_logged(live_graph)[1] == 0
