"""One message per delivery even when the target answers after the client's timeout (DESIGN §8): the
fake Slack takes a slow post all the same; a retry finds it in the channel's history by the delivery
id in its metadata. Webhook receivers get the same delivery id on every attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dramatiq import Retry
from typer.testing import CliRunner

from actors.actions import deliver as deliver_actor
from cli.main import app
from integrations.delivery import verify
from integrations.fake_slack import FakeSlack, FakeSlackReply
from models import DeliveryStatus, Integration, session_scope, utcnow
from models.action_queries import claim_delivery, renew_delivery
from pipeline.errors import DeliveryTransient
from services import delivery as delivery_service
from services.action_runs import RunProgress
from tests.support.deliveries import action_to, attempt, delivery_to, row, use_settings
from tests.support.receiver import Receiver

pytestmark = pytest.mark.db
TIMEOUT_S = 1
LATE_S = 1.5  # Slack answers (and takes the post) after the client gave up
POST, HISTORY = "chat.postMessage", "conversations.history"


@pytest.fixture
def slack(world, monkeypatch):
    fake = FakeSlack().start()
    monkeypatch.delenv("GEMINI_API_KEY")  # extractive digests: no model call
    use_settings(
        world,
        monkeypatch,
        SIGHTLINE_SLACK_BASE_URL=fake.api_url,
        SIGHTLINE_DELIVERY_TIMEOUT_S=str(TIMEOUT_S),
    )
    with session_scope(world.db.sessions) as session:
        integration = Integration(team_id=world.team_id, bot_token=fake.token, config={"name": "acme"})
        session.add(integration)
        fake.integration_id = str(integration.id)
    yield fake
    fake.join()
    fake.stop()


def test_a_post_slack_took_after_the_timeout_is_found_on_the_retry_not_posted_again(world, slack):
    delivery_id = delivery_to(
        world, {"type": "slack", "integration_id": slack.integration_id, "channel": "C1"}
    )
    slack.script(FakeSlackReply.slow(LATE_S, method=POST))
    with pytest.raises(DeliveryTransient, match="did not answer the message within 1 s") as timed_out:
        attempt(world, delivery_id)
    assert timed_out.value.look_after_s == 3 * TIMEOUT_S  # the retry gives Slack time to take it
    waiting = row(world, delivery_id)
    assert waiting.status == DeliveryStatus.PENDING and "may have been posted" in waiting.error
    slack.join()  # the post lands after the client gave up
    assert attempt(world, delivery_id) == "delivered"
    (landed,) = slack.messages("C1")
    assert landed["metadata"] == {
        "event_type": "sightline_delivery",
        "event_payload": {"delivery_id": str(delivery_id)},
    }
    delivered = row(world, delivery_id)
    assert delivered.external_id == landed["ts"] and delivered.attempts == 2 and delivered.error is None
    assert len(slack.posts()) == 1
    (looked,) = [r for r in slack.requests if r.path.endswith(HISTORY)]
    assert looked.body["include_all_metadata"] == "1" and float(looked.body["oldest"]) < float(landed["ts"])


def test_three_timeouts_still_make_one_message(world, slack):
    delivery_id = delivery_to(
        world, {"type": "slack", "integration_id": slack.integration_id, "channel": "C1"}
    )
    slack.script(
        FakeSlackReply.slow(LATE_S, method=POST),
        FakeSlackReply.slow(LATE_S, method=HISTORY),  # a history that does not answer is no licence to post
        FakeSlackReply.slow(LATE_S, method=HISTORY),
    )
    for _ in range(3):
        with pytest.raises(DeliveryTransient, match="did not answer"):
            attempt(world, delivery_id)
        slack.join()
    assert attempt(world, delivery_id) == "delivered"
    assert len(slack.messages("C1")) == 1 and len(slack.posts()) == 1
    assert row(world, delivery_id).attempts == 4


def test_a_post_slack_never_took_is_posted_on_the_retry(world, slack):
    delivery_id = delivery_to(
        world, {"type": "slack", "integration_id": slack.integration_id, "channel": "C1"}
    )
    slack.script(FakeSlackReply.error("internal_error", status=500, method=POST))
    with pytest.raises(DeliveryTransient, match="Slack answered 500"):
        attempt(world, delivery_id)
    assert attempt(world, delivery_id) == "delivered"
    assert len(slack.posts()) == 2 and len(slack.messages("C1")) == 1


def test_a_channel_slack_shows_no_history_of_is_posted_again_the_documented_duplicate(world, slack):
    """History takes a channel id: a target named `#alerts` cannot be checked (nor can a token without
    channels:history), so a retry after a timeout posts again."""
    delivery_id = delivery_to(
        world, {"type": "slack", "integration_id": slack.integration_id, "channel": "#alerts"}
    )
    slack.script(FakeSlackReply.slow(LATE_S, method=POST))
    with pytest.raises(DeliveryTransient):
        attempt(world, delivery_id)
    slack.join()
    assert attempt(world, delivery_id) == "delivered"
    assert len(slack.messages("#alerts")) == 2


def test_a_webhook_receiver_gets_the_same_delivery_id_on_every_attempt(world, slack, monkeypatch):
    use_settings(world, monkeypatch, SIGHTLINE_WEBHOOK_ALLOW_PRIVATE="true")  # the receiver is on 127.0.0.1
    with Receiver(204, delay_s=LATE_S, slow_first=1) as receiver:
        delivery_id = delivery_to(
            world, {"type": "webhook", "url": f"{receiver.url}/hook", "secret": "s3cret"}
        )
        with pytest.raises(DeliveryTransient, match="the webhook did not answer in time"):
            attempt(world, delivery_id)
        assert attempt(world, delivery_id) == "delivered"
    first, second = receiver.received  # the receiver took both: it drops the repeat by its id
    assert first.headers["X-Sightline-Delivery"] == second.headers["X-Sightline-Delivery"] == str(delivery_id)
    assert first.json()["delivery_id"] == second.json()["delivery_id"] == str(delivery_id)
    for request in (first, second):
        headers = request.headers
        now = datetime.now(UTC).timestamp()
        signed = verify(
            "s3cret",
            headers["X-Sightline-Timestamp"],
            request.body,
            headers["X-Sightline-Signature"],
            now=now,
        )
        assert signed


def test_a_run_is_finished_only_when_each_delivery_is_delivered_or_failed():
    def progress(*statuses: str) -> RunProgress:
        return RunProgress(
            "completed", None, "md", [(f"t{i}", status, None) for i, status in enumerate(statuses)]
        )

    assert not progress("delivered", "sending").finished and not progress("pending").finished
    assert progress("delivered", "failed").finished and progress().finished
    assert not RunProgress("running", None, None, []).finished


def test_run_now_waits_until_a_slow_post_is_delivered(world, slack):
    target = {"type": "slack", "integration_id": slack.integration_id, "channel": "C9"}
    action = action_to(world, target, done=utcnow() - timedelta(hours=1))  # in the window of a run now
    slack.script(FakeSlackReply.slow(LATE_S, method=POST))
    result = CliRunner().invoke(
        app, ["actions", "run-now", action.name, "--wait", "--timeout", "60"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"slack:{slack.integration_id}:C9: delivered" in result.output
    assert len(slack.messages("C9")) == 1 and len(slack.posts()) == 1


def test_a_post_holds_its_lease_while_it_runs_and_a_takeover_ends_the_old_hold(world, slack):
    """The deliver path renews its lease fenced by its attempt number: the attempt that posts keeps
    the row; once another attempt took the row over, the old one's renewals are refused."""
    delivery_id = delivery_to(
        world, {"type": "slack", "integration_id": slack.integration_id, "channel": "C7"}
    )
    now = utcnow()
    with session_scope(world.db.sessions) as session:
        assert claim_delivery(session, delivery_id, now, world.settings.delivery_lease_s)
        assert renew_delivery(session, delivery_id, 1, now + timedelta(seconds=20))
        # Within the lease no one else takes it; past it (the worker stopped renewing) one may.
        assert not claim_delivery(session, delivery_id, now + timedelta(seconds=30), 60)
        assert claim_delivery(session, delivery_id, now + timedelta(seconds=90), 60)
        assert not renew_delivery(session, delivery_id, 1, now + timedelta(seconds=91))
        assert renew_delivery(session, delivery_id, 2, now + timedelta(seconds=91))


def test_a_slow_post_renews_its_lease_until_it_is_marked_delivered(world, slack, monkeypatch):
    renewed: list[tuple[str, int]] = []
    real = delivery_service.renew_delivery

    def counting(session, delivery_id, attempt, now):
        renewed.append((str(delivery_id), attempt))
        return real(session, delivery_id, attempt, now)

    monkeypatch.setattr(delivery_service, "renew_delivery", counting)
    monkeypatch.setattr(delivery_service, "BEATS_PER_LEASE", world.settings.delivery_lease_s / 0.1)
    delivery_id = delivery_to(
        world, {"type": "slack", "integration_id": slack.integration_id, "channel": "C8"}
    )
    slack.script(FakeSlackReply.slow(0.6, method=POST))  # inside the 1 s client timeout
    assert attempt(world, delivery_id) == "delivered"
    assert len(renewed) >= 3 and set(renewed) == {(str(delivery_id), 1)}
    assert row(world, delivery_id).status == DeliveryStatus.DELIVERED


def test_the_retry_of_a_timed_out_post_waits_before_it_looks_for_it(monkeypatch):
    def timed_out(deps, delivery_id):
        raise DeliveryTransient("Slack did not answer the message within 1 s", look_after_s=3)

    monkeypatch.setattr(delivery_service, "deliver", timed_out)
    with pytest.raises(Retry) as retried:
        deliver_actor.fn("6b1f4c2e-0000-4000-8000-000000000001")
    assert retried.value.delay == 3_000
