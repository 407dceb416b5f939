"""Custom events (`rrweb.record.addCustomEvent(tag, payload)`): a name and a few of its properties.

`event 'checkout_started' (plan: pro, card: [secret])`: at most `MAX_PROPERTIES` scalar
properties in payload order, `$`-prefixed (internal) keys skipped; every value passes through
`Redactor.redact_field`, so a value whose name says it is secret is never shown.
"""

from __future__ import annotations

from pipeline.redact import Redactor
from pipeline.timeline.naming import shorten

MAX_PROPERTIES = 3
LINE_LIMIT = 100
_NAME_LIMIT = 60
_KEY_LIMIT = 30
_VALUE_LIMIT = 30
_RAW_LIMIT = 500  # read this much of a value, redact it whole, then shorten
_SCALARS = (str, int, float, bool)


def custom_event_text(tag: str, payload: object, redactor: Redactor) -> str:
    """The line for a custom event, redacted and at most `LINE_LIMIT` characters long."""
    name = shorten(redactor.redact(tag[:_RAW_LIMIT]), _NAME_LIMIT)
    shown: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if len(shown) == MAX_PROPERTIES:
                break
            if not isinstance(key, str) or key.startswith("$") or not isinstance(value, _SCALARS):
                continue
            key_shown = shorten(redactor.redact(key[:_RAW_LIMIT]), _KEY_LIMIT)
            value_shown = shorten(redactor.redact_field(key, str(value)[:_RAW_LIMIT]), _VALUE_LIMIT)
            shown.append(f"{key_shown}: {value_shown}")
    properties = f" ({', '.join(shown)})" if shown else ""
    return shorten(f"event {name!r}{properties}", LINE_LIMIT)
