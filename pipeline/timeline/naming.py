"""Naming things in the timeline: elements through each window's DOM mirror, and URLs.

Everything returned here has been through the `Redactor`, and is short.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pipeline.dom import DomMirror, is_disabled, is_form_field, is_interactive, selector
from pipeline.redact import Redactor

URL_LIMIT = 120
UNKNOWN = "unknown element"


def shorten(text: str, limit: int) -> str:
    """Cut already-redacted text to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value: object) -> float | None:
    """A coordinate or size from the recording, or None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


class Namer:
    def __init__(self, redactor: Redactor):
        self.redactor = redactor
        self.mirrors: dict[str | None, DomMirror] = {}
        self.origin: str | None = None

    def mirror(self, window: str | None) -> DomMirror:
        mirror = self.mirrors.get(window)
        if mirror is None:
            mirror = self.mirrors[window] = DomMirror()
        return mirror

    def url(self, url: str) -> str:
        """Redacted, shortened to its path on the first page's origin, at most `URL_LIMIT` characters."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if self.origin is None:
            self.origin = origin
        shown = self.redactor.redact_url(url)
        if origin == self.origin and parts.netloc:
            shown_parts = urlsplit(shown)
            shown = (shown_parts.path or "/") + (f"?{shown_parts.query}" if shown_parts.query else "")
        return shorten(shown, URL_LIMIT)

    def _target(self, window: str | None, node_id: object):
        mirror = self.mirrors.get(window)
        return mirror.target(node_id) if mirror is not None and isinstance(node_id, int) else None

    def describe(self, window: str | None, node_id: object) -> tuple[str, bool, bool]:
        """(description, interactive?, disabled?) of the element a person meant."""
        node = self._target(window, node_id)
        if node is None:
            return UNKNOWN, False, False
        text = self.mirrors[window].describe(node, self.redactor.redact)
        return text, is_interactive(node), is_disabled(node)

    def selector(self, window: str | None, node_id: object) -> str:
        """The compact name of an element (no text), for scroll targets."""
        mirror = self.mirrors.get(window)
        node = mirror.node(node_id) if mirror is not None else None
        return self.redactor.redact(selector(node)) if node is not None and node.tag is not None else UNKNOWN

    def is_field(self, window: str | None, node_id: object) -> bool:
        node = self._target(window, node_id)
        return node is not None and is_form_field(node)
