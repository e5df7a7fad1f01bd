"""Builders for the upload/insights/analyzer tests: a master with approved fragments
and a rendered variant whose files are tiny dummies saved through the storage API
(the stub reads a video's size and a poster's bytes, nothing more)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile

from productions.models import CreativeProduction
from promotion.meta.stub import StubMetaClient
from promotion.services.meta_calls import record_meta_call
from tests.factories import (
    VariantFactory,
    master_with_approved_cuts,
)
from variants.choices import VariantStatus
from variants.models import CreativeVariant

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def slots_of(master: CreativeProduction) -> list[dict[str, Any]]:
    return [
        {
            "fragment_id": str(f.id),
            "fragment_type": f.fragment_type,
            "source_in": f.start_time,
            "source_out": f.end_time,
        }
        for f in master.fragment_set.order_by("start_time")
    ]


def rendered_variant(
    master: CreativeProduction | None = None, **kwargs: Any
) -> CreativeVariant:
    master = master or master_with_approved_cuts()
    kwargs.setdefault("fragments_order", slots_of(master))
    kwargs.setdefault("pixel_id", master.authorized_pixels[0])
    variant = VariantFactory(parent=master, status=VariantStatus.RENDERED, **kwargs)
    variant.video_file.save("variant.mp4", ContentFile(b"\x00" * 2048), save=False)
    variant.poster_file.save("poster.jpg", ContentFile(b"\xff\xd8poster"), save=False)
    variant.save(update_fields=["video_file", "poster_file"])
    return variant


def stub_client(
    *,
    seed: int = 7,
    failure_rate: float = 0.0,
    at: dt.datetime = T0,
    **kwargs: Any,
) -> StubMetaClient:
    """A stub logging to PromotionLog, its clock fixed at `at`."""
    return StubMetaClient(
        seed=seed,
        failure_rate=failure_rate,
        observer=record_meta_call,
        clock=lambda: at,
        **kwargs,
    )
