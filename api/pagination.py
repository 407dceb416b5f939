"""The reference's list envelope: `{count, next, previous, results}` with absolute links, by limit/offset."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]


class Window(BaseModel):
    limit: int
    offset: int


async def window(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Window:
    """The `limit` and `offset` query parameters of a list."""
    return Window(limit=limit, offset=offset)


def page(request: Request, results: list[T], count: int, at: Window) -> Page[T]:
    """One page of a list, with links to the next and previous pages (None at either end)."""
    following = at.offset + at.limit if at.offset + at.limit < count else None
    preceding = max(0, at.offset - at.limit) if at.offset > 0 else None
    return Page(
        count=count,
        next=_link(request, following, at.limit),
        previous=_link(request, preceding, at.limit),
        results=results,
    )


def _link(request: Request, offset: int | None, limit: int) -> str | None:
    if offset is None:
        return None
    return str(request.url.include_query_params(limit=limit, offset=offset))
