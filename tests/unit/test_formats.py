"""Every import format of DESIGN §4 reads to the same sorted events; bad input says what is wrong."""

from __future__ import annotations

import orjson
import pytest

from pipeline.errors import RecordingError
from pipeline.formats import check_session_id, parse_recording
from pipeline.intake import Collector, Intake, Limits, encode_compressed, prepare_events

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


def skipped_by(raw: bytes) -> tuple[list[dict], dict[str, int]]:
    """The usable events of `raw` and the reasons the others were skipped."""
    parsed, intake = parse_recording(raw), Intake()
    kept = [event for event in (intake.check(*pair) for pair in parsed.pairs) if event is not None]
    return kept, dict(parsed.skipped + intake.skipped)


def test_compressed_payload_that_is_not_gzip_is_skipped_and_counted():
    broken = {**SNAPSHOT, "cv": "2024-10", "data": "not gzip at all"}
    assert skipped_by(orjson.dumps([META, broken])) == (
        [META],
        {"with a compressed payload that cannot be decoded": 1},
    )


def test_unknown_compression_version_is_skipped_and_named():
    kept, skipped = skipped_by(orjson.dumps([META, {**SNAPSHOT, "cv": "2099-01"}]))
    assert (kept, skipped) == ([META], {"with unknown compression '2099-01'": 1})


def test_a_compressed_payload_that_inflates_past_the_event_limit_is_skipped():
    bomb = {**SNAPSHOT, "cv": "2024-10", "data": encode_compressed({"node": "x" * 300_000})}
    intake = Intake(Limits(max_event_bytes=100_000))
    assert intake.check(None, bomb) is None
    assert intake.skipped == {"whose compressed payload inflates past the 0 MB per-event limit": 1}


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
        (b'[{"type": 4, "data": {}, "timesta', "looks truncated"),
        (b"[]", "holds no events"),
        (b'{"result": []}', "holds no events"),
        (b'[{"type": 4, "data": {}}]', r"no usable events \(1 without a timestamp\)"),
        (b'[{"type": 4, "data": {}, "timestamp": "soon"}]', "1 with a non-numeric timestamp"),
        (b'[{"type": 4, "data": {}, "timestamp": true}]', "non-numeric timestamp"),
        (b'[{"data": {}, "timestamp": 1}]', "1 without an integer type"),
        (b"[1, 2, 3]", "3 not an object"),
        (b'"just a string"', "expected a JSON array"),
        (b'{"foo": 1}', "unrecognised recording object"),
        (b'{"window_id": "w"}\nnot json\n', "1 JSONL line that is not a snapshot line"),
    ],
)
def test_a_file_with_nothing_usable_is_refused_with_a_clear_message(raw, message):
    with pytest.raises(RecordingError, match=message):
        read(raw)


def test_one_bad_event_costs_only_itself():
    events = [META, {"data": {}, "timestamp": 5}, "junk", CLICK, {**SNAPSHOT, "timestamp": None}, MUTATION]
    kept, skipped = skipped_by(orjson.dumps(events))
    assert kept == [META, CLICK, MUTATION]
    assert skipped == {"without an integer type": 1, "not an object": 1, "without a timestamp": 1}


def test_a_broken_jsonl_line_costs_only_that_line():
    raw = b"\n".join([orjson.dumps(["w1", META]), b'["w1", {"type": 3, "da', orjson.dumps(["w1", CLICK])])
    kept, skipped = skipped_by(raw)
    assert kept == in_window([META, CLICK], "w1")
    assert skipped == {"broken JSONL line": 1}


def test_a_lone_surrogate_does_not_lose_the_file():
    raw = b"[" + orjson.dumps(META) + b', {"type": 5, "timestamp": 1100, "data": {"tag": "caf\\ud800"}}]'
    parsed = parse_recording(raw)
    intake = Intake()
    events = [intake.check(*pair) for pair in parsed.pairs]
    assert events[0] == META
    mended, line = intake.encode(events[1])
    assert mended["data"]["tag"] == orjson.loads(line)["data"]["tag"] == "caf\ufffd"
    assert intake.mended == 1


def test_invalid_utf8_bytes_are_replaced_and_said():
    raw = orjson.dumps([META]).replace(b"shop", b"sh\xffp")
    parsed = parse_recording(raw)
    assert parsed.notes == ["1 invalid UTF-8 bytes were replaced"]
    assert prepare_events(parsed)[0]["data"]["href"] == "https://sh\ufffdp.example/"


def test_session_id_over_128_characters_is_refused():
    with pytest.raises(RecordingError, match="129 characters, over the 128 maximum"):
        check_session_id("x" * 129)
    assert check_session_id("x" * 128) == "x" * 128


def collected(existing: list[dict], incoming: list[dict]) -> tuple[list[dict], int]:
    lines = [orjson.dumps(event) for event in existing]
    collector = Collector(Limits(), (lambda: iter(lines)) if lines else None)
    collector.add_all((None, event) for event in incoming)
    return [orjson.loads(line) for line in collector.lines()], collector.added


def test_the_same_events_with_and_without_a_window_label_are_not_added_twice():
    assert collected(EVENTS, in_window(EVENTS, "w1")) == (EVENTS, 0)


@pytest.mark.parametrize("timestamp", [-5, 1e17])
def test_timestamps_that_are_not_epoch_milliseconds_are_refused(timestamp):
    with pytest.raises(RecordingError, match="not milliseconds since 1970"):
        read(orjson.dumps([{**META, "timestamp": timestamp}]))


def test_a_truncated_file_keeps_the_events_before_the_cut_and_says_so():
    pretty = orjson.dumps(EVENTS, option=orjson.OPT_INDENT_2)
    parsed = parse_recording(pretty[: len(pretty) * 3 // 4])
    assert prepare_events(parsed) == EVENTS[:3]
    assert "looks truncated" in parsed.notes[0] and "the 3 events before it were kept" in parsed.notes[0]


def test_merging_adds_only_new_events_in_timestamp_order():
    assert collected([META, CLICK], [CLICK, SNAPSHOT, MUTATION]) == (EVENTS, 2)
    assert collected(EVENTS, [META]) == (EVENTS, 0)


def test_a_recording_that_outgrows_its_limit_is_refused_whole():
    collector = Collector(Limits(max_recording_bytes=300))
    with pytest.raises(RecordingError, match="larger than the 0 MB limit"):
        collector.add_all((None, event) for event in EVENTS)
