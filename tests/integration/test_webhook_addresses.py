"""Webhooks and Slack incoming webhooks reach public addresses only (DESIGN §8): refused when the
action is saved (CLI, API) and again when sent, redirects included; SIGHTLINE_WEBHOOK_ALLOW_PRIVATE
lets a local setup through."""

from __future__ import annotations

import pytest

from integrations.fake_slack import FakeSlack
from models import DeliveryStatus
from settings import get_settings
from tests.support.deliveries import attempt, delivery_to, row, use_settings
from tests.support.receiver import Receiver

pytestmark = pytest.mark.db
RAGE = ["scanners", "create", "--name", "Rage", "--type", "monitor", "--provider", "heuristic"]
RAGE += ["--prompt", "Rage?", "--config", '{"prompt": "Rage?", "rule": "rage_click"}']
SCANNER = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}


def new_action(api, scanner_id, delivery_config):
    body = {
        "name": "Hook digest",
        "scanner": str(scanner_id),
        "trigger_config": {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "timezone": "UTC"},
        "delivery_config": delivery_config,
    }
    return api.post(f"/api/projects/{api.team_id}/vision/actions", json=body)


def test_a_slack_incoming_webhook_on_loopback_is_refused_when_sent(world):
    with FakeSlack() as slack:
        delivery_id = delivery_to(world, {"type": "slack_webhook", "url": slack.webhook_url()})
        assert attempt(world, delivery_id) == "failed"
    failed = row(world, delivery_id)
    assert failed.status == DeliveryStatus.FAILED and failed.error.startswith(
        "the Slack webhook host 127.0.0.1 resolves to 127.0.0.1, a loopback address; private addresses are refused"
    )
    assert slack.requests == []  # nothing was sent


@pytest.mark.parametrize("kind", ["slack_webhook", "webhook"])
def test_a_redirect_is_not_followed_and_the_delivery_fails_saying_where_it_led(world, monkeypatch, kind):
    use_settings(world, monkeypatch, SIGHTLINE_WEBHOOK_ALLOW_PRIVATE="true")  # both ends are on 127.0.0.1
    with Receiver(204) as inside, Receiver(302, f"{inside.url}/admin") as hook:
        delivery_id = delivery_to(world, {"type": kind, "url": f"{hook.url}/hook", "secret": "s"})
        assert attempt(world, delivery_id) == "failed"
        inside_port = inside.port
    what = "the Slack webhook" if kind == "slack_webhook" else "the webhook"
    expected = f"{what} answered 302, a redirect to 127.0.0.1:{inside_port}; it was not followed"
    assert row(world, delivery_id).error == expected
    assert len(hook.received) == 1 and inside.received == []


def test_the_cli_refuses_a_private_webhook_when_the_action_is_created(sightline, monkeypatch):
    assert sightline(*RAGE).exit_code == 0
    hook = '{type: webhook, url: "http://2130706433:8080/hook", secret: s3cret}'
    refused = sightline("actions", "create", "--name", "Hook", "--scanner", "Rage", "--target", hook)
    assert refused.exit_code != 0
    assert "delivery_config[0].url: 2130706433 (127.0.0.1) is a loopback address" in refused.output
    assert "SIGHTLINE_WEBHOOK_ALLOW_PRIVATE=true" in refused.output
    slack = "[{type: slack_webhook, url: 'http://[::ffff:169.254.169.254]/services/T/B/X'}]"
    changed = sightline("actions", "update", "Featured digest: Rage", "--set", f"delivery_config={slack}")
    assert changed.exit_code != 0 and "169.254.169.254, a cloud metadata address" in changed.output
    monkeypatch.setenv("SIGHTLINE_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    allowed = sightline("actions", "create", "--name", "Hook", "--scanner", "Rage", "--target", hook)
    assert allowed.exit_code == 0, allowed.output


@pytest.mark.parametrize(
    ("target", "because"),
    [
        ({"type": "slack_webhook", "url": "http://[::1]/services/T/B/X"}, "::1 is a loopback address"),
        (
            {"type": "webhook", "url": "http://0x7f000001/", "secret": "s"},
            "(127.0.0.1) is a loopback address",
        ),
        (
            {"type": "webhook", "url": "http://[64:ff9b::a00:1]/", "secret": "s"},
            "carrying 10.0.0.1, a private",
        ),
        ({"type": "webhook", "url": "https://metadata.google.internal/", "secret": "s"}, "a local host name"),
    ],
)
def test_the_api_refuses_a_private_webhook_with_a_400_naming_the_url(world, api, target, because):
    rage = world.scanner(name="Rage", **SCANNER)
    refused = new_action(api, rage.id, [{"type": "log"}, target])
    assert refused.status_code == 400, refused.text
    assert refused.json()["attr"] == "delivery_config[1].url" and because in refused.json()["detail"]
    created = new_action(api, rage.id, [{"type": "log"}]).json()
    path = f"/api/projects/{api.team_id}/vision/actions/{created['id']}"
    changed = api.patch(path, json={"delivery_config": [target]})
    assert changed.status_code == 400 and changed.json()["attr"] == "delivery_config[0].url"


def test_apply_refuses_a_private_webhook_naming_the_entry(sightline, tmp_path, monkeypatch):
    file = tmp_path / "sightline.yaml"
    file.write_text("""
scanners:
  - name: Rage
    scanner_type: monitor
    provider: heuristic
    scanner_config: {prompt: "Rage?", rule: rage_click}
actions:
  - name: Hooked
    scanner: Rage
    trigger_config: {rrule: "FREQ=DAILY;BYHOUR=9"}
    delivery_config: [{type: log}, {type: slack_webhook, url: "http://[64:ff9b::7f00:1]/services/T/B/X"}]
""")
    refused = sightline("apply", str(file))
    assert refused.exit_code != 0
    assert (
        "actions[0].delivery_config[1].url: 64:ff9b::7f00:1 is an IPv6 address carrying 127.0.0.1"
        in refused.output
    )
    monkeypatch.setenv("SIGHTLINE_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    assert "Hooked: created" in sightline("apply", str(file)).output
