"""A fake system resolver for tests that check URLs as they arrive (no network)."""

import ipaddress
import socket

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


def fake_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    name = host.decode() if isinstance(host, bytes) else str(host)
    name = name.strip("[]").rstrip(".").lower()
    try:  # a literal address resolves to itself, as the real resolver does
        addresses = [str(ipaddress.ip_address(name))]
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
