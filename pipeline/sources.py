"""Recording sources, pure: which listed recordings to take, and how far the watermark may move.

A source lists recordings by start time. The watermark is the last recording, in the order
(start time, id), up to which everything was taken; recordings at or before it are not looked at
again. A recording still being recorded (PostHog says `ongoing`, or its last event is more recent
than the settle interval, so more may come) is not taken and holds the watermark back, so a later
poll finds it again once it has finished. Finished recordings after it are taken meanwhile; when
they are listed again the caller sees they are stored and skips them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pipeline.errors import InvalidField

Position = tuple[datetime, str]
MIN_KEY_LENGTH = 16  # PostHog's are 47 characters; the mask shows 8


@dataclass(frozen=True)
class RemoteRecording:
    """One recording as a source lists it (PostHog's list fields that decide what to do with it)."""

    session_id: str
    start_time: datetime
    end_time: datetime
    ongoing: bool = False
    distinct_id: str | None = None

    @property
    def position(self) -> Position:
        return (self.start_time, self.session_id)


def is_finished(recording: RemoteRecording, now: datetime, settle: timedelta) -> bool:
    """Finished: not live, and nothing recorded for at least `settle` (PostHog ends a session
    after 30 minutes without activity, and its `ongoing` only looks at the last 5)."""
    return not recording.ongoing and recording.end_time <= now - settle


def in_order(recordings: Iterable[RemoteRecording]) -> list[RemoteRecording]:
    return sorted(recordings, key=lambda recording: recording.position)


class Watermark:
    """How far a poll has taken recordings; `take` and `hold` are called in listing order."""

    def __init__(self, start: datetime, session_id: str | None):
        self.position: Position = (start, session_id or "")
        self.held = False

    def is_after(self, recording: RemoteRecording) -> bool:
        """Whether the recording is past the watermark (not yet taken)."""
        return recording.position > self.position

    def take(self, recording: RemoteRecording) -> None:
        """The recording is done with (imported, already stored, or unusable): move past it unless held."""
        if not self.held and recording.position > self.position:
            self.position = recording.position

    def hold(self) -> None:
        """A recording is not done with yet: the watermark stays where it is for the rest of the poll."""
        self.held = True


def check_host(value: str) -> str:
    """The PostHog API origin (`https://us.posthog.com`), normalised; `InvalidField` when it is not one."""
    url = urlsplit(value.strip())
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InvalidField("host", f"{value!r} is not an http(s) URL, e.g. https://us.posthog.com")
    if url.username or url.password or url.query or url.fragment or url.path not in ("", "/"):
        raise InvalidField(
            "host", "give the origin only, e.g. https://eu.posthog.com (no path, query or user)"
        )
    if url.hostname.endswith(".i.posthog.com"):
        api = url.hostname.removesuffix(".i.posthog.com")
        raise InvalidField("host", f"that is PostHog's ingestion host; its API is https://{api}.posthog.com")
    try:
        port = f":{url.port}" if url.port else ""
    except ValueError as exc:
        raise InvalidField("host", f"{value!r} has an invalid port") from exc
    name = f"[{url.hostname}]" if ":" in url.hostname else url.hostname  # an IPv6 address
    return f"{url.scheme}://{name}{port}"


def check_project_id(value: int) -> int:
    if value < 1:
        raise InvalidField(
            "project_id", "PostHog project ids are positive numbers (see the project's settings)"
        )
    return value


def check_api_key(value: str) -> str:
    """A personal API key as given (stripped); `InvalidField` for a project key or an empty one.

    The message never repeats the key."""
    key = value.strip()
    if key.startswith("phc_"):
        raise InvalidField(
            "api_key",
            "that is a project API key (phc_…), which can only send events; use a personal API key (phx_…)",
        )
    if len(key) < MIN_KEY_LENGTH or any(character.isspace() for character in key):
        raise InvalidField("api_key", "give a PostHog personal API key (phx_…)")
    return key


def mask_key(key: str) -> str:
    """What may be shown of a key: `phx_…abcd`."""
    return f"{key[:4]}…{key[-4:]}"
