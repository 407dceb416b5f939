"""A tiny DOM: pages are built as trees of `Node`, then serialised the way rrweb-snapshot does.

`Snapshot` numbers the nodes in document order from 1 (rrweb starts a fresh mirror on every page
load), keeps the ids current as mutations add and remove nodes, and lays the page out in a crude
block flow so that the session builder can aim the pointer at an element and say what lies under it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

TEXT = "#text"
DOCUMENT = "#document"
DOCTYPE = "#doctype"

_CHAR_WIDTH = 8.5
_LINE_HEIGHT = 26
_GAP = 16
_COLUMN = 720
_FIXED_HEIGHT = {
    "h1": 48,
    "h2": 36,
    "h3": 28,
    "label": 22,
    "input": 44,
    "select": 44,
    "button": 44,
    "a": 24,
    "li": 28,
    "textarea": 120,
    "img": 220,
    "span": 22,
    "small": 20,
    "strong": 22,
}
_INLINE_PADDING = {"button": 48, "a": 4, "label": 0, "span": 0, "small": 0, "strong": 0}
_FIELD_WIDTH = {"input": 420, "select": 420, "textarea": 560}
_INVISIBLE = {"head", "script", "style", "title", "meta", "link", DOCTYPE, TEXT}
_PADDING = {
    "header": (20, 32),
    "footer": (24, 32),
    "main": (32, 0),
    "form": (8, 0),
    "section": (8, 0),
}  # (y, x)
_ROWS = {"header", "nav"}  # laid out side by side, as `display: flex` does


@dataclass
class Node:
    """One node of a page under construction; `key` is the name scenarios use to aim at it."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    key: str | None = None
    text: str = ""
    is_style: bool = False
    nid: int = 0


@dataclass(frozen=True)
class Box:
    """Where an element sits, in page pixels (not viewport pixels)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h


def el(tag: str, *children: Node | str, key: str | None = None, **attrs: str | bool) -> Node:
    """An element. Strings become text children; `class_`, `for_`, `aria_label` become
    `class`, `for`, `aria-label`; True becomes "" (rrweb's boolean attribute) and False is dropped."""
    names = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items() if value is not False}
    values = {name: "" if value is True else str(value) for name, value in names.items()}
    kids = [Node(TEXT, text=child) if isinstance(child, str) else child for child in children]
    return Node(tag, values, kids, key)


def style(css: str) -> Node:
    """A `<style>` element; rrweb marks its text child `isStyle` so players re-scope the CSS."""
    return Node("style", {}, [Node(TEXT, text=css, is_style=True)])


def document(html: Node) -> Node:
    """The document node wrapping a doctype and the `<html>` element."""
    return Node(DOCUMENT, children=[Node(DOCTYPE), html])


def text_of(node: Node) -> str:
    """The concatenated text below a node, as a reader would see it."""
    if node.tag == TEXT:
        return node.text
    return "".join(text_of(child) for child in node.children)


class Snapshot:
    """The live DOM of one page load: serialised form, ids, boxes and parent links.

    Raises KeyError (naming the known keys) when a scenario aims at a key the page lacks.
    """

    def __init__(self, root: Node, viewport_width: int) -> None:
        self.nodes: dict[int, Node] = {}
        self.parents: dict[int, int] = {}
        self.boxes: dict[int, Box] = {}
        self.keys: dict[str, int] = {}
        self._next_id = 1
        self.tree = self._serialise(root, None)
        self._html_id = next(child.nid for child in root.children if child.tag == "html")
        self.height = _layout(root, 0, 0, viewport_width, self.boxes)

    @property
    def root_id(self) -> int:
        return 1

    def id_of(self, key: str) -> int:
        if key not in self.keys:
            raise KeyError(f"no element keyed {key!r} on this page; keys: {', '.join(sorted(self.keys))}")
        return self.keys[key]

    def node(self, key: str) -> Node:
        return self.nodes[self.id_of(key)]

    def box(self, key: str) -> Box:
        return self.boxes[self.id_of(key)]

    def hit(self, x: float, y: float) -> int:
        """The id of the innermost element under a page point (the `<html>` element when none)."""
        under = [(box.w * box.h, nid) for nid, box in self.boxes.items() if box.contains(x, y)]
        return min(under)[1] if under else self._html_id

    def focus_target(self, nid: int) -> int | None:
        """The element that takes focus when `nid` is clicked: itself or a focusable ancestor."""
        current: int | None = nid
        while current is not None:
            if _focusable(self.nodes[current]):
                return current
            current = self.parents.get(current)
        return None

    def first_text(self, key: str) -> Node:
        node = self.node(key)
        return next(child for child in node.children if child.tag == TEXT)

    def add(self, parent_key: str, node: Node) -> list[dict]:
        """Append a subtree under a keyed element; returns rrweb `adds`, one per node, parents first."""
        parent = self.node(parent_key)
        parent.children.append(node)
        self._serialise(node, parent.nid)
        frame = self.boxes[parent.nid]
        grown = _layout(node, frame.x, frame.y + frame.h, frame.w, self.boxes)
        self.boxes[parent.nid] = Box(frame.x, frame.y, frame.w, frame.h + grown + _GAP)
        return [
            {"parentId": self.parents[each.nid], "nextId": None, "node": _shallow(each)}
            for each in _walk(node)
        ]

    def remove(self, key: str) -> dict:
        """Detach a keyed element and forget its subtree; returns the rrweb `removes` entry."""
        node = self.node(key)
        parent_id = self.parents[node.nid]
        self.nodes[parent_id].children.remove(node)
        for gone in _walk(node):
            self.nodes.pop(gone.nid)
            self.boxes.pop(gone.nid, None)
            self.parents.pop(gone.nid, None)
            if gone.key is not None:
                self.keys.pop(gone.key, None)
        return {"parentId": parent_id, "id": node.nid}

    def _serialise(self, node: Node, parent_id: int | None) -> dict:
        node.nid = self._next_id
        self._next_id += 1
        self.nodes[node.nid] = node
        if parent_id is not None:
            self.parents[node.nid] = parent_id
        if node.key is not None:
            self.keys[node.key] = node.nid
        out = _shallow(node)
        if "childNodes" in out:
            out["childNodes"] = [self._serialise(child, node.nid) for child in node.children]
        return out


def _shallow(node: Node) -> dict:
    """The rrweb-snapshot form of one node, with an empty `childNodes` for containers."""
    if node.tag == TEXT:
        out: dict = {"type": 3, "textContent": node.text}
        if node.is_style:
            out["isStyle"] = True
    elif node.tag == DOCTYPE:
        out = {"type": 1, "name": "html", "publicId": "", "systemId": ""}
    elif node.tag == DOCUMENT:
        out = {"type": 0, "childNodes": []}
    else:
        out = {"type": 2, "tagName": node.tag, "attributes": dict(node.attrs), "childNodes": []}
    out["id"] = node.nid
    return out


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _focusable(node: Node) -> bool:
    if "disabled" in node.attrs:
        return False
    if node.tag in {"input", "textarea", "select", "button"}:
        return True
    return node.tag == "a" and "href" in node.attrs


def _layout(node: Node, x: int, y: int, width: int, boxes: dict[int, Box]) -> int:
    """Place a node and its children at (x, y) within `width`; returns the height used."""
    if node.tag in _INVISIBLE:
        return 0
    if node.tag == DOCUMENT:  # not an event target, so it gets no box
        return _stack(node.children, x, y, width, boxes)
    if all(child.tag == TEXT for child in node.children):
        box = _leaf_box(node, x, y, width)
        boxes[node.nid] = box
        return box.h
    pad_y, pad_x = _PADDING.get(node.tag, (0, 0))
    inner_x, inner_width = x + pad_x, width - 2 * pad_x
    if node.tag == "main":
        inner_width = min(_COLUMN, width - 32)
        inner_x = x + (width - inner_width) // 2
    if node.tag in _ROWS or "row" in node.attrs.get("class", "").split():
        height = _row(node.children, inner_x, y + pad_y, inner_width, boxes) + 2 * pad_y
    else:
        height = _stack(node.children, inner_x, y + pad_y, inner_width, boxes) + 2 * pad_y
    boxes[node.nid] = Box(x, y, width, height)
    return height


def _stack(children: list[Node], x: int, y: int, width: int, boxes: dict[int, Box]) -> int:
    top = y
    for child in children:
        used = _layout(child, x, y, width, boxes)
        if used:
            y += used + _GAP
    return max(0, y - top - _GAP)


def _row(children: list[Node], x: int, y: int, width: int, boxes: dict[int, Box]) -> int:
    right = x + width
    tallest = 0
    for child in children:
        if child.tag in _INVISIBLE:
            continue
        natural = _natural_width(child, right - x)
        tallest = max(tallest, _layout(child, x, y, natural, boxes))
        x += natural + 24
    return tallest


def _natural_width(node: Node, width: int) -> int:
    if node.tag in _FIELD_WIDTH:
        return min(width, _FIELD_WIDTH[node.tag])
    if node.tag in _INLINE_PADDING:
        return min(width, round(len(text_of(node)) * _CHAR_WIDTH) + _INLINE_PADDING[node.tag])
    return width


def _leaf_box(node: Node, x: int, y: int, width: int) -> Box:
    natural = _natural_width(node, width)
    if node.tag in _FIXED_HEIGHT:
        return Box(x, y, natural, _FIXED_HEIGHT[node.tag])
    lines = max(1, math.ceil(len(text_of(node)) * _CHAR_WIDTH / max(natural, 1)))
    return Box(x, y, natural, lines * _LINE_HEIGHT)
