"""A DOM mirror: the page as the recorder saw it, rebuilt from a FullSnapshot and its mutations.

It answers one question for the timeline: what did the person click, in words?
"""

from __future__ import annotations

import contextlib

from pipeline.rrweb import NodeType

_INTERACTIVE_TAGS = frozenset({"a", "button", "input", "select", "textarea", "label", "summary", "option"})
_INTERACTIVE_ROLES = frozenset(
    {"button", "link", "tab", "menuitem", "checkbox", "radio", "switch", "option", "textbox", "combobox"}
)
_BUTTON_INPUT_TYPES = frozenset({"submit", "button", "image", "reset", "checkbox", "radio"})
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "head", "title", "meta", "link", "template"})
_TEXT_LIMIT = 60
_FEEDBACK_LIMIT = 160
_ANCESTOR_HOPS = 6
# Plain ints: comparing against IntEnum members costs an attribute lookup per node.
_ELEMENT, _TEXT, _DOCUMENT = int(NodeType.ELEMENT), int(NodeType.TEXT), int(NodeType.DOCUMENT)
_NO_ATTRS: dict = {}  # shared by text and document nodes, which never get attributes


class Node:
    __slots__ = ("attrs", "children", "id", "parent", "tag", "text")

    def __init__(self, node_id: int, tag: str | None, attrs: dict, text: str | None, parent: int | None):
        self.id, self.tag, self.attrs, self.text, self.parent = node_id, tag, attrs, text, parent
        self.children: list[int] = []


class DomMirror:
    """Nodes by id; `load` resets it from a FullSnapshot, `apply` replays a Mutation."""

    def __init__(self) -> None:
        self.nodes: dict[int, Node] = {}
        self.loaded = False

    def load(self, root: dict) -> None:
        self.nodes = {}
        self.loaded = True
        self._add_tree(root, None, None)

    def apply(self, mutation: dict) -> None:
        nodes = self.nodes
        for removal in mutation.get("removes") or ():
            self._remove(removal.get("parentId"), removal.get("id"))
        for addition in mutation.get("adds") or ():
            serialized = addition.get("node")
            if serialized.__class__ is dict:
                self._add_tree(serialized, addition.get("parentId"), addition.get("nextId"))
        for change in mutation.get("texts") or ():
            node = nodes.get(change.get("id"))
            if node is not None:
                value = change.get("value")
                node.text = value if value.__class__ is str else ""
        for change in mutation.get("attributes") or ():
            node = nodes.get(change.get("id"))
            changes = change.get("attributes")
            if node is not None and changes.__class__ is dict:
                _set_attributes(node, changes)

    def _add_tree(self, serialized: dict, parent_id: int | None, next_id: int | None) -> None:
        # Iterative, so a pathologically deep page cannot exhaust the interpreter's stack.
        # Hot path (every node of every snapshot and mutation): plain ints, no copies.
        nodes, stack = self.nodes, [(serialized, parent_id)]
        while stack:
            item, parent = stack.pop()
            node_id = item.get("id")
            if node_id.__class__ is not int:
                continue
            kind = item.get("type")
            if kind == _ELEMENT:
                attrs = item.get("attributes")
                node = Node(
                    node_id,
                    item.get("tagName") or "",
                    attrs if attrs.__class__ is dict else _NO_ATTRS,
                    None,
                    parent,
                )
            elif kind == _TEXT:
                node = Node(
                    node_id, None, _NO_ATTRS, "" if item.get("isStyle") else item.get("textContent"), parent
                )
            else:
                node = Node(node_id, "#document" if kind == _DOCUMENT else "#other", _NO_ATTRS, None, parent)
            nodes[node_id] = node
            parent_node = nodes.get(parent)
            if parent_node is not None:
                siblings = parent_node.children
                if item is serialized and next_id is not None and next_id in siblings:
                    siblings.insert(siblings.index(next_id), node_id)
                else:
                    siblings.append(node_id)
            children = item.get("childNodes")
            if children:
                stack.extend((child, node_id) for child in reversed(children) if child.__class__ is dict)

    def _remove(self, parent_id: int | None, node_id: int | None) -> None:
        parent = self.nodes.get(parent_id)
        if parent is not None:
            with contextlib.suppress(ValueError):
                parent.children.remove(node_id)
        stack = [node_id]
        while stack:
            removed = self.nodes.pop(stack.pop(), None)
            if removed is not None and removed.children:
                stack.extend(removed.children)

    # -- reading -------------------------------------------------------------------------

    def target(self, node_id: int | None) -> Node | None:
        """The element a person meant: the nearest interactive ancestor, else the element itself."""
        node = self.nodes.get(node_id) if node_id is not None else None
        if node is not None and node.tag is None:
            node = self.nodes.get(node.parent)
        current, hops = node, 0
        while current is not None and hops <= _ANCESTOR_HOPS:
            if is_interactive(current):
                return current
            current, hops = self.nodes.get(current.parent), hops + 1
        return node

    def text_of(self, node: Node, limit: int = _TEXT_LIMIT) -> str:
        """Visible text below `node`, whitespace folded, cut at `limit` characters."""
        parts: list[str] = []
        size, stack = 0, [node.id]
        while stack and size <= limit:
            current = self.nodes.get(stack.pop())
            if current is None or current.tag in _HIDDEN_TAGS:
                continue
            if current.tag is None:
                text = current.text if current.text.__class__ is str else ""
                piece = " ".join(text[: limit * 4].split())
                if piece:
                    parts.append(piece)
                    size += len(piece) + 1
                continue
            stack.extend(reversed(current.children))
        return _shorten(" ".join(parts), limit)

    def label_for(self, node: Node) -> str:
        """A form field's accessible name: aria-label, <label for>, a wrapping label, placeholder or name."""
        attrs = node.attrs
        if attrs.get("aria-label"):
            return _shorten(str(attrs["aria-label"]), _TEXT_LIMIT)
        field_id = attrs.get("id")
        if field_id:
            for candidate in self.nodes.values():
                if candidate.tag == "label" and candidate.attrs.get("for") == field_id:
                    return self.text_of(candidate)
        parent = self.nodes.get(node.parent)
        if parent is not None and parent.tag == "label":
            return self.text_of(parent)
        for key in ("placeholder", "name", "title", "id"):
            if attrs.get(key):
                return _shorten(str(attrs[key]), _TEXT_LIMIT)
        return ""

    def describe(self, node: Node | None) -> str:
        """`button#pay "Pay"`, `input[type=email] "Email"`, `a.nav "Pricing"`, or `unknown element`."""
        if node is None or node.tag is None:
            return "unknown element"
        if node.tag in {"input", "textarea", "select"}:
            name = self.label_for(node)
        else:
            attrs = node.attrs
            name = str(attrs.get("aria-label") or "") or self.text_of(node)
            name = name or str(attrs.get("title") or attrs.get("alt") or "")
        described = f'{selector(node)} "{_shorten(name, _TEXT_LIMIT)}"' if name else selector(node)
        return f"{described} (disabled)" if is_disabled(node) else described


def feedback_text(mirror: DomMirror, adds: list | tuple, after_click: bool) -> str:
    """Short text a mutation put on screen: an alert anywhere, or any small text right after a click.

    Whole page renders (more than `_FEEDBACK_LIMIT` characters) are not feedback and return "".
    """
    added = [add["node"]["id"] for add in adds if add.__class__ is dict and add.get("node").__class__ is dict]
    ids = set(added)
    elements = [mirror.nodes.get(node_id) for node_id in added]
    # rrweb lists a subtree's nodes as separate adds: keep only the topmost of each subtree.
    elements = [node for node in elements if node is not None and node.parent not in ids]
    elements = [node for node in elements if node.tag not in (None, "#other")]
    alerting = [node for node in elements if _is_alert(node)]
    chosen = alerting or (elements if after_click else [])
    if not chosen:
        return ""
    text = " ".join(filter(None, (mirror.text_of(node, 2 * _FEEDBACK_LIMIT) for node in chosen[:20])))
    return "" if len(text) > _FEEDBACK_LIMIT or len(text) < 3 else text


def _is_alert(node: Node) -> bool:
    attrs = node.attrs
    if attrs.get("role") in ("alert", "status") or attrs.get("aria-live") in ("assertive", "polite"):
        return True
    classes = str(attrs.get("class") or "").lower()
    return any(word in classes for word in ("error", "alert", "toast", "notice", "success"))


def _set_attributes(node: Node, changes: dict) -> None:
    # Copy on write: `attrs` starts as the recording's own dict, which must stay untouched.
    node.attrs = dict(node.attrs)
    for name, value in changes.items():
        if value is None:
            node.attrs.pop(name, None)
        else:
            node.attrs[name] = value


def selector(node: Node) -> str:
    """Tag with role, type, #id or first .class: the compact CSS-like name of an element."""
    attrs, text = node.attrs, node.tag or "?"
    if text == "input":
        text += f"[type={attrs.get('type') or 'text'}]"
    role = attrs.get("role")
    if role and role != "presentation":
        text += f"[role={role}]"
    if attrs.get("id") and len(str(attrs["id"])) <= 40:
        return f"{text}#{attrs['id']}"
    classes = [name for name in str(attrs.get("class") or "").split() if len(name) <= 30]
    return f"{text}.{classes[0]}" if classes else text


def is_interactive(node: Node) -> bool:
    if node.tag in _INTERACTIVE_TAGS:
        return True
    return node.attrs.get("role") in _INTERACTIVE_ROLES or node.attrs.get("contenteditable") in ("", "true")


def is_form_field(node: Node) -> bool:
    """Text inputs, text areas, selects, labels and editable regions: a click on them focuses."""
    if node.tag == "input":
        return str(node.attrs.get("type") or "text").lower() not in _BUTTON_INPUT_TYPES
    if node.tag in ("textarea", "select", "label"):
        return True
    return node.attrs.get("contenteditable") in ("", "true") or node.attrs.get("role") in (
        "textbox",
        "combobox",
    )


def is_disabled(node: Node) -> bool:
    return "disabled" in node.attrs or str(node.attrs.get("aria-disabled")).lower() == "true"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
