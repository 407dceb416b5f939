"""Who a Slack bot token belongs to: Slack's `auth.test`, through slack_sdk (posts nothing).

A token Slack refuses (`invalid_auth`, `token_revoked`, …) is `InvalidField("token")`; Slack not
answering (a timeout, a 429, a 5xx) is `TransientError`. The token is never part of a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from pipeline.errors import InvalidField, TransientError
from settings import Settings


@dataclass(frozen=True)
class SlackIdentity:
    workspace: str  # the team's name, "Acme"
    workspace_id: str
    bot: str  # the bot user's name
    url: str  # the workspace's address, https://acme.slack.com/


def check_slack_token(token: str, settings: Settings) -> SlackIdentity:
    """The workspace and bot user of `token`, asked of Slack; raises `InvalidField` or `TransientError`."""
    timeout = int(settings.delivery_timeout_s)
    client = WebClient(token=token, base_url=settings.slack_base_url, timeout=timeout)
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        status, code = exc.response.status_code, str(exc.response.get("error", "error"))[:64]
        if status == 429 or status >= 500:
            raise TransientError(f"Slack answered {status} ({code}) to auth.test; try again") from exc
        hint = "give the bot token (xoxb-…) of an app installed in the workspace"
        raise InvalidField("token", f"Slack refused it ({code}); {hint}") from exc
    except (SlackClientError, OSError, TimeoutError) as exc:
        raise TransientError(f"Slack could not be reached at {settings.slack_base_url}; try again") from exc
    return SlackIdentity(
        workspace=str(answer.get("team") or ""),
        workspace_id=str(answer.get("team_id") or ""),
        bot=str(answer.get("user") or ""),
        url=str(answer.get("url") or ""),
    )
