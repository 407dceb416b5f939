"""A DOM mirror: the page as the recorder saw it, rebuilt from a FullSnapshot and its mutations.

It answers one question for the timeline: what did the person click, in words? Applying
mutations is the hottest loop of rendering, so nodes live in parallel dicts keyed by id (no
object per node); `node()` builds a small read-only `Node` view when a question is asked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from pipeline.rrweb import NodeType

_INTERACTIVE_TAGS = frozenset({"a", "button", "input", "select", "textarea", "label", "summary", "option"})
_INTERACTIVE_ROLES = frozenset(
    {"button", "link", "tab", "menuitem", "checkbox", "radio", "switch", "option", "textbox", "combobox"}
)
_BUTTON_INPUT_TYPES = frozenset({"submit", "button", "image", "reset", "checkbox", "radio"})
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "head", "title", "meta", "link", "template"})
_TEXT_LIMIT = 60
# Names are read this long, cleaned (redacted) whole, and only then cut to `_TEXT_LIMIT`: cutting
# first could leave half an email that no rule recognises.
_RAW_NAME_LIMIT = 240
_ANCESTOR_HOPS = 6
_MUTATION_LISTS = ("removes", "adds", "texts", "attributes")
# Plain ints: comparing against IntEnum members costs an attribute lookup per node.
_ELEMENT, _TEXT, _DOCUMENT = int(NodeType.ELEMENT), int(NodeType.TEXT), int(NodeType.DOCUMENT)
_NO_ATTRS: dict = {}  # shared by nodes without attributes; never written to


class Node:
    """A read-only view of one node: `tag` is None for text, "#document" or "#other" for the rest."""

    __slots__ = ("attrs", "id", "parent", "tag", "text")

    def __init__(self, node_id: int, tag: str | None, attrs: dict, text: str | None, parent: int | None):
        self.id, self.tag, self.attrs, self.text, self.parent = node_id, tag, attrs, text, parent


class DomMirror:
    """Nodes by id; `load` resets it from a FullSnapshot, `apply` replays a Mutation.

    Both are deferred until something is read: a snapshot replaced before anyone looks at it,
    and the mutations after the last look, are never built at all. A malformed mutation is
    skipped when it is replayed and counted in `malformed`.
    """

    def __init__(self) -> None:
        self.loaded = False
        self.malformed = 0
        self._pending: list[tuple[bool, dict]] = []
        self._reset()

    def _reset(self) -> None:
        self.tags: dict[int, str | None] = {}
        self.attrs: dict[int, dict] = {}
        self.texts: dict[int, object] = {}
        self.parents: dict[int, int | None] = {}
        self.children: dict[int, list[int]] = {}

    def load(self, root: dict) -> None:
        self.loaded = True
        self._pending = [(True, root)]

    def apply(self, mutation: dict) -> None:
        """Queue a Mutation; raises TypeError at once when its shape is wrong."""
        for key in _MUTATION_LISTS:
            value = mutation.get(key)
            if value is not None and value.__class__ is not list:
                raise TypeError(f"mutation {key} is a {type(value).__name__}, not a list")
        self._pending.append((False, mutation))

    def sync(self) -> None:
        """Replay what `load` and `apply` deferred; every reading method calls it first."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        for is_snapshot, data in pending:
            try:
                if is_snapshot:
                    self._reset()
                    self._register(data, None, None)
                    self._add_children(data)
                else:
                    self._replay(data)
            except (AttributeError, TypeError, KeyError, ValueError):
                self.malformed += 1

    def _replay(self, mutation: dict) -> None:
        for removal in mutation.get("removes") or ():
            self._remove(removal.get("parentId"), removal.get("id"))
        adds = mutation.get("adds")
        if adds:
            self._add_nodes(adds)
        texts, tags = self.texts, self.tags
        for change in mutation.get("texts") or ():
            node_id = change.get("id")
            if tags.get(node_id, "") is None:
                texts[node_id] = change.get("value")
        for change in mutation.get("attributes") or ():
            node_id, changes = change.get("id"), change.get("attributes")
            if node_id in self.attrs and changes.__class__ is dict:
                self._set_attributes(node_id, changes)

    def _add_nodes(self, adds: list) -> None:
        for addition in adds:
            item = addition["node"]
            self._register(item, addition["parentId"], addition.get("nextId"))
            if item.get("childNodes"):
                self._add_children(item)

    def _register(self, item: dict, parent: int | None, next_id: int | None) -> None:
        """One node, attached to its parent before `next_id` (or last); a moved node is detached first."""
        node_id, kind = item["id"], item["type"]
        previous = self.parents.get(node_id)
        if previous is not None:
            self._remove(previous, node_id)
        if kind == _ELEMENT:
            self.tags[node_id] = item["tagName"]
            self.attrs[node_id] = item.get("attributes") or _NO_ATTRS
        elif kind == _TEXT:
            self.tags[node_id] = None
            self.texts[node_id] = "" if item.get("isStyle") else item.get("textContent")
        else:
            self.tags[node_id] = "#document" if kind == _DOCUMENT else "#other"
        self.parents[node_id] = parent
        siblings = self.children.get(parent)
        if siblings is None:
            self.children[parent] = [node_id]
        elif next_id is None:
            siblings.append(node_id)
        else:
            try:
                siblings.insert(siblings.index(next_id), node_id)
            except ValueError:
                siblings.append(node_id)

    def _add_children(self, root: dict) -> None:
        """The serialized descendants of a registered node: the hot loop of a FullSnapshot.

        Iterative, so a pathologically deep page cannot exhaust the interpreter's stack.
        """
        tags, attrs, texts, parents, children = self.tags, self.attrs, self.texts, self.parents, self.children
        stack = [root]
        while stack:
            node = stack.pop()
            node_id = node["id"]
            # The serialized child list is complete: it replaces whatever an earlier add left there.
            ids = children[node_id] = []
            for kid in node["childNodes"]:
                kid_id, kind = kid["id"], kid["type"]
                if kind == _TEXT:
                    tags[kid_id] = None
                    texts[kid_id] = "" if kid.get("isStyle") else kid.get("textContent")
                else:
                    if kind == _ELEMENT:
                        tags[kid_id] = kid["tagName"]
                        attrs[kid_id] = kid.get("attributes") or _NO_ATTRS
                    else:
                        tags[kid_id] = "#document" if kind == _DOCUMENT else "#other"
                    if kid.get("childNodes"):
                        stack.append(kid)
                parents[kid_id] = node_id
                ids.append(kid_id)

    def _remove(self, parent_id: int | None, node_id: int | None) -> None:
        # Detach only: rrweb never reuses an id within a snapshot, so the removed subtree's
        # entries are unreachable from the page yet still describe a late event aimed at them.
        siblings = self.children.get(parent_id)
        if siblings is not None:
            with contextlib.suppress(ValueError):
                siblings.remove(node_id)
        if node_id in self.parents:
            self.parents[node_id] = None

    def _set_attributes(self, node_id: int, changes: dict) -> None:
        # Copy on write: the attributes dict may be the recording's own, which must stay untouched.
        updated = dict(self.attrs[node_id])
        for name, value in changes.items():
            if value is None:
                updated.pop(name, None)
            else:
                updated[name] = value
        self.attrs[node_id] = updated

    # -- reading -------------------------------------------------------------------------

    def node(self, node_id: object) -> Node | None:
        self.sync()
        tag = self.tags.get(node_id, "?")
        if tag == "?":
            return None
        text = self.texts.get(node_id)
        return Node(node_id, tag, self.attrs.get(node_id, _NO_ATTRS), text, self.parents.get(node_id))

    def target(self, node_id: object) -> Node | None:
        """The element a person meant: the nearest interactive ancestor, else the element itself."""
        node = self.node(node_id)
        if node is not None and node.tag is None:
            node = self.node(node.parent)
        current, hops = node, 0
        while current is not None and hops <= _ANCESTOR_HOPS:
            if is_interactive(current):
                return current
            current, hops = self.node(current.parent), hops + 1
        return node

    def text_of(self, node_id: int, limit: int = _TEXT_LIMIT) -> str:
        """Visible text below a node, whitespace folded, cut at `limit` characters."""
        self.sync()
        parts: list[str] = []
        size, stack = 0, [node_id]
        tags, texts, children = self.tags, self.texts, self.children
        while stack and size <= limit:
            current = stack.pop()
            tag = tags.get(current, "?")
            if tag is None:
                text = texts.get(current)
                piece = " ".join(text[: limit * 4].split()) if text.__class__ is str else ""
                if piece:
                    parts.append(piece)
                    size += len(piece) + 1
            elif tag not in _HIDDEN_TAGS:
                stack.extend(reversed(children.get(current, ())))
        return _shorten(" ".join(parts), limit)

    def label_for(self, node: Node) -> str:
        """A form field's accessible name: aria-label, <label for>, a wrapping label, placeholder or name."""
        attrs = node.attrs
        if attrs.get("aria-label"):
            return str(attrs["aria-label"])[:_RAW_NAME_LIMIT]
        field_id = attrs.get("id")
        if field_id:
            for candidate, candidate_attrs in self.attrs.items():
                if candidate_attrs.get("for") == field_id and self.tags.get(candidate) == "label":
                    return self.text_of(candidate, _RAW_NAME_LIMIT)
        if self.tags.get(node.parent) == "label":
            return self.text_of(node.parent, _RAW_NAME_LIMIT)
        for key in ("placeholder", "name", "title", "id"):
            if attrs.get(key):
                return str(attrs[key])[:_RAW_NAME_LIMIT]
        return ""

    def describe(self, node: Node | None, clean: Callable[[str], str] = str) -> str:
        """`button#pay "Pay"`, `input[type=email] "Email"`, `a.nav "Pricing"`, or `unknown element`.

        `clean` (the redactor) sees the name whole, before it is shortened.
        """
        if node is None or node.tag is None:
            return "unknown element"
        if node.tag in ("input", "textarea", "select") or is_form_field(node):
            name = self.label_for(node)  # never the text inside: in an editable region that is typing
        else:
            attrs = node.attrs
            name = str(attrs.get("aria-label") or "") or self.text_of(node.id, _RAW_NAME_LIMIT)
            name = name or str(attrs.get("title") or attrs.get("alt") or "")
        name = _shorten(clean(name), _TEXT_LIMIT) if name else ""
        described = f'{clean(selector(node))} "{name}"' if name else clean(selector(node))
        return f"{described} (disabled)" if is_disabled(node) else described


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
    attrs = node.attrs
    return attrs.get("contenteditable") in ("", "true") or attrs.get("role") in ("textbox", "combobox")


def is_disabled(node: Node) -> bool:
    return "disabled" in node.attrs or str(node.attrs.get("aria-disabled")).lower() == "true"


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary when there is one in the second half, so no token is left half-shown."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip() + "…"
