"""Feedback: short text a page shows in answer to the person (a confirmation, an error banner)."""

from __future__ import annotations

import re

from pipeline.dom import DomMirror
from pipeline.rrweb import NodeType

_FEEDBACK_LIMIT = 160
_FEEDBACK_MAX_ADDS = 40
_ALERT_CLASS = re.compile("error|alert|toast|notice|success", re.IGNORECASE)
_ELEMENT = int(NodeType.ELEMENT)
_INSIDE_HOPS = 12  # how deep below the clicked element an added counter or icon may sit
_NOT_WORDS = re.compile(r"[\W\d_]+")  # digits, punctuation and spaces: what a counter changes


def feedback_text(mirror: DomMirror, mutation: dict, after_click: bool, clicked: object = None) -> str:
    """Short text a mutation put on screen: an alert anywhere, or any small text right after a click.

    Not feedback: whole page renders (more than `_FEEDBACK_LIMIT` characters); text the same
    mutation took away (a re-render or a moved node shows nothing new); and, after a click on
    `clicked`, text added inside the clicked element or that only repeats its own text, give or
    take a number (`Star` → `Star 1,024`). Returns "" then.
    Called for every mutation, so the common case (no click just before, no alert) exits early.
    """
    adds = mutation.get("adds") or ()
    if len(adds) > _FEEDBACK_MAX_ADDS:
        # A page being rendered, not a message; an alert inside it is not a root add either.
        return ""
    if not after_click and not _any_alert(adds):
        return ""
    added = [(add.get("parentId"), add["node"]) for add in adds if add.get("node").__class__ is dict]
    ids = {item.get("id") for _, item in added}
    # rrweb lists a subtree's nodes as separate adds: keep only the topmost element of each.
    roots = [item["id"] for parent, item in added if item.get("type") == _ELEMENT and parent not in ids]
    mirror.sync()
    if clicked is not None:
        roots = [node_id for node_id in roots if clicked not in mirror.ancestors(node_id, _INSIDE_HOPS)]
    alerting = [node_id for node_id in roots if _is_alert(mirror.attributes(node_id))]
    chosen = alerting or (roots if after_click else [])
    text = " ".join(filter(None, (mirror.text_of(node_id, 2 * _FEEDBACK_LIMIT) for node_id in chosen[:20])))
    if len(text) > _FEEDBACK_LIMIT or len(text) < 3:
        return ""
    return "" if _repeats(mirror, text, mutation.get("removes"), clicked) else text


def _repeats(mirror: DomMirror, text: str, removes: list | None, clicked: object) -> bool:
    """Does `text` only repeat what the mutation removed, or the clicked element's text (numbers aside)?"""
    gist = _gist(text)
    if clicked is not None and gist == _gist(mirror.text_of(clicked, 2 * _FEEDBACK_LIMIT)):
        return True
    removed = " ".join(
        mirror.text_of(removal.get("id"), 2 * _FEEDBACK_LIMIT) for removal in (removes or ())[:20]
    )
    return bool(removed) and gist == _gist(removed)


def _gist(text: str) -> str:
    return " ".join(_NOT_WORDS.sub(" ", text).lower().split())


def _any_alert(adds: list | tuple) -> bool:
    for add in adds:  # hot: every add of every mutation passes here
        attrs = add["node"].get("attributes")
        if attrs and _is_alert(attrs):
            return True
    return False


def _is_alert(attrs: dict | None) -> bool:
    """An element announcing something: role alert/status, aria-live, or an error/toast-like class."""
    if not attrs:
        return False
    if attrs.get("role") in ("alert", "status") or attrs.get("aria-live") in ("assertive", "polite"):
        return True
    classes = attrs.get("class")
    return classes.__class__ is str and _ALERT_CLASS.search(classes) is not None
