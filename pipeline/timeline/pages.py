"""Page loads: telling a navigation, a reload and an rrweb checkout apart, per window.

rrweb starts each page load with a Meta (the URL) and a FullSnapshot. The same pair for the URL
already shown is either a reload or a *checkout*: the recorder re-taking the page it is on
(`checkoutEveryNms`, posthog-js after an idle spell). Node ids come from a counter that lives
as long as the page, so a reload restarts them (the new snapshot's document id is no larger
than the last one's; in real recordings both are 1) while a checkout continues them. A
DomContentLoaded or Load event before the Meta also means the page was loaded again.
"""

from __future__ import annotations

NAVIGATE, RELOAD = "navigate", "reload"


class PageLoads:
    """Feed it every Meta, load event, snapshot and page view of a walk, in order."""

    def __init__(self) -> None:
        self.urls: dict[str | None, str] = {}  # each window's current URL, as recorded
        self._roots: dict[str | None, int] = {}  # each window's last snapshot's document id
        self._loading: set[str | None] = set()  # windows with a load event since their last Meta
        self._pending: dict[str | None, float] = {}  # a same-URL Meta waiting for its snapshot

    def load_event(self, window: str | None) -> None:
        """A DomContentLoaded or Load event: the page in `window` is (re)loading."""
        self._loading.add(window)

    def meta(self, t: float, href: object, window: str | None) -> str | None:
        """NAVIGATE for a new URL, RELOAD for a reload known at once, else None.

        A Meta for the URL already shown without a load event is decided by its snapshot.
        """
        loading = window in self._loading
        self._loading.discard(window)
        if not isinstance(href, str) or not href:
            return None
        if self.urls.get(window) != href:
            self.urls[window] = href
            return NAVIGATE
        if loading:
            return RELOAD
        self._pending[window] = t
        return None

    def snapshot(self, root: dict, window: str | None) -> float | None:
        """The time of the Meta this snapshot shows to be a reload, or None (a checkout or a new page)."""
        pending = self._pending.pop(window, None)
        root_id, previous = root.get("id"), self._roots.get(window)
        if isinstance(root_id, int):
            self._roots[window] = root_id
        if pending is None or not isinstance(root_id, int) or previous is None:
            return None
        return pending if root_id <= previous else None

    def page_view(self, href: object, window: str | None) -> bool:
        """Is a page view (`$pageview`) for a new URL? Repeats of the current one are not."""
        if not isinstance(href, str) or not href or self.urls.get(window) == href:
            return False
        self.urls[window] = href
        return True
