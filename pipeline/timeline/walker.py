"""One pass over a recording's events: moments to render, and facts for the detectors.

Every piece of page text or URL that reaches a moment goes through the `Redactor` first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pipeline.dom import DomMirror
from pipeline.redact import Redactor
from pipeline.rrweb import CONSOLE_PLUGIN, NETWORK_PLUGIN, USER_SOURCES, EventType, Interaction, Source
from pipeline.timeline.console import console_message, failed_requests
from pipeline.timeline.custom import custom_event_text
from pipeline.timeline.feedback import feedback_text
from pipeline.timeline.inputs import FieldWatch, is_toggle
from pipeline.timeline.model import ACTION, DETAIL, ESSENTIAL, Facts, Moment, order
from pipeline.timeline.naming import Namer, number, shorten
from pipeline.timeline.page_errors import visible_errors
from pipeline.timeline.pages import NAVIGATE, RELOAD, PageLoads
from pipeline.timeline.scrolls import ScrollTracker

IDLE_GAP_S = 10.0
SHOWN_MESSAGE = 160
INPUT_RUN_GAP_S = 10.0
TAP_CLICK_MERGE_S = 0.6
FEEDBACK_AFTER_CLICK_S = 2.0
SHOWN_ERROR = 120
_FOCUSING = frozenset({Interaction.CLICK, Interaction.FOCUS, Interaction.TOUCH_START})


class Walker:
    """Walks sorted events once; read `moments`, `facts` and `warnings` afterwards."""

    def __init__(self, events: Sequence[dict], redactor: Redactor):
        self.events = events
        self.redactor = redactor
        self.t0 = events[0]["timestamp"]
        self.moments: list[Moment] = []
        self.facts = Facts()
        self.warnings: list[str] = []
        self.names = Namer(redactor)
        self.pages = PageLoads()
        self.scrolls = ScrollTracker()
        self.index = 0  # of the event being walked
        self.typing: tuple[str | None, object, float] | None = None
        self.touch: tuple[float, object, bool] | None = None
        self.pending_tap: tuple[float, object, str | None] | None = None
        self.last_activity: float | None = None
        self.loaded_at = float("-inf")  # the last navigation or reload
        self.fields = FieldWatch(events)
        self.errors_shown: set[str] = set()  # since the person last acted: the same error is said once
        self.malformed = 0
        self.inputs = 0  # Input events the person made (the page's own are not counted)

    def run(self) -> Walker:
        ends = self.facts.ends
        for index, event in enumerate(self.events):
            t = (event["timestamp"] - self.t0) / 1000
            data = event.get("data")
            if not isinstance(data, dict):
                continue
            window = event.get("windowId")
            ends[window] = t
            self._flush_tap(t)
            handler = _HANDLERS.get(event["type"])
            if handler is None:
                continue
            self.index = index
            try:
                handler(self, t, data, window)
            except (AttributeError, TypeError, KeyError, ValueError, IndexError):
                self.malformed += 1
        self._flush_tap(float("inf"))
        self._close_idle(None)
        self.moments.extend(self.scrolls.finish())
        self.malformed += sum(mirror.malformed for mirror in self.names.mirrors.values())
        if self.malformed:
            self.warnings.append(f"{self.malformed} malformed events were skipped")
        if not any(mirror.loaded for mirror in self.names.mirrors.values()):
            self.warnings.append("no full snapshot in this recording: elements cannot be described")
        self.moments.sort(key=order)
        return self

    # -- helpers ---------------------------------------------------------------------------

    def add(self, t: float, kind: str, text: str, priority: int) -> None:
        self.moments.append(Moment(t, kind, text, priority))

    def _activity(self, t: float) -> None:
        self._close_idle(t)
        self.last_activity = t

    def _close_idle(self, t: float | None) -> None:
        last = self.last_activity
        end = t if t is not None else (self.events[-1]["timestamp"] - self.t0) / 1000
        if last is not None and end - last >= IDLE_GAP_S:
            suffix = "" if t is not None else " until the end"
            self.add(last, "idle", f"idle for {round(end - last)} s{suffix}", DETAIL)

    # -- page loads ------------------------------------------------------------------------

    def on_load(self, t: float, data: dict, window: str | None) -> None:
        self.pages.load_event(window)

    def on_meta(self, t: float, data: dict, window: str | None) -> None:
        self.scrolls.viewport(data.get("height"))
        decision = self.pages.meta(t, data.get("href"), window)
        if decision == NAVIGATE:
            self.navigate(t, data["href"], window)
        elif decision == RELOAD:
            self.reload(t, window)

    def on_snapshot(self, t: float, data: dict, window: str | None) -> None:
        if isinstance(data.get("node"), dict):
            self.names.mirror(window).load(data["node"])
            self.facts.mutations.setdefault(window, []).append(t)
            reloaded = self.pages.snapshot(data["node"], window)
            if reloaded is not None:
                self.reload(reloaded, window)

    def navigate(self, t: float, href: str, window: str | None) -> None:
        first = not self.facts.navigations
        shown = self.names.url(href)
        self.facts.navigations.append((t, shown, window))
        self.loaded_at = t
        self.add(t, "navigate", f"open {shown}" if first else f"navigate to {shown}", ESSENTIAL)

    def reload(self, t: float, window: str | None) -> None:
        shown = self.names.url(self.pages.urls[window])
        self.facts.reloads.append((t, shown, window))
        self.loaded_at = t
        self.add(t, "reload", f"reload {shown}", ESSENTIAL)

    # -- what the page says ----------------------------------------------------------------

    def on_custom(self, t: float, data: dict, window: str | None) -> None:
        tag, payload = str(data.get("tag") or "custom"), data.get("payload")
        if tag == "$pageview" and isinstance(payload, dict):
            if self.pages.page_view(payload.get("href"), window):
                self.navigate(t, payload["href"], window)
        elif tag == "$exception":
            message = payload.get("$exception_message") if isinstance(payload, dict) else None
            self.error(t, "exception", str(message or "unhandled exception"))
        else:
            self.add(t, "custom", custom_event_text(tag, payload, self.redactor), DETAIL)

    def on_plugin(self, t: float, data: dict, window: str | None) -> None:
        payload = data.get("payload")
        if not isinstance(payload, dict):
            return
        if data.get("plugin") == CONSOLE_PLUGIN:
            level = payload.get("level")
            if level in ("error", "warn"):
                message = console_message(payload)
                if level == "error":
                    self.error(t, "console error", message)
                else:
                    warning = shorten(self.redactor.redact(message), SHOWN_MESSAGE)
                    self.add(t, "console_warn", f"console warning: {warning}", DETAIL)
        elif data.get("plugin") == NETWORK_PLUGIN:
            for method, url, status in failed_requests(payload):
                text = f"network error: {method} {self.names.url(url)} → {status or 'failed'}"
                self.add(t, "network_error", text, ESSENTIAL)

    def error(self, t: float, label: str, message: str) -> None:
        redacted = shorten(self.redactor.redact(message), SHOWN_MESSAGE)
        self.facts.errors.append((t, redacted))
        self.add(t, "console_error", f"{label}: {redacted}", ESSENTIAL)

    def on_incremental(self, t: float, data: dict, window: str | None) -> None:
        source = data.get("source")
        if source in USER_SOURCES:
            self._activity(t)
        handler = _INCREMENTAL.get(source)
        if handler is not None:
            handler(self, t, data, window)

    def on_mutation(self, t: float, data: dict, window: str | None) -> None:
        mirror = self.names.mirror(window)
        mirror.apply(data)
        self.facts.mutations.setdefault(window, []).append(t)
        if (data.get("texts") or data.get("adds")) and self._page_errors(t, data, mirror):
            return  # the error line says it; a plain feedback line would repeat it
        if not data.get("adds"):
            return
        after_click = self._answers_click(t)
        clicked = self.facts.clicks[-1].target if after_click else None
        shown = feedback_text(mirror, data, after_click, clicked)
        if shown:
            self.add(t, "feedback", f"page shows {self.redactor.redact(shown)!r}", DETAIL)

    def _page_errors(self, t: float, data: dict, mirror: DomMirror) -> bool:
        """Show each visible error text the mutation put on screen; True when it showed one."""
        found = visible_errors(mirror, data, self.fields.values.values())
        for raw in found:
            message = shorten(self.redactor.redact(raw), SHOWN_ERROR)
            if message not in self.errors_shown:  # said once until the person acts again
                self.errors_shown.add(message)
                self.facts.errors.append((t, f"page shows {message!r}"))
                self.add(t, "page_error", f"page shows error {message!r}", ESSENTIAL)
        return bool(found)

    def _answers_click(self, t: float) -> bool:
        """Could a change at `t` be the page answering the last click (and not echoing typing)?"""
        clicks = self.facts.clicks
        if not clicks or t - clicks[-1].t > FEEDBACK_AFTER_CLICK_S or clicks[-1].field:
            return False
        if self.typing is not None and self.typing[2] >= clicks[-1].t:
            return False  # text typed since the click may be echoed back (search suggestions)
        return t - self.loaded_at > FEEDBACK_AFTER_CLICK_S

    # -- what the person does --------------------------------------------------------------

    def on_scroll(self, t: float, data: dict, window: str | None) -> None:
        self.facts.scrolls.append(t)
        if self.touch is not None:
            self.touch = (self.touch[0], self.touch[1], True)
        key = (window, data.get("id"))
        target = self.names.selector(window, data.get("id")) if self.scrolls.needs_target(t, key) else None
        self.scrolls.add(t, key, data.get("y"), target)

    def on_resize(self, t: float, data: dict, window: str | None) -> None:
        width, height = number(data.get("width")), number(data.get("height"))
        if width is not None and height is not None:
            self.add(t, "resize", f"resize window to {width:g}×{height:g}", DETAIL)

    def on_input(self, t: float, data: dict, window: str | None) -> None:
        mirror = self.names.mirrors.get(window)
        node = mirror.node(data.get("id")) if mirror is not None else None
        if mirror is None or node is None:
            return  # on a node the recording never showed
        click = self.facts.clicks[-1] if self.facts.clicks else None
        if not self.fields.by_person(self.index, t, node, mirror, click):
            return  # set by the page itself: not something the person did
        self.inputs += 1
        self.errors_shown.clear()
        if is_toggle(node):
            # A radio is unchecked by checking another: that one's line says it.
            if data.get("isChecked") or str(node.attrs.get("type")).lower() != "radio":
                verb = "check" if data.get("isChecked") else "uncheck"
                self.add(t, "input", f"{verb} {self.names.name(window, node)}", ACTION)
            return
        continuing = (
            self.typing and self.typing[:2] == (window, node.id) and t - self.typing[2] <= INPUT_RUN_GAP_S
        )
        self.typing = (window, node.id, t)
        if not continuing:  # one line per typing run: every keystroke is an Input event
            verb = "choose in" if node.tag == "select" else "type into"
            self.add(t, "input", f"{verb} {self.names.name(window, node)} [masked]", ACTION)

    def on_touch_move(self, t: float, data: dict, window: str | None) -> None:
        if self.touch is not None:
            self.touch = (self.touch[0], self.touch[1], True)

    def on_selection(self, t: float, data: dict, window: str | None) -> None:
        self.facts.selections.append(t)
        ranges = data.get("ranges") or [{}]
        start = ranges[0].get("start") if isinstance(ranges[0], dict) else None
        self.add(t, "select", f"select text in {self.names.describe(window, start)[0]}", DETAIL)

    def on_interaction(self, t: float, data: dict, window: str | None) -> None:
        kind = data.get("type")
        if kind in _FOCUSING:
            self.fields.acted_on(window, data.get("id"))
        if kind == Interaction.CLICK:
            self.click(t, data, window)
        elif kind == Interaction.DBL_CLICK:
            self.facts.double_clicks.append(t)
        elif kind == Interaction.TOUCH_START:
            self.touch = (t, data.get("id"), False)
        elif kind == Interaction.TOUCH_END and self.touch is not None:
            started, node_id, moved = self.touch
            self.touch = None
            if not moved and t - started <= 0.8:
                self.pending_tap = (t, node_id if node_id is not None else data.get("id"), window)

    def click(self, t: float, data: dict, window: str | None) -> None:
        tap = self.pending_tap is not None and t - self.pending_tap[0] <= TAP_CLICK_MERGE_S
        self.pending_tap = None
        self._record_click(t, data.get("id"), window, number(data.get("x")), number(data.get("y")), tap)

    def _record_click(self, t: float, node_id: object, window, x, y, tap: bool) -> None:
        click = self.names.click(t, node_id, window, (x, y), tap, self.pages.urls.get(window))
        self.facts.clicks.append(click)
        self.errors_shown.clear()
        self.add(t, "click", f"{'tap' if tap else 'click'} {click.description}", ACTION)

    def _flush_tap(self, t: float) -> None:
        pending = self.pending_tap
        if pending is not None and t - pending[0] > TAP_CLICK_MERGE_S:
            self.pending_tap = None
            self._record_click(pending[0], pending[1], pending[2], None, None, True)


_HANDLERS = {
    EventType.DOM_CONTENT_LOADED: Walker.on_load,
    EventType.LOAD: Walker.on_load,
    EventType.META: Walker.on_meta,
    EventType.FULL_SNAPSHOT: Walker.on_snapshot,
    EventType.INCREMENTAL: Walker.on_incremental,
    EventType.CUSTOM: Walker.on_custom,
    EventType.PLUGIN: Walker.on_plugin,
}
# Looked up with the `source` an event says it has, which may be anything.
_INCREMENTAL: dict[object, Callable[[Walker, float, dict, str | None], None]] = {
    Source.MUTATION: Walker.on_mutation,
    Source.MOUSE_INTERACTION: Walker.on_interaction,
    Source.SCROLL: Walker.on_scroll,
    Source.VIEWPORT_RESIZE: Walker.on_resize,
    Source.INPUT: Walker.on_input,
    Source.TOUCH_MOVE: Walker.on_touch_move,
    Source.SELECTION: Walker.on_selection,
}
