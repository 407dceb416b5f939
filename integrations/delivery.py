"""Delivery adapters (DESIGN §8): Slack (slack_sdk), Slack incoming webhooks, signed webhooks, a log,
and the pacer that keeps Slack channels to one message a second across every worker.

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

from pipeline.errors import DeliveryRejected, DeliveryTransient
from pipeline.names import SLACK_PACE_MS, slack_pace_key
from settings import Settings

SIGNATURE_HEADER = "X-Sightline-Signature"
TIMESTAMP_HEADER = "X-Sightline-Timestamp"
LOG_FILE = "deliveries.jsonl"


def post_to(target: dict[str, Any], message: dict[str, Any], settings: Settings, now: datetime) -> str | None:
    """Send `message` to one target (`slack` needs its `token`); the Slack message ts, if any.

    Raises `DeliveryTransient` or `DeliveryRejected`.
    """
    kind = target.get("type")
    text, blocks = message.get("slack") or "", message.get("slack_blocks") or []
    if kind == "slack":
        return post_slack(target["token"], str(target["channel"]), text, blocks, settings)
    if kind == "slack_webhook":
        post_slack_webhook(str(target["url"]), text, blocks, settings)
        return None
    if kind == "webhook":
        data = {key: value for key, value in message.items() if key not in ("slack", "slack_blocks")}
        payload = {"type": f"sightline.{message['kind']}", "timestamp": now.isoformat(), "data": data}
        post_webhook(str(target["url"]), str(target["secret"]), payload, settings, now)
        return None
    record = {key: value for key, value in message.items() if key != "slack_blocks"}
    append_log(settings.home, {"delivered_at": now.isoformat(), **record})
    return None


def post_slack(token: str, channel: str, text: str, blocks: list[dict], settings: Settings) -> str:
    """chat.postMessage with Slack's rate-limit handler (it waits Retry-After); returns the message ts."""
    client = WebClient(
        token=token, base_url=settings.slack_base_url, timeout=int(settings.delivery_timeout_s)
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    try:
        response = client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
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
    """At most one message per Slack channel every `SLACK_PACE_MS`, across every worker: a Redis key
    per channel that lives for the interval. Nobody waits here; a caller told to wait comes back later."""

    def __init__(self, client: redis.Redis, namespace: str, interval_ms: int = SLACK_PACE_MS):
        self.client, self.namespace, self.interval_ms = client, namespace, interval_ms

    def take_turn(self, channel: str) -> int:
        """0 when this caller may post to `channel` now; otherwise how many ms until it may try again."""
        key = slack_pace_key(self.namespace, channel)
        if self.client.set(key, 1, nx=True, px=self.interval_ms):
            return 0
        remaining = self.client.pttl(key)
        return remaining if remaining and remaining > 0 else 1
