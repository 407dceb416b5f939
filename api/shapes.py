"""Response shapes shared by several endpoints, as the reference writes them."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from pydantic import BaseModel

from models import User
from services.auth import people
from services.context import Deps


class UserShape(BaseModel):
    """A person as the reference shows one (`created_by`, `triggered_by_user`)."""

    id: int
    uuid: UUID
    distinct_id: str
    first_name: str
    last_name: str
    email: str
    is_email_verified: bool | None = None
    hedgehog_config: dict | None = None
    role_at_organization: str | None = None


def user_shape(user: User | None) -> UserShape | None:
    if user is None or user.id is None:
        return None
    return UserShape(
        id=user.id,
        uuid=user.uuid,
        distinct_id=user.distinct_id,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        is_email_verified=False,
    )


class People:
    """The people a page of results names, loaded once for the page."""

    def __init__(self, deps: Deps, ids: Iterable[int | None]):
        self.by_id = people(deps, ids)

    def __call__(self, user_id: int | None) -> UserShape | None:
        return user_shape(self.by_id.get(user_id)) if user_id is not None else None
