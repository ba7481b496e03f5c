"""Where a webhook may be sent (SSRF): checked when a subscription is made or changed, and again at each
delivery after resolving the name, and the connection then goes to the very address that was checked.

- The URL: ``http`` or ``https``, a host, no user name or password in it, at most 2,000 characters.
- Every address the host resolves to must be public: not private (10/8, 172.16/12, 192.168/16, fc00::/7),
  loopback, link-local (169.254/16 with the cloud metadata address, fe80::/10), multicast, reserved,
  unspecified, shared (CGNAT 100.64/10), nor an IPv4 address of those carried in IPv6 (``::ffff:127.0.0.1``,
  6to4, Teredo, NAT64), nor otherwise not globally routable (documentation and benchmark ranges). Unless
  ``CHARTERWATCH_WEBHOOKS_ALLOW_PRIVATE_TARGETS`` allows private targets (a closed government network, tests).
- At delivery the name is resolved again (its answer may have changed since: DNS rebinding) and checked
  again; the request connects to the checked address (``PinnedTransport``) with the original Host header
  and TLS server name, follows no redirect, and gives up after short timeouts.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

MAX_URL = 2000
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class TargetRefused(ValueError):
    """The URL, or an address its host resolves to, may not be a webhook's target; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # as in the URL (a name, or an address without brackets)
    port: int


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver). Tests replace this function to play DNS
    rebinding; a name that does not resolve raises ``TargetRefused``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"the host {host!r} does not resolve") from exc
    seen: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


def parse(url: str) -> Target:
    """The URL's parts, or ``TargetRefused`` naming what is wrong with it."""
    if len(url) > MAX_URL:
        raise TargetRefused(f"longer than {MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise TargetRefused("contains white space or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("the scheme must be https or http")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise TargetRefused("a URL with a user name or password is refused (use the signature to authenticate)")
    host = parts.hostname
    if not host:
        raise TargetRefused("names no host")
    if parts.fragment:
        raise TargetRefused("a fragment (#...) is never sent: remove it")
    return Target(url, scheme, host, port or (443 if scheme == "https" else 80))


def refusal(address: str) -> str | None:
    """Why a webhook may not be sent to ``address``, or None if it is a public address."""
    try:
        ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or (ip.teredo[1] if ip.teredo else None) or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = refusal(str(embedded))
            return f"an IPv6 form of an IPv4 address: {inner}" if inner else None
    checks = (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
              ("multicast", ip.is_multicast), ("shared address space (CGNAT)", ip in CGNAT),
              ("private", ip.is_private), ("reserved", ip.is_reserved),
              ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
              ("not globally routable", not ip.is_global))
    for name, hit in checks:
        if hit:
            return f"{ip} is {name}"
    return None


def check(url: str, allow_private: bool, resolver: Resolver | None = None) -> tuple[Target, list[str]]:
    """The target and the addresses it may be sent to now; ``TargetRefused`` if none may (each address the
    name resolves to must be allowed: one private answer among public ones refuses the target)."""
    target = parse(url)
    addresses = (resolver or resolve)(target.host, target.port)
    if not addresses:
        raise TargetRefused(f"the host {target.host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                raise TargetRefused(f"the host {target.host!r} resolves to a non-public address ({reason}); "
                                    "private targets are not allowed (CHARTERWATCH_WEBHOOKS_ALLOW_PRIVATE_TARGETS)")
    return target, addresses


class PinnedTransport(httpx.HTTPTransport):
    """Connects to ``address`` whatever the URL's host: the request keeps its Host header (set from the URL
    when it was built) and, over TLS, the host as server name, so the certificate is checked against it."""

    def __init__(self, address: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._address = address

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        request.url = request.url.copy_with(host=self._address)
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return super().handle_request(request)
