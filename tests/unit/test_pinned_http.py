"""Webhook requests go to the address that was checked (integrations/pinned_http.py): one resolution,
every address checked, no redirect followed unchecked. Receivers are local HTTP servers; only the
resolver is injected."""

from __future__ import annotations

import socket

import pytest

from integrations.pinned_http import follow, pin, post_pinned
from pipeline.errors import DeliveryRejected, DeliveryTransient
from tests.support.receiver import Receiver

PUBLIC = "93.184.215.14"


class Resolver:
    """A DNS that answers each question with the next of its `answers`, and remembers the questions."""

    def __init__(self, *answers: list[str]):
        self.answers, self.asked = list(answers), []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


def test_the_request_goes_to_the_address_resolved_once_with_the_name_as_host(receiver):
    rebinding = Resolver(["127.0.0.1"], ["127.0.0.2"])  # a second question would get elsewhere
    url = f"http://hooks.example:{receiver.port}/hook"
    response = post_pinned(url, b"{}", {}, timeout_s=5, allow_private=True, resolve=rebinding)
    assert response.status_code == 204 and rebinding.asked == [("hooks.example", receiver.port)]
    (request,) = receiver.received
    assert request.path == "/hook" and request.headers["Host"] == f"hooks.example:{receiver.port}"


def test_the_checked_address_is_the_one_connected_to_and_tls_keeps_the_name():
    rebinding = Resolver([PUBLIC], ["127.0.0.1"])
    pinned = pin("https://hooks.example/hook?x=1", allow_private=False, resolve=rebinding)
    assert str(pinned.address) == PUBLIC and pinned.url.host == PUBLIC and pinned.url.query == b"x=1"
    assert pinned.host_header == "hooks.example" and pinned.server_name == "hooks.example"
    assert len(rebinding.asked) == 1


def test_every_resolved_address_is_checked(receiver):
    mixed = Resolver([PUBLIC, "10.1.2.3"])
    with pytest.raises(DeliveryRejected, match=r"resolves to 10\.1\.2\.3, a private address"):
        post_pinned("https://hooks.example/", b"{}", {}, timeout_s=5, allow_private=False, resolve=mixed)
    mapped = Resolver(["::ffff:127.0.0.1"])
    with pytest.raises(DeliveryRejected, match=r"carrying 127\.0\.0\.1, a loopback address"):
        pin(f"http://hooks.example:{receiver.port}/", allow_private=False, resolve=mapped)
    assert receiver.received == []


@pytest.mark.parametrize("spelling", ["127.0.0.1", "[::1]", "2130706433", "0x7f000001", "[::ffff:7f00:1]"])
def test_a_private_literal_is_refused_before_any_connection(receiver, spelling):
    nobody = Resolver(["8.8.8.8"])
    with pytest.raises(DeliveryRejected, match="private addresses are refused"):
        post_pinned(
            f"http://{spelling}:{receiver.port}/", b"{}", {}, timeout_s=5, allow_private=False, resolve=nobody
        )
    assert receiver.received == [] and nobody.asked == []  # a literal is never looked up


def test_a_name_that_does_not_resolve_may_resolve_later():
    def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(DeliveryTransient, match="does not resolve"):
        pin("https://nowhere.example/", allow_private=False, resolve=failing)


def test_a_redirect_to_a_private_address_is_not_followed():
    public = Resolver([PUBLIC])
    with pytest.raises(
        DeliveryRejected, match=r"302, a redirect to 10\.0\.0\.1:8080 \(10\.0\.0\.1 is a private"
    ):
        follow(
            "https://hooks.example/a",
            302,
            "http://10.0.0.1:8080/x",
            allow_private=False,
            resolve=public,
            what="the webhook",
        )
    rebinding = Resolver(["127.0.0.1"])
    with pytest.raises(
        DeliveryRejected, match=r"307, a redirect that was not followed: .*127\.0\.0\.1, a loopback"
    ):
        follow(
            "https://hooks.example/a",
            307,
            "https://next.example/b",
            allow_private=False,
            resolve=rebinding,
            what="the webhook",
        )
    pinned = follow(
        "https://hooks.example/a", 308, "/b", allow_private=False, resolve=public, what="the webhook"
    )
    assert pinned.given == "https://hooks.example/b" and str(pinned.address) == PUBLIC


def test_only_a_307_or_308_is_followed_and_it_repeats_the_post(receiver):
    with Receiver(307, f"{receiver.url}/moved") as redirecting:
        response = post_pinned(f"{redirecting.url}/hook", b'{"a":1}', {}, timeout_s=5, allow_private=True)
    assert response.status_code == 204 and receiver.received[0].path == "/moved"
    assert receiver.received[0].body == b'{"a":1}'
    refused = pytest.raises(
        DeliveryRejected, match=r"answered 302, a redirect to 127\.0\.0\.1:\d+; it was not followed"
    )
    with Receiver(302, f"{receiver.url}/elsewhere") as redirecting, refused:
        post_pinned(f"{redirecting.url}/hook", b"{}", {}, timeout_s=5, allow_private=True)
    assert len(receiver.received) == 1
