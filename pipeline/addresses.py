"""Which hosts a webhook may reach (DESIGN §8): public addresses only, unless the operator allows
private ones. Pure: it reads address and host spellings, it never resolves a name.

An address is refused when it is loopback, private, link-local, a cloud metadata endpoint, or any
other special-purpose range (RFC 6890), also when it is spelt so as to hide that: the legacy IPv4
forms an `inet_aton` accepts (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`), IPv6 in
brackets, and IPv6 addresses that carry an IPv4 one (IPv4-mapped `::ffff:127.0.0.1`, NAT64
`64:ff9b::7f00:1`, 6to4 `2002:7f00:1::`, Teredo, IPv4-compatible `::127.0.0.1`). Python's own
`is_global` misses several of these, so the ranges are listed here.

A name is refused without DNS only when it is plainly local (`localhost`, `*.internal`, a name
with no dot); every other name is resolved and its addresses checked when the webhook is sent.
"""

from __future__ import annotations

import unicodedata
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import unquote, urlsplit

Address = IPv4Address | IPv6Address

METADATA = frozenset(
    ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS DNS
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
_V4: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "an unspecified address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "a reserved address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a reserved address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a reserved address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),
)
_V6: tuple[tuple[str, str], ...] = (
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("64:ff9b:1::/48", "a private (local-use NAT64) address"),
    ("100::/64", "a reserved address"),
    ("2001:db8::/32", "a documentation address"),
    ("fc00::/7", "a private (unique local) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a private (site-local) address"),
    ("ff00::/8", "a multicast address"),
    ("::/8", "a reserved address"),
)
RANGES: tuple[tuple[IPv4Network | IPv6Network, str], ...] = tuple(
    (ip_network(network), label) for network, label in (*_V4, *_V6)
)
NAT64 = ip_network("64:ff9b::/96")
COMPATIBLE = ip_network("::/96")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan", ".intranet")


def parse_address(host: str) -> Address | None:
    """The address a host spells, in any of the forms above (brackets, zone, legacy IPv4); None for a name."""
    text = unicodedata.normalize("NFKC", unquote(host)).strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) does not change what it is
    if ":" in text:
        try:
            return IPv6Address(text)
        except ValueError:
            return None
    return _legacy_ipv4(text.removesuffix("."))


def _legacy_ipv4(text: str) -> IPv4Address | None:
    """What `inet_aton` makes of `text`: 1 to 4 parts, each decimal, octal (0…) or hex (0x…), the last
    filling the bytes that are left (`127.1` is 127.0.0.1, `2130706433` is too)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    *leading, last = [number for number in numbers if number is not None]
    if any(number > 0xFF for number in leading) or last >= 256 ** (4 - len(leading)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _number(part: str) -> int | None:
    try:
        if part[:2] in ("0x", "0X") and len(part) > 2:
            return int(part[2:], 16)
        if part.startswith("0") and len(part) > 1:
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


def address_problem(address: Address | str) -> str | None:
    """Why `address` is not one a webhook may reach (`"a loopback address"`, `"an IPv6 address
    carrying 127.0.0.1, a loopback address"`); None for a public address."""
    if isinstance(address, str):
        parsed = parse_address(address)
        if parsed is None:
            return "not an IP address"
        address = parsed
    if address in METADATA:
        return "a cloud metadata address"
    inner = _embedded_ipv4(address)
    if inner is not None:
        problem = address_problem(inner)
        return f"an IPv6 address carrying {inner}, {problem}" if problem else None
    for network, label in RANGES:
        if address.version == network.version and address in network:
            return label
    return None if address.is_global else "a reserved address"


def _embedded_ipv4(address: Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: mapped, NAT64, 6to4, Teredo's client, or compatible."""
    if not isinstance(address, IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64 or (address in COMPATIBLE and int(address) > 1):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return address.teredo[1] if address.teredo is not None else None


def host_problem(host: str) -> str | None:
    """Why `host` is refused without asking DNS: an address (any spelling) that is not public, or a
    plainly local name. None for a public address and for any other name (checked when sent)."""
    address = parse_address(host)
    if address is not None:
        problem = address_problem(address)
        if problem is None:
            return None
        spelt = host if host.strip("[]") == str(address) else f"{host} ({address})"
        return f"{spelt} is {problem}"
    name = unicodedata.normalize("NFKC", host).strip().lower().removesuffix(".")
    if name in LOCAL_NAMES or name.endswith(LOCAL_SUFFIXES):
        return f"{name} is a local host name"
    if "." not in name:
        return f"{name} is a name with no domain (resolved inside the local network)"
    return None


def url_host_problem(url: str) -> str | None:
    """`host_problem` of a URL's host; None when it has no host to judge (its shape is checked elsewhere)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host_problem(host) if host else None
