"""The SSRF guard (OWASP's server-side request forgery cheat sheet): a URL that someone else chose
(a customer's webhook URL, a file link an upstream model hands back) may only lead to public
addresses.

`check_url` parses the URL with httpx, the parser the sender uses too, so the guard and the sender
cannot disagree about the host. It refuses what an address check could be fooled by (user info,
IPv4 written as one number, in hex, in octal or short, IPv6 zone ids), resolves the host (A and
AAAA) and requires every address to be public. The `Target` it returns carries those addresses:
the sender connects to them (`rivya.net.pinned`) and never resolves the name again, so a DNS
answer that changes in between (DNS rebinding) cannot lead it elsewhere.

Python's own tables were wrong before 3.12.4 (CVE-2024-4032; 3.11 still says 224.0.0.1 and
::127.0.0.1 are global), so an address must be `is_global` AND outside the special-purpose
ranges listed here, after the IPv4 address it carries (IPv4-mapped, 6to4) is taken out
and checked too.

An allow list (host names, addresses or CIDRs, comma-separated: RIVYA_WEBHOOK_ALLOW_HOSTS for
webhooks, RIVYA_UPSTREAM_ALLOW_HOSTS for upstream files) lets development hosts through, over plain
http too.
"""

from __future__ import annotations

import asyncio
import re
import socket
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

import httpx

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_S = 5.0
DEFAULT_PORTS = {"https": 443, "http": 80}

_CGNAT = IPv4Network("100.64.0.0/10")
# IANA special-purpose ranges that are not reachable public unicast, listed here so that the
# answer does not depend on the Python version's tables.
_SPECIAL_PURPOSE = tuple(
    ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible addresses
        "64:ff9b::/96",  # NAT64: would reach an IPv4 address through a translator
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",  # IETF protocol assignments, Teredo among them
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# WHATWG URL: a host whose last label is a number is an IPv4 address, whatever its form.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


class URLRejected(Exception):
    """A URL that Rivya will not connect to; `code` says why: `url_invalid` (malformed),
    `url_not_allowed` (not https, or leads to an address that is not public) or
    `url_unresolvable` (the host has no address). `message` is fit to show to whoever chose the
    URL."""

    def __init__(self, message: str, code: str = "url_not_allowed") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class AllowList:
    """Hosts (by name) and networks that are exempt from the public-address rule and may use
    plain http: development receivers."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """From `host, 127.0.0.1, 10.0.0.0/8, ::1` (empty: nothing allowed). ValueError names an
        entry that is neither a host name nor an address or network."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip().lower().rstrip(".") for e in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError:
                if not all(_LABEL.match(label) for label in entry.split(".")):
                    raise ValueError(f"not a host, address or network: {entry!r}") from None
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.hosts or self.networks)

    def allows_host(self, host: str) -> bool:
        """Whether the host name is listed."""
        return host.rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        """Whether the address lies in a listed network."""
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses to connect to for it (and no others)."""

    url: str  # normalised: an internationalised host is in its ASCII (IDNA) form
    scheme: str
    host: str  # for the Host header and TLS (SNI and the certificate check)
    port: int
    addresses: tuple[IPAddress, ...]


async def check_url(url: str, allow: AllowList, *, subject: str = "URL") -> Target:
    """The target of a URL, or URLRejected saying why Rivya will not connect there (its messages
    call the URL by `subject`, e.g. "webhook URL"). Resolves the host: call it right before
    connecting, and connect to the target's addresses only."""
    parsed = _parse(url, subject)
    host = parsed.raw_host.decode("ascii")
    if parsed.scheme == "http" and not allow:
        raise _plain_http(subject)
    literal = _ip_literal(host, subject)
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    addresses = (literal,) if literal is not None else await _resolve(host, port)
    host_allowed = allow.allows_host(host)
    if not host_allowed:
        for address in addresses:
            if not allow.allows_address(address):
                _require_public(address, None if literal is not None else host, subject)
    if parsed.scheme == "http" and not (
        host_allowed or all(allow.allows_address(a) for a in addresses)
    ):
        raise _plain_http(subject)
    return Target(str(parsed), parsed.scheme, host, port, addresses)


def _parse(url: str, subject: str) -> httpx.URL:
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"A {subject} is at most {MAX_URL_LENGTH} characters long.")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise _invalid(f"The {subject} is not a valid URL: {exc}.") from None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.raw_host:
        raise _invalid(f"A {subject} must be an absolute https:// URL.")
    if parsed.userinfo:
        raise URLRejected(f"A {subject} may not contain a user name or password.")
    if parsed.port == 0:
        raise _invalid(f"Port 0 is not a port a {subject} can lead to.")
    return parsed


def _ip_literal(host: str, subject: str) -> IPAddress | None:
    """The address the host spells, None for a name; refuses the spellings that resolvers read
    as addresses but a quick look does not (`2130706433`, `0x7f000001`, `127.1`, `0177.0.0.1`)."""
    if ":" in host:
        if "%" in host:
            raise URLRejected(f"A {subject} may not contain an IPv6 zone id.")
        try:
            return IPv6Address(host)
        except ValueError:
            raise _invalid(f"{host} is not a valid IPv6 address.") from None
    bare = host.rstrip(".")
    if _NUMERIC_LABEL.match(bare.rsplit(".", 1)[-1]):
        try:
            address = IPv4Address(bare)
        except ValueError:
            address = None
        if address is None or str(address) != bare:
            raise URLRejected(
                f"{host} is an IPv4 address in a non-standard form; "
                "write it as four decimal numbers (a.b.c.d), or use a host name."
            )
        return address
    if len(bare) > 253 or not all(_LABEL.match(label) for label in bare.split(".")):
        raise _invalid(f"{host} is not a valid host name.")
    return None


async def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address of the host, IPv4 and IPv6, in the resolver's order."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        raise URLRejected(
            f"The host {host} could not be resolved.", code="url_unresolvable"
        ) from None
    addresses: dict[IPAddress, None] = {}
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            addresses[ip_address(str(sockaddr[0]))] = None
    if not addresses:
        raise URLRejected(f"The host {host} has no IPv4 or IPv6 address.", code="url_unresolvable")
    return tuple(addresses)


def _require_public(address: IPAddress, resolved_from: str | None, subject: str) -> None:
    for carried in _carried(address):
        kind = _refusal(carried)
        if kind is None:
            continue
        if resolved_from is None:
            where = f"The {subject} leads to {address}"
        else:
            where = f"The host {resolved_from} resolves to {address}"
        if carried != address:
            where += f", which carries {carried}"
        raise URLRejected(f"{where} ({kind}); only public addresses are allowed.")


def _carried(address: IPAddress) -> list[IPAddress]:
    """The address and the IPv4 address it leads to, if any: both must be public. An
    IPv4-mapped address is only another way to write its IPv4 address. (NAT64 and Teredo
    addresses need no unwrapping: their ranges are refused whole.)"""
    if isinstance(address, IPv4Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    found: list[IPAddress] = [address]
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    return found


def _refusal(address: IPAddress) -> str | None:
    """What kind of non-public address this is (for messages), or None for a public one."""
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address in _CGNAT, "carrier-grade NAT"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "non-global"),
        (any(address in network for network in _SPECIAL_PURPOSE), "special-purpose"),
    )
    return next((kind for failed, kind in checks if failed), None)


def _invalid(message: str) -> URLRejected:
    return URLRejected(message, code="url_invalid")


def _plain_http(subject: str) -> URLRejected:
    return URLRejected(f"A {subject} must use https.")
