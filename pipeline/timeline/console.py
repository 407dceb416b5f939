"""Reading the console and network plugin payloads recorded by rrweb and posthog-js."""

from __future__ import annotations

import orjson

# Long enough that redaction sees whole values; the walker shortens after redacting.
MESSAGE_LIMIT = 1000


def console_message(payload: dict) -> str:
    """The logged arguments as one line; posthog-js stores each argument JSON-encoded."""
    arguments = payload.get("payload") or ()
    if not isinstance(arguments, list):
        arguments = [arguments]  # one argument sent bare: never iterate a string by characters
    parts = []
    for argument in arguments:
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


_FETCHES = frozenset({"fetch", "xmlhttprequest"})


def failed_requests(payload: dict) -> list[tuple[str, str, int | None]]:
    """(method, url, status) of each recorded request that failed.

    Failed means a numeric status of 400 or more, or status 0 on a fetch/XHR (a network error).
    Resource timings without a status (images, cross-origin scripts) are not failures.
    """
    failed = []
    for request in payload.get("requests") or ():
        if not isinstance(request, dict) or not isinstance(request.get("name"), str):
            continue
        status = request.get("responseStatus", request.get("status"))
        if isinstance(status, bool) or not isinstance(status, int):
            continue
        if status >= 400 or (status == 0 and request.get("initiatorType") in _FETCHES):
            failed.append((str(request.get("method") or "GET").upper()[:10], request["name"], status or None))
    return failed
