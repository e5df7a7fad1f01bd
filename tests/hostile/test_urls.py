"""Hostile video URLs: one check (`productions.url_safety`) on every arrival path, the
API, the admin and the services, and again at fetch, where every failure is one of
the typed UnsafeURLError / FetchError family.

Arrival cases prove a 400 (a form error in the admin) with the reason, and nothing
written; fetch cases run against a real local HTTP server and prove nothing is left
on disk.
"""

import html
import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.urls import reverse

from productions.models import ApprovalAudit, CreativeFragment, CreativeProduction
from productions.url_safety import (
    FetchError,
    FetchRedirectError,
    FetchWriteError,
    UnsafeURLError,
    fetch_to_file,
    validate_public_video_url,
)
from tests.api.fake_dns import fake_getaddrinfo
from tests.factories import ProductionFactory

NOT_PUBLIC = "Masters must come from a public address"
PORT = "is not a TCP port: use 1 to 65535"

# (url, what the refusal must say). Hosts resolve through tests.api.fake_dns.
HOSTILE_URLS = [
    # Ports outside 1-65535 (all passed both checks before).
    ("http://cdn.example.com:0/m.mp4", f"port 0 {PORT}"),
    ("http://cdn.example.com:00/m.mp4", f"port 0 {PORT}"),
    ("https://cdn.example.com:65536/m.mp4", f"port 65536 {PORT}"),
    ("http://cdn.example.com:99999/m.mp4", f"port 99999 {PORT}"),
    ("http://cdn.example.com:-1/m.mp4", f"port -1 {PORT}"),
    ("http://93.184.216.34:0/m.mp4", f"port 0 {PORT}"),
    # Schemes and shapes.
    ("ftp://cdn.example.com/m.mp4", "Only http and https"),
    ("file:///etc/passwd", "Only http and https"),
    ("gopher://cdn.example.com/", "Only http and https"),
    ("javascript:alert(1)", "Only http and https"),
    ("data:video/mp4;base64,AAAA", "Only http and https"),
    ("http://user:pw@cdn.example.com/m.mp4", "user name or password"),
    ("http://cdn.example.com\\@127.0.0.1/", "backslashes"),
    ("http://cdn.example.com/a\tb.mp4", "whitespace, control characters"),
    ("http://%31%32%37.0.0.1/", "percent-encoded"),
    ("http://cdn.example.com/" + "a" * 2100, "longer than 2048 characters"),
    # Numeric host tricks.
    ("http://2130706433/m.mp4", "non-standard numeric address"),
    ("http://0x7f.1/m.mp4", "non-standard numeric address"),
    ("http://127.1/m.mp4", "non-standard numeric address"),
    ("http://017700000001/m.mp4", "non-standard numeric address"),
    # Addresses no worker may contact.
    ("http://127.0.0.1/m.mp4", "a loopback address"),
    ("http://[::1]/m.mp4", "a loopback address"),
    ("http://0.0.0.0/m.mp4", "an unspecified address"),
    ("http://10.0.0.7/m.mp4", "a private address"),
    ("http://192.168.1.1/m.mp4", "a private address"),
    ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
    ("http://[fd00:ec2::254]/latest/", "a cloud metadata address"),
    ("http://100.64.0.1/m.mp4", "a carrier-grade NAT address"),
    ("http://224.0.0.1/m.mp4", "a multicast address"),
    ("http://[::ffff:127.0.0.1]/m.mp4", "an IPv4-mapped IPv6 address"),
    ("http://[64:ff9b::a00:1]/m.mp4", "wrapping the non-public IPv4 10.0.0.1"),
    ("http://[2002:a00:1::]/m.mp4", "wrapping the non-public IPv4 10.0.0.1"),
    # Names that resolve to them (every address must be public).
    ("http://localhost/m.mp4", "a loopback address"),
    ("http://internal.example.com/m.mp4", "a private address"),
    ("http://metadata.example.com/m.mp4", "a cloud metadata address"),
    ("http://rebind.example.com/m.mp4", "it resolves to 10.0.0.5"),
    ("http://v6-loopback.example.com/m.mp4", "a loopback address"),
    ("http://nowhere.example.invalid/m.mp4", "could not be resolved"),
]
CASES = [pytest.param(url, reason, id=url[:60]) for url, reason in HOSTILE_URLS]


def _url_field_accepts(url: str) -> bool:
    """Whether Django's/DRF's URLField lets `url` through to the safety check (its own
    pattern refuses some shapes first, as "Enter a valid URL.")."""
    try:
        URLValidator()(url)
    except ValidationError:
        return False
    return len(url) <= 1000


@pytest.mark.parametrize(("url", "reason"), CASES)
def test_the_one_check_refuses_a_hostile_url_saying_why(url, reason):
    with pytest.raises(ValidationError) as refused:
        validate_public_video_url(url)

    assert reason in refused.value.messages[0]


def _expected_api_message(url: str, reason: str) -> str:
    if len(url) > 1000:
        return "no more than 1000 characters"
    return reason if _url_field_accepts(url) else "Enter a valid URL"


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), CASES)
def test_a_hostile_master_url_is_a_400_and_writes_nothing(manager_api, url, reason):
    response = manager_api.post(
        "/api/productions/",
        {"title": "Hostile", "video_url": url, "duration": 10.0},
        format="json",
    )

    assert response.status_code == 400, response.content[:500]
    messages = " ".join(response.json()["error"]["fields"]["video_url"])
    assert _expected_api_message(url, reason) in messages
    assert not CreativeProduction.objects.exists()
    assert not ApprovalAudit.objects.exists()


SAMPLE = [
    case
    for case in CASES
    if case.values[0]
    in {
        "http://cdn.example.com:0/m.mp4",
        "http://cdn.example.com:99999/m.mp4",
        "https://cdn.example.com:65536/m.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://rebind.example.com/m.mp4",
        "http://user:pw@cdn.example.com/m.mp4",
        "http://[::ffff:127.0.0.1]/m.mp4",
    }
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), SAMPLE)
def test_a_hostile_fragment_url_is_a_400_and_writes_nothing(manager_api, url, reason):
    master = ProductionFactory()

    response = manager_api.post(
        "/api/fragments/",
        {
            "master_creative": str(master.pk),
            "fragment_type": "hook",
            "start_time": 0.0,
            "end_time": 2.0,
            "video_url": url,
        },
        format="json",
    )

    assert response.status_code == 400, response.content[:500]
    assert reason in " ".join(response.json()["error"]["fields"]["video_url"])
    assert not CreativeFragment.objects.exists()


def _admin_master_form(url: str) -> dict:
    return {
        "title": "Hostile",
        "is_active": "on",
        "video_url": url,
        "duration": "20",
        "style_guide": "{}",
        "human_instructions": "",
        "campaign_id": "",
        "adset_id": "",
        "fragment_set-TOTAL_FORMS": "0",
        "fragment_set-INITIAL_FORMS": "0",
        "fragment_set-MIN_NUM_FORMS": "0",
        "fragment_set-MAX_NUM_FORMS": "1000",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), SAMPLE)
def test_a_hostile_url_typed_into_the_admin_add_master_form_is_refused(
    manager_client, url, reason
):
    response = manager_client.post(
        reverse("admin:productions_creativeproduction_add"), _admin_master_form(url)
    )

    assert response.status_code == 200
    assert reason in html.unescape(response.content.decode())
    assert not CreativeProduction.objects.exists()
    assert not ApprovalAudit.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), SAMPLE)
def test_a_hostile_url_typed_into_the_admin_fragment_form_is_refused(
    manager_client, url, reason
):
    master = ProductionFactory()

    response = manager_client.post(
        reverse("admin:productions_creativefragment_add"),
        {
            "master_creative": str(master.pk),
            "fragment_type": "hook",
            "start_time": "0",
            "end_time": "2",
            "video_url": url,
        },
    )

    assert response.status_code == 200
    assert reason in html.unescape(response.content.decode())
    assert not CreativeFragment.objects.exists()


# --- at fetch: a real local server ---------------------------------------------------

LOCAL = [ipaddress.ip_network("127.0.0.1/32")]


def _resolver(host: str, port: int) -> list[str]:
    if host == "media.example.test":
        return ["127.0.0.1"]
    return fake_getaddrinfo(host, port)[0][4][:1]


class _Redirector(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/video.mp4":
            body = b"\x00" * 2048
            self.send_response(200)
        else:
            body = b""
            self.send_response(302)
            # Raw bytes, as a hostile server sends them.
            self.send_header("Location", parse_qs(url.query)["to"][0])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _fetch(url: str, dest: Path) -> Path:
    return fetch_to_file(
        url,
        dest,
        max_bytes=1024 * 1024,
        timeout_seconds=5.0,
        resolver=_resolver,
        allowed_networks=LOCAL,
    )


HOSTILE_REDIRECTS = [
    # A Location that is not a URL: a raw httpx.InvalidURL before.
    ("http://[::1", FetchRedirectError, "is not a valid URL"),
    ("http://[::1]:99999999/", UnsafeURLError, f"port 99999999 {PORT}"),
    ("http://xn--zz-\u00e9.example/", FetchRedirectError, "is not a valid URL"),
    # A Location that is a URL no worker may fetch.
    ("http://cdn.example.com:0/m.mp4", UnsafeURLError, f"port 0 {PORT}"),
    ("http://cdn.example.com:65536/m.mp4", UnsafeURLError, f"port 65536 {PORT}"),
    ("http://cdn.example.com:-1/m.mp4", UnsafeURLError, f"port -1 {PORT}"),
    ("//:0/m.mp4", UnsafeURLError, "The URL has no host"),
    ("http://169.254.169.254/latest/", UnsafeURLError, "a cloud metadata address"),
    ("http://internal.example.com/m.mp4", UnsafeURLError, "a private address"),
    ("file:///etc/passwd", UnsafeURLError, "Only http and https"),
    ("http://0x7f.1/", UnsafeURLError, "non-standard numeric address"),
]


@pytest.mark.parametrize(
    ("location", "error", "message"),
    [pytest.param(*case, id=case[0][:40]) for case in HOSTILE_REDIRECTS],
)
def test_a_hostile_redirect_is_a_typed_fetch_error_and_leaves_nothing(
    server, tmp_path, location, error, message
):
    url = f"http://media.example.test:{server}/hop?to={location}"

    with pytest.raises(error) as refused:
        _fetch(url, tmp_path / "m.mp4")

    assert message in str(refused.value)
    assert isinstance(refused.value, FetchError | UnsafeURLError)
    assert list(tmp_path.iterdir()) == []


def test_a_redirect_error_is_permanent(server, tmp_path):
    with pytest.raises(FetchRedirectError) as refused:
        _fetch(f"http://media.example.test:{server}/hop?to=http://[::1", tmp_path / "m")

    assert refused.value.transient is False


def test_a_fetch_into_a_folder_that_is_gone_is_a_typed_write_error(server, tmp_path):
    with pytest.raises(FetchWriteError, match="cannot be written"):
        _fetch(
            f"http://media.example.test:{server}/video.mp4",
            tmp_path / "gone" / "m.mp4",
        )


def test_a_safe_redirect_still_arrives(server, tmp_path):
    target = f"http://media.example.test:{server}/video.mp4"

    path = _fetch(
        f"http://media.example.test:{server}/hop?to={target}", tmp_path / "m.mp4"
    )

    assert path.read_bytes() == b"\x00" * 2048
