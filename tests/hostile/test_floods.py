"""Anonymous and bad-token floods meet a 429 before the permission check."""

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/variants/", "/api/productions/", "/meta/creative-engine/status"]


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.API_AUTH_FAILURE_LIMIT = 5
    settings.API_AUTH_FAILURE_WINDOW_SECONDS = 60


def _anonymous() -> APIClient:
    return APIClient(REMOTE_ADDR="203.0.113.50")


def _bad_token() -> APIClient:
    client = APIClient(REMOTE_ADDR="203.0.113.51")
    client.credentials(
        HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567"
    )
    return client


@pytest.mark.parametrize("make_client", [_anonymous, _bad_token])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_flood_of_failed_authentication_is_throttled(make_client, path):
    client = make_client()

    statuses = [client.get(path).status_code for _ in range(8)]

    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 3
    throttled = client.get(path)
    assert throttled.json()["error"]["code"] == "throttled"
    assert "API_AUTH_FAILURE_LIMIT" in throttled.json()["error"]["message"]
    assert 1 <= int(throttled["Retry-After"]) <= 60


def test_the_throttle_holds_even_for_a_right_token_from_that_address(manager_user):
    flood = _bad_token()
    for _ in range(5):
        flood.get("/api/variants/")
    right = APIClient(REMOTE_ADDR="203.0.113.51")
    right.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager_user).key}"
    )

    assert right.get("/api/variants/").status_code == 429


def test_other_addresses_and_working_clients_are_not_slowed(manager_user):
    flood = _anonymous()
    for _ in range(6):
        flood.get("/api/variants/")
    elsewhere = token_client(manager_user)  # 127.0.0.1

    assert [elsewhere.get("/api/variants/").status_code for _ in range(20)] == [
        200
    ] * 20


def test_the_throttle_lifts_when_the_window_has_passed():
    with time_machine.travel("2026-12-02 09:00:00+00:00", tick=False) as clock:
        client = _anonymous()
        for _ in range(5):
            client.get("/api/variants/")
        assert client.get("/api/variants/").status_code == 429

        clock.shift(61)

        assert client.get("/api/variants/").status_code == 401


def test_the_admin_and_other_pages_are_left_to_their_own_guards():
    client = _anonymous()
    for _ in range(10):
        client.get("/api/variants/")

    assert client.get("/admin/login/").status_code == 200
