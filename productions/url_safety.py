"""Fetching a master from a URL a human typed, without becoming an SSRF proxy.

A `video_url` is attacker-controlled input: it may point at the cloud metadata service,
at a database on the private network, or at a name that resolves to one. The rules:

1. http and https only, no credentials in the URL, no numeric host tricks
   (`http://2130706433/`, `http://0x7f.1/`, `http://127.1/`);
2. the host is resolved and *every* address must be public: private, loopback,
   link-local, multicast, reserved, unspecified, CGNAT, IPv4-mapped IPv6, NAT64/6to4/
   Teredo wrapping a non-public IPv4, and the cloud metadata addresses are refused;
3. the connection goes to the address that was checked (no second lookup, so DNS
   rebinding cannot swap it), with the original Host header and TLS SNI;
4. redirects are followed by hand, each hop checked again, at most `max_redirects`;
5. size is capped (declared Content-Length and bytes actually received) and time too;
   the body goes to a temporary file renamed into place only on success.

Tests reach a local server by passing `allowed_networks` (and a resolver) to one call;
there is no global switch that turns the checks off.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.core.exceptions import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_LENGTH = 2048
MAX_PORT = 65535
# A single socket read never waits longer than this, so a server that stalls cannot keep
# the worker past its deadline by more than this much.
MAX_READ_WAIT_SECONDS = 15.0
USER_AGENT = "CreativeEngine-MasterFetcher/1.0"

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "168.63.129.16",  # Azure wireserver (a public address, so named here)
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
_INET_ATON_LABEL = re.compile(r"^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$", re.IGNORECASE)
_DOTTED_QUAD = re.compile(
    r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$"
)
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class UnsafeURLError(ValueError):
    """The URL may not be fetched: bad scheme or shape, or it leads to a non-public host."""

    transient = False


class UnresolvedHostError(UnsafeURLError):
    """The host name did not resolve; `transient` when the resolver said "try again"."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class FetchError(Exception):
    """Fetching failed. `transient` says whether trying again later may help."""

    transient = False


class FetchTooLargeError(FetchError):
    pass


class FetchTimeoutError(FetchError):
    transient = True


class FetchHTTPError(FetchError):
    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.transient = status_code >= 500 or status_code in {408, 425, 429}


class FetchRedirectError(FetchError):
    """A redirect whose Location is not a URL: the server's error, not worth a retry."""


class FetchNetworkError(FetchError):
    transient = True


class FetchWriteError(FetchError):
    """The body could not be written here (disk full, folder gone); may pass later."""

    transient = True


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver returns for host (A and AAAA)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvedHostError(
            f"The host {host!r} could not be resolved: {exc}.",
            transient=getattr(exc, "errno", None) == socket.EAI_AGAIN,
        ) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class CheckedTarget:
    """A URL that passed the checks, with the public addresses its host resolved to."""

    url: httpx.URL
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def address_refusal(address: IPAddress) -> str | None:
    """Why this address must not be contacted, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        embedded = _embedded_ipv4(address)
        if embedded is not None and address_refusal(embedded) is not None:
            return f"an IPv6 address wrapping the non-public IPv4 {embedded}"
        if address.scope_id:
            return "a scoped IPv6 address"
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        (
            "carrier-grade NAT",
            isinstance(address, ipaddress.IPv4Address) and address in _CGNAT,
        ),
    )
    for name, matched in checks:
        if matched:
            return f"{'an' if name[0] in 'aeiou' else 'a'} {name} address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def check_url(
    url: str | httpx.URL,
    *,
    resolver: Resolver = system_resolver,
    allowed_networks: Collection[IPNetwork] = (),
) -> CheckedTarget:
    """Parse and check `url`; resolve its host and check every address. Raise if unsafe."""
    parsed = _parse(url)
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    literal = _ip_literal(host)
    raw_addresses: Sequence[str] = [host] if literal else resolver(host, port)
    if not raw_addresses:
        raise UnsafeURLError(f"The host {host!r} resolved to no address.")
    addresses: list[IPAddress] = []
    for raw in raw_addresses:
        try:
            address = ipaddress.ip_address(raw)
        except ValueError as exc:
            raise UnsafeURLError(
                f"The host {host!r} resolved to {raw!r}, not an IP address."
            ) from exc
        if any(address in net for net in allowed_networks):
            addresses.append(address)
            continue
        reason = address_refusal(address)
        if reason is not None:
            raise UnsafeURLError(
                f"Refused {host!r}: it resolves to {address}, {reason}. Masters must "
                "come from a public address."
            )
        addresses.append(address)
    return CheckedTarget(url=parsed, host=host, port=port, addresses=tuple(addresses))


def validate_public_url(
    url: str,
    *,
    resolver: Resolver = system_resolver,
    allowed_networks: Collection[IPNetwork] = (),
) -> None:
    """Raise UnsafeURLError unless `url` is http(s) and every address of its host is public."""
    check_url(url, resolver=resolver, allowed_networks=allowed_networks)


def check_url_shape(url: str) -> None:
    """Every check that needs no DNS: scheme, credentials, host and port shape, and a
    literal address must be public. What a model field can check on any write path,
    offline; names are resolved and checked as a URL arrives and again at fetch."""
    parsed = _parse(url)
    if _ip_literal(parsed.host):
        check_url(parsed)


def validate_public_video_url(url: str) -> None:
    """The check of a video URL as it arrives (API serializers, admin forms): a Django
    ValidationError saying why the worker must not fetch it. Blank passes (no URL).

    The fetcher checks again at fetch time (DNS may have changed) and on every redirect.
    """
    if not url:
        return
    try:
        validate_public_url(url)
    except UnsafeURLError as exc:
        raise ValidationError(str(exc), code="unsafe_url") from exc


def _parse(url: str | httpx.URL) -> httpx.URL:
    if isinstance(url, str):
        if len(url) > MAX_URL_LENGTH:
            raise UnsafeURLError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
        if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
            raise UnsafeURLError(
                "The URL contains whitespace, control characters or backslashes."
            )
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            raise UnsafeURLError(f"The URL could not be parsed: {exc}.") from exc
    else:
        parsed = url
    if parsed.scheme not in {"http", "https"}:
        raise UnsafeURLError(
            f"Only http and https URLs may be fetched, not {parsed.scheme or 'none'!r}."
        )
    if parsed.userinfo:
        raise UnsafeURLError("The URL must not carry a user name or password.")
    host = parsed.host
    if not host:
        raise UnsafeURLError("The URL has no host.")
    if "%" in host:
        raise UnsafeURLError("The URL's host must not be percent-encoded.")
    if parsed.port is not None and not 1 <= parsed.port <= MAX_PORT:
        raise UnsafeURLError(
            f"The URL's port {parsed.port} is not a TCP port: use 1 to {MAX_PORT}."
        )
    if _looks_numeric(host) and not _DOTTED_QUAD.match(host):
        raise UnsafeURLError(
            f"The host {host!r} is a non-standard numeric address; write the address "
            "as four decimal numbers or use a name."
        )
    return parsed


def _looks_numeric(host: str) -> bool:
    """True for hosts that inet_aton would read as an address (0x7f.1, 2130706433)."""
    labels = host.rstrip(".").split(".")
    return bool(labels) and all(_INET_ATON_LABEL.match(label) for label in labels)


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def fetch_to_file(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    timeout_seconds: float,
    resolver: Resolver = system_resolver,
    allowed_networks: Collection[IPNetwork] = (),
    max_redirects: int = 3,
) -> Path:
    """Download `url` to `dest` under the rules above; return `dest`.

    Raises UnsafeURLError (refused before connecting, a redirect's target too),
    FetchTooLargeError, FetchTimeoutError, FetchHTTPError (FetchRedirectError for a
    Location that is not a URL), FetchNetworkError or FetchWriteError: every failure
    is one of the UnsafeURLError / FetchError family. Nothing is left at `dest` (or
    next to it) unless the whole body arrived.
    """
    dest = Path(dest)
    deadline = time.monotonic() + timeout_seconds
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
        )
    except OSError as exc:
        raise FetchWriteError(
            f"The fetched file cannot be written in {dest.parent}: {exc}."
        ) from exc
    tmp_path = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            httpx.Client(
                follow_redirects=False, trust_env=False, http2=False
            ) as client,
        ):
            current: str | httpx.URL = url
            for _hop in range(max_redirects + 1):
                target = check_url(
                    current, resolver=resolver, allowed_networks=allowed_networks
                )
                location = _get_once(
                    client,
                    target,
                    out,
                    max_bytes=max_bytes,
                    deadline=deadline,
                    timeout_seconds=timeout_seconds,
                )
                if location is None:
                    break
                current = location
            else:
                raise FetchError(f"More than {max_redirects} redirects from {url}.")
        os.replace(tmp_path, dest)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        if isinstance(exc, OSError):  # network errors arrive as httpx errors
            raise FetchWriteError(
                f"The fetched file cannot be written to {dest}: {exc}."
            ) from exc
        raise
    return dest


def _get_once(
    client: httpx.Client,
    target: CheckedTarget,
    out,  # type: ignore[no-untyped-def]
    *,
    max_bytes: int,
    deadline: float,
    timeout_seconds: float,
) -> httpx.URL | None:
    """One GET to the pinned address. Returns the next URL on a redirect, else None."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchTimeoutError(f"Fetching took longer than {timeout_seconds:.0f}s.")
    address = target.addresses[0]
    pinned_url = target.url.copy_with(host=str(address))
    default_port = 443 if target.url.scheme == "https" else 80
    host_header = (
        target.host if target.port == default_port else f"{target.host}:{target.port}"
    )
    headers = {
        "Host": host_header,
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
    }
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    timeout = httpx.Timeout(min(remaining, MAX_READ_WAIT_SECONDS))
    try:
        with client.stream(
            "GET", pinned_url, headers=headers, extensions=extensions, timeout=timeout
        ) as response:
            if response.status_code in _REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise FetchHTTPError(
                        f"Redirect {response.status_code} without a Location header.",
                        status_code=response.status_code,
                    )
                return _redirect_target(target.url, location, response.status_code)
            if response.status_code != 200:
                raise FetchHTTPError(
                    f"The server answered {response.status_code} for {target.url}.",
                    status_code=response.status_code,
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchTooLargeError(
                    f"The file is {int(declared)} bytes; the limit is {max_bytes}."
                )
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise FetchTooLargeError(
                        f"The file is larger than the limit of {max_bytes} bytes."
                    )
                out.write(chunk)
                if time.monotonic() > deadline:
                    raise FetchTimeoutError(
                        f"Fetching took longer than {timeout_seconds:.0f}s."
                    )
            if received == 0:
                raise FetchHTTPError(
                    f"The server sent an empty body for {target.url}.", status_code=200
                )
    except httpx.TimeoutException as exc:
        raise FetchTimeoutError(
            f"Fetching {target.url} timed out ({type(exc).__name__})."
        ) from exc
    except httpx.RemoteProtocolError as exc:
        # httpx reads a redirect's Location itself, even when it does not follow it.
        if "location header" in str(exc):
            raise FetchRedirectError(
                f"{target.url} redirected to a Location that is not a valid URL "
                f"({exc})."
            ) from exc
        raise FetchNetworkError(f"Fetching {target.url} failed: {exc}.") from exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise FetchNetworkError(f"Fetching {target.url} failed: {exc}.") from exc
    return None


def _redirect_target(base: httpx.URL, location: str, status_code: int) -> httpx.URL:
    """Where a redirect leads; a Location that is not a URL is the server's error."""
    try:
        return base.join(location)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise FetchRedirectError(
            f"Redirect {status_code} to {location[:200]!r}, which is not a valid URL "
            f"({exc})."
        ) from exc
