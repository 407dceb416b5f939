"""A rendered timeline as bytes and back: what every scanner reads survives it, and bytes of another
format version, of another key, or of nothing readable are refused rather than trusted."""

from __future__ import annotations

import gzip

import orjson
import pytest

from pipeline.heuristics import heuristic_answer, heuristic_findings
from pipeline.timeline import render_timeline
from pipeline.timeline.codec import FORMAT_VERSION, decode_timeline, encode_timeline
from scenarios import build, names


@pytest.mark.parametrize("name", names())
def test_every_scenarios_timeline_comes_back_equal(name):
    timeline = render_timeline(build(name).events, budget_tokens=400, notes=["at import, 2 skipped"])
    assert decode_timeline(encode_timeline(timeline, "key-1"), "key-1") == timeline


def test_the_heuristics_read_the_same_from_the_decoded_timeline():
    timeline = render_timeline(build("checkout-js-error").events)
    decoded = decode_timeline(encode_timeline(timeline, "k"), "k")
    config = {"prompt": "p", "rule": "any_frustration"}
    assert heuristic_answer("monitor", config, decoded) == heuristic_answer("monitor", config, timeline)
    assert heuristic_findings(decoded) == heuristic_findings(timeline) != []


def test_bytes_made_for_another_key_are_refused():
    data = encode_timeline(render_timeline(build("smooth-signup").events), "renderer-a:6000:h:3/x.jsonl.gz")
    assert decode_timeline(data, "renderer-a:3000:h:3/x.jsonl.gz") is None


def test_bytes_of_another_format_version_are_refused():
    document = orjson.loads(
        gzip.decompress(encode_timeline(render_timeline(build("smooth-signup").events), "k"))
    )
    document["format"] = FORMAT_VERSION + 1
    assert decode_timeline(gzip.compress(orjson.dumps(document)), "k") is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not gzip at all",
        gzip.compress(b"{not json"),
        gzip.compress(orjson.dumps([1, 2, 3])),
        gzip.compress(orjson.dumps({"format": FORMAT_VERSION, "key": "k", "text": "t"})),
        gzip.compress(orjson.dumps({"format": FORMAT_VERSION, "key": "k", "moments": [[1]]})),
    ],
    ids=["empty", "not-gzip", "not-json", "not-a-document", "fields-missing", "moment-cut-short"],
)
def test_unreadable_bytes_are_refused_not_raised(data):
    assert decode_timeline(data, "k") is None


def test_a_truncated_file_is_refused():
    data = encode_timeline(render_timeline(build("checkout-js-error").events), "k")
    assert decode_timeline(data[: len(data) // 2], "k") is None
