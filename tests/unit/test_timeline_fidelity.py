"""Fidelity: the timeline says what the person did, not what the page did (inputs, reloads, runs, dead clicks).

Events are shaped like real rrweb ones: Meta then FullSnapshot (document id 1), clicks as
MouseInteraction type 2, Input events with or without `userTriggered`.
"""

from __future__ import annotations

from pipeline.timeline import render_timeline
from pipeline.timeline.model import ACTION, ESSENTIAL, Moment
from pipeline.timeline.render import MAX_RUN_S, collapse
from tests.unit.test_timeline_edges import at, click, element, mutation, page, text


def root(*body_children, first_id=1):
    """A FullSnapshot's document whose ids start at `first_id` (rrweb's per-page-load counter)."""
    body = element(first_id + 2, "body", {}, body_children)
    return {"type": 0, "id": first_id, "childNodes": [element(first_id + 1, "html", {}, [body])]}


def load(seconds, href="https://shop.example/", first_id=1, *children, load_events=False):
    """Meta + FullSnapshot at `seconds`, optionally preceded by DomContentLoaded and Load."""
    events = [at(seconds - 0.02, {}, kind=0), at(seconds - 0.01, {}, kind=1)] if load_events else []
    events.append(at(seconds, {"href": href, "width": 1280, "height": 800}, kind=4))
    events.append(
        at(seconds + 0.01, {"node": root(*children, first_id=first_id), "initialOffset": {}}, kind=2)
    )
    return events


def typed(seconds, node_id, value, **extra):
    return at(seconds, {"source": 5, "id": node_id, "text": value, "isChecked": False, **extra})


def toggled(seconds, node_id, checked, **extra):
    return at(seconds, {"source": 5, "id": node_id, "text": "on", "isChecked": checked, **extra})


def focus(seconds, node_id):
    return at(seconds, {"source": 2, "type": 5, "id": node_id})


def lines(events):
    return render_timeline(events).text.splitlines()


# -- 1. Inputs: only the person's are actions -------------------------------------------------


TOGGLE_PAGE = (
    element(10, "a", {"href": "/about"}, [text(11, "About")]),
    element(
        20,
        "span",
        {"class": "toggle-switch"},
        [
            element(21, "input", {"type": "checkbox", "id": "toggleSwitch", "name": "toggleSwitch"}),
            element(22, "span", {"class": "slider"}),
        ],
    ),
    element(30, "label", {"for": "terms"}, [text(31, "I accept the terms")]),
    element(32, "input", {"type": "checkbox", "id": "terms"}),
)


def test_a_checkbox_the_page_resets_after_a_click_elsewhere_is_not_the_persons():
    events = [*page(*TOGGLE_PAGE), click(1, 11), toggled(1.2, 21, False)]
    assert not any("toggleSwitch" in line for line in lines(events))


def test_a_checkbox_clicked_through_its_label_is_the_persons():
    events = [*page(*TOGGLE_PAGE), click(1, 31), toggled(1.05, 32, True)]
    assert '[t=1] check input[type=checkbox]#terms "I accept the terms"' in lines(events)


def test_a_custom_toggle_clicked_on_the_switch_it_draws_is_the_persons():
    events = [*page(*TOGGLE_PAGE), click(1, 22), toggled(1.05, 21, True)]
    assert any(line.startswith("[t=1] check input[type=checkbox]#toggleSwitch") for line in lines(events))


def test_user_triggered_decides_when_the_recorder_says_it():
    events = [
        *page(*TOGGLE_PAGE),
        click(1, 32),
        toggled(1.05, 32, True, userTriggered=False),  # set by a script, though just clicked
        toggled(5, 21, True, userTriggered=True),  # the person, though nothing was clicked
    ]
    shown = lines(events)
    assert not any(line.startswith("[t=1] check") for line in shown)
    assert any(line.startswith("[t=5] check input[type=checkbox]#toggleSwitch") for line in shown)


def test_a_radio_unchecked_because_another_was_checked_is_not_a_line_of_its_own():
    radios = [element(40 + n, "input", {"type": "radio", "name": "plan", "id": f"p{n}"}) for n in range(2)]
    events = [*page(*radios), click(1, 41), toggled(1.01, 41, True), toggled(1.02, 40, False)]
    assert [line for line in lines(events) if "radio" in line] == [
        '[t=1] click input[type=radio]#p1 "plan"',
        '[t=1] check input[type=radio]#p1 "plan"',
    ]


FORM = (
    element(50, "input", {"type": "text", "name": "first", "placeholder": "First name"}),
    element(51, "input", {"type": "text", "name": "last", "placeholder": "Last name"}),
    element(52, "input", {"type": "email", "name": "email", "placeholder": "Email"}),
    element(53, "button", {"type": "reset"}, [text(54, "Clear")]),
)


def test_a_script_filling_several_fields_at_once_is_not_typing():
    events = [*page(*FORM), typed(2, 50, "Jane"), typed(2.02, 51, "Doe"), typed(2.04, 52, "jane@x.com")]
    assert not any("type into" in line for line in lines(events))


def test_a_form_reset_after_a_click_is_the_pages_not_the_persons():
    events = [*page(*FORM), click(1, 54), typed(1.1, 50, ""), typed(1.1, 51, ""), typed(1.1, 52, "")]
    assert not any("type into" in line for line in lines(events))


def test_tabbing_into_fields_and_typing_is_the_persons():
    events = [*page(*FORM), focus(1, 50), typed(1.3, 50, "J"), typed(1.5, 50, "Ja"), typed(3, 51, "D")]
    shown = lines(events)
    assert '[t=1] type into input[type=text] "First name" [masked]' in shown
    assert '[t=3] type into input[type=text] "Last name" [masked]' in shown


# -- 2. Reloads -------------------------------------------------------------------------------


BUTTON = element(10, "button", {"id": "go"}, [text(11, "Go")])


def test_reloading_the_page_shown_is_a_reload_line_each_time():
    events = [*load(0, "https://shop.example/cart", 1, BUTTON)]
    for second in (5, 10, 15):
        events += load(second, "https://shop.example/cart", 1, BUTTON)
    timeline = render_timeline(events)
    reloads = [moment for moment in timeline.moments if moment.kind == "reload"]
    assert [(round(m.t), m.text, m.priority) for m in reloads] == [
        (5, "reload /cart", ESSENTIAL),
        (10, "reload /cart", ESSENTIAL),
        (15, "reload /cart", ESSENTIAL),
    ]


def test_a_checkout_snapshot_of_the_same_page_is_not_a_reload():
    events = [*load(0, "https://shop.example/", 1, BUTTON), *load(30, "https://shop.example/", 900, BUTTON)]
    assert not any("reload" in line for line in lines(events))


def test_load_events_before_the_meta_mean_a_reload_whatever_the_ids():
    events = [*load(0, "https://shop.example/", 1, BUTTON)]
    events += load(8, "https://shop.example/", 900, BUTTON, load_events=True)
    assert "[t=8] reload /" in lines(events)


def test_a_reload_soon_after_a_click_answers_it():
    events = [
        *load(0, "https://shop.example/", 1, BUTTON),
        click(1, 11),
        *load(3.5, "https://shop.example/", 1, BUTTON),
    ]
    assert not render_timeline(events).patterns


def pageview(seconds, path):
    return at(seconds, {"tag": "$pageview", "payload": {"href": f"https://shop.example{path}"}}, kind=5)


def test_reloads_do_not_make_or_hide_a_u_turn():
    events = [*load(0, "https://shop.example/a", 1, BUTTON), pageview(10, "/b")]
    events += [*load(11, "https://shop.example/b", 1, BUTTON), *load(12, "https://shop.example/b", 1, BUTTON)]
    events.append(pageview(13, "/a"))
    patterns = render_timeline(events).patterns
    assert [(p.kind, round(p.t)) for p in patterns] == [("u_turn", 13)]


# -- 3. Collapsed runs ------------------------------------------------------------------------


def test_a_collapsed_run_never_spans_more_than_ten_seconds():
    events = [*page(BUTTON)]
    for index in range(8):
        events += [click(1 + 3 * index, 11), mutation(1.2 + 3 * index)]
    timeline = render_timeline(events)
    runs = [moment for moment in timeline.moments if moment.kind == "click"]
    assert [run.count for run in runs] == [4, 4]
    assert all(run.until - run.t <= MAX_RUN_S for run in runs)


def test_a_collapsed_pair_never_crosses_a_navigation():
    moments = [
        Moment(1.0, "click", 'click a "Next"', ACTION),
        Moment(1.5, "navigate", "navigate to /step", ESSENTIAL),
        Moment(2.0, "click", 'click a "Next"', ACTION),
        Moment(2.5, "navigate", "navigate to /step", ESSENTIAL),
    ]
    assert [moment.count for moment in collapse(moments)] == [1, 1, 1, 1]


def test_a_pair_repeated_quickly_still_collapses_with_both_kinds():
    moments = []
    for index in range(3):
        moments += [
            Moment(1.0 + index, "click", 'click button "Pay"', ACTION),
            Moment(1.2 + index, "console_error", "console error: boom", ESSENTIAL),
        ]
    (pair,) = collapse(moments)
    assert (pair.count, pair.kinds, pair.priority) == (3, ("click", "console_error"), ESSENTIAL)


# -- 5. Dead clicks ---------------------------------------------------------------------------


def link(attributes):
    return element(10, "a", attributes, [text(11, "Partner")])


def test_an_outbound_link_clicked_just_before_the_recording_ends_is_not_dead():
    events = [
        *page(link({"href": "https://partner.example/"})),
        click(10, 11),
        at(11.5, {"source": 1, "positions": []}),
    ]
    assert not render_timeline(events).patterns


def test_links_to_a_new_tab_another_origin_or_app_or_a_download_are_never_dead():
    for attributes in (
        {"href": "/report", "target": "_blank"},
        {"href": "https://partner.example/"},
        {"href": "//partner.example/x"},
        {"href": "/report.pdf", "download": ""},
        {"href": "mailto:sales@shop.example"},
    ):
        events = [*page(link(attributes)), click(1, 11), at(20, {"source": 1, "positions": []})]
        assert not render_timeline(events).patterns, attributes


def test_a_click_when_the_recording_ends_inside_the_wait_is_not_dead():
    events = [*page(BUTTON), click(10, 11), at(10.5, {"source": 1, "positions": []})]
    assert not render_timeline(events).patterns


def test_a_same_origin_link_that_does_nothing_is_still_dead():
    events = [
        *page(link({"href": "https://shop.example/partners"})),
        click(1, 11),
        at(20, {"source": 1, "positions": []}),
    ]
    assert [p.kind for p in render_timeline(events).patterns] == ["dead_click"]
