"""SSRF-safe fetching of master videos, against a real local HTTP server.

The server listens on 127.0.0.1, which the checks refuse by default; the positive path
passes an injected resolver (a fake public name -> 127.0.0.1) and allows 127.0.0.1/32
for that one call. Nothing here touches the network or the system resolver.
"""

import ipaddress
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError

from productions.url_safety import (
    FetchError,
    FetchHTTPError,
    FetchTimeoutError,
    FetchTooLargeError,
    UnresolvedHostError,
    UnsafeURLError,
    fetch_to_file,
    validate_public_url,
    validate_public_video_url,
)

BODY = bytes(range(256)) * 1200  # 300 KiB
LOCAL = [ipaddress.ip_network("127.0.0.1/32")]
FAKE_DNS = {
    "cdn.example.test": ["93.184.216.34"],
    "media.example.test": ["127.0.0.1"],
    "internal.example.test": ["10.20.30.40"],
    "mixed.example.test": ["93.184.216.34", "192.168.0.7"],
    "metadata.example.test": ["169.254.169.254"],
    "v6-loopback.example.test": ["::1"],
    "v6-mapped.example.test": ["::ffff:10.0.0.1"],
    "cgnat.example.test": ["100.64.3.4"],
    "nat64.example.test": ["64:ff9b::a00:1"],
}


def fake_resolver(host, port):
    if host not in FAKE_DNS:
        raise UnsafeURLError(f"The host {host!r} could not be resolved.")
    return FAKE_DNS[host]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        route = getattr(
            self,
            "route_" + url.path.strip("/").replace("-", "_").replace(".", "_"),
            None,
        )
        if route is None:
            self._send(404, b"not found")
        else:
            route(query)

    def _send(self, status, body, headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_video_mp4(self, query):
        self._send(200, BODY, {"Content-Type": "video/mp4"})

    def route_echo_host(self, query):
        self._send(200, self.headers["Host"].encode())

    def route_declared_big(self, query):
        self.send_response(200)
        self.send_header("Content-Length", str(50 * 1024 * 1024))
        self.end_headers()
        self.wfile.write(b"x" * 1024)

    def route_undeclared_big(self, query):
        # No Content-Length: the body runs until the connection closes.
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        for _ in range(64):
            self.wfile.write(b"y" * 65536)
        self.close_connection = True

    def route_trickle(self, query):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(1000):
            self.wfile.write(b"z")
            self.wfile.flush()
            time.sleep(0.05)

    def route_stall(self, query):
        time.sleep(3)
        self._send(200, b"late")

    def route_redirect(self, query):
        self._send(302, b"", {"Location": query["to"][0]})

    def route_status(self, query):
        self._send(int(query["code"][0]), b"status")


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _fetch(url, dest, **kwargs):
    options = {
        "max_bytes": 1024 * 1024,
        "timeout_seconds": 5.0,
        "resolver": fake_resolver,
        "allowed_networks": LOCAL,
    }
    options.update(kwargs)
    return fetch_to_file(url, dest, **options)


HOSTILE_URLS = [
    "http://127.0.0.1/master.mp4",
    "http://[::1]/master.mp4",
    "http://2130706433/master.mp4",
    "http://0x7f.1/master.mp4",
    "http://0x7f000001/master.mp4",
    "http://0177.0.0.1/master.mp4",
    "http://127.1/master.mp4",
    "http://0/master.mp4",
    "http://0.0.0.0/master.mp4",
    "http://10.0.0.1/master.mp4",
    "http://172.16.0.1/master.mp4",
    "http://192.168.1.1/master.mp4",
    "http://100.64.0.1/master.mp4",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://168.63.129.16/machine",
    "http://[fe80::1]/master.mp4",
    "http://[::ffff:127.0.0.1]/master.mp4",
    "http://[::ffff:a00:1]/master.mp4",
    "http://[2002:a00:1::]/master.mp4",
    "http://[64:ff9b::7f00:1]/master.mp4",
    "http://224.0.0.1/master.mp4",
    "http://[ff02::1]/master.mp4",
    "http://255.255.255.255/master.mp4",
    "http://240.0.0.1/master.mp4",
    "http://internal.example.test/master.mp4",
    "http://mixed.example.test/master.mp4",
    "http://metadata.example.test/latest/meta-data/",
    "http://v6-loopback.example.test/master.mp4",
    "http://v6-mapped.example.test/master.mp4",
    "http://cgnat.example.test/master.mp4",
    "http://nat64.example.test/master.mp4",
    "http://does-not-resolve.example.test/master.mp4",
    "http://user:pass@cdn.example.test/master.mp4",
    "http://cdn.example.test@127.0.0.1/master.mp4",
    "http://cdn.example.test\\@127.0.0.1/master.mp4",
    "http://cdn.example.test /master.mp4",
    "file:///etc/passwd",
    "ftp://cdn.example.test/master.mp4",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "javascript:alert(1)",
    "//cdn.example.test/master.mp4",
    "cdn.example.test/master.mp4",
    "",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_url_is_refused(url):
    with pytest.raises(UnsafeURLError):
        validate_public_url(url, resolver=fake_resolver)


def test_the_hostile_corpus_is_large_enough():
    assert len(HOSTILE_URLS) >= 20


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.test/master.mp4",
        "http://cdn.example.test:8080/v/master.mp4?sig=abc",
        "https://93.184.216.34/master.mp4",
    ],
)
def test_a_public_url_is_accepted(url):
    validate_public_url(url, resolver=fake_resolver)


def test_the_local_server_is_refused_without_an_explicit_allowance(server, tmp_path):
    dest = tmp_path / "master.mp4"

    with pytest.raises(UnsafeURLError, match="loopback"):
        _fetch(
            f"http://media.example.test:{server}/video.mp4", dest, allowed_networks=()
        )

    assert list(tmp_path.iterdir()) == []


def test_a_master_is_fetched_from_the_pinned_address_with_its_own_host_name(
    server, tmp_path
):
    calls = []

    def counting_resolver(host, port):
        calls.append(host)
        return fake_resolver(host, port)

    path = _fetch(
        f"http://media.example.test:{server}/video.mp4",
        tmp_path / "master.mp4",
        resolver=counting_resolver,
    )
    host = _fetch(
        f"http://media.example.test:{server}/echo-host", tmp_path / "host.txt"
    )

    assert path.read_bytes() == BODY
    assert host.read_text() == f"media.example.test:{server}"
    # resolved once, and the checked address is the one connected to (no rebinding)
    assert calls == ["media.example.test"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["host.txt", "master.mp4"]


def test_a_declared_size_over_the_cap_is_refused_before_reading(server, tmp_path):
    with pytest.raises(FetchTooLargeError, match="limit"):
        _fetch(f"http://media.example.test:{server}/declared-big", tmp_path / "m.mp4")

    assert list(tmp_path.iterdir()) == []


def test_bytes_over_the_cap_stop_the_download_when_no_size_was_declared(
    server, tmp_path
):
    with pytest.raises(FetchTooLargeError, match="larger than the limit"):
        _fetch(
            f"http://media.example.test:{server}/undeclared-big",
            tmp_path / "m.mp4",
            max_bytes=512 * 1024,
        )

    assert list(tmp_path.iterdir()) == []


def test_a_trickling_server_hits_the_overall_deadline(server, tmp_path):
    started = time.monotonic()

    with pytest.raises(FetchTimeoutError):
        _fetch(
            f"http://media.example.test:{server}/trickle",
            tmp_path / "m.mp4",
            timeout_seconds=1.0,
        )

    assert time.monotonic() - started < 3.0
    assert list(tmp_path.iterdir()) == []


def test_a_stalled_server_times_out(server, tmp_path):
    with pytest.raises(FetchTimeoutError):
        _fetch(
            f"http://media.example.test:{server}/stall",
            tmp_path / "m.mp4",
            timeout_seconds=0.5,
        )


def test_a_redirect_is_followed_and_checked_again(server, tmp_path):
    path = _fetch(
        f"http://media.example.test:{server}/redirect?to=/video.mp4",
        tmp_path / "m.mp4",
    )

    assert path.read_bytes() == BODY


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://internal.example.test/video.mp4",
        "http://[::1]/video.mp4",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_a_forbidden_place_is_refused(server, tmp_path, target):
    with pytest.raises(UnsafeURLError):
        _fetch(
            f"http://media.example.test:{server}/redirect?to={target}",
            tmp_path / "m.mp4",
            allowed_networks=[ipaddress.ip_network("127.0.0.1/32")],
        )

    assert list(tmp_path.iterdir()) == []


def test_too_many_redirects_are_refused(server, tmp_path):
    loop = f"http://media.example.test:{server}/redirect?to=/redirect%3Fto%3D/video.mp4"

    with pytest.raises(FetchError, match="More than 0 redirects"):
        _fetch(loop, tmp_path / "m.mp4", max_redirects=0)


@pytest.mark.parametrize(
    ("code", "transient"), [(404, False), (403, False), (503, True)]
)
def test_http_errors_say_whether_a_retry_may_help(server, tmp_path, code, transient):
    with pytest.raises(FetchHTTPError) as caught:
        _fetch(f"http://media.example.test:{server}/status?code={code}", tmp_path / "m")

    assert caught.value.status_code == code
    assert caught.value.transient is transient
    assert list(tmp_path.iterdir()) == []


def test_a_name_the_resolver_cannot_answer_now_is_a_transient_refusal(monkeypatch):
    def try_again(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", try_again)

    with pytest.raises(UnresolvedHostError) as caught:
        validate_public_url("https://cdn.example.test/master.mp4")

    assert caught.value.transient is True


def test_a_name_that_does_not_exist_is_a_permanent_refusal(monkeypatch):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)

    with pytest.raises(UnresolvedHostError) as caught:
        validate_public_url("https://nowhere.example.test/master.mp4")

    assert caught.value.transient is False


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/master.mp4", "a private address"),
        ("http://[::1]/master.mp4", "a loopback address"),
        ("file:///etc/passwd", "Only http and https"),
    ],
)
def test_a_video_url_arriving_unsafe_is_a_validation_error_saying_why(url, reason):
    with pytest.raises(ValidationError) as refused:
        validate_public_video_url(url)

    assert reason in refused.value.messages[0]
    assert refused.value.code == "unsafe_url"


@pytest.mark.parametrize("url", ["", "https://93.184.216.34/master.mp4"])
def test_a_blank_or_public_video_url_arriving_passes(url):
    validate_public_video_url(url)  # a literal address: no resolver is asked
