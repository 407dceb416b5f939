"""Delivery adapters (DESIGN §8): Slack (`integrations.slack`), signed webhooks, a log, and the
pacer that keeps Slack channels to one message a second across every worker.

Errors are classified once here and in the adapters: `DeliveryTransient` (429, 5xx, timeouts,
connection errors: retried) and `DeliveryRejected` (anything else: the delivery fails with our own
message). Provider error text is kept out of stored errors except Slack's short error code.

Every webhook request names its delivery (`X-Sightline-Delivery`, and `delivery_id` in the signed
body), the same on every retry, so that a receiver can drop a repeat: a timed-out request may have
been taken. Webhook URLs go through `pinned_http` (public addresses only, one resolution).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from integrations.pinned_http import Resolver, pin, post_pinned, system_resolve
from integrations.slack import Attempt, post_slack, post_slack_webhook
from pipeline.errors import DeliveryRejected, DeliveryTransient
from pipeline.names import SLACK_PACE_MS, slack_pace_key
from settings import Settings

SIGNATURE_HEADER = "X-Sightline-Signature"
TIMESTAMP_HEADER = "X-Sightline-Timestamp"
DELIVERY_HEADER = "X-Sightline-Delivery"
LOG_FILE = "deliveries.jsonl"


def post_to(
    target: dict[str, Any], message: dict[str, Any], settings: Settings, now: datetime, attempt: Attempt
) -> str | None:
    """Send `message` to one target (`slack` needs its `token`); the Slack message ts, if any.

    Raises `DeliveryTransient` or `DeliveryRejected`.
    """
    kind = target.get("type")
    text, blocks = message.get("slack") or "", message.get("slack_blocks") or []
    if kind == "slack":
        return post_slack(target["token"], str(target["channel"]), text, blocks, settings, attempt)
    if kind == "slack_webhook":
        post_slack_webhook(str(target["url"]), text, blocks, settings)
        return None
    if kind == "webhook":
        data = {key: value for key, value in message.items() if key not in ("slack", "slack_blocks")}
        payload = {
            "type": f"sightline.{message['kind']}",
            "delivery_id": attempt.delivery_id,
            "timestamp": now.isoformat(),
            "data": data,
        }
        post_webhook(str(target["url"]), str(target["secret"]), payload, settings, now, attempt.delivery_id)
        return None
    record = {key: value for key, value in message.items() if key != "slack_blocks"}
    append_log(settings.home, {"delivered_at": now.isoformat(), **record})
    return None


def check_address(url: str, allow_private: bool, resolve: Resolver = system_resolve) -> None:
    """Refuse URLs whose host is (or resolves to) a private, loopback, link-local, metadata or
    reserved address: `DeliveryRejected` (`DeliveryTransient` when the name does not resolve)."""
    pin(url, allow_private=allow_private, resolve=resolve)


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


def post_webhook(
    url: str,
    secret: str,
    payload: dict[str, Any],
    settings: Settings,
    now: datetime,
    delivery_id: str,
    *,
    resolve: Resolver = system_resolve,
) -> int:
    """POST the signed payload; the receiver's status. Raises `DeliveryTransient` or `DeliveryRejected`."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    stamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(secret, stamp, body),
        DELIVERY_HEADER: delivery_id,
        "User-Agent": "Sightline-Webhook/1",
    }
    response = post_pinned(
        url,
        body,
        headers,
        timeout_s=settings.delivery_timeout_s,
        allow_private=settings.webhook_allow_private,
        resolve=resolve,
    )
    code = response.status_code
    if code == 429 or code >= 500:
        raise DeliveryTransient(f"the webhook answered {code}")
    if code >= 300:
        raise DeliveryRejected(f"the webhook refused the delivery ({code})")
    return code


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
