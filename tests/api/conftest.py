"""API clients per role, a fresh throttle cache, and a fake DNS (no network in tests)."""

import socket

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import FragmentFactory, ProductionFactory

# Hosts the fake resolver knows; everything else does not resolve. Public addresses are
# documentation/benchmark ranges that the URL check treats as public.
FAKE_DNS: dict[str, list[str]] = {
    "cdn.example.com": ["93.184.216.34"],
    "media.example.org": ["93.184.216.35", "2606:2800:220:1:248:1893:25c8:1946"],
    "rebind.example.com": ["93.184.216.36", "10.0.0.5"],
    "internal.example.com": ["10.1.2.3"],
    "loopback.example.com": ["127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "v6-loopback.example.com": ["::1"],
    "localhost": ["127.0.0.1", "::1"],
}


def _fake_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    name = host.decode() if isinstance(host, bytes) else str(host)
    name = name.strip("[]").rstrip(".").lower()
    try:  # a literal address resolves to itself, as the real resolver does
        addresses = [str(__import__("ipaddress").ip_address(name))]
    except ValueError:
        addresses = FAKE_DNS.get(name)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    results = []
    for address in addresses:
        fam = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (
            (address, port or 0, 0, 0)
            if fam == socket.AF_INET6
            else (
                address,
                port or 0,
            )
        )
        results.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
    return results


@pytest.fixture(autouse=True)
def _api_isolation(monkeypatch, settings):
    """Throttle counters start at zero per test; DNS answers come from FAKE_DNS."""
    cache.clear()
    monkeypatch.setattr(socket, "getaddrinfo", _fake_getaddrinfo)
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
