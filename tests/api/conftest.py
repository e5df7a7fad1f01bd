"""API clients per role, a fresh throttle cache, and a fake DNS (no network in tests)."""

import socket

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.fake_dns import fake_getaddrinfo
from tests.factories import FragmentFactory, ProductionFactory


@pytest.fixture(autouse=True)
def _api_isolation(monkeypatch, settings):
    """Throttle counters start at zero per test; DNS answers come from FAKE_DNS."""
    cache.clear()
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    yield
    cache.clear()


def token_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def manager_api(manager_user) -> APIClient:
    return token_client(manager_user)


@pytest.fixture
def admin_api(admin_user_engine) -> APIClient:
    return token_client(admin_user_engine)


@pytest.fixture
def outsider_api(outsider_user) -> APIClient:
    return token_client(outsider_user)


@pytest.fixture
def anonymous_api(db) -> APIClient:
    return APIClient()


def master_with_fragments(**master_kwargs):
    """A 30-second master with approved hook, body, CTA and outro cuts (enough for a
    batch of variants)."""
    master = ProductionFactory(duration=30.0, **master_kwargs)
    for fragment_type, start, end in [
        ("hook", 0.0, 3.0),
        ("hook", 3.0, 5.5),
        ("body", 5.5, 12.0),
        ("body", 12.0, 17.0),
        ("cta", 17.0, 21.0),
        ("outro", 21.0, 24.0),
    ]:
        FragmentFactory(
            master_creative=master,
            fragment_type=fragment_type,
            start_time=start,
            end_time=end,
        )
    return master
