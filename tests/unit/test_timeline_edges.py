"""Odd but real inputs: privacy holds and rendering does not break (found in review)."""

from __future__ import annotations

from pipeline.timeline import render_timeline

T0 = 1_700_000_000_000


def element(node_id, tag, attributes=None, children=()):
    return {
        "type": 2,
        "id": node_id,
        "tagName": tag,
        "attributes": attributes or {},
        "childNodes": list(children),
    }


def text(node_id, content):
    return {"type": 3, "id": node_id, "textContent": content}


def page(*body_children, href="https://shop.example/"):
    root = {
        "type": 0,
        "id": 1,
        "childNodes": [element(2, "html", {}, [element(3, "body", {}, body_children)])],
    }
    return [
        {"type": 4, "timestamp": T0, "data": {"href": href, "width": 1280, "height": 800}},
        {"type": 2, "timestamp": T0 + 10, "data": {"node": root, "initialOffset": {"top": 0, "left": 0}}},
    ]


def at(seconds, data, kind=3):
    return {"type": kind, "timestamp": T0 + int(seconds * 1000), "data": data}


def click(seconds, node_id, x=10, y=10):
    return at(seconds, {"source": 2, "type": 2, "id": node_id, "x": x, "y": y})


def mutation(seconds, adds=(), texts=(), removes=()):
    return at(
        seconds,
        {"source": 0, "adds": list(adds), "texts": list(texts), "removes": list(removes), "attributes": []},
    )


def test_text_typed_into_an_editable_region_is_never_shown():
    editor = element(
        10,
        "div",
        {"contenteditable": "true", "aria-label": "Message"},
        [element(11, "p", {}, [text(12, "")])],
    )
    events = [
        *page(editor),
        mutation(2, texts=[{"id": 12, "value": "my diagnosis is diabetes"}]),
        click(3, 12),
    ]
    timeline = render_timeline(events)
    assert "diabetes" not in timeline.text
    assert 'click div "Message"' in timeline.text


def test_suggestions_echoing_typed_text_are_not_page_feedback():
    search = element(10, "input", {"type": "search", "placeholder": "Search"})
    results = element(20, "ul", {"class": "results"})
    events = [
        *page(search, results),
        click(1, 10),
        at(1.5, {"source": 5, "id": 10, "text": "hiv test clinic"}),
        mutation(
            2,
            adds=[
                {
                    "parentId": 20,
                    "nextId": None,
                    "node": element(21, "li", {}, [text(22, 'Search for "hiv test clinic"')]),
                }
            ],
        ),
    ]
    assert "hiv" not in render_timeline(events).text


def test_a_moved_node_is_not_counted_twice():
    button = element(10, "button", {}, [text(11, "Pay now")])
    holder = element(20, "div")
    moved = element(10, "button", {}, [text(11, "Pay now")])
    events = [
        *page(button, holder),
        mutation(
            1, removes=[{"parentId": 3, "id": 10}], adds=[{"parentId": 20, "nextId": None, "node": moved}]
        ),
        click(2, 11),
    ]
    assert 'click button "Pay now"\n' in render_timeline(events).text + "\n"


def test_personal_data_in_the_session_id_scroll_targets_and_console_strings_is_redacted():
    pane = element(10, "div", {"id": "user-4111111111111111", "role": "jane@x.com"})
    events = [
        *page(pane),
        at(1, {"source": 3, "id": 10, "x": 0, "y": 200}),
        at(
            2,
            {
                "plugin": "rrweb/console@1",
                "payload": {"level": "error", "payload": "Uncaught boom jane@x.com"},
            },
            kind=6,
        ),
    ]
    text = render_timeline(events, session_id="jane.doe@example.com").text
    assert "jane" not in text and "4111" not in text
    assert "console error: Uncaught boom [email]" in text
    assert "Session [email]" in text


def test_only_real_network_failures_are_reported():
    requests = [
        {"name": "https://cdn.example/logo.png", "initiatorType": "img"},
        {"name": "https://shop.example/api/cart", "initiatorType": "fetch", "responseStatus": 200},
        {
            "name": "https://shop.example/api/pay",
            "initiatorType": "fetch",
            "method": "post",
            "responseStatus": 500,
        },
        {"name": "https://shop.example/api/ping", "initiatorType": "fetch", "responseStatus": 0},
        {"name": "https://shop.example/api/odd", "initiatorType": "fetch", "responseStatus": "200"},
    ]
    events = [*page(), at(1, {"plugin": "rrweb/network@1", "payload": {"requests": requests}}, kind=6)]
    lines = [line for line in render_timeline(events).text.splitlines() if "network error" in line]
    assert lines == [
        "[t=1] network error: POST /api/pay → 500",
        "[t=1] network error: GET /api/ping → failed",
    ]


def test_non_numeric_coordinates_and_sizes_do_not_break_or_leak():
    events = [
        *page(),
        at(1, {"source": 2, "type": 2, "id": 999, "x": "4111 1111 1111 1111", "y": 2}),
        at(1.2, {"source": 2, "type": 2, "id": 999, "x": "a", "y": "b"}),
        at(2, {"source": 4, "width": "jane@x.com", "height": None}),
    ]
    text = render_timeline(events).text
    assert "4111" not in text and "jane" not in text
    assert "click unknown element" in text


def test_long_urls_are_cut_and_the_budget_holds():
    events = [*page()]
    for index in range(9):
        events.append(
            at(
                index + 1,
                {"tag": "$pageview", "payload": {"href": f"https://shop.example/{index}/" + "x" * 20_000}},
                kind=5,
            )
        )
    timeline = render_timeline(events, budget_tokens=1000)
    assert timeline.token_estimate <= 1000
    assert max(len(line) for line in timeline.text.splitlines()) < 1200


def test_an_idle_gap_follows_the_moments_of_its_second():
    events = [
        *page(element(10, "button", {}, [text(11, "Go")])),
        click(1.0, 10),
        click(1.1, 10),
        mutation(1.2),
        at(20, {"source": 1, "positions": []}),
    ]
    lines = render_timeline(events).text.splitlines()
    assert lines[-1] == "[t=1] idle for 19 s"


def test_phones_cards_and_emails_in_page_text_are_replaced_and_counted():
    note = element(
        10, "p", {}, [text(11, "Call +1 (415) 555-0132, card 4242 4242 4242 4242, mail a.b@shop.example")]
    )
    timeline = render_timeline([*page(note), click(1, 11)])
    assert "555-0132" not in timeline.text and "4242" not in timeline.text and "a.b@" not in timeline.text
    assert 'click p "Call [phone], card [card], mail [email]"' in timeline.text
    assert timeline.manifest == {"email": 1, "phone": 1, "card": 1}


def test_a_site_served_from_an_ip_address_keeps_its_pages_and_hides_the_address():
    events = [*page(element(10, "button", {}, [text(11, "Go")]), href="http://127.0.0.1:8080/cart?step=2")]
    events.append(at(2, {"href": "http://127.0.0.1:8080/checkout", "width": 1200, "height": 800}, kind=4))
    timeline = render_timeline(events, budget_tokens=2000)
    assert "malformed" not in timeline.text
    assert "navigate to /checkout" in timeline.text and "127.0.0.1" not in timeline.text
