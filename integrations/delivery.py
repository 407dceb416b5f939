"""Delivery adapters (DESIGN §8): Slack (slack_sdk), Slack incoming webhooks, signed webhooks, a log.

Errors are classified once here: `DeliveryTransient` (429, 5xx, timeouts, connection errors: retried)
and `DeliveryRejected` (anything else: the delivery fails with our own message). Provider error text
is kept out of stored errors except Slack's short error code.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from pipeline.errors import SightlineError
from settings import Settings

SIGNATURE_HEADER = "X-Sightline-Signature"
TIMESTAMP_HEADER = "X-Sightline-Timestamp"
LOG_FILE = "deliveries.jsonl"


class DeliveryTransient(SightlineError):
    """Worth retrying later: rate limits, server errors, timeouts."""


class DeliveryRejected(SightlineError):
    """Will not work by retrying: a bad token, an unknown channel, a refused address."""


def target_key(target: dict[str, Any]) -> str:
    """The normalised, secret-free name of a target: the Delivery row's unique key."""
    kind = target["type"]
    if kind == "slack":
        return f"slack:{target['integration_id']}:{target['channel']}"
    if kind in ("slack_webhook", "webhook"):
        return f"{kind}:{hashlib.sha256(str(target['url']).encode()).hexdigest()[:16]}"
    return "log"


def post_slack(token: str, channel: str, text: str, blocks: list[dict], settings: Settings) -> str:
    """chat.postMessage with Slack's rate-limit handler (it waits Retry-After); returns the message ts."""
    client = WebClient(
        token=token, base_url=settings.slack_base_url, timeout=int(settings.delivery_timeout_s)
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    try:
        response = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False,
                                           unfurl_media=False)  # fmt: skip
    except SlackApiError as exc:
        status, code = exc.response.status_code, str(exc.response.get("error", "error"))[:64]
        if status == 429 or status >= 500:
            raise DeliveryTransient(f"Slack answered {status} ({code})") from exc
        raise DeliveryRejected(f"Slack refused the message ({code})") from exc
    except (SlackClientError, OSError, TimeoutError) as exc:
        raise DeliveryTransient("Slack could not be reached") from exc
    return str(response.get("ts") or "")


def post_slack_webhook(url: str, text: str, blocks: list[dict], settings: Settings) -> None:
    client = WebhookClient(url, timeout=int(settings.delivery_timeout_s))
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    try:
        response = client.send(text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
    except (SlackClientError, OSError, TimeoutError) as exc:
        raise DeliveryTransient("the Slack webhook could not be reached") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryTransient(f"the Slack webhook answered {response.status_code}")
    if response.status_code != 200:
        raise DeliveryRejected(f"the Slack webhook refused the message ({str(response.body)[:64]})")


def check_address(url: str, allow_private: bool) -> None:
    """Refuse URLs whose host is (or resolves to) a private, loopback, link-local or reserved address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryRejected("the webhook URL must be http(s) with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise DeliveryTransient(f"the webhook host {parts.hostname} does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DeliveryRejected(
                f"the webhook host {parts.hostname} is a private address ({address}); "
                "set SIGHTLINE_WEBHOOK_ALLOW_PRIVATE=true to allow it"
            )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance_s: int = 300
) -> bool:
    """What a receiver does: recompute the signature over timestamp and body, and check freshness."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    return abs(now - stamp) <= tolerance_s and hmac.compare_digest(sign(secret, stamp, body), signature)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a redirect could lead inside
        return None


def post_webhook(url: str, secret: str, payload: dict[str, Any], settings: Settings, now: datetime) -> int:
    check_address(url, settings.webhook_allow_private)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    stamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(secret, stamp, body),
        "User-Agent": "Sightline-Webhook/1",
    }
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=settings.delivery_timeout_s) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        if exc.code == 429 or exc.code >= 500:
            raise DeliveryTransient(f"the webhook answered {exc.code}") from exc
        raise DeliveryRejected(f"the webhook refused the delivery ({exc.code})") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DeliveryTransient("the webhook could not be reached") from exc


def append_log(home: Path, record: dict[str, Any]) -> Path:
    path = home / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


class ChannelPacer:
    """At most one message a second per Slack channel, across every worker (a Redis key per channel)."""

    def __init__(self, client: redis.Redis, namespace: str, interval_ms: int = 1_000):
        self.client, self.namespace, self.interval_ms = client, namespace, interval_ms

    def wait_turn(self, channel_key: str, timeout_s: float = 60.0) -> None:
        key = f"{self.namespace}:sightline:slack-pace:{channel_key}"
        deadline = time.monotonic() + timeout_s
        while not self.client.set(key, 1, nx=True, px=self.interval_ms):
            if time.monotonic() > deadline:
                raise DeliveryTransient("the channel stayed busy")
            remaining = self.client.pttl(key)
            time.sleep(max(0.01, (remaining if remaining and remaining > 0 else 50) / 1000))
