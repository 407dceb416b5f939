"""Errors a page shows: short visible text saying something went wrong ("Invalid date", "Payment failed").

`ERROR_TEXT` looks, in a text of at most `MAX_ERROR_CHARS` characters (longer text is content,
such as a docs page that mentions errors), for:

- values a script leaked into the page, as JavaScript writes them: `NaN`, `undefined`;
- the phrases "something went wrong", "error:", "error occurred", "failed", "is required",
  "invalid <word>" (also "Invalid Date"), "not found", "try again", "could not"/"couldn't",
  "unable to" (any case, whole words).

Sources are a mutation's changed texts and the text nodes it adds, unless it adds more than
`MAX_ADDS` nodes (a page being rendered, not a message). Whether the text is on screen is
checked against the DOM mirror by the caller (`DomMirror.is_shown`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.dom import DomMirror
from pipeline.rrweb import NodeType

MAX_ERROR_CHARS = 200
MAX_ADDS = 40
ERROR_TEXT = re.compile(
    r"\b(?:NaN|undefined)\b"
    r"|(?i:\bsomething went wrong\b|\berror(?:\s*:|\s+occurred\b)|\bfailed\b|\bis required\b"
    r"|\binvalid\s+\w|\bnot found\b|\btry again\b|\bcould ?n[o']t\b|\bunable to\b)"
)
_INLINE = frozenset({"b", "strong", "i", "em", "span", "a", "code", "small", "u", "mark", "sup", "sub"})
_INLINE_HOPS = 2
_TEXT = int(NodeType.TEXT)
_search = ERROR_TEXT.search


def error_texts(mutation: dict) -> list[tuple[object, str]]:
    """(text node id, text) of each changed or added text in `mutation` that reads like an error."""
    found = []
    for change in mutation.get("texts") or ():
        value = change.get("value")
        if value.__class__ is str and len(value) <= MAX_ERROR_CHARS and _search(value):
            found.append((change.get("id"), value))
    adds = mutation.get("adds")
    if adds and len(adds) <= MAX_ADDS:
        stack = [add.get("node") for add in adds]
        while stack:
            node = stack.pop()
            if node.__class__ is not dict:
                continue
            if node.get("type") == _TEXT:
                text = node.get("textContent")
                if text.__class__ is str and len(text) <= MAX_ERROR_CHARS and _search(text):
                    found.append((node.get("id"), text))
            elif node.get("childNodes"):
                stack.extend(node["childNodes"])  # nested adds: rare in rrweb, common in hand-made events
    return found


def visible_errors(mirror: DomMirror, mutation: dict, values: Iterable[str]) -> list[str]:
    """The error texts `mutation` (already applied to `mirror`) shows, each with its element's text.

    Field values (`values`) are replaced by [masked]: a message may echo what was typed. Not
    redacted yet.
    """
    shown = []
    for node_id, text in error_texts(mutation):
        if mirror.is_shown(node_id):
            block = _message(mirror, mirror.parents.get(node_id))
            folded = " ".join(text.split())
            shown.append(_mask(block if folded in block else folded, values))
    return shown


def _message(mirror: DomMirror, element: object) -> str:
    """The text of the element holding an error, or of the sentence it is part of (`<p><b>Error:</b> …</p>`).

    It climbs from an inline element to a parent that holds only inline content and text, so a
    message is never joined with the text of the buttons beside it.
    """
    block = mirror.text_of(element, MAX_ERROR_CHARS)
    for _ in range(_INLINE_HOPS):
        parent = mirror.parents.get(element)
        if mirror.tag(element) not in _INLINE or parent is None or not _inline_only(mirror, parent):
            break
        whole = mirror.text_of(parent, MAX_ERROR_CHARS)
        if whole.endswith("…"):  # cut: the parent holds more than a message
            break
        element, block = parent, whole
    return block


def _inline_only(mirror: DomMirror, node_id: object) -> bool:
    return all(
        mirror.tag(child) is None or mirror.tag(child) in _INLINE
        for child in mirror.children.get(node_id, ())
    )


def _mask(text: str, values: Iterable[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, "[masked]")
    return text
