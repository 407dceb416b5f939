"""Report artefacts: a schema per writable type, and what a report's newest ones say (DESIGN §7,
reference posthog-signals.md §1.4).

Artefacts are append-only. Status types are latest-wins: the report's value is the newest row of
the type, so deleting the newest falls back to the one before. `dismissal` rows are written by
state changes (never directly) and stack; `related_to` is written by grouping, on both reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import InvalidField

_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class _Content(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Note(_Content):
    note: str = Field(min_length=1, max_length=20_000)
    author: str | None = Field(default=None, max_length=200)


class CodeReference(_Content):
    file_path: str = Field(min_length=1, max_length=1_000)
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    contents: str = Field(max_length=20_000)
    relevance_note: str = Field(default="", max_length=2_000)

    @model_validator(mode="after")
    def _lines(self) -> CodeReference:
        if self.end_line < self.start_line:
            raise ValueError("end_line must not be before start_line")
        lines = self.contents.splitlines()
        if len(lines) > 20 or any(len(line) > 1_000 for line in lines):
            raise ValueError("contents holds at most 20 lines of at most 1,000 characters")
        return self


class ActionabilityJudgment(_Content):
    explanation: str = Field(min_length=1, max_length=10_000)
    actionability: Literal["immediately_actionable", "requires_human_input", "not_actionable"]
    already_addressed: bool = False


class PriorityJudgment(_Content):
    explanation: str = Field(min_length=1, max_length=10_000)
    priority: Literal["P0", "P1", "P2", "P3", "P4"]
    dollar_value: float | None = None


class SafetyJudgment(_Content):
    choice: bool
    explanation: str | None = Field(default=None, max_length=10_000)


class RepoSelection(_Content):
    repository: str | None
    reason: str = Field(default="", max_length=2_000)
    autostart_eligible: bool | None = None

    @field_validator("repository")
    @classmethod
    def _owner_repo(cls, value: str | None) -> str | None:
        if value is not None and not _REPOSITORY.match(value):
            raise ValueError("repository must look like owner/repo")
        return value


class Reviewer(_Content):
    github_login: str | None = Field(default=None, max_length=100)
    user_uuid: UUID | None = None
    github_name: str | None = Field(default=None, max_length=200)
    relevant_commits: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    is_skill_owner: bool = False

    @model_validator(mode="after")
    def _who(self) -> Reviewer:
        if not self.github_login and self.user_uuid is None:
            raise ValueError("each reviewer needs a github_login or a user_uuid")
        return self


class SuggestedReviewers(_Content):
    reviewers: list[Reviewer] = Field(min_length=1, max_length=10)


class Commit(_Content):
    repository: str = Field(min_length=3, max_length=512)
    branch: str = Field(min_length=1, max_length=255)
    commit_sha: str = Field(pattern=r"^[0-9a-fA-F]{7,64}$")
    message: str = Field(default="", max_length=10_000)
    note: str | None = Field(default=None, max_length=10_000)
    diff: str | None = Field(default=None, max_length=200_000)

    @field_validator("repository")
    @classmethod
    def _owner_repo(cls, value: str) -> str:
        if not _REPOSITORY.match(value):
            raise ValueError("repository must look like owner/repo")
        return value


class SignalFinding(_Content):
    signal_id: str = Field(min_length=1, max_length=255)
    relevant_code_paths: list[str] = Field(default_factory=list, max_length=50)
    relevant_commit_hashes: dict[str, str] = Field(default_factory=dict, max_length=5)
    data_queried: str = Field(default="", max_length=10_000)
    verified: bool = False


WRITABLE: dict[str, type[_Content]] = {
    "note": Note,
    "code_reference": CodeReference,
    "commit": Commit,
    "actionability_judgment": ActionabilityJudgment,
    "priority_judgment": PriorityJudgment,
    "safety_judgment": SafetyJudgment,
    "repo_selection": RepoSelection,
    "suggested_reviewers": SuggestedReviewers,
    "signal_finding": SignalFinding,
}
SYSTEM_TYPES = ("dismissal", "related_to")


def validate_artefact(kind: str, content: object) -> dict[str, Any]:
    """The normalised content of a writable artefact; `InvalidField` naming the bad field."""
    schema = WRITABLE.get(kind)
    if schema is None:
        detail = " (written by state changes and grouping only)" if kind in SYSTEM_TYPES else ""
        raise InvalidField("type", f"{kind!r} cannot be written{detail}; writable: {', '.join(WRITABLE)}")
    if kind == "suggested_reviewers" and isinstance(content, list):
        content = {"reviewers": content}
    try:
        return schema.model_validate(content).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or kind
        raise InvalidField(f"content.{where}", error["msg"]) from exc


def derived(artefacts: Iterable[Any]) -> dict[str, Any]:
    """What the newest artefacts say about a report: priority, actionability, dismissal.

    `artefacts` have `type`, `content` and `created_at`; any order.
    """
    newest: dict[str, Any] = {}
    for artefact in sorted(artefacts, key=lambda item: item.created_at):
        newest[artefact.type] = artefact.content or {}
    actionability = newest.get("actionability_judgment", {})
    dismissal = newest.get("dismissal", {})
    return {
        "priority": newest.get("priority_judgment", {}).get("priority"),
        "actionability": actionability.get("actionability") or actionability.get("choice"),
        "already_addressed": actionability.get("already_addressed"),
        "dismissal_reason": dismissal.get("reason") or None,
        "dismissal_note": dismissal.get("note") or None,
    }


def suggested_reviewers(artefacts: Iterable[Any]) -> list[str]:
    """The GitHub logins and user UUIDs the newest `suggested_reviewers` artefact names."""
    newest = max(
        (item for item in artefacts if item.type == "suggested_reviewers"),
        key=lambda item: item.created_at,
        default=None,
    )
    reviewers = (newest.content or {}).get("reviewers") or [] if newest is not None else []
    return [str(who[key]) for who in reviewers for key in ("github_login", "user_uuid") if who.get(key)]


def diff_source(kind: str, content: dict[str, Any]) -> tuple[str, str]:
    """The (repository, branch) whose diff a commit artefact stands for; `InvalidField` when the
    artefact is not a commit or misses either."""
    if kind != "commit":
        raise InvalidField("type", f"a {kind} artefact has no diff; only commit artefacts do")
    repository, branch = content.get("repository"), content.get("branch")
    if not repository or not branch:
        raise InvalidField("content", "this commit artefact misses its repository or branch")
    return str(repository), str(branch)
