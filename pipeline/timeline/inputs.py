"""Whose change is an rrweb Input event: the person's, or the page's own script?

rrweb records a field's new value however it changed. With `userTriggeredOnInput` it says who
did it (`userTriggered`); without it the recording is read for the cause:

- a checkbox or radio is the person's only when they just clicked it, a label for it, or a small
  widget around it (a custom toggle draws its own switch around a hidden input);
- a text field or select is the page's when, within `BURST_MS`, the page changes two or more
  fields the person is not in (a script filling a form, a form reset); otherwise it is the
  person's, since tabbing through a form leaves no click.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.dom import DomMirror, Node
from pipeline.rrweb import EventType, Source
from pipeline.timeline.elements import is_interactive, target
from pipeline.timeline.model import Click

CHECK_AFTER_CLICK_S = 1.0
BURST_MS = 100  # a person cannot move to a second field and type in it this fast
WIDGET_HOPS = 2  # a toggle's hidden input and the switch drawn for it share a parent or grandparent
_TOGGLE_ROLES = frozenset({"switch", "checkbox", "radio", "menuitemcheckbox", "menuitemradio", "option"})
_PAGE_TAGS = frozenset({"body", "html", "#document", "form"})
_TOGGLES = ("checkbox", "radio")
_INPUT, _INCREMENTAL = int(Source.INPUT), int(EventType.INCREMENTAL)


def is_toggle(node: Node) -> bool:
    return str(node.attrs.get("type") or "").lower() in _TOGGLES


class FieldWatch:
    """Follows the fields of one walk: which one the person is in, and the values they held."""

    def __init__(self, events: Sequence[dict]) -> None:
        self.events = events
        self.focused: dict[str | None, object] = {}  # per window: the element last clicked or focused
        self.values: dict[tuple, str] = {}  # each field's last value: a message on screen may echo it

    def acted_on(self, window: str | None, node_id: object) -> None:
        self.focused[window] = node_id

    def by_person(self, index: int, t: float, node: Node, mirror: DomMirror, click: Click | None) -> bool:
        """Did the person make the Input event `events[index]` on `node`? `click` is the last click.

        Also remembers the field's new value (see `values`), whoever set it.
        """
        event = self.events[index]
        data, window = event["data"], event.get("windowId")
        text = data.get("text")
        if isinstance(text, str) and len(text) >= 3:
            self.values[(window, node.id)] = text
        said = data.get("userTriggered")
        if isinstance(said, bool):
            return said
        if is_toggle(node):
            return (
                click is not None
                and click.window == window
                and t - click.t <= CHECK_AFTER_CLICK_S
                and clicked_toggle(mirror, click.node, node)
            )
        focused = self.focused.get(window)
        return node.id == focused or not page_burst(self.events, index, mirror, focused)


def clicked_toggle(mirror: DomMirror, clicked: object, field: Node) -> bool:
    """Was the click on `clicked` a click on this checkbox or radio, a label for it or its widget?"""
    if clicked == field.id:
        return True
    meant = target(mirror, clicked)
    if meant is None:
        return False
    if meant.tag == "label" and meant.attrs.get("for"):
        return meant.attrs.get("for") == field.attrs.get("id")
    if is_interactive(meant) and meant.tag != "label" and meant.attrs.get("role") not in _TOGGLE_ROLES:
        return False  # a click on another button or link: the page changed the box
    around = set(mirror.ancestors(field.id, WIDGET_HOPS))
    return any(
        node_id in around and mirror.tag(node_id) not in _PAGE_TAGS
        for node_id in mirror.ancestors(clicked, WIDGET_HOPS)
    )


def page_burst(events: Sequence[dict], index: int, mirror: DomMirror, focused: object) -> bool:
    """Does the page change two or more fields the person is not in, within `BURST_MS` of this Input?

    `events[index]` is the Input event; `focused` is the field last clicked, touched or focused.
    """
    event = events[index]
    at, window = event["timestamp"], event.get("windowId")
    fields = {event["data"].get("id")}
    for step in (-1, 1):
        position = index + step
        while 0 <= position < len(events) and abs(events[position]["timestamp"] - at) <= BURST_MS:
            other = events[position]
            data = other.get("data")
            if (
                other["type"] == _INCREMENTAL
                and data.__class__ is dict
                and data.get("source") == _INPUT
                and other.get("windowId") == window
                and data.get("userTriggered") is not True
                and data.get("id") in mirror.nodes
            ):
                fields.add(data.get("id"))
            position += step
    fields.discard(focused)
    return len(fields) >= 2
