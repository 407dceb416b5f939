"""Fidelity of what the timeline says: element names, page feedback, errors on screen, events, summaries.

Events are shaped like real rrweb ones (see `test_timeline_edges` for the helpers).
"""

from __future__ import annotations

import pytest

from pipeline.heuristics import heuristic_answer
from pipeline.timeline import render_timeline
from pipeline.timeline.model import ESSENTIAL, clicks_shown
from pipeline.timeline.page_errors import ERROR_TEXT
from tests.unit.test_timeline_edges import T0, at, click, element, mutation, page, text


def lines(events):
    return render_timeline(events).text.splitlines()


def add(parent, node):
    return {"parentId": parent, "nextId": None, "node": node}


def typed(seconds, node_id, value):
    return at(seconds, {"source": 5, "id": node_id, "text": value, "isChecked": False})


def svg_icon(first_id, **attributes):
    return element(first_id, "svg", attributes, [element(first_id + 1, "path", {"d": "M0 0h24v24H0z"})])


# -- 4. Naming clicked elements ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("clicked", "tree", "shown"),
    [
        (
            12,
            element(10, "a", {"href": "https://shop.example/pricing"}, [svg_icon(11)]),
            'click a "/pricing"',
        ),
        (
            12,
            element(10, "a", {"href": "/account?email=jane@x.com"}, [svg_icon(11)]),
            'click a "/account?email=[email]"',
        ),
        (12, element(10, "div", {"aria-label": "Close dialog"}, [svg_icon(11)]), 'click svg "Close dialog"'),
        (
            11,
            element(10, "button", {"title": "Settings"}, [element(11, "img", {"src": "gear.png"})]),
            'click button "Settings"',
        ),
        (
            11,
            element(10, "button", {}, [element(11, "i", {"aria-label": "icon: menu"})]),
            'click button "icon: menu"',
        ),
        (
            11,
            element(10, "a", {"href": "/"}, [element(11, "img", {"alt": "Shop logo"})]),
            'click a "Shop logo"',
        ),
        (10, element(10, "button", {"name": "subscribe"}), 'click button "subscribe"'),
        (
            10,
            element(10, "input", {"type": "submit", "value": "Sign up"}),
            'click input[type=submit] "Sign up"',
        ),
        (11, element(10, "label", {"for": "x"}, [text(11, "Remember me")]), 'click label "Remember me"'),
    ],
)
def test_clicks_are_named_from_the_element_a_labelled_ancestor_or_where_a_link_goes(clicked, tree, shown):
    assert f"[t=1] {shown}" in lines([*page(tree), click(1, clicked)])


def test_a_field_is_still_named_by_its_label_and_never_by_what_was_typed():
    editor = element(10, "div", {"contenteditable": "true", "title": "Notes"}, [text(11, "private words")])
    shown = lines([*page(editor), click(1, 11)])
    assert '[t=1] click div "Notes"' in shown


# -- 6. Feedback noise ------------------------------------------------------------------------


# Clicks come 5 s after the page opened: within 2 s of a page load every change is the load's.
STAR = element(10, "button", {"class": "star"}, [element(11, "span", {}, [text(12, "Star")])])


def test_a_counter_added_inside_the_clicked_button_is_not_feedback():
    events = [
        *page(STAR),
        click(5, 12),
        mutation(5.2, adds=[add(10, element(20, "span", {}, [text(21, "1,024")]))]),
    ]
    assert not any("page shows" in line for line in lines(events))


def test_text_repeating_the_clicked_elements_own_text_give_or_take_a_number_is_not_feedback():
    counter = element(30, "div", {"class": "meta"})
    events = [
        *page(STAR, counter),
        click(5, 12),
        mutation(5.2, adds=[add(30, element(31, "span", {}, [text(32, "Star 1,025")]))]),
    ]
    assert not any("page shows" in line for line in lines(events))


def test_a_node_moved_or_re_rendered_with_the_same_text_is_not_feedback():
    widget = element(40, "span", {}, [element(41, "a", {"aria-label": "Star on GitHub"}, [text(42, "Star")])])
    holder = element(43, "span")
    about = element(50, "a", {"href": "/about"}, [text(51, "About")])
    moved = add(43, element(41, "a", {"aria-label": "Star on GitHub"}, [text(42, "Star")]))
    events = [
        *page(about, widget, holder),
        click(5, 51),
        mutation(5.2, adds=[moved], removes=[{"parentId": 40, "id": 41}]),
    ]
    assert not any("page shows" in line for line in lines(events))


def test_a_real_confirmation_after_a_click_is_still_feedback():
    events = [
        *page(STAR, element(30, "div")),
        click(5, 12),
        mutation(5.3, adds=[add(30, element(31, "p", {}, [text(32, "Saved to your list")]))]),
    ]
    assert "[t=5] page shows 'Saved to your list'" in lines(events)


# -- 7. Errors the page shows -----------------------------------------------------------------


PAY = element(10, "button", {"id": "pay"}, [text(11, "Pay")])
DATE = element(20, "span", {"class": "date"}, [text(21, "12 May")])


def test_an_error_text_shown_after_a_click_is_essential_and_makes_an_error_click():
    events = [*page(PAY, DATE), click(1, 11), mutation(1.3, texts=[{"id": 21, "value": "Invalid date"}])]
    timeline = render_timeline(events)
    (shown,) = [moment for moment in timeline.moments if moment.kind == "page_error"]
    assert (shown.text, shown.priority) == ("page shows error 'Invalid date'", ESSENTIAL)
    assert [(p.kind, p.t) for p in timeline.patterns] == [("error_click", 1.0)]
    assert "page shows 'Invalid date'" in timeline.patterns[0].text


def test_an_added_error_message_is_shown_whole_and_redacted():
    message = element(
        30,
        "p",
        {"class": "note"},
        [element(31, "b", {}, [text(32, "Error:")]), text(33, " card 4242 4242 4242 4242 declined")],
    )
    events = [*page(PAY, element(29, "div")), click(1, 11), mutation(1.4, adds=[add(29, message)])]
    assert "[t=1] page shows error 'Error: card [card] declined'" in lines(events)


def test_an_error_echoing_what_was_typed_masks_it():
    search = element(10, "input", {"type": "search", "placeholder": "Search"})
    events = [*page(search, element(20, "div")), click(1, 10), typed(1.5, 10, "hiv test clinic")]
    events.append(mutation(2, adds=[add(20, element(21, "p", {}, [text(22, "hiv test clinic: not found")]))]))
    shown = "\n".join(lines(events))
    assert "hiv" not in shown
    assert "page shows error '[masked]: not found'" in shown


def test_hidden_error_text_is_not_shown():
    hidden = element(30, "div", {"style": "display: none"}, [element(31, "span", {}, [text(32, "")])])
    template = element(40, "template", {}, [element(41, "span", {}, [text(42, "")])])
    events = [*page(PAY, hidden, template), click(1, 11)]
    events.append(
        mutation(1.2, texts=[{"id": 32, "value": "Something went wrong"}, {"id": 42, "value": "Try again"}])
    )
    assert not any("page shows" in line for line in lines(events))


def test_the_same_error_is_said_once_until_the_person_acts_again():
    events = [*page(PAY, DATE), click(1, 11)]
    events += [mutation(1.2 + n / 10, texts=[{"id": 21, "value": "Total: NaN"}]) for n in range(4)]
    events += [click(5, 11), mutation(5.2, texts=[{"id": 21, "value": "Total: NaN"}])]
    errors = [m for m in render_timeline(events).moments if m.kind == "page_error"]
    assert [round(m.t, 1) for m in errors] == [1.2, 5.2]


@pytest.mark.parametrize(
    "message",
    [
        "Invalid date",
        "Total: NaN",
        "Hello undefined",
        "Something went wrong",
        "Error: timeout",
        "Payment failed",
        "Email is required",
        "Invalid card number",
        "Page not found",
        "Please try again",
        "Could not save",
        "We couldn't load this",
        "Unable to connect",
        "An error occurred",
    ],
)
def test_error_phrases_are_recognised(message):
    assert ERROR_TEXT.search(message)


@pytest.mark.parametrize(
    "message",
    [
        "Saved",
        "Error handling guide",
        "Invalidation",
        "nan bread",
        "Nothing found? Browse all",
        "Required fields",
        "Undefined behaviour in C",
        "Terrors of the deep",
        "Unfailing support",
    ],
)
def test_ordinary_text_is_not_an_error(message):
    assert not ERROR_TEXT.search(message)


# -- 8. Heuristic summary counts what the timeline shows --------------------------------------


def test_the_visit_summary_counts_shown_clicks_and_the_time_the_first_page_opened():
    events = [
        {"type": 3, "timestamp": T0 - 351_000, "data": {"source": 1, "positions": []}},
        *page(PAY, DATE),
    ]
    events += [click(1 + n / 10, 11) for n in range(5)]  # rage: collapses to one line ×5
    events += [click(4, 11), mutation(4.1, texts=[{"id": 21, "value": "1 item"}])]
    timeline = render_timeline(events)
    shown = sum(clicks_shown(moment) for moment in timeline.moments)
    assert shown == 6
    summary = heuristic_answer("summary", {}, timeline)["summary"]
    assert summary.startswith("The visitor opened / (t 351)")
    assert "clicking 6 times" in summary


# -- 9. Custom events -------------------------------------------------------------------------


def custom(seconds, tag, payload):
    return at(seconds, {"tag": tag, "payload": payload}, kind=5)


def test_a_custom_event_shows_three_scalar_properties_with_secrets_hidden():
    payload = {
        "$lib": "web",
        "plan": "pro",
        "card": "4111 1111 1111 1111",
        "user": {"email": "jane@x.com"},
        "seats": 3,
        "coupon": "SPRING",
    }
    shown = "\n".join(lines([*page(), custom(1, "checkout_started", payload)]))
    assert "[t=1] event 'checkout_started' (plan: pro, card: [secret], seats: 3)" in shown
    assert "4111" not in shown and "jane" not in shown and "$lib" not in shown


def test_a_custom_event_line_stays_short():
    payload = {f"key{n}": "x" * 500 for n in range(3)}
    (line,) = [line for line in lines([*page(), custom(1, "e" * 300, payload)]) if "event" in line]
    assert len(line) <= len("[t=1] ") + 100
