"""The scripted scenarios are well-formed rrweb sessions whose ground truth (marks, pii) holds."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest

from scenarios import DEFAULT_START_MS, Scenario, build, build_all, names
from scenarios.builder import SessionBuilder
from scenarios.pages import contact

META, FULL_SNAPSHOT, INCREMENTAL, PLUGIN = 4, 2, 3, 6
MUTATION, MOUSE_MOVE, INTERACTION, SCROLL, RESIZE, INPUT, TOUCH_MOVE, SELECTION = 0, 1, 2, 3, 4, 5, 6, 14
MOUSE_UP, MOUSE_DOWN, CLICK, DBL_CLICK, FOCUS, TOUCH_START, TOUCH_END = 0, 1, 2, 4, 5, 7, 9
USER_SOURCES = {MOUSE_MOVE, INTERACTION, SCROLL, INPUT, TOUCH_MOVE, SELECTION}
PACKAGE = Path(__file__).resolve().parents[2] / "pipeline" / "scenarios"
SCENARIOS = {scenario.name: scenario for scenario in build_all()}


def _seconds(scenario: Scenario, event: dict) -> float:
    return (event["timestamp"] - scenario.events[0]["timestamp"]) / 1000


def _incremental(scenario: Scenario, source: int, kind: int | None = None) -> list[dict]:
    return [
        event
        for event in scenario.events
        if event["type"] == INCREMENTAL
        and event["data"]["source"] == source
        and (kind is None or event["data"].get("type") == kind)
    ]


def _clicks(scenario: Scenario) -> list[dict]:
    return _incremental(scenario, INTERACTION, CLICK)


def _responses(scenario: Scenario) -> list[float]:
    """When the page visibly answered: DOM mutations and page loads."""
    changes = [e for e in scenario.events if e["type"] == META or _is_source(e, MUTATION)]
    return [_seconds(scenario, event) for event in changes]


def _is_source(event: dict, source: int) -> bool:
    return event["type"] == INCREMENTAL and event["data"]["source"] == source


def _referenced_ids(data: dict) -> list[int]:
    source = data["source"]
    if source in (INTERACTION, INPUT, SCROLL):
        return [data["id"]]
    if source in (MOUSE_MOVE, TOUCH_MOVE):
        return [position["id"] for position in data["positions"]]
    if source == SELECTION:
        return [edge for r in data["ranges"] for edge in (r["start"], r["end"])]
    return []


def _find(node: dict, nid: int) -> dict | None:
    if node["id"] == nid:
        return node
    found = (_find(child, nid) for child in node.get("childNodes", []))
    return next((hit for hit in found if hit is not None), None)


class LiveDom:
    """The ids a player's mirror would hold, replayed from snapshots and mutations."""

    def __init__(self) -> None:
        self.children: dict[int, list[int]] = {}
        self.present: set[int] = set()

    def reset(self, tree: dict) -> None:
        self.children, self.present = {}, set()
        self._add(tree, None)

    def apply(self, mutation: dict) -> None:
        for removal in mutation["removes"]:
            assert removal["id"] in self.present, removal
            self._drop(removal["id"])
        for addition in mutation["adds"]:
            assert addition["parentId"] in self.present, addition
            self._add(addition["node"], addition["parentId"])
        for change in mutation["texts"] + mutation["attributes"]:
            assert change["id"] in self.present, change

    def _add(self, node: dict, parent: int | None) -> None:
        self.present.add(node["id"])
        if parent is not None:
            self.children.setdefault(parent, []).append(node["id"])
        for child in node.get("childNodes", []):
            self._add(child, node["id"])

    def _drop(self, nid: int) -> None:
        self.present.discard(nid)
        for child in self.children.pop(nid, []):
            self._drop(child)


def test_names_lists_the_six_scenarios():
    assert names() == [
        "checkout-js-error",
        "smooth-signup",
        "dead-click-disabled",
        "u-turn",
        "mobile-scroll",
        "form-email",
    ]


@pytest.mark.parametrize("name", names())
def test_building_twice_gives_byte_identical_events(name):
    again = build(name)
    assert json.dumps(again.events) == json.dumps(SCENARIOS[name].events)
    assert again == SCENARIOS[name]


def test_a_later_start_shifts_every_timestamp_and_nothing_else():
    shifted = build("checkout-js-error", start_ms=DEFAULT_START_MS + 60_000)
    original = SCENARIOS["checkout-js-error"]
    assert shifted.events[0]["timestamp"] == DEFAULT_START_MS + 60_000
    assert [e["timestamp"] - 60_000 for e in shifted.events] == [e["timestamp"] for e in original.events]
    assert [e["data"] for e in shifted.events] == [e["data"] for e in original.events]
    assert shifted.marks == original.marks


@pytest.mark.parametrize("name", names())
def test_events_are_well_formed_and_sorted(name):
    scenario = SCENARIOS[name]
    assert scenario.session_id == f"scenario-{name}"
    assert scenario.description.endswith(".")
    assert scenario.events[0]["timestamp"] == DEFAULT_START_MS
    for event in scenario.events:
        assert type(event["type"]) is int
        assert isinstance(event["timestamp"], int | float)
        assert isinstance(event["data"], dict)
    stamps = [event["timestamp"] for event in scenario.events]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("name", names())
def test_the_session_opens_with_meta_then_full_snapshot_and_every_meta_is_followed_by_one(name):
    events = SCENARIOS[name].events
    assert [events[0]["type"], events[1]["type"]] == [META, FULL_SNAPSHOT]
    assert events[1]["data"]["initialOffset"] == {"top": 0, "left": 0}
    for index, event in enumerate(events):
        if event["type"] == META:
            assert events[index + 1]["type"] == FULL_SNAPSHOT
            assert set(event["data"]) == {"href", "width", "height"}


@pytest.mark.parametrize("name", names())
def test_every_node_an_event_points_at_exists_in_the_dom_at_that_moment(name):
    dom = LiveDom()
    for event in SCENARIOS[name].events:
        if event["type"] == FULL_SNAPSHOT:
            dom.reset(event["data"]["node"])
        elif _is_source(event, MUTATION):
            dom.apply(event["data"])
        elif event["type"] == INCREMENTAL:
            missing = set(_referenced_ids(event["data"])) - dom.present
            assert not missing, event


@pytest.mark.parametrize("name", names())
def test_sessions_last_40_to_120_seconds_with_at_least_15_seconds_of_activity(name):
    scenario = SCENARIOS[name]
    assert 40 <= _seconds(scenario, scenario.events[-1]) <= 120
    user = [e for e in scenario.events if e["type"] == INCREMENTAL and e["data"]["source"] in USER_SOURCES]
    assert len({int(_seconds(scenario, event)) for event in user}) >= 15


@pytest.mark.parametrize("name", names())
def test_marks_fall_on_recorded_events_within_the_session(name):
    scenario = SCENARIOS[name]
    offsets = {round(_seconds(scenario, event) * 1000) for event in scenario.events}
    assert scenario.marks
    for mark, at in scenario.marks.items():
        assert 0 <= at <= _seconds(scenario, scenario.events[-1]), mark
        assert round(at * 1000) in offsets, mark


@pytest.mark.parametrize("name", names())
def test_declared_pii_appears_in_the_events_and_every_email_shown_is_declared(name):
    scenario = SCENARIOS[name]
    text = json.dumps(scenario.events, ensure_ascii=False)
    for value in scenario.pii:
        assert value in text, value
    for email in set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)):
        # typing shows every prefix of an address on its way to the whole
        assert any(value.startswith(email) for value in scenario.pii), email


@pytest.mark.parametrize("name", names())
def test_moves_arrive_in_batches_whose_offsets_point_back_in_time(name):
    scenario = SCENARIOS[name]
    for event in _incremental(scenario, MOUSE_MOVE) + _incremental(scenario, TOUCH_MOVE):
        offsets = [position["timeOffset"] for position in event["data"]["positions"]]
        assert all(-1000 < offset <= 0 for offset in offsets), event
        assert offsets == sorted(offsets)


def test_a_tap_is_touch_start_and_end_then_the_emulated_mouse_click():
    builder = SessionBuilder(seed="tap", start_ms=DEFAULT_START_MS)
    builder.load("https://studio.example/contact", contact(), width=390, height=844)
    builder.wait(2)
    builder.tap("email")
    events, _ = builder.finish()
    gestures = [
        (e["data"]["source"], e["data"].get("type"))
        for e in events
        if e["type"] == INCREMENTAL and e["data"]["source"] != MUTATION
    ]
    assert gestures == [
        (INTERACTION, TOUCH_START),
        (INTERACTION, TOUCH_END),
        (MOUSE_MOVE, None),
        (INTERACTION, MOUSE_DOWN),
        (INTERACTION, FOCUS),
        (INTERACTION, MOUSE_UP),
        (INTERACTION, CLICK),
    ]


def test_passwords_are_masked_as_rrweb_does_by_default():
    inputs = [e["data"]["text"] for e in _incremental(SCENARIOS["smooth-signup"], INPUT)]
    assert "correct-horse-42" not in json.dumps(SCENARIOS["smooth-signup"].events)
    assert "*" * len("correct-horse-42") in inputs


def test_checkout_pay_throws_without_changing_the_page_then_the_user_rage_clicks():
    scenario = SCENARIOS["checkout-js-error"]
    marks = scenario.marks
    loads = [e for e in scenario.events if e["type"] == META]
    assert loads[1]["data"]["href"].endswith("/checkout")
    assert 0 < _seconds(scenario, loads[1]) - marks["checkout_click"] < 1.5
    assert 0 < marks["js_error"] - marks["pay_click"] <= 0.3
    assert not [t for t in _responses(scenario) if t > marks["pay_click"]]
    rage = [e for e in _clicks(scenario) if _seconds(scenario, e) >= marks["rage_click"]]
    assert len(rage) == 5
    assert _seconds(scenario, rage[-1]) - marks["rage_click"] < 1.0
    assert 1.5 <= marks["rage_click"] - marks["pay_click"] <= 2.5
    xs, ys = [e["data"]["x"] for e in rage], [e["data"]["y"] for e in rage]
    assert max(xs) - min(xs) <= 10 and max(ys) - min(ys) <= 10
    assert _seconds(scenario, scenario.events[-1]) - _seconds(scenario, rage[-1]) >= 20


def test_smooth_signup_answers_every_click_and_never_errs():
    scenario = SCENARIOS["smooth-signup"]
    responses = _responses(scenario)
    for click in _clicks(scenario):
        at = _seconds(scenario, click)
        assert any(at < t <= at + 0.5 for t in responses), at
    assert not [e for e in scenario.events if e["type"] == PLUGIN]
    arrivals = [_seconds(scenario, e) for e in scenario.events if e["type"] == META]
    ends = [*arrivals[1:], _seconds(scenario, scenario.events[-1])]
    assert [href["data"]["href"].rsplit("/", 1)[1] for href in scenario.events if href["type"] == META] == [
        "signup",
        "welcome",
        "app",
    ]
    assert all(end - start >= 10 for start, end in zip(arrivals, ends, strict=True))


def test_smooth_signup_triple_click_selects_a_paragraph():
    scenario = SCENARIOS["smooth-signup"]
    start = scenario.marks["text_selection"]
    triple = [e for e in _clicks(scenario) if 0 <= _seconds(scenario, e) - start < 0.6]
    assert len(triple) == 3
    assert len({(e["data"]["x"], e["data"]["y"], e["data"]["id"]) for e in triple}) == 1
    assert len(_incremental(scenario, INTERACTION, DBL_CLICK)) == 1
    selection = _incremental(scenario, SELECTION)[-1]
    assert 0 < _seconds(scenario, selection) - _seconds(scenario, triple[-1]) < 0.1
    assert selection["data"]["ranges"][0]["endOffset"] > 100


def test_dead_clicks_hit_the_disabled_button_and_nothing_answers():
    scenario = SCENARIOS["dead-click-disabled"]
    changes = [
        e for e in scenario.events if e["type"] == META or e["data"].get("source") in (MUTATION, SCROLL)
    ]
    for mark in ("dead_click", "dead_click_2"):
        at = scenario.marks[mark]
        assert not [e for e in changes if at < _seconds(scenario, e) <= at + 1.5], mark
    assert 2.5 <= scenario.marks["dead_click_2"] - scenario.marks["dead_click"] <= 3.5
    clicked = [e["data"]["id"] for e in _clicks(scenario) if _seconds(scenario, e) in scenario.marks.values()]
    buttons = [_find(scenario.events[1]["data"]["node"], nid) for nid in clicked]
    assert len(buttons) == 2
    for button in buttons:
        assert button["tagName"] == "button" and button["childNodes"][0]["textContent"] == "Save changes"
        assert button["attributes"]["disabled"] == "" and button["attributes"]["aria-disabled"] == "true"


def test_u_turn_leaves_pricing_after_two_and_a_half_seconds():
    scenario = SCENARIOS["u-turn"]
    loads = {round(_seconds(scenario, e), 3): e["data"]["href"] for e in scenario.events if e["type"] == META}
    marks = scenario.marks
    assert loads[marks["arrive_pricing"]] == "https://acme.example/pricing"
    assert loads[marks["u_turn"]] == "https://acme.example/"
    assert marks["u_turn"] - marks["arrive_pricing"] == pytest.approx(2.5, abs=0.05)
    arrivals = sorted(loads)
    docs = arrivals[-1]
    assert loads[docs] == "https://acme.example/docs"
    assert docs - marks["u_turn"] >= 15
    assert _seconds(scenario, scenario.events[-1]) - docs >= 10


def test_mobile_scroll_only_swipes():
    scenario = SCENARIOS["mobile-scroll"]
    assert (scenario.events[0]["data"]["width"], scenario.events[0]["data"]["height"]) == (390, 844)
    assert not _clicks(scenario)
    assert not _incremental(scenario, MOUSE_MOVE)
    starts = _incremental(scenario, INTERACTION, TOUCH_START)
    assert len(starts) == len(_incremental(scenario, INTERACTION, TOUCH_END)) >= 10
    assert _incremental(scenario, TOUCH_MOVE) and _incremental(scenario, SCROLL)
    assert round(_seconds(scenario, starts[0]), 3) == scenario.marks["first_swipe"]
    assert [(e["data"]["width"], e["data"]["height"]) for e in _incremental(scenario, RESIZE)] == [(390, 900)]
    assert _seconds(scenario, scenario.events[-1]) >= 60


def test_form_email_confirmation_repeats_the_address_on_the_page():
    scenario = SCENARIOS["form-email"]
    submit = scenario.marks["submit"]
    after = [e for e in _incremental(scenario, MUTATION) if 0 < _seconds(scenario, e) - submit <= 1.0]
    added = json.dumps([a["node"] for e in after for a in e["data"]["adds"]])
    assert "Thanks! We will reply to alex.morgan@example.net within a day." in added
    typed = {e["data"]["text"] for e in _incremental(scenario, INPUT)}
    assert {"alex.morgan@example.net", "+44 20 7946 0958"} <= typed


def test_an_unknown_name_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="unknown scenario 'nope'") as caught:
        build("nope")
    for name in names():
        assert name in str(caught.value)


def test_the_package_imports_only_the_standard_library_and_no_io_or_clock():
    forbidden = {"os", "time", "datetime", "pathlib", "io", "socket", "urllib", "http", "subprocess"}
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                if module.startswith("scenarios"):
                    continue  # its own modules
                top = module.split(".")[0]
                assert top in sys.stdlib_module_names and top not in forbidden, (path.name, module)
