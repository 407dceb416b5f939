"""Slack adapters (DESIGN §8): `chat.postMessage` through slack_sdk, exactly once even when Slack is
slow, and incoming webhooks.

A timeout is not a failure of the post: Slack may have taken the message and answered too late.
Every post carries its delivery id in Slack's message metadata (`SLACK_EVENT_TYPE`); a delivery
that was tried before first reads the channel's recent history (`conversations.history` with
`include_all_metadata`, since a little before the delivery was created, at most `HISTORY_PAGES`
pages) and, when its message is there, returns that message's ts instead of posting again. That
needs the token's `channels:history` (`groups:history` for a private channel) and a channel id; a
history Slack will not show us (a missing scope, a channel given by name) is logged and the post
goes ahead. Incoming webhooks have no history to read: a retry after a timeout may post twice.

Errors: `DeliveryTransient` (429, 5xx, timeouts, connection errors: retried) and
`DeliveryRejected` (anything else). Only Slack's short error code is kept from its answer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from integrations.pinned_http import Resolver, post_pinned, system_resolve
from pipeline.errors import DeliveryRejected, DeliveryTransient
from settings import Settings

log = structlog.get_logger(__name__)
# A timed-out post's retry looks for it in the channel no sooner than this many client timeouts later.
LOOK_AFTER_TIMEOUTS = 3
SLACK_EVENT_TYPE = "sightline_delivery"
HISTORY_PAGE_SIZE = 100
HISTORY_PAGES = 3
# Slack's clock and ours differ a little: look from a bit before the delivery was created.
HISTORY_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class Attempt:
    """Which delivery a post is, and, on a retry, since when an earlier attempt may have posted it."""

    delivery_id: str
    retry_since: datetime | None = None


def delivery_metadata(delivery_id: str) -> dict[str, Any]:
    """The metadata a post carries so that a retry can recognise it in the channel."""
    return {"event_type": SLACK_EVENT_TYPE, "event_payload": {"delivery_id": delivery_id}}


def post_slack(
    token: str, channel: str, text: str, blocks: list[dict], settings: Settings, attempt: Attempt
) -> str:
    """Post to `channel` once: on a retry, the ts of the message an earlier attempt posted, if Slack
    shows it; otherwise chat.postMessage (Slack's 429s wait Retry-After). Returns the message ts."""
    client = _client(token, settings)
    if attempt.retry_since is not None:
        found = find_posted(client, channel, attempt.delivery_id, attempt.retry_since)
        if found is not None:
            log.info("slack_post_found", delivery_id=attempt.delivery_id, ts=found)
            return found
    try:
        response = client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            metadata=delivery_metadata(attempt.delivery_id),
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        raise _api_error(exc, "the message") from exc
    except TimeoutError as exc:
        note = "; it may have been posted, so the retry looks for it in the channel first"
        # Slack may take the post well after our timeout: the retry looks only once it had time to.
        later = LOOK_AFTER_TIMEOUTS * settings.delivery_timeout_s
        raise DeliveryTransient(_late(client, "the message") + note, look_after_s=later) from exc
    except (SlackClientError, OSError) as exc:
        raise DeliveryTransient("Slack could not be reached") from exc
    return str(response.get("ts") or "")


def find_posted(client: WebClient, channel: str, delivery_id: str, since: datetime) -> str | None:
    """The ts of the message in `channel` whose metadata names `delivery_id`, posted since `since`
    (less `HISTORY_MARGIN`), looking at most `HISTORY_PAGES` pages; None when it is not there or
    Slack will not show the history. Raises `DeliveryTransient` when Slack does not answer."""
    oldest = f"{(since - HISTORY_MARGIN).timestamp():.6f}"
    cursor = None
    for _ in range(HISTORY_PAGES):
        page = _history_page(client, channel, oldest, cursor, delivery_id)
        if page is None:
            return None
        for message in page.get("messages") or []:
            if _names(message, delivery_id):
                return str(message.get("ts") or "")
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return None
    return None


def _history_page(
    client: WebClient, channel: str, oldest: str, cursor: str | None, delivery_id: str
) -> dict[str, Any] | None:
    try:
        response = client.conversations_history(
            channel=channel,
            oldest=oldest,
            limit=HISTORY_PAGE_SIZE,
            cursor=cursor,
            include_all_metadata=True,
        )
    except SlackApiError as exc:
        error = _api_error(exc, "the history")
        if isinstance(error, DeliveryTransient):
            raise error from exc
        code = str(exc.response.get("error", "error"))[:64]
        log.warning("slack_history_unreadable", delivery_id=delivery_id, channel=channel, error=code)
        return None
    except TimeoutError as exc:
        raise DeliveryTransient(_late(client, "the history check")) from exc
    except (SlackClientError, OSError) as exc:
        raise DeliveryTransient("Slack could not be reached") from exc
    return dict(response.data) if isinstance(response.data, dict) else None


def _names(message: dict[str, Any], delivery_id: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == SLACK_EVENT_TYPE and payload.get("delivery_id") == delivery_id


def _client(token: str, settings: Settings) -> WebClient:
    # Only Slack's 429 is retried inside the call: it means "not taken". slack_sdk's default retry of
    # a dropped connection could post twice, so a retry is ours, after looking at the channel.
    handlers: list[RetryHandler] = [RateLimitErrorRetryHandler(max_retry_count=3)]
    timeout = math.ceil(settings.delivery_timeout_s)
    return WebClient(token=token, base_url=settings.slack_base_url, timeout=timeout, retry_handlers=handlers)


def _api_error(exc: SlackApiError, what: str) -> DeliveryTransient | DeliveryRejected:
    status, code = exc.response.status_code, str(exc.response.get("error", "error"))[:64]
    if status == 429 or status >= 500:
        return DeliveryTransient(f"Slack answered {status} ({code})")
    return DeliveryRejected(f"Slack refused {what} ({code})")


def _late(client: WebClient, what: str) -> str:
    return f"Slack did not answer {what} within {client.timeout} s"


def post_slack_webhook(
    url: str, text: str, blocks: list[dict], settings: Settings, *, resolve: Resolver = system_resolve
) -> None:
    """POST to an incoming webhook, through the address checks of `pinned_http`. Slack answers `ok`.

    A timeout is retried and may post twice: an incoming webhook cannot be asked what it took.
    """
    body = {"text": text, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}
    response = post_pinned(
        url,
        json.dumps(body, ensure_ascii=False).encode(),
        {"Content-Type": "application/json", "User-Agent": "Sightline-Webhook/1"},
        timeout_s=settings.delivery_timeout_s,
        allow_private=settings.webhook_allow_private,
        resolve=resolve,
        what="the Slack webhook",
    )
    code = response.status_code
    if code == 429 or code >= 500:
        raise DeliveryTransient(f"the Slack webhook answered {code}")
    if code != 200:
        raise DeliveryRejected(f"the Slack webhook refused the message ({code} {response.text[:64]})")
