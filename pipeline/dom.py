"""A DOM mirror: the page as the recorder saw it, rebuilt from a FullSnapshot and its mutations.

It answers the timeline's questions about the page: which node is that, what text is below it,
is it shown? (What an element *is* and is called is `pipeline.timeline.elements`.) Applying
mutations is the hottest loop of rendering, so nodes live in parallel dicts keyed by id (no
object per node); `node()` builds a small read-only `Node` view when a question is asked.
"""

from __future__ import annotations

import contextlib

from pipeline.rrweb import NodeType

_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "head", "title", "meta", "link", "template"})
_TEXT_LIMIT = 60
_SHOWN_HOPS = 40  # deeper than any real page's nesting of a message; past it a node counts as shown
_MUTATION_LISTS = ("removes", "adds", "texts", "attributes")
# Plain ints: comparing against IntEnum members costs an attribute lookup per node.
_ELEMENT, _TEXT, _DOCUMENT = int(NodeType.ELEMENT), int(NodeType.TEXT), int(NodeType.DOCUMENT)
_NO_ATTRS: dict = {}  # shared by nodes without attributes; never written to


class Node:
    """A read-only view of one node: `tag` is None for text, "#document" or "#other" for the rest."""

    __slots__ = ("attrs", "id", "parent", "tag", "text")

    def __init__(self, node_id: object, tag: str | None, attrs: dict, text: object, parent: object):
        self.id, self.tag, self.attrs, self.text, self.parent = node_id, tag, attrs, text, parent


class DomMirror:
    """Nodes by id; `load` resets it from a FullSnapshot, `apply` replays a Mutation.

    Both are deferred until something is read: a snapshot replaced before anyone looks at it,
    and the mutations after the last look, are never built at all. A malformed mutation is
    skipped when it is replayed and counted in `malformed`.

    Each node is kept as the recording serialized it (`nodes`, never written to); what later
    mutations changed is kept beside it (`texts`, `changed` attributes). Read through `tag`,
    `attributes`, `text_value` and `node`.
    """

    def __init__(self) -> None:
        self.loaded = False
        self.malformed = 0
        self._pending: list[tuple[bool, dict]] = []
        self._reset()

    def _reset(self) -> None:
        # Keyed by the ids as the recording wrote them: ints when it is well formed, anything when
        # not (such an id is kept and looked up like any other). A root's parent is None.
        self.nodes: dict[object, dict] = {}
        self.texts: dict[object, object] = {}  # text nodes whose text a mutation changed
        self.changed: dict[object, dict] = {}  # elements whose attributes a mutation changed (copies)
        self.parents: dict[object, object] = {}
        self.children: dict[object, list[object]] = {}

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
                    self._add_nodes(({"node": data, "parentId": None},))
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
        nodes = self.nodes
        for change in mutation.get("texts") or ():
            node_id = change.get("id")
            item = nodes.get(node_id)
            if item is not None and item.get("type") == _TEXT:
                self.texts[node_id] = change.get("value")
        for change in mutation.get("attributes") or ():
            node_id, changes = change.get("id"), change.get("attributes")
            if node_id in nodes and changes.__class__ is dict:
                self._set_attributes(node_id, changes)

    def _add_nodes(self, adds: list | tuple) -> None:
        """Attach each added node to its parent before its `nextId` (or last); a moved node is detached first.

        The hottest loop of rendering (every add of every mutation), so it is written flat and
        stores the serialized node as it is.
        """
        nodes, parents, children = self.nodes, self.parents, self.children
        for addition in adds:
            item, parent = addition["node"], addition["parentId"]
            node_id = item["id"]
            if node_id in nodes:  # moved or re-serialized: the new copy is the truth
                self._forget(node_id)
            nodes[node_id] = item
            parents[node_id] = parent
            siblings = children.get(parent)
            if siblings is None:
                children[parent] = [node_id]
            else:
                next_id = addition.get("nextId")
                if next_id is None:
                    siblings.append(node_id)
                else:
                    try:
                        siblings.insert(siblings.index(next_id), node_id)
                    except ValueError:
                        siblings.append(node_id)
            if item.get("childNodes"):
                self._add_children(item)

    def _add_children(self, root: dict) -> None:
        """The serialized descendants of a registered node: the hot loop of a FullSnapshot.

        Iterative, so a pathologically deep page cannot exhaust the interpreter's stack.
        """
        nodes, parents, children = self.nodes, self.parents, self.children
        texts, changed = self.texts, self.changed
        stale = bool(texts or changed)  # a re-added subtree: what was changed before is superseded
        stack = [root]
        while stack:
            node = stack.pop()
            node_id = node["id"]
            # The serialized child list is complete: it replaces whatever an earlier add left there.
            ids = children[node_id] = []
            for kid in node["childNodes"]:
                kid_id = kid["id"]
                if stale:
                    texts.pop(kid_id, None)
                    changed.pop(kid_id, None)
                nodes[kid_id] = kid
                parents[kid_id] = node_id
                ids.append(kid_id)
                if kid.get("childNodes"):
                    stack.append(kid)

    def _forget(self, node_id: object) -> None:
        parent = self.parents.get(node_id)
        if parent is not None:
            self._remove(parent, node_id)
        self.texts.pop(node_id, None)
        self.changed.pop(node_id, None)

    def _remove(self, parent_id: object, node_id: object) -> None:
        # Detach only: rrweb never reuses an id within a snapshot, so the removed subtree's
        # entries are unreachable from the page yet still describe a late event aimed at them.
        siblings = self.children.get(parent_id)
        if siblings is not None:
            with contextlib.suppress(ValueError):
                siblings.remove(node_id)
        if node_id in self.parents:
            self.parents[node_id] = None

    def _set_attributes(self, node_id: object, changes: dict) -> None:
        # Copy on write: the attributes dict is the recording's own, which must stay untouched.
        updated = dict(self.attributes(node_id))
        for name, value in changes.items():
            if value is None:
                updated.pop(name, None)
            else:
                updated[name] = value
        self.changed[node_id] = updated

    # -- reading (after `sync`) ----------------------------------------------------------

    def tag(self, node_id: object) -> str | None:
        """An element's tag; None for text; "#document", "#other", or "?" for an unknown id."""
        item = self.nodes.get(node_id)
        if item is None:
            return "?"
        kind = item.get("type")
        if kind == _ELEMENT:
            name = item.get("tagName")
            return name if name.__class__ is str else "#other"
        if kind == _TEXT:
            return None
        return "#document" if kind == _DOCUMENT else "#other"

    def attributes(self, node_id: object) -> dict:
        changed = self.changed.get(node_id)
        if changed is not None:
            return changed
        item = self.nodes.get(node_id)
        if item is None or item.get("type") != _ELEMENT:
            return _NO_ATTRS
        found = item.get("attributes")
        return found if found.__class__ is dict else _NO_ATTRS

    def text_value(self, node_id: object) -> object:
        """A text node's current text (a style sheet's counts as empty); None for other nodes."""
        if node_id in self.texts:
            return self.texts[node_id]
        item = self.nodes.get(node_id)
        if item is None or item.get("type") != _TEXT:
            return None
        return "" if item.get("isStyle") else item.get("textContent")

    def node(self, node_id: object) -> Node | None:
        self.sync()
        tag = self.tag(node_id)
        if tag == "?":
            return None
        text = self.text_value(node_id) if tag is None else None
        return Node(node_id, tag, self.attributes(node_id), text, self.parents.get(node_id))

    def text_of(self, node_id: object, limit: int = _TEXT_LIMIT) -> str:
        """Visible text below a node, whitespace folded, cut at `limit` characters."""
        self.sync()
        parts: list[str] = []
        size, stack = 0, [node_id]
        nodes, children = self.nodes, self.children
        while stack and size <= limit:
            current = stack.pop()
            item = nodes.get(current)
            if item is None:
                continue
            kind = item.get("type")
            if kind == _TEXT:
                text = self.text_value(current)
                piece = " ".join(text[: limit * 4].split()) if text.__class__ is str else ""
                if piece:
                    parts.append(piece)
                    size += len(piece) + 1
            elif kind != _ELEMENT or item.get("tagName") not in _HIDDEN_TAGS:
                stack.extend(reversed(children.get(current, ())))
        return shorten_words(" ".join(parts), limit)

    def ancestors(self, node_id: object, hops: int) -> list[object]:
        """The node's id and those of up to `hops` ancestors above it, nearest first."""
        self.sync()
        chain: list[object] = []
        parents = self.parents
        current = node_id
        while current is not None and current in parents and len(chain) <= hops:
            chain.append(current)
            current = parents[current]
        return chain

    def is_shown(self, node_id: object) -> bool:
        """Is this node on the page and plausibly visible (attached, not hidden, not inside an editor)?

        Read from the markup only: a stylesheet can still hide it. Inside an editable region or a
        text area, text is what the person typed, so it counts as not shown.
        """
        self.sync()
        parents = self.parents
        current = parents.get(node_id) if self.tag(node_id) is None else node_id
        for _ in range(_SHOWN_HOPS):
            tag = self.tag(current)
            if tag == "#document":
                return True
            if current is None or tag == "?" or tag in _HIDDEN_TAGS or tag == "textarea":
                return False
            if not _visible_attributes(self.attributes(current)):
                return False
            current = parents.get(current)
        return True


def _visible_attributes(attrs: dict) -> bool:
    if not attrs:
        return True
    if (
        "hidden" in attrs
        or attrs.get("aria-hidden") == "true"
        or attrs.get("contenteditable") in ("", "true")
    ):
        return False
    style = attrs.get("style")
    if style.__class__ is not str or ("none" not in style and "hidden" not in style):
        return True
    folded = style.replace(" ", "")
    return "display:none" not in folded and "visibility:hidden" not in folded


def shorten_words(text: str, limit: int) -> str:
    """Cut at a word boundary when there is one in the second half, so no token is left half-shown."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip() + "…"
