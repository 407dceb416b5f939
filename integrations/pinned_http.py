"""POSTs to user-given URLs (webhooks, Slack incoming webhooks) that cannot be turned against the
network Sightline runs in (DESIGN §8).

The host is resolved once; every address it resolves to must be public (`pipeline.addresses`)
unless private ones are allowed; the connection then goes to the checked address (the URL's host
kept in the `Host` header and as the TLS server name, so certificates are still verified against
it). A second resolution, which a DNS-rebinding attacker would answer differently, never happens.
Redirects are not followed blindly: a 307/308 (which repeats the POST) is followed, at most
`MAX_REDIRECTS` times, once its target passed the same checks; any other redirect is refused.

Errors: `DeliveryRejected` (a refused address, a bad URL, a redirect we will not follow) and
`DeliveryTransient` (a name that does not resolve, a timeout, a connection that failed).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.addresses import Address, address_problem, parse_address, url_host_problem
from pipeline.errors import DeliveryRejected, DeliveryTransient

Resolver = Callable[[str, int], Sequence[str]]
MAX_REDIRECTS = 3
FOLLOWED = (307, 308)  # the redirects that repeat the same POST
REDIRECTS = (301, 302, 303, 307, 308)
ALLOW_HINT = "set SIGHTLINE_WEBHOOK_ALLOW_PRIVATE=true to allow private addresses"


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, through the system resolver, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Pinned:
    """Where one request goes: the URL with the checked address as its host, and the name it had."""

    given: str  # the URL as given
    url: httpx.URL
    host_header: str
    server_name: str | None  # the TLS server name (SNI), for https
    address: Address


def pin(
    url: str, *, allow_private: bool, resolve: Resolver = system_resolve, what: str = "the webhook"
) -> Pinned:
    """Resolve `url`'s host once and check every address; the first one is where to connect.

    Raises `DeliveryRejected` for a URL that is not http(s) or an address that is not public (unless
    `allow_private`), `DeliveryTransient` when the name does not resolve.
    """
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DeliveryRejected(f"{what} URL is not a valid URL") from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise DeliveryRejected(f"{what} URL must be http(s) with a host")
    addresses = _addresses(target, resolve, what)
    if not allow_private:
        for address in addresses:
            reason = address_problem(address)
            if reason:
                raise DeliveryRejected(
                    f"{what} host {target.host} resolves to {address}, {reason}; "
                    f"private addresses are refused ({ALLOW_HINT})"
                )
    first = addresses[0]
    server_name = target.host if target.scheme == "https" and parse_address(target.host) is None else None
    host_header = target.netloc.decode("ascii")
    return Pinned(url, target.copy_with(host=str(first)), host_header, server_name, first)


def _addresses(target: httpx.URL, resolve: Resolver, what: str) -> list[Address]:
    literal = parse_address(target.host)
    if literal is not None:
        return [literal]
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        resolved = [parse_address(text) for text in resolve(target.host, port)]
    except (OSError, UnicodeError) as exc:
        raise DeliveryTransient(f"{what} host {target.host} does not resolve") from exc
    addresses = [address for address in resolved if address is not None]
    if not addresses:
        raise DeliveryTransient(f"{what} host {target.host} does not resolve")
    return addresses


def post_pinned(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout_s: float,
    allow_private: bool,
    resolve: Resolver = system_resolve,
    what: str = "the webhook",
) -> httpx.Response:
    """POST `body` to `url` through `pin`, following only checked 307/308 redirects; the response.

    Raises `DeliveryRejected` or `DeliveryTransient` (see `pin`; a timeout or a failed connection is
    transient, a redirect we do not follow is rejected).
    """
    pinned = pin(url, allow_private=allow_private, resolve=resolve, what=what)
    with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            response = _send(client, pinned, body, headers, what)
            if response.status_code not in REDIRECTS:
                return response
            location = response.headers.get("location")
            pinned = follow(
                pinned.given,
                response.status_code,
                location,
                allow_private=allow_private,
                resolve=resolve,
                what=what,
            )
    raise DeliveryRejected(f"{what} redirected more than {MAX_REDIRECTS} times")


def _send(
    client: httpx.Client, pinned: Pinned, body: bytes, headers: Mapping[str, str], what: str
) -> httpx.Response:
    extensions = {"sni_hostname": pinned.server_name} if pinned.server_name else {}
    request = client.build_request(
        "POST",
        pinned.url,
        content=body,
        headers={**headers, "Host": pinned.host_header},
        extensions=extensions,
    )
    try:
        return client.send(request)
    except httpx.TimeoutException as exc:
        raise DeliveryTransient(f"{what} did not answer in time") from exc
    except httpx.HTTPError as exc:
        raise DeliveryTransient(f"{what} could not be reached") from exc


def follow(
    url: str, code: int, location: str | None, *, allow_private: bool, resolve: Resolver, what: str
) -> Pinned:
    """Where a 307/308 redirect (which repeats the POST) from `url` leads, pinned as the first request
    was: its host resolved once and checked. Any other redirect is not followed.

    Raises `DeliveryRejected` for a redirect that is not followed or whose target is refused (the
    reason given), `DeliveryTransient` when the target's name does not resolve.
    """
    if not location:
        raise DeliveryRejected(f"{what} answered {code} without a Location")
    target = urljoin(url, location)
    if code not in FOLLOWED:
        problem = None if allow_private else url_host_problem(target)
        host = urlsplit(target).netloc.rpartition("@")[2] or "nowhere"
        note = f" ({problem}: private addresses are refused)" if problem else ""
        raise DeliveryRejected(f"{what} answered {code}, a redirect to {host}{note}; it was not followed")
    try:
        return pin(target, allow_private=allow_private, resolve=resolve, what="the redirect")
    except DeliveryRejected as exc:
        raise DeliveryRejected(f"{what} answered {code}, a redirect that was not followed: {exc}") from exc
