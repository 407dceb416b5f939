"""No secret in a recording reaches the model, a person or a log: found by name as well as by shape.

One synthetic session carries a password, a card number, a token and a CVV in a GET form's URL, an
access token in a fragment, `Password: …` in the page text, a card in a custom event's properties
and a token in a console error. It goes the whole way: import, `recordings list`, `timeline`, two
observations (Gemini through the fake server, and the heuristic summarizer), `observations show`,
a Gemini-written digest delivered to the log, and every log line of the run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

import integrations.logs as logs
from cli.main import app
from integrations.fake_gemini import FakeReply
from models import ActionRun, Delivery, VisionAction, session_scope
from services.action_runs import run_action
from settings import get_settings

pytestmark = pytest.mark.db
T0 = 1_767_607_200_000
SECRETS = (
    "pw-Zebra-42",
    "tok_live_ZX9Q",
    "7391",
    "999999",
    "eyJhbGciOiJIUzI1NiJ9",
    "hunter2-Zebra",
    "4111 1111 1111 1111",
    "4111111111111111",
    "tok_console_ZX9Q",
)
LEAKY_URL = (
    "https://shop.example/demo/2?username=test&password=pw-Zebra-42&token=tok_live_ZX9Q&cvv=7391"
    "&creditcard=999999#access_token=eyJhbGciOiJIUzI1NiJ9.e30.sig&token_type=bearer"
)


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


def page(at_ms: int, href: str) -> list[dict]:
    form = element(
        10,
        "form",
        {"method": "get", "action": "/demo/2"},
        [
            element(11, "label", {"for": "pw"}, [text(12, "Password")]),
            element(13, "input", {"id": "pw", "name": "password", "type": "password"}),
            element(16, "button", {"type": "submit"}, [text(17, "Sign in")]),
        ],
    )
    root = {"type": 0, "id": 1, "childNodes": [element(2, "html", {}, [element(3, "body", {}, [form])])]}
    return [
        {"type": 4, "timestamp": at_ms, "data": {"href": href, "width": 1280, "height": 800}},
        {"type": 2, "timestamp": at_ms + 5, "data": {"node": root, "initialOffset": {"top": 0, "left": 0}}},
    ]


def at(seconds: float, data: dict, kind: int = 3) -> dict:
    return {"type": kind, "timestamp": T0 + int(seconds * 1000), "data": data}


def leaky_session() -> list[dict]:
    events = [
        *page(T0, "https://shop.example/login"),
        at(1, {"source": 2, "type": 2, "id": 13, "x": 5, "y": 5}),
        at(2, {"source": 5, "id": 13, "text": "pw-Zebra-42", "isChecked": False}),
        at(3, {"source": 2, "type": 2, "id": 16, "x": 9, "y": 9}),
        at(
            3.2,
            {
                "source": 0,
                "texts": [],
                "attributes": [],
                "removes": [],
                "adds": [
                    {
                        "parentId": 3,
                        "nextId": None,
                        "node": element(30, "p", {"class": "notice"}, [text(31, "Password: hunter2-Zebra")]),
                    }
                ],
            },
        ),
        *page(T0 + 4000, LEAKY_URL),
        at(6, {"tag": "checkout_started", "payload": {"card": "4111 1111 1111 1111", "plan": "pro"}}, 5),
        at(
            7,
            {
                "plugin": "rrweb/console@1",
                "payload": {"level": "error", "payload": ['"login failed token=tok_console_ZX9Q"']},
            },
            6,
        ),
    ]
    for second in range(8, 40):
        events.append(
            at(second, {"source": 1, "positions": [{"x": second, "y": 5, "id": 3, "timeOffset": 0}]})
        )
        events.append(at(second + 0.5, {"source": 2, "type": 2, "id": 16, "x": 9, "y": 9}))
    return events


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_secrets_in_a_recording_never_leave_it(world, capfd, monkeypatch, tmp_path):
    monkeypatch.setattr(logs, "_configured", False)
    logs.configure_logging("DEBUG", "json")
    cli = CliRunner()
    path = tmp_path / "leaky.json"
    path.write_text(__import__("json").dumps(leaky_session()))

    imported = cli.invoke(app, ["import", str(path)], catch_exceptions=False)
    listed = cli.invoke(app, ["recordings", "list"], catch_exceptions=False)
    timeline = cli.invoke(app, ["timeline", "leaky"], catch_exceptions=False)
    assert imported.exit_code == listed.exit_code == timeline.exit_code == 0, imported.output
    assert "/demo/2?username=test&password=[secret]&token=[secret]&cvv=[secret]&creditcard=[secret]" in (
        timeline.output
    )
    assert "checkout_started" in timeline.output and "card: [secret]" in timeline.output
    assert "Password: [secret]" in timeline.output

    world.fake.script(
        FakeReply.json({"reasoning": "The login form was sent (t 3).", "verdict": "yes", "confidence": 0.9})
    )
    gemini = world.scanner(scanner_type="monitor", scanner_config={"prompt": "Did the login fail?"})
    summarizer = world.scanner(
        scanner_type="summarizer",
        provider="heuristic",
        scanner_config={"prompt": "Summarise", "length": "short"},
    )
    (by_model,) = world.observe(gemini, "leaky")
    (by_heuristic,) = world.observe(summarizer, "leaky")
    assert by_model.status == by_heuristic.status == "succeeded"
    manifest = by_model.scanner_result["redaction"]
    assert manifest["secret"] >= 6, manifest
    shown = cli.invoke(app, ["observations", "show", str(by_heuristic.id)], catch_exceptions=False)

    world.fake.script(FakeReply.json({"markdown": "## Logins\n- Visitors could not sign in [obs 0]"}))
    digest = deliver_digest(world, [gemini, summarizer])

    bodies = "\n".join(str(request.body) for request in world.fake.requests)
    assert "[secret]" in bodies
    captured = capfd.readouterr()
    for where, text_ in {
        "import output": imported.output,
        "recordings list": listed.output,
        "timeline": timeline.output,
        "observations show": shown.output,
        "model output": str(by_model.scanner_result),
        "heuristic output": str(by_heuristic.scanner_result),
        "requests to Gemini": bodies,
        "digest": digest,
        "logs": captured.out + captured.err,
    }.items():
        assert leaks(text_) == [], f"{where} leaked {leaks(text_)}"


def deliver_digest(world, scanners) -> str:
    """Run a Gemini digest over the scanners' observations, delivered to the log; its Markdown."""
    get_settings.cache_clear()
    settings = get_settings()
    now = datetime.now(UTC) + timedelta(minutes=1)
    with session_scope(world.db.sessions) as session:
        action = VisionAction(
            team_id=world.team_id,
            scanner_id=scanners[0].id,
            name="leaky digest",
            trigger_config={"rrule": "FREQ=DAILY", "timezone": "UTC"},
            delivery_config=[{"type": "log"}],
            selection={"scanner_ids": [str(scanner.id) for scanner in scanners]},
        )
        session.add(action)
        session.flush()
        run = ActionRun(action_id=action.id, scheduled_at=now)
        session.add(run)
        run_id = run.id
    assert run_action(world.deps, run_id, now=now).status == "completed"
    world.broker.join("deliver", timeout=60_000)  # the worker posts the run's delivery
    world.worker.join()
    with world.db.sessions() as session:
        assert (
            session.exec(select(Delivery).where(Delivery.action_run_id == run_id)).one().status == "delivered"
        )
        markdown = session.get(ActionRun, run_id).synthesized_markdown
    delivered = (settings.home / "deliveries.jsonl").read_text()
    assert "Visitors could not sign in" in delivered
    return markdown + delivered
