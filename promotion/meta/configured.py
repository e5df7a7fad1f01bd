"""The Meta Ads client (10.2) for the configured mode.

`get_meta_client()` is the one way services obtain a client: `StubMetaClient` in stub
mode (the default), `GraphMetaClient` in live mode. It lives here, not in the package's
`__init__`, so importing any one piece of `promotion.meta` loads neither client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings

from promotion.meta.graph import GraphMetaClient
from promotion.meta.protocol import (
    MetaAdsClient,
    MetaAttemptRecorder,
    MetaCallObserver,
)
from promotion.meta.stub import StubMetaClient


def get_meta_client(
    *,
    observer: MetaCallObserver | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    attempt_recorder: MetaAttemptRecorder | None = None,
) -> MetaAdsClient:
    """A client for `settings.CREATIVE_ENGINE_MODE`, reporting every call to `observer`.

    `clock` is the stub's sense of time (`run_cycle --as-of` passes the cycle's clock so
    the simulated market moves with it); the live client runs on real time.
    `attempt_recorder` records each HTTP request before it is sent (live only: the
    stub sends nothing).
    """
    if settings.CREATIVE_ENGINE_MODE == "live":
        return GraphMetaClient.from_settings(
            observer=observer, attempt_recorder=attempt_recorder
        )
    return StubMetaClient(
        seed=settings.META_STUB_SEED,
        failure_rate=settings.META_STUB_UPLOAD_FAILURE_RATE,
        observer=observer,
        clock=clock,
        latency_seconds=settings.META_STUB_LATENCY_SECONDS,
    )
