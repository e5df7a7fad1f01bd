"""Fixtures for the Meta clients: a fake Graph API on loopback and a live client
pointed at it (no internet, no real sleeps)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from promotion.meta.graph import GraphMetaClient
from promotion.meta.protocol import MetaCall
from promotion.meta.retry import RetryPolicy
from tests.fakes.graph_server import FakeGraphServer

FAKE_TOKEN = "TOK"
FAKE_PAGE_ID = "2002"
FAKE_INSTAGRAM_USER_ID = "3003"
FAST_RETRY_POLICY = RetryPolicy(
    max_attempts=5,
    base_delay=0.01,
    max_delay=0.05,
    max_inline_wait=30.0,
    rate_limit_base_delay=0.01,
)


@pytest.fixture
def fake_graph() -> Iterator[FakeGraphServer]:
    """A started fake Graph API (account act_1001, token TOK), fresh per test.

    Inject faults with `fake_graph.faults.fail_next / timeout_next /
    lose_response_next / rate_limit_next / upload_interrupt_next`; seed with
    `fake_graph.state.add_adset(...)` and `fake_graph.state.seed_insight(...)`.
    """
    with FakeGraphServer(access_token=FAKE_TOKEN) as server:
        yield server


class Recorder:
    """Collects what the client reports and how long it asked to sleep."""

    def __init__(self) -> None:
        self.calls: list[MetaCall] = []
        self.sleeps: list[float] = []

    def observe(self, call: MetaCall) -> None:
        self.calls.append(call)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def ops(self, operation: str) -> list[MetaCall]:
        return [c for c in self.calls if c.operation == operation]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_client(
    fake_graph: FakeGraphServer, recorder: Recorder
) -> Iterator[Callable[..., GraphMetaClient]]:
    """Build a GraphMetaClient for the fake; keyword arguments override."""
    clients: list[GraphMetaClient] = []

    def build(**overrides: Any) -> GraphMetaClient:
        options: dict[str, Any] = {
            "base_url": fake_graph.base_url,
            "api_version": "v25.0",
            "access_token": FAKE_TOKEN,
            "ad_account_id": fake_graph.state.account_id,
            "page_id": FAKE_PAGE_ID,
            "instagram_user_id": FAKE_INSTAGRAM_USER_ID,
            "timeout": 2.0,
            "observer": recorder.observe,
            "retry_policy": FAST_RETRY_POLICY,
            "sleep": recorder.sleep,
            "rng": random.Random(4),
            "poll_interval": 0.01,
        }
        options.update(overrides)
        client = GraphMetaClient(**options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., GraphMetaClient]) -> GraphMetaClient:
    return make_client()
