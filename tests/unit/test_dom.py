"""The DOM mirror: snapshots, mutations, deferral, and how elements are described."""

from __future__ import annotations

import copy

from pipeline.dom import DomMirror
from pipeline.timeline.elements import describe, target


def element(node_id: int, tag: str, attributes: dict | None = None, children: list | None = None) -> dict:
    return {
        "type": 2,
        "id": node_id,
        "tagName": tag,
        "attributes": attributes or {},
        "childNodes": children or [],
    }


def text(node_id: int, content: str) -> dict:
    return {"type": 3, "id": node_id, "textContent": content}


def page() -> dict:
    form = element(
        10,
        "form",
        {},
        [
            element(11, "label", {"for": "email"}, [text(12, "Work email")]),
            element(13, "input", {"type": "email", "id": "email"}),
            element(
                14,
                "button",
                {"class": "primary big", "disabled": ""},
                [element(15, "span", {}, [text(16, "Save")])],
            ),
        ],
    )
    body = element(3, "body", {}, [form, element(20, "script", {}, [text(21, "var secret = 1")])])
    return {"type": 0, "id": 1, "childNodes": [element(2, "html", {}, [body])]}


def loaded() -> DomMirror:
    mirror = DomMirror()
    mirror.load(page())
    return mirror


def test_a_click_inside_a_button_describes_the_button_with_its_text():
    mirror = loaded()
    assert describe(mirror, target(mirror, 16)) == 'button.primary "Save" (disabled)'


def test_a_field_is_named_by_its_label():
    mirror = loaded()
    assert describe(mirror, target(mirror, 13)) == 'input[type=email]#email "Work email"'


def test_script_text_is_never_read():
    mirror = loaded()
    assert "secret" not in mirror.text_of(3, 200)


def test_mutations_insert_before_next_id_so_text_reads_in_page_order():
    mirror = loaded()
    mirror.apply(
        {
            "adds": [
                {"parentId": 15, "nextId": 16, "node": text(30, "Please")},
                {"parentId": 15, "nextId": None, "node": text(31, "now")},
            ],
            "removes": [],
            "texts": [],
            "attributes": [],
        }
    )
    assert mirror.text_of(14) == "Please Save now"


def test_text_and_attribute_changes_apply_without_touching_the_recording():
    snapshot = page()
    original = copy.deepcopy(snapshot)
    mirror = DomMirror()
    mirror.load(snapshot)
    mirror.apply(
        {
            "texts": [{"id": 16, "value": "Saved"}],
            "attributes": [{"id": 14, "attributes": {"disabled": None}}],
        }
    )
    assert describe(mirror, target(mirror, 16)) == 'button.primary "Saved"'
    assert snapshot == original


def test_removed_nodes_leave_the_page_text():
    mirror = loaded()
    mirror.apply({"removes": [{"parentId": 10, "id": 14}]})
    assert "Save" not in mirror.text_of(10)


def test_a_snapshot_replaced_before_anyone_looks_is_never_built():
    mirror = DomMirror()
    mirror.load(page())
    mirror.load({"type": 0, "id": 1, "childNodes": [element(2, "html", {}, [element(99, "main")])]})
    assert mirror.node(16) is None
    assert mirror.node(99).tag == "main"


def test_a_malformed_mutation_is_skipped_and_counted_when_replayed():
    mirror = loaded()
    mirror.apply({"adds": [{"parentId": 3}]})  # an add without its node
    mirror.apply({"texts": [{"id": 16, "value": "Go"}]})
    assert mirror.text_of(14) == "Go"
    assert mirror.malformed == 1


def test_a_very_deep_page_loads_without_recursion():
    root = element(1, "div")
    current = root
    for node_id in range(2, 5000):
        child = element(node_id, "div")
        current["childNodes"] = [child]
        current = child
    current["childNodes"] = [text(6000, "bottom")]
    mirror = DomMirror()
    mirror.load(root)
    assert mirror.text_of(1) == "bottom"
