"""API clients per role and a fake DNS (no network in tests)."""

import socket

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.fake_dns import fake_getaddrinfo


@pytest.fixture(autouse=True)
def _api_isolation(monkeypatch, settings):
    """DNS answers come from FAKE_DNS (throttle counters: tests/conftest.py)."""
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


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
