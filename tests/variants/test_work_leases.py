"""Leases and dispatch tokens: a render whose worker is provably gone is taken over at
once; a live one is left alone; a superseded message does nothing."""

import datetime as dt
import socket
import subprocess
import sys

import pytest
from django.utils import timezone

from promotion.selectors import WorkKind, variants_needing_work
from tests.factories import VariantFactory
from variants.choices import VariantStatus
from variants.models import CreativeVariant
from variants.services.rendering import variant_render
from variants.services.work import Claim, lease_holder_name

pytestmark = pytest.mark.django_db


def dead_holder() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:task-of-a-killed-worker"


def in_a_minute():
    return timezone.now() + dt.timedelta(seconds=60)


def test_a_render_whose_worker_process_is_gone_is_taken_over_at_once():
    # Given a render leased a moment ago by a worker process that no longer exists
    variant = VariantFactory(
        status=VariantStatus.RENDERING,
        fragments_order=[],  # the render itself fails fast: only the claim matters
        lease_holder=dead_holder(),
        lease_expires_at=in_a_minute(),
    )

    # When a redelivered message renders it
    variant_render(variant_id=variant.pk, holder=lease_holder_name("redelivered"))

    # Then it took the render over without waiting for the lease (and went on to fail
    # on its empty plan, which proves it claimed it)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "needs fragments" in variant.failure_reason


def test_a_render_held_by_a_live_worker_is_left_alone():
    variant = VariantFactory(
        status=VariantStatus.RENDERING,
        fragments_order=[],
        lease_holder=lease_holder_name("the-live-task"),
        lease_expires_at=in_a_minute(),
    )

    variant_render(variant_id=variant.pk, holder=lease_holder_name("a-duplicate"))

    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERING


def test_a_render_whose_lease_ran_out_is_taken_over_even_from_another_machine():
    variant = VariantFactory(
        status=VariantStatus.RENDERING,
        fragments_order=[],
        lease_holder="other-host:123:task",
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1),
    )

    variant_render(variant_id=variant.pk, holder=lease_holder_name("sweep"))

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED


def test_a_superseded_message_does_nothing():
    # Given a draft whose one message is token "new"
    variant = VariantFactory(status=VariantStatus.DRAFT, dispatch_token="new")

    # When an older message (token "old") arrives
    variant_render(variant_id=variant.pk, token="old")

    # Then it left the draft to the current message
    variant.refresh_from_db()
    assert variant.status == VariantStatus.DRAFT and variant.dispatch_token == "new"


def test_only_work_without_a_message_in_flight_is_sent_again():
    # Given variants in every situation
    now = timezone.now()
    queued = VariantFactory(status=VariantStatus.DRAFT, dispatch_token="queued")
    lost = VariantFactory(status=VariantStatus.RENDERED, dispatch_token="lost")
    never = VariantFactory(status=VariantStatus.DRAFT)
    alive = VariantFactory(
        status=VariantStatus.UPLOADING,
        dispatch_token="t1",
        lease_holder=lease_holder_name("alive"),
        lease_expires_at=in_a_minute(),
    )
    gone = VariantFactory(
        status=VariantStatus.RENDERING,
        dispatch_token="t2",
        lease_holder=dead_holder(),
        lease_expires_at=in_a_minute(),
    )

    # When the broker holds only the "queued" message
    work = variants_needing_work(
        queued_tokens=frozenset({"queued"}),
        now=now,
        dispatch_stale_after=dt.timedelta(minutes=30),
    )

    # Then exactly the lost, the never-sent and the abandoned work is sent again
    kinds = {item.variant_id: item.kind for item in work}
    assert kinds == {
        lost.pk: WorkKind.UPLOAD,
        never.pk: WorkKind.RENDER,
        gone.pk: WorkKind.RESUME_RENDER,
    }
    assert queued.pk not in kinds and alive.pk not in kinds


def test_leaving_a_working_state_ends_the_lease_and_reaching_testing_the_dispatch():
    from variants.services.lifecycle import variant_transition

    variant = VariantFactory(
        status=VariantStatus.UPLOADING,
        dispatch_token="t",
        lease_holder="h:1:t",
        lease_expires_at=in_a_minute(),
    )

    variant_transition(
        variant_id=variant.pk,
        from_statuses=[VariantStatus.UPLOADING],
        to_status=VariantStatus.TESTING,
    )

    row = CreativeVariant.objects.values(
        "lease_holder", "lease_expires_at", "dispatch_token"
    ).get(pk=variant.pk)
    assert row == {"lease_holder": "", "lease_expires_at": None, "dispatch_token": ""}


def test_one_claim_rule_judges_a_variant_and_a_row_alike():
    # The render, the upload and the sweep all ask `Claim`: a live holder's claim
    # is kept, a dead one's is abandoned, a task's own retry may take it back, and a
    # claim from before leases is judged by its age alone.
    now = timezone.now()
    stale = dt.timedelta(minutes=30)
    live = f"{socket.gethostname()}:1:task-a"  # pid 1 exists on every machine
    cases = [
        (live, now + dt.timedelta(seconds=60), now, False),
        (dead_holder(), now + dt.timedelta(seconds=60), now, True),
        (live, now - dt.timedelta(seconds=1), now, True),  # the lease ran out
        ("", None, now - dt.timedelta(minutes=10), False),  # a young legacy claim
        ("", None, now - dt.timedelta(minutes=31), True),
    ]
    for holder, expires, claimed, abandoned in cases:
        variant = VariantFactory.build(
            status=VariantStatus.RENDERING,
            lease_holder=holder,
            lease_expires_at=expires,
            status_changed_at=claimed,
        )
        row = {
            "lease_holder": holder,
            "lease_expires_at": expires,
            "status_changed_at": claimed,
        }
        for claim in (Claim.of(variant), Claim.of(row)):
            assert claim.is_abandoned(stale_after=stale, now=now) is abandoned
            assert claim.may_be_taken_by("other:2:task-b", stale_after=stale) is (
                abandoned
            )
    # A retry of the same task takes its own live lease back.
    own = Claim.of(
        {
            "lease_holder": live,
            "lease_expires_at": now + dt.timedelta(seconds=60),
            "status_changed_at": now,
        }
    )
    assert own.may_be_taken_by(f"{socket.gethostname()}:7:task-a", stale_after=stale)
