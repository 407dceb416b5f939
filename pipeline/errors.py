"""The error tree (STYLE §6): every error says what went wrong and what to do about it.

`TransientError` means "try again later"; `PermanentError` means "retrying will not help".
Library errors are translated into these once, at the boundary, with `raise ... from exc`.
"""


class SightlineError(Exception):
    """Base of every error Sightline raises on purpose."""


class TransientError(SightlineError):
    """A failure that may succeed when retried (a timeout, a rate limit, a restarting server)."""


class PermanentError(SightlineError):
    """A failure that will fail again the same way: bad input, a missing row, a refused request."""


class ConfigurationError(PermanentError):
    """A setting is missing or invalid."""


class RecordingError(PermanentError):
    """A recording cannot be read: not JSON, no events, bad timestamps, an over-long session id."""


class ConcurrentChange(TransientError):
    """Another writer changed the same row between our read and our write; doing it again will see theirs."""


class NotFoundError(PermanentError):
    """A row the caller named does not exist."""


class Conflict(PermanentError):
    """The request is valid but the object's current state does not allow it (an API 409)."""


class InvalidField(PermanentError):
    """A value the user gave is not acceptable; `field` names it and the message says how to fix it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class ProviderTransient(TransientError):
    """The provider failed in a way that may pass: 429, 408, 5xx, a timeout, an empty truncated reply."""


class ProviderRejected(PermanentError):
    """The model provider refused the request (a 4xx other than 408/429); retrying will not help."""


class OutputInvalid(PermanentError):
    """The model's answer did not fit the step's schema, even after one re-prompt."""


class DeliveryTransient(TransientError):
    """A delivery failed in a way that may pass: a rate limit, a server error, a timeout.

    `look_after_s`: a post that timed out may still land; its retry looks for it first, and should
    not look before this long (a slow target takes it late), so the retry waits at least that."""

    def __init__(self, message: str, look_after_s: float | None = None):
        super().__init__(message)
        self.look_after_s = look_after_s


class DeliveryRejected(PermanentError):
    """A target refused a delivery (a bad token, an unknown channel, a private address): do not retry."""


class BlobMissing(TransientError, FileNotFoundError):
    """A recording's events are not in the blob store under `ref`.

    Transient because a copy may still be on its way (another machine's import, a store that lists
    late); the observation is retried, then failed as `blob_missing`. An `OSError` too, so callers
    that treat an unreadable file as one keep doing so.
    """

    def __init__(self, ref: str, location: str):
        super().__init__(f"blob {ref} is missing from {location}")
        self.ref, self.location = ref, location


class BlobStoreUnavailable(TransientError):
    """The blob store did not answer or failed on its side (a refused connection, a timeout, a 5xx)."""

    def __init__(self, message: str, location: str):
        super().__init__(message)
        self.location = location
