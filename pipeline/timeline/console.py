"""Reading the console and network plugin payloads recorded by rrweb and posthog-js."""

from __future__ import annotations

import orjson

MESSAGE_LIMIT = 160


def console_message(payload: dict) -> str:
    """The logged arguments as one line; posthog-js stores each argument JSON-encoded."""
    parts = []
    for argument in payload.get("payload") or ():
        text = argument if isinstance(argument, str) else str(argument)
        if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
            try:
                text = str(orjson.loads(text[:4000]))
            except orjson.JSONDecodeError:
                text = text[1:-1]
        parts.append(text[: MESSAGE_LIMIT * 2])
    message = " ".join(" ".join(parts).split())
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 1] + "…"
    return message or "(no message)"


def failed_requests(payload: dict) -> list[tuple[str, str, int | None]]:
    """(method, url, status) of each recorded request that failed (status 0, ≥ 400 or none)."""
    failed = []
    for request in payload.get("requests") or ():
        if not isinstance(request, dict) or not isinstance(request.get("name"), str):
            continue
        status = request.get("responseStatus", request.get("status"))
        status = status if isinstance(status, int) else None
        if status is None or status == 0 or status >= 400:
            failed.append((str(request.get("method") or "GET").upper(), request["name"], status or None))
    return failed
