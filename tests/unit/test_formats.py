"""Every import format of DESIGN §4 reads to the same sorted events; bad input says what is wrong."""

from __future__ import annotations

import orjson
import pytest

from pipeline.errors import RecordingError
from pipeline.formats import (
    check_session_id,
    encode_compressed,
    merge_events,
    parse_recording,
    prepare_events,
)

META = {"type": 4, "data": {"href": "https://shop.example/", "width": 1280, "height": 800}, "timestamp": 1000}
SNAPSHOT = {
    "type": 2,
    "data": {
        "node": {
            "type": 0,
            "id": 1,
            "childNodes": [{"type": 2, "tagName": "html", "attributes": {}, "childNodes": [], "id": 2}],
        },
        "initialOffset": {"top": 0, "left": 0},
    },
    "timestamp": 1010,
}
MUTATION = {
    "type": 3,
    "data": {
        "source": 0,
        "texts": [{"id": 9, "value": "hi"}],
        "attributes": [],
        "removes": [],
        "adds": [{"parentId": 2, "nextId": None, "node": {"type": 3, "textContent": "new", "id": 9}}],
    },
    "timestamp": 1500,
}
CLICK = {"type": 3, "data": {"source": 2, "type": 2, "id": 2, "x": 5, "y": 5}, "timestamp": 1200}
EVENTS = [META, SNAPSHOT, CLICK, MUTATION]


def in_window(events: list[dict], window: str) -> list[dict]:
    return [{**event, "windowId": window} for event in events]


def read(raw: bytes) -> list[dict]:
    return prepare_events(parse_recording(raw))


def test_bare_array_is_read_sorted_by_timestamp():
    shuffled = [MUTATION, META, CLICK, SNAPSHOT]
    assert read(orjson.dumps(shuffled)) == EVENTS


def test_api_result_object_is_read():
    parsed = parse_recording(orjson.dumps({"result": EVENTS}))
    assert parsed.format == "api-result"
    assert prepare_events(parsed) == EVENTS


def test_session_id_carried_by_the_events_is_used():
    events = [{**event, "sessionId": "abc-123"} for event in EVENTS]
    assert parse_recording(orjson.dumps(events)).session_id == "abc-123"


def test_jsonl_window_lines_are_merged_by_timestamp_and_keep_their_window():
    lines = [
        {"window_id": "w1", "data": [META, CLICK]},
        {"window_id": "w2", "data": [SNAPSHOT, MUTATION]},
    ]
    raw = b"\n".join(orjson.dumps(line) for line in lines)
    events = read(raw)
    assert [event["timestamp"] for event in events] == [1000, 1010, 1200, 1500]
    assert [event["windowId"] for event in events] == ["w1", "w2", "w1", "w2"]


def test_jsonl_blob_v2_pairs_are_read():
    raw = b"\n".join(orjson.dumps(["w1", event]) for event in EVENTS) + b"\n"
    parsed = parse_recording(raw)
    assert parsed.format == "posthog-jsonl"
    assert prepare_events(parsed) == in_window(EVENTS, "w1")


def test_single_blob_v2_line_is_read():
    assert read(orjson.dumps(["w1", META])) == in_window([META], "w1")


def test_compressed_full_snapshot_and_mutation_are_decoded():
    compressed_snapshot = {**SNAPSHOT, "cv": "2024-10", "data": encode_compressed(SNAPSHOT["data"])}
    data = dict(MUTATION["data"])
    for key in ("texts", "attributes", "removes", "adds"):
        data[key] = encode_compressed(data[key])
    compressed_mutation = {**MUTATION, "cv": "2024-10", "data": data}
    raw = b"\n".join(
        orjson.dumps(["w1", event]) for event in [META, compressed_snapshot, CLICK, compressed_mutation]
    )
    assert read(raw) == in_window(EVENTS, "w1")


def test_compressed_payload_that_is_not_gzip_is_refused():
    broken = {**SNAPSHOT, "cv": "2024-10", "data": "not gzip at all"}
    with pytest.raises(RecordingError, match="event 1: compressed payload cannot be decoded"):
        read(orjson.dumps([META, broken]))


def test_unknown_compression_version_is_refused():
    with pytest.raises(RecordingError, match="unknown compression '2099-01'"):
        read(orjson.dumps([META, {**SNAPSHOT, "cv": "2099-01"}]))


def test_export_2023_04_28_is_read_with_its_session_and_person():
    export = {
        "version": "2023-04-28",
        "data": {
            "id": "sess-42",
            "person": {"distinct_ids": ["user-7"]},
            "snapshots": [{"windowId": "w1", **event} for event in EVENTS],
        },
    }
    parsed = parse_recording(orjson.dumps(export))
    assert (parsed.session_id, parsed.distinct_id) == ("sess-42", "user-7")
    assert [event["timestamp"] for event in prepare_events(parsed)] == [1000, 1010, 1200, 1500]


def test_export_2022_12_02_is_read_from_snapshots_by_window():
    export = {
        "version": "2022-12-02",
        "data": {"person": None, "snapshotsByWindowId": {"w1": [META, CLICK], "w2": [SNAPSHOT]}},
    }
    parsed = parse_recording(orjson.dumps(export))
    assert parsed.format == "posthog-export-2022-12-02"
    assert len(prepare_events(parsed)) == 3


def test_unknown_export_version_is_refused():
    with pytest.raises(RecordingError, match="unsupported PostHog export version '1999-01-01'"):
        parse_recording(orjson.dumps({"version": "1999-01-01", "data": {}}))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the file is empty"),
        (b"hello there", "not valid JSON"),
        (b'[{"type": 4, "data": {}, "timestamp": 1}, {"type": 2', "looks truncated"),
        (b"[]", "holds no events"),
        (b'{"result": []}', "holds no events"),
        (b'[{"type": 4, "data": {}}]', "event 0 has no timestamp"),
        (b'[{"type": 4, "data": {}, "timestamp": "soon"}]', "event 0 has a non-numeric timestamp 'soon'"),
        (b'[{"type": 4, "data": {}, "timestamp": true}]', "non-numeric timestamp"),
        (b'[{"data": {}, "timestamp": 1}]', "event 0 has no integer type"),
        (b"[1, 2, 3]", "event 0 is not an object"),
        (b'"just a string"', "expected a JSON array"),
        (b'{"foo": 1}', "unrecognised recording object"),
        (b'{"window_id": "w"}\nnot json\n', "line 2 is not valid JSON"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(raw, message):
    with pytest.raises(RecordingError, match=message):
        read(raw)


def test_session_id_over_128_characters_is_refused():
    with pytest.raises(RecordingError, match="129 characters, over the 128 maximum"):
        check_session_id("x" * 129)
    assert check_session_id("x" * 128) == "x" * 128


def test_the_same_events_with_and_without_a_window_label_are_not_added_twice():
    merged, added = merge_events(EVENTS, in_window(EVENTS, "w1"))
    assert (merged, added) == (EVENTS, 0)


@pytest.mark.parametrize("timestamp", [-5, 1e17])
def test_timestamps_that_are_not_epoch_milliseconds_are_refused(timestamp):
    with pytest.raises(RecordingError, match="not milliseconds since 1970"):
        read(orjson.dumps([{**META, "timestamp": timestamp}]))


def test_truncated_pretty_printed_json_says_truncated():
    pretty = orjson.dumps(EVENTS, option=orjson.OPT_INDENT_2)
    with pytest.raises(RecordingError, match="looks truncated"):
        read(pretty[: len(pretty) // 2])


def test_merging_adds_only_new_events_in_timestamp_order():
    merged, added = merge_events([META, CLICK], [CLICK, SNAPSHOT, MUTATION])
    assert added == 2
    assert merged == EVENTS
    assert merge_events(EVENTS, [META]) == (EVENTS, 0)
