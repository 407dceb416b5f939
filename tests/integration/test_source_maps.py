"""Source maps: a bundle minified by terser in the test, an error thrown from it by node, its stack in a
recording's console error; minified before the map is uploaded, original file, line and function after.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from integrations.fake_gemini import FakeReply
from models import RecordingEntry
from services import console_logs, symbol_sets
from services.recording_entries import current, ensure_indexed
from services.recordings import store_events

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]
URL = "https://shop.example/static/app.min.js"
CART = """function lineTotal(item) {
  if (item.price === undefined) {
    throw new Error("price missing for " + item.sku);
  }
  return item.price * item.quantity;
}
"""
CHECKOUT = """function checkoutTotal(items) {
  let total = 0;
  for (const item of items) {
    total += lineTotal(item);
  }
  return total;
}
module.exports = { run: () => checkoutTotal([{ sku: "A", price: 2, quantity: 1 }, { sku: "B", quantity: 3 }]) };
"""
BUILD = """
const { minify } = require(process.argv[1]);
const files = JSON.parse(process.argv[2]);
const options = { sourceMap: { filename: "app.min.js", url: "app.min.js.map", includeSources: true },
                  mangle: { toplevel: true }, compress: false };
minify(files, options).then((out) => process.stdout.write(JSON.stringify({ code: out.code, map: out.map })));
"""
RUN = "try { require(process.argv[1]).run() } catch (error) { process.stdout.write(error.stack) }"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> dict[str, str]:
    """app.min.js and its map built by terser (the project's npm devDependency), and the stack of the
    error it throws when node runs it, with the file's path replaced by the URL a browser would show."""
    node, terser = shutil.which("node"), ROOT / "node_modules" / "terser"
    if node is None or not terser.is_dir():
        pytest.skip("node and terser are needed (`make assets` installs terser with npm)")
    files = json.dumps({"src/cart.js": CART, "src/checkout.js": CHECKOUT})
    built = json.loads(
        subprocess.run([node, "-e", BUILD, str(terser), files], capture_output=True, check=True).stdout
    )
    folder = tmp_path_factory.mktemp("bundle")
    (folder / "app.min.js").write_text(built["code"])
    stack = subprocess.run(
        [node, "-e", RUN, str(folder / "app.min.js")], capture_output=True, check=True
    ).stdout
    return {**built, "stack": stack.decode().replace(str(folder / "app.min.js"), URL)}


def recording(bundle: dict[str, str]) -> list[dict]:
    """A page load and a console error whose trace is the thrown error's frames (stackframe's form)."""
    trace = [line.strip().removeprefix("at ") for line in bundle["stack"].splitlines()[1:] if URL in line]
    console = {"level": "error", "trace": trace, "payload": ['"Error: price missing for B"']}
    return [
        {
            "type": 4,
            "timestamp": 1_000,
            "data": {"href": "https://shop.example/cart", "width": 1280, "height": 800},
        },
        {"type": 2, "timestamp": 1_001, "data": {"node": {"type": 0, "id": 1, "childNodes": []}}},
        {"type": 6, "timestamp": 13_000, "data": {"plugin": "rrweb/console@1", "payload": console}},
    ]


def js_data(code: str, source_map: str) -> bytes:
    """The reference CLI's upload: magic, version 1, type 2, then the source and the map, length-prefixed."""
    out = b"posthog_error_tracking" + (1).to_bytes(4, "little") + (2).to_bytes(4, "little")
    for part in (code.encode(), source_map.encode()):
        out += len(part).to_bytes(8, "little") + part
    return out


def upload(api, chunk_id: str, data: bytes, content_hash: str = "sha512-of-it") -> str:
    started = api.post(
        f"/api/environments/{api.team_id}/error_tracking/symbol_sets/start_upload?chunk_id={chunk_id}"
    )
    assert started.status_code == 200, started.text
    presigned = started.json()["presigned_url"]
    sent = api.client.post(presigned["url"], data=presigned["fields"], files={"file": ("app.min.js", data)})
    assert sent.status_code == 204, sent.text
    set_id = started.json()["symbol_set_id"]
    finish = f"/api/environments/{api.team_id}/error_tracking/symbol_sets/{set_id}/finish_upload"
    finished = api.client.put(finish, json={"content_hash": content_hash}, headers=api.headers)
    assert finished.status_code == 200 and finished.json() == {"success": True}, finished.text
    return set_id


def test_an_error_from_a_minified_bundle_shows_the_original_file_line_and_function_once_its_map_is_uploaded(
    world, api, bundle
):
    store_events(world.deps, world.team_id, "checkout-crash", recording(bundle))

    before = symbol_sets.stack_trace_text(world.deps, world.team_id, "checkout-crash")
    assert "[t=12] console error: Error: price missing for B" in before
    assert f"at r ({URL}:1:45) [minified: no source map uploaded for {URL}]" in before
    assert "src/cart.js" not in before

    upload(api, URL, js_data(bundle["code"], bundle["map"]))

    after = symbol_sets.stack_trace_text(world.deps, world.team_id, "checkout-crash")
    lines = after.splitlines()
    assert (
        lines[1] == '    at lineTotal (src/cart.js:3:11): throw new Error("price missing for " + item.sku);'
    )
    assert lines[2] == "    at checkoutTotal (src/checkout.js:4:14): total += lineTotal(item);"
    assert "minified" not in after
    # The log explanation of that console error says where it was thrown, de-minified.
    ensure_indexed(world.deps, world.team_id)
    with world.deps.read() as session:
        line = session.exec(
            current("log", world.team_id).where(
                RecordingEntry.session_id == "checkout-crash", RecordingEntry.level == "error"
            )
        ).first()
    explained = console_logs.explain(world.deps, world.team_id, line.id)
    assert "Where it was thrown:" in explained.text and "lineTotal (src/cart.js:3:11)" in explained.text


def test_a_bare_map_is_enough_and_a_bad_one_is_refused_and_leaves_frames_minified(world, api, bundle):
    store_events(world.deps, world.team_id, "bare-map", recording(bundle))
    started = api.post(
        f"/api/environments/{api.team_id}/error_tracking/symbol_sets/start_upload?chunk_id={URL}"
    )
    presigned = started.json()["presigned_url"]
    bad = api.client.post(presigned["url"], data=presigned["fields"], files={"file": ("x.map", b"{not json")})
    assert bad.status_code == 400 and bad.json()["attr"] == "file", bad.text
    finish = f"/api/environments/{api.team_id}/error_tracking/symbol_sets/{started.json()['symbol_set_id']}/finish_upload"
    assert api.client.put(finish, json={"content_hash": "h"}, headers=api.headers).status_code == 400
    still = symbol_sets.stack_trace_text(world.deps, world.team_id, "bare-map")
    assert "[minified: no source map uploaded for" in still and "(its upload was not finished)" in still

    upload(api, URL, bundle["map"].encode())
    shown = symbol_sets.stack_trace_text(world.deps, world.team_id, "bare-map").splitlines()
    assert shown[1].startswith("    at ") and "(src/cart.js:3:11)" in shown[1]


def test_bulk_upload_skips_sets_already_uploaded_with_the_same_content_and_refuses_other_content(
    world, api, bundle
):
    base = f"/api/environments/{api.team_id}/error_tracking/symbol_sets"
    body = {"symbol_sets": [{"chunk_id": "chunk-1", "release_id": "v1", "content_hash": "h1"}]}
    started = api.post(f"{base}/bulk_start_upload", json=body)
    assert started.status_code == 200, started.text
    entry = started.json()["id_map"]["chunk-1"]
    sent = api.client.post(
        entry["presigned_url"]["url"],
        data=entry["presigned_url"]["fields"],
        files={"file": ("m", bundle["map"].encode())},
    )
    assert sent.status_code == 204, sent.text
    finished = api.post(f"{base}/bulk_finish_upload", json={"content_hashes": {entry["symbol_set_id"]: "h1"}})
    assert finished.status_code == 200, finished.text

    again = api.post(f"{base}/bulk_start_upload", json=body)
    assert again.json() == {"id_map": {}}
    other = {"symbol_sets": [{"chunk_id": "chunk-1", "release_id": "v1", "content_hash": "h2"}]}
    assert api.post(f"{base}/bulk_start_upload", json=other).status_code == 400
    moved = {"chunk_ids": ["chunk-1"], "release_id": "v2"}
    assert api.post(f"{base}/bulk_start_upload", json=moved).json()["attr"] == "release_id"
    wrong = api.client.post(
        entry["presigned_url"]["url"], data={"token": "guess"}, files={"file": ("m", b"{}")}
    )
    assert wrong.status_code == 400 and wrong.json()["attr"] == "token"


def test_a_gemini_scanner_reads_the_de_minified_stack_beside_the_timeline(world, api, bundle):
    checkout = world.scenarios["checkout-js-error"]
    crash = recording(bundle)[-1]
    start = checkout.events[0]["timestamp"]
    events = sorted([*checkout.events, {**crash, "timestamp": start + 12_000}], key=lambda e: e["timestamp"])
    store_events(world.deps, world.team_id, "checkout-with-map", events)
    upload(api, URL, js_data(bundle["code"], bundle["map"]))
    world.fake.script(FakeReply.json({"reasoning": "Pay threw (t 12).", "verdict": "yes", "confidence": 0.9}))

    scanner = world.scanner(scanner_type="monitor", scanner_config={"prompt": "Did the payment fail?"})
    [observation] = world.observe(scanner, "checkout-with-map")

    assert observation.status == "succeeded", observation.error_reason
    (asked,) = world.fake.generate_requests()
    assert "Where the console errors were thrown" in asked.text()
    assert "at lineTotal (src/cart.js:3:11)" in asked.text()
