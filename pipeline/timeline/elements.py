"""What an element is and is called: `button#pay "Pay"`, `input[type=email] "Email"`, `a "/pricing"`.

The element a person meant by an event on a node is its nearest interactive ancestor (`target`).

An element is named by, in order: its aria-label (its accessible name), its visible text, the
aria-label or alt text of an icon or image inside it, its title, alt or name attribute; a link
with none of these by where it goes (redacted, a path on the page's own origin); anything else by
the aria-label or title of its nearest labelled ancestor (a few hops up). A form field is named
by its label, never by the text inside it: in an editable region that is what the person typed.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.dom import DomMirror, Node, shorten_words

UNKNOWN = "unknown element"
_INTERACTIVE_TAGS = frozenset({"a", "button", "input", "select", "textarea", "label", "summary", "option"})
_INTERACTIVE_ROLES = frozenset(
    {"button", "link", "tab", "menuitem", "checkbox", "radio", "switch", "option", "textbox", "combobox"}
)
_BUTTON_INPUT_TYPES = frozenset({"submit", "button", "image", "reset", "checkbox", "radio"})
_SVG_PARTS = frozenset(
    {"path", "g", "use", "circle", "rect", "line", "polyline", "polygon", "ellipse", "tspan", "symbol"}
)
_ANCESTOR_HOPS = 6
_TEXT_LIMIT = 60
# Names are read this long, cleaned (redacted) whole, and only then cut to `_TEXT_LIMIT`: cutting
# first could leave half an email that no rule recognises.
_RAW_NAME_LIMIT = 240
_LABEL_HOPS = 3  # an icon is rarely nested deeper than this below the element that names it
_INNER_SCAN = 24  # descendants looked at for an icon's or image's label
_FIELD_TAGS = frozenset({"input", "textarea", "select"})
_BUTTON_VALUE_TYPES = frozenset({"submit", "button", "reset"})
_PAGE_TAGS = frozenset({"body", "html", "#document"})
_NO_DESTINATION = ("#", "javascript:")  # a link that goes nowhere says nothing by its href


def target(mirror: DomMirror, node_id: object) -> Node | None:
    """The element a person meant: the nearest interactive ancestor, else the element itself.

    A click on text means its element, and a click on a shape inside an icon means the icon.
    """
    node = mirror.node(node_id)
    if node is not None and node.tag is None:
        node = mirror.node(node.parent)
    hops = 0
    while node is not None and node.tag in _SVG_PARTS and hops < _ANCESTOR_HOPS:
        node, hops = mirror.node(node.parent) or node, hops + 1
    current, hops = node, 0
    while current is not None and hops <= _ANCESTOR_HOPS:
        if is_interactive(current):
            return current
        current, hops = mirror.node(current.parent), hops + 1
    return node


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


def describe(
    mirror: DomMirror,
    node: Node | None,
    clean: Callable[[str], str] = str,
    clean_url: Callable[[str], str] | None = None,
) -> str:
    """`button#pay "Pay"`, `input[type=email] "Email"`, `a.nav "Pricing"`, or `unknown element`.

    `clean` (the redactor) sees a name whole, before it is shortened; `clean_url` turns a link's
    href into what may be shown (redacted, a path on the page's own origin).
    """
    if node is None or node.tag is None:
        return UNKNOWN
    if _is_field(node):
        name = clean(label_for(mirror, node))  # never the text inside: in an editable region that is typing
    else:
        name = clean(_own_name(mirror, node))
        if not name and clean_url is not None and node.tag == "a":
            href = str(node.attrs.get("href") or "")
            name = "" if not href or href.startswith(_NO_DESTINATION) else clean_url(href)
        name = name or clean(_ancestor_label(mirror, node))
    name = shorten_words(name, _TEXT_LIMIT) if name else ""
    described = f'{clean(selector(node))} "{name}"' if name else clean(selector(node))
    return f"{described} (disabled)" if is_disabled(node) else described


def label_for(mirror: DomMirror, node: Node) -> str:
    """A form field's accessible name: aria-label, <label for>, a wrapping label, then its attributes."""
    attrs = node.attrs
    if attrs.get("aria-label"):
        return str(attrs["aria-label"])[:_RAW_NAME_LIMIT]
    field_id = attrs.get("id")
    if field_id:
        for candidate, item in mirror.nodes.items():
            if item.get("tagName") == "label" and mirror.attributes(candidate).get("for") == field_id:
                text = mirror.text_of(candidate, _RAW_NAME_LIMIT)
                if text:
                    return text
    if mirror.tag(node.parent) == "label":
        text = mirror.text_of(node.parent, _RAW_NAME_LIMIT)
        if text:
            return text
    if str(attrs.get("type") or "").lower() in _BUTTON_VALUE_TYPES and attrs.get("value"):
        return str(attrs["value"])[:_RAW_NAME_LIMIT]  # a button's value is its caption, not typing
    for key in ("placeholder", "name", "title", "id"):
        if attrs.get(key):
            return str(attrs[key])[:_RAW_NAME_LIMIT]
    return ""


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


def _is_field(node: Node) -> bool:
    if node.tag in _FIELD_TAGS:
        return True
    attrs = node.attrs
    return attrs.get("contenteditable") in ("", "true") or attrs.get("role") in ("textbox", "combobox")


def _own_name(mirror: DomMirror, node: Node) -> str:
    attrs = node.attrs
    name = str(attrs.get("aria-label") or "") or mirror.text_of(node.id, _RAW_NAME_LIMIT)
    name = name or _inner_label(mirror, node.id)
    return name or str(attrs.get("title") or attrs.get("alt") or attrs.get("name") or "")[:_RAW_NAME_LIMIT]


def _inner_label(mirror: DomMirror, node_id: object) -> str:
    """The alt text or aria-label of the first image or icon below a node: an icon button's name."""
    children = mirror.children
    stack, seen = list(reversed(children.get(node_id, ()))), 0
    while stack and seen < _INNER_SCAN:
        current, seen = stack.pop(), seen + 1
        found = mirror.attributes(current)
        if found:
            name = found.get("aria-label") or found.get("alt")
            if name:
                return str(name)[:_RAW_NAME_LIMIT]
        stack.extend(reversed(children.get(current, ())))
    return ""


def _ancestor_label(mirror: DomMirror, node: Node) -> str:
    """The aria-label or title of the nearest ancestor that has one, within `_LABEL_HOPS`."""
    for ancestor in mirror.ancestors(node.parent, _LABEL_HOPS - 1):
        if mirror.tag(ancestor) in _PAGE_TAGS:
            return ""
        attrs = mirror.attributes(ancestor)
        name = attrs.get("aria-label") or attrs.get("title")
        if name:
            return str(name)[:_RAW_NAME_LIMIT]
    return ""
