"""On the real broker: however many cycles and sweeps run, the queue holds one message
per variant's next work (its dispatch token), never a second."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from config.celery import app as celery_app
from creative_engine.services.cycle import cycle_execute, cycle_request
from promotion.queued_messages import in_hand_seconds, queued_task_ids
from promotion.tasks import sweep_stuck_work
from tests.factories import VariantFactory, master_with_approved_cuts
from tests.promotion.builders import slots_of
from variants.models import CreativeVariant

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DRAFTS = 6


def _messages_by_queue() -> Counter:
    with celery_app.connection_for_read() as conn:
        client = conn.default_channel.client
        return Counter({q: client.llen(q) for q in ("default", "render", "meta")})


def test_cycles_and_sweeps_leave_one_queued_message_per_variant(
    worker_factory, settings
):
    # Given drafts to render, a broker and no worker yet (everything stays queued);
    # only the broker's answer keeps a message from being sent twice (by age, every
    # dispatch would count as stale at once)
    settings.DISPATCH_STALE_SECONDS = 0
    master = master_with_approved_cuts()
    for n in range(1, DRAFTS + 1):
        VariantFactory(
            parent=master,
            variant_number=n,
            fragments_order=slots_of(master),
            pixel_id=master.authorized_pixels[0],
        )

    # When three cycles run, and the sweep after each
    for _ in range(3):
        run = cycle_request(options={"generate_variants": False})
        cycle_execute(run_id=run.pk)
        sweep_stuck_work.apply()

    # Then each draft has exactly one message waiting: its render (chained upload)
    tokens = set(CreativeVariant.objects.values_list("dispatch_token", flat=True))
    assert len(tokens) == DRAFTS and "" not in tokens
    assert _messages_by_queue() == Counter({"render": DRAFTS})
    assert queued_task_ids() == tokens


def test_a_message_a_worker_took_lately_counts_as_in_flight_until_a_lease_passes(
    worker_factory,
):
    # Given a message on the render queue that a consumer takes without acking it (as
    # a worker holds an outage retry through its countdown); no worker is started
    celery_app.send_task(
        "variants.render_variant", args=["00000000"], task_id="tok-held", queue="render"
    )
    assert "tok-held" in queued_task_ids()
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        message = channel.basic_get("render", no_ack=False)
        assert message is not None
        client = channel.client

        # Then, off the queue but in hand, it still counts: the sweep sends no second
        assert client.llen("render") == 0
        assert "tok-held" in queued_task_ids()

        # When it has been in hand for longer than a lease and the longest countdown
        # (its worker may be dead: the variant's lease decides)
        taken = time.time() - in_hand_seconds() - 5
        client.zadd("unacked_index", {message.delivery_tag: taken})

        # Then it no longer counts
        assert "tok-held" not in queued_task_ids()
