"""Naming things in the timeline: elements through each window's DOM mirror, and URLs.

Everything returned here has been through the `Redactor`, and is short.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pipeline.dom import DomMirror, Node
from pipeline.redact import Redactor
from pipeline.timeline.elements import (
    UNKNOWN,
    describe,
    is_disabled,
    is_form_field,
    is_interactive,
    selector,
    target,
)
from pipeline.timeline.model import Click

URL_LIMIT = 120
_OTHER_APPS = frozenset({"mailto", "tel", "sms"})


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
            shown = _path_and_query(shown)
        return shorten(shown, URL_LIMIT)

    def target(self, window: str | None, node_id: object) -> Node | None:
        """The element a person meant by an event on `node_id` (see `elements.target`)."""
        mirror = self.mirrors.get(window)
        return target(mirror, node_id) if mirror is not None and isinstance(node_id, int) else None

    def describe(self, window: str | None, node_id: object) -> tuple[str, bool, bool]:
        """(description, interactive?, disabled?) of the element a person meant."""
        node = self.target(window, node_id)
        if node is None:
            return UNKNOWN, False, False
        return self.name(window, node), is_interactive(node), is_disabled(node)

    def name(self, window: str | None, node: Node) -> str:
        """The redacted description of an element already looked up (`describe` in elements)."""
        return describe(self.mirrors[window], node, self.redactor.redact, self.url)

    def selector(self, window: str | None, node_id: object) -> str:
        """The compact name of an element (no text), for scroll targets."""
        mirror = self.mirrors.get(window)
        node = mirror.node(node_id) if mirror is not None else None
        return self.redactor.redact(selector(node)) if node is not None and node.tag is not None else UNKNOWN

    def click(
        self, t: float, node_id: object, window: str | None, at: tuple, tap: bool, page: str | None
    ) -> Click:
        """The `Click` on `node_id` at `at` (x, y): what was meant, in words, and what kind of element it is.

        `page` is the URL of the page clicked on (to tell links that leave it).
        """
        x, y = at
        raw = node_id if isinstance(node_id, int) else None
        node = self.target(window, node_id)
        if node is None:
            described = f"at ({x:g}, {y:g})" if x is not None and y is not None else UNKNOWN
            return Click(t, x, y, window, described, False, False, tap, node=raw)
        return Click(
            t,
            x,
            y,
            window,
            self.name(window, node),
            is_interactive(node),
            is_disabled(node),
            tap,
            is_form_field(node),
            raw,
            node.id,
            leaves_page(node, page),
        )


def leaves_page(node: Node | None, page_url: str | None) -> bool:
    """A link that opens elsewhere: a new tab, a download, another app (`mailto:`) or another origin.

    Clicking one leaves nothing to see in this page's recording, so it is never a dead click.
    """
    if node is None or node.tag != "a":
        return False
    attrs = node.attrs
    if attrs.get("target") == "_blank" or "download" in attrs:
        return True
    href = urlsplit(str(attrs.get("href") or ""))
    if href.scheme.lower() in _OTHER_APPS:
        return True
    if not href.netloc or page_url is None:
        return False  # a relative link stays on the page's origin
    page = urlsplit(page_url)
    return (href.scheme or page.scheme, href.netloc.lower()) != (page.scheme, page.netloc.lower())


def _path_and_query(url: str) -> str:
    """`https://host/a?b#c` → `/a?b`, by hand: a redacted host (`http://[ip]:8000/`) is no longer
    a URL `urlsplit` accepts."""
    rest = url.split("://", 1)[-1]
    ends = [index for index in (rest.find("/"), rest.find("?"), rest.find("#")) if index >= 0]
    rest = rest[min(ends, default=len(rest)) :].split("#", 1)[0]
    return rest if rest.startswith("/") else "/" + rest
