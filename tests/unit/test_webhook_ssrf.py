"""The SSRF guard: what a webhook URL may not lead to, however it is written, and the allow list
that lets development receivers through. Host names resolve through a patched resolver."""

from __future__ import annotations

import asyncio
import socket
from ipaddress import IPv4Address, IPv6Address

import pytest

from rivya.net.ssrf import AllowList
from rivya.webhooks.ssrf import WebhookURLRejected, check_url

NOTHING = AllowList()
NOT_ALLOWED, INVALID, UNRESOLVABLE = (
    "webhook_url_not_allowed",
    "webhook_url_invalid",
    "webhook_url_unresolvable",
)


@pytest.fixture
async def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The names the resolver knows (A and AAAA records together); others do not resolve."""
    records: dict[str, list[str]] = {}

    async def getaddrinfo(
        host: str, port: int, *, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[int, int, int, str, tuple[str, int] | tuple[str, int, int, int]]]:
        if host not in records:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in records[host]
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    return records


async def refused(url: str, allow: AllowList = NOTHING) -> WebhookURLRejected:
    with pytest.raises(WebhookURLRejected) as caught:
        await check_url(url, allow)
    return caught.value


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.000.000.001",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[0:0:0:0:0:ffff:7f00:1]",
        "[::127.0.0.1]",
        "[2002:7f00:1::]",  # 6to4 around 127.0.0.1
        "[64:ff9b::7f00:1]",  # NAT64 around 127.0.0.1
    ],
)
async def test_loopback_is_refused_in_every_form(host: str) -> None:
    error = await refused(f"https://{host}/hooks")
    assert error.code in (NOT_ALLOWED, INVALID)
    assert "public" in error.message or "non-standard" in error.message or "valid" in error.message


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("10.0.0.1", "private"),
        ("10.255.255.254", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.1", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "private"),
        ("198.18.0.1", "private"),
        ("[fc00::1]", "private"),
        ("[fd12:3456::1]", "private"),
        ("[fe80::1]", "link-local"),
        ("[ff02::1]", "multicast"),
        ("[::]", "unspecified"),
        ("[::ffff:10.0.0.1]", "private"),
        ("[::ffff:169.254.169.254]", "link-local"),
        ("[2001:db8::1]", "private"),
    ],
)
async def test_non_public_addresses_are_refused(host: str, kind: str) -> None:
    error = await refused(f"https://{host}/hooks")
    assert error.code == NOT_ALLOWED
    assert f"({kind})" in error.message


async def test_a_public_address_is_accepted() -> None:
    target = await check_url("https://8.8.8.8:8443/hooks?x=1", NOTHING)
    assert target.addresses == (IPv4Address("8.8.8.8"),)
    assert (target.scheme, target.host, target.port) == ("https", "8.8.8.8", 8443)
    assert target.url == "https://8.8.8.8:8443/hooks?x=1"


async def test_plain_http_is_refused() -> None:
    error = await refused("http://8.8.8.8/hooks")
    assert error.code == NOT_ALLOWED and "https" in error.message


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@8.8.8.8/hooks",
        "https://user@8.8.8.8/hooks",
        "https://[fe80::1%25eth0]/hooks",
    ],
)
async def test_userinfo_and_zone_ids_are_refused(url: str) -> None:
    assert (await refused(url)).code == NOT_ALLOWED


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hooks",
        "file:///etc/passwd",
        "/hooks",
        "https://",
        "https://exa mple.com/",
        "https://exa%6dple.com/",
        "https://-bad-.example.com/",
        "https://8.8.8.8:0/",
        "https://example.com/" + "a" * 2048,
    ],
)
async def test_malformed_urls_are_invalid(url: str) -> None:
    assert (await refused(url)).code == INVALID


async def test_a_host_resolving_to_a_private_address_is_refused(dns: dict[str, list[str]]) -> None:
    dns["hooks.example.com"] = ["10.0.0.7"]
    error = await refused("https://hooks.example.com/hooks")
    assert error.code == NOT_ALLOWED
    assert "hooks.example.com resolves to 10.0.0.7 (private)" in error.message


async def test_every_resolved_address_must_be_public(dns: dict[str, list[str]]) -> None:
    """One internal address among public ones is enough to refuse: the connection could go to
    any of them."""
    dns["mixed.example.com"] = [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "fd00::5",
    ]
    error = await refused("https://mixed.example.com/hooks")
    assert "fd00::5 (private)" in error.message
    dns["mapped.example.com"] = ["::ffff:127.0.0.1"]
    assert "127.0.0.1 (loopback)" in (await refused("https://mapped.example.com/")).message


async def test_a_public_host_gives_its_checked_addresses(dns: dict[str, list[str]]) -> None:
    dns["hooks.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    target = await check_url("https://Hooks.Example.com/in", NOTHING)
    assert target.host == "hooks.example.com" and target.port == 443
    assert target.addresses == (
        IPv4Address("93.184.215.14"),
        IPv6Address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
    )


async def test_an_unresolvable_host_is_refused(dns: dict[str, list[str]]) -> None:
    error = await refused("https://nowhere.example.com/hooks")
    assert error.code == UNRESOLVABLE


async def test_an_internationalised_host_is_checked_in_its_ascii_form(
    dns: dict[str, list[str]],
) -> None:
    dns["xn--bcher-kva.example"] = ["93.184.215.14"]
    target = await check_url("https://bücher.example/hooks", NOTHING)
    assert target.host == "xn--bcher-kva.example"
    assert target.url == "https://xn--bcher-kva.example/hooks"


async def test_the_allow_list_lets_listed_addresses_through_over_http() -> None:
    allow = AllowList.parse("127.0.0.1")
    target = await check_url("http://127.0.0.1:8080/hooks", allow)
    assert target.addresses == (IPv4Address("127.0.0.1"),)
    assert (await check_url("https://127.0.0.1/hooks", allow)).port == 443
    # Only what is listed.
    assert (await refused("http://[::1]/hooks", allow)).code == NOT_ALLOWED
    assert (await refused("https://10.0.0.1/hooks", allow)).code == NOT_ALLOWED
    assert "https" in (await refused("http://8.8.8.8/hooks", allow)).message
    # Non-standard forms stay refused: the list holds addresses, not spellings.
    assert (await refused("http://2130706433/hooks", allow)).code == NOT_ALLOWED


async def test_the_allow_list_takes_host_names_and_networks(dns: dict[str, list[str]]) -> None:
    dns["receiver.internal"] = ["10.1.2.3"]
    dns["other.internal"] = ["10.1.2.4"]
    by_name = AllowList.parse("Receiver.Internal.")
    assert (await check_url("http://receiver.internal/hooks", by_name)).addresses == (
        IPv4Address("10.1.2.3"),
    )
    assert (await refused("http://other.internal/hooks", by_name)).code == NOT_ALLOWED
    by_network = AllowList.parse(" 10.0.0.0/8 , fd00::/8")
    assert (await check_url("http://other.internal/hooks", by_network)).host == "other.internal"
    assert (await check_url("http://[fd00::1]/", by_network)).addresses == (IPv6Address("fd00::1"),)


def test_the_allow_list_refuses_what_it_cannot_read() -> None:
    assert not AllowList.parse("") and not AllowList.parse(" , ")
    with pytest.raises(ValueError, match="not a host"):
        AllowList.parse("127.0.0.1, http://localhost")
