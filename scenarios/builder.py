"""Write an rrweb session gesture by gesture, against a clock that moves only when told.

Each method emits what rrweb records for that gesture in the real recordings (libraries.md §7.1):
mouse moves sampled every 50 ms and flushed every 500 ms, MouseDown → Blur/Focus → MouseUp → Click,
one Input event per keystroke carrying the whole value, scroll offsets every 100 ms, touch gestures,
console errors through the console plugin. Elements are named by the `key` given when the page was
built; randomness comes from a `random.Random` seeded with the scenario's name.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable

from scenarios import rrweb
from scenarios.dom import Box, Node, Snapshot
from scenarios.motion import batches, flush_moves_before, keystroke_delay, pointer_path, scroll_steps

_FIELDS = ("input", "textarea", "select")


class SessionBuilder:
    """Accumulates the events and marks of one session; `finish()` hands them back sorted."""

    def __init__(self, seed: str, start_ms: int) -> None:
        self.now = start_ms
        self.rng = random.Random(seed)
        self.viewport = (1440, 900)
        self.pointer = (720, 450)
        self.scroll_y = 0
        self._events: list[dict] = []
        self._marks: dict[str, int] = {}
        self._page: Snapshot | None = None
        self._focused: int | None = None
        self._values: dict[int, str] = {}

    @property
    def page(self) -> Snapshot:
        if self._page is None:
            raise RuntimeError("call load() before interacting with a page")
        return self._page

    def wait(self, seconds: float) -> None:
        self.now += round(seconds * 1000)

    def mark(self, name: str, at_ms: int | None = None) -> None:
        self._marks[name] = self.now if at_ms is None else at_ms

    def finish(self) -> tuple[list[dict], dict[str, float]]:
        """The events sorted by timestamp (stable), and the marks in seconds since the first event."""
        events = sorted(self._events, key=lambda event: event["timestamp"])
        first = events[0]["timestamp"]
        return events, {name: (at - first) / 1000 for name, at in self._marks.items()}

    def load(self, href: str, root: Node, *, width: int | None = None, height: int | None = None) -> int:
        """A page load: Meta, the FullSnapshot, then the `$pageview` custom event posthog-js adds."""
        if width and height:
            self.viewport = (width, height)
        flush_moves_before(self._events, self.now)
        self._page = Snapshot(root, self.viewport[0])
        self.scroll_y = 0
        self._focused = None
        self._values = {
            nid: node.attrs.get("value", "") for nid, node in self.page.nodes.items() if node.tag in _FIELDS
        }
        arrived = self._emit(
            rrweb.META, {"href": href, "width": self.viewport[0], "height": self.viewport[1]}
        )
        snapshot = {"node": self.page.tree, "initialOffset": {"top": 0, "left": 0}}
        self._emit(rrweb.FULL_SNAPSHOT, snapshot, arrived + self.rng.randint(2, 18))
        self.now = arrived + self.rng.randint(150, 400)
        self.custom("$pageview", {"href": href})
        return arrived

    def resize(self, width: int, height: int) -> None:
        self.viewport = (width, height)
        self._incr(rrweb.VIEWPORT_RESIZE, {"width": width, "height": height})

    def move_to(self, key: str) -> None:
        """Move the pointer near the centre of a keyed element, scrolling it into view first."""
        box = self.page.box(key)
        self._reveal(box)
        x, y = box.center
        spread_x, spread_y = max(1, min(box.w // 5, 12)), max(1, min(box.h // 5, 6))
        x += self.rng.randint(-spread_x, spread_x)
        y += self.rng.randint(-spread_y, spread_y) - self.scroll_y
        self.move_to_point(x, y)

    def move_to_point(self, x: int, y: int) -> None:
        """Move the pointer to a viewport point (y near 0 means heading for the browser's toolbar)."""
        samples = pointer_path(self.pointer, (x, y), self.now, self.rng, bounds=self.viewport)
        for flushed, group in batches(samples):
            positions = [
                {"x": px, "y": py, "id": self.page.hit(px, py + self.scroll_y), "timeOffset": t - flushed}
                for t, px, py in group
            ]
            self._incr(rrweb.MOUSE_MOVE, {"positions": positions}, flushed)
        self.pointer = (x, y)
        self.now = samples[-1][0]

    def click(self, key: str, *, jitter: int = 0) -> int:
        """Click a keyed element (moving there first unless the pointer is on it); returns the Click time.

        `jitter` clicks again within that many pixels of the pointer without moving it, as a hand
        does when it hammers a button.
        """
        x, y = self.pointer
        if jitter:
            x += self.rng.randint(-jitter, jitter)
            y += self.rng.randint(-jitter, jitter)
        elif not self.page.box(key).contains(x, y + self.scroll_y):
            self.move_to(key)
            self.now += self.rng.randint(80, 250)
            x, y = self.pointer
        return self._press(x, y)

    def triple_click(self, key: str) -> tuple[int, int, int]:
        """Three quick clicks on a text element: a word gets selected, then the whole paragraph.

        Returns the three Click times.
        """
        clicks = [self.click(key)]
        text = self.page.first_text(key)
        x, y = self.pointer
        target = self.page.hit(x, y + self.scroll_y)
        for _ in range(2):
            self.now += self.rng.randint(50, 90)
            clicks.append(self._press(x, y))
            if len(clicks) == 2:
                self.now += 1
                self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.DBL_CLICK, "id": target, "x": x, "y": y})
                self.now += self.rng.randint(1, 4)
                self.select_text(key, 0, len(text.text.split(" ")[0]))
        self.now += self.rng.randint(2, 8)
        self.select_text(key)
        return clicks[0], clicks[1], clicks[2]

    def select_text(self, key: str, start: int = 0, end: int | None = None) -> None:
        """A Selection event over the element's first text node (the whole of it by default)."""
        text = self.page.first_text(key)
        stop = len(text.text) if end is None else end
        ranges = [{"start": text.nid, "startOffset": start, "end": text.nid, "endOffset": stop}]
        self._incr(rrweb.SELECTION, {"ranges": ranges})

    def type_text(self, key: str, text: str) -> None:
        """Type into a field (clicking it first unless focused): one Input event per keystroke."""
        nid = self._focus_field(key)
        value = self._values.get(nid, "")
        for char in text:
            self.now += keystroke_delay(char, self.rng)
            value += char
            self._input(nid, value)

    def erase(self, key: str, count: int) -> None:
        """Press backspace `count` times in a field."""
        nid = self._focus_field(key)
        value = self._values.get(nid, "")
        for _ in range(min(count, len(value))):
            self.now += self.rng.randint(60, 130)
            value = value[:-1]
            self._input(nid, value)

    def mutate(
        self,
        *,
        add: Iterable[tuple[str, Node]] = (),
        remove: Iterable[str] = (),
        text: Iterable[tuple[str, str]] = (),
        attrs: Iterable[tuple[str, dict[str, str | None]]] = (),
        at_ms: int | None = None,
    ) -> int:
        """One Mutation event: append subtrees under keyed parents, remove keyed elements, change
        the first text of keyed elements, and set attributes (None removes one, as rrweb writes it)."""
        adds = [entry for parent, node in add for entry in self.page.add(parent, node)]
        removes = [self.page.remove(key) for key in remove]
        texts = []
        for key, value in text:
            node = self.page.first_text(key)
            node.text = value
            texts.append({"id": node.nid, "value": value})
        attributes = []
        for key, changes in attrs:
            node = self.page.node(key)
            for name, value in changes.items():
                if value is None:
                    node.attrs.pop(name, None)
                else:
                    node.attrs[name] = value
            attributes.append({"id": node.nid, "attributes": dict(changes)})
        data = {"texts": texts, "attributes": attributes, "removes": removes, "adds": adds}
        return self._incr(rrweb.MUTATION, data, at_ms)

    def scroll_to(self, y: int) -> None:
        """Scroll the document (wheel or trackpad) to `y`, clamped to the page."""
        top = max(0, min(y, self.page.height - self.viewport[1]))
        if top == self.scroll_y:
            return
        for at, offset in scroll_steps(self.scroll_y, top, self.now, self.rng):
            self._incr(rrweb.SCROLL, {"id": self.page.root_id, "x": 0, "y": offset}, at)
            self.now = at
        self.scroll_y = top

    def tap(self, key: str) -> int:
        """A finger tap: TouchStart, TouchEnd, then the mouse events the browser emulates.

        Returns the emulated Click's time.
        """
        box = self.page.box(key)
        self._reveal(box)
        x, y = box.center[0], box.center[1] - self.scroll_y
        where = {"id": self.page.hit(x, y + self.scroll_y), "x": x, "y": y}
        self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.TOUCH_START, **where})
        self.now += self.rng.randint(50, 110)
        self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.TOUCH_END, **where})
        self.now += self.rng.randint(4, 10)
        self._incr(rrweb.MOUSE_MOVE, {"positions": [{"x": x, "y": y, "id": where["id"], "timeOffset": 0}]})
        self.pointer = (x, y)
        return self._press(x, y)

    def swipe(self, dy: int) -> int:
        """A finger flick that scrolls the page by about `dy` (positive = down the page).

        The finger travels a part of the way; momentum scrolling carries on after TouchEnd.
        Returns the TouchStart time.
        """
        width, height = self.viewport
        sign = 1 if dy > 0 else -1
        x0 = round(width * self.rng.uniform(0.45, 0.75))
        y0 = round(height * (0.7 if dy > 0 else 0.3)) + self.rng.randint(-30, 30)
        end = (x0 + self.rng.randint(-25, 25), round(y0 - sign * min(abs(dy) * 0.45, height * 0.5)))
        start = self.now
        target = self.page.hit(x0, y0 + self.scroll_y)
        self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.TOUCH_START, "id": target, "x": x0, "y": y0})
        samples = pointer_path((x0, y0), end, start + 15, self.rng, bounds=self.viewport, speed=3.0)
        for flushed, group in batches(samples):
            positions = [{"x": x, "y": y, "id": target, "timeOffset": t - flushed} for t, x, y in group]
            self._incr(rrweb.TOUCH_MOVE, {"positions": positions}, flushed)
        where = {"id": target, "x": end[0], "y": end[1]}
        self._incr(
            rrweb.MOUSE_INTERACTION,
            {"type": rrweb.TOUCH_END, **where},
            samples[-1][0] + self.rng.randint(5, 20),
        )
        self.now = start + 40
        self.scroll_to(self.scroll_y + dy)
        self.now = max(self.now, samples[-1][0] + 30)
        return start

    def console_error(self, message: str, *, trace: Iterable[str] = (), at_ms: int | None = None) -> int:
        """An error logged to the console, as the rrweb console plugin records it."""
        payload = {"level": "error", "trace": list(trace), "payload": [json.dumps(message)]}
        return self._emit(rrweb.PLUGIN, {"plugin": "rrweb/console@1", "payload": payload}, at_ms)

    def custom(self, tag: str, payload: dict, at_ms: int | None = None) -> int:
        return self._emit(rrweb.CUSTOM, {"tag": tag, "payload": payload}, at_ms)

    def _emit(self, kind: int, data: dict, at_ms: int | None = None) -> int:
        at = self.now if at_ms is None else at_ms
        self._events.append({"type": kind, "data": data, "timestamp": at})
        return at

    def _incr(self, source: int, data: dict, at_ms: int | None = None) -> int:
        return self._emit(rrweb.INCREMENTAL, {"source": source, **data}, at_ms)

    def _press(self, x: int, y: int) -> int:
        where = {"id": self.page.hit(x, y + self.scroll_y), "x": x, "y": y}
        self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.MOUSE_DOWN, **where})
        self._move_focus(self.page.focus_target(where["id"]))
        self.now += self.rng.randint(60, 120)
        self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.MOUSE_UP, **where})
        self.now += self.rng.randint(1, 4)
        return self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.CLICK, **where})

    def _move_focus(self, target: int | None) -> None:
        if target == self._focused:
            return
        if self._focused is not None:
            self.now += self.rng.randint(1, 3)
            self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.BLUR, "id": self._focused})
        if target is not None:
            self.now += self.rng.randint(1, 3)
            self._incr(rrweb.MOUSE_INTERACTION, {"type": rrweb.FOCUS, "id": target})
        self._focused = target

    def _focus_field(self, key: str) -> int:
        nid = self.page.id_of(key)
        if self._focused != nid:
            self.click(key)
            self.now += self.rng.randint(200, 500)
        return nid

    def _input(self, nid: int, value: str) -> None:
        # rrweb masks password fields by default; everything else is recorded as typed.
        self._values[nid] = value
        masked = self.page.nodes[nid].attrs.get("type") == "password"
        shown = "*" * len(value) if masked else value
        self._incr(rrweb.INPUT, {"text": shown, "isChecked": False, "id": nid})

    def _reveal(self, box: Box) -> None:
        """Scroll until the middle of a box sits comfortably in the viewport, as a user would."""
        middle, height = box.center[1], self.viewport[1]
        if not self.scroll_y + 80 <= middle <= self.scroll_y + height - 60:
            self.scroll_to(middle - round(height * 0.4))
