"""Source maps (`/api/environments/:project_id/error_tracking/symbol_sets`): the reference's two-step
upload — `start_upload` / `bulk_start_upload` answer a `presigned_url` `{url, fields}`, the client
POSTs the file there as a form with those fields, then `finish_upload` / `bulk_finish_upload`.

The `url` is always our own `…/symbol_sets/:id/upload` (local folder and S3 alike), authorised by
the one-time token in `fields` rather than by a key, as a presigned URL is. Each endpoint calls one
use case of `services.symbol_sets`.

The seed shows only the upload calls; listing, retrieving and deleting sets (`GET ""`,
`GET /:id`, `DELETE /:id`) are what a user of them would expect, shaped as the reference's symbol
set (`ref`, `storage_ptr`, `failure_reason`) with what Sightline knows beside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Caller, caller, deps_of
from api.errors import ApiError
from api.pagination import Page, Window, page, window
from models import as_utc
from models.symbol_sets import SymbolSet
from services import symbol_sets as use
from services.symbol_sets import MAX_REF, MAX_UPLOAD_BYTES, Started, Upload

router = APIRouter(
    prefix="/api/environments/{project_id}/error_tracking/symbol_sets", tags=["error tracking"]
)
READ, WRITE = "error_tracking:read", "error_tracking:write"


class PresignedUrl(BaseModel):
    url: str
    fields: dict[str, str] = Field(description="Send these as form fields beside `file`.")


class StartShape(BaseModel):
    presigned_url: PresignedUrl
    symbol_set_id: str


class BulkStartShape(BaseModel):
    id_map: dict[str, StartShape] = Field(description="By chunk id; a set already uploaded is left out.")


class SetInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    chunk_id: str = Field(min_length=1, max_length=MAX_REF)
    release_id: str | None = Field(default=None, max_length=255)
    content_hash: str | None = Field(default=None, max_length=255)


class BulkStartInput(BaseModel):
    """The sets to upload: `symbol_sets`, and (older clients) `chunk_ids` of one `release_id`."""

    model_config = ConfigDict(extra="ignore")

    chunk_ids: list[Annotated[str, Field(min_length=1, max_length=MAX_REF)]] = Field(
        default=[], max_length=1000
    )
    release_id: str | None = Field(default=None, max_length=255)
    symbol_sets: list[SetInput] = Field(default=[], max_length=1000)


class FinishInput(BaseModel):
    content_hash: str = Field(min_length=1, max_length=255)


class BulkFinishInput(BaseModel):
    content_hashes: dict[str, str] = Field(description="Content hash by symbol set id.", max_length=1000)


class Success(BaseModel):
    success: bool = True


class SymbolSetShape(BaseModel):
    id: UUID
    ref: str = Field(description="The chunk id the build injected, or the minified file's URL.")
    release_id: str | None
    storage_ptr: str | None = Field(
        description="Where its file is in the blob store; null before the upload."
    )
    content_hash: str | None = Field(description="Set when the upload was finished: the set is in use.")
    failure_reason: str | None = Field(description="Why its last upload was refused, if it was.")
    created_at: datetime


def _shape(row: SymbolSet) -> SymbolSetShape:
    return SymbolSetShape(
        id=row.id,
        ref=row.ref,
        release_id=row.release_id,
        storage_ptr=row.blob_ref,
        content_hash=row.content_hash,
        failure_reason=row.failure_reason,
        created_at=as_utc(row.created_at),
    )


@router.get("", response_model=Page[SymbolSetShape], summary="List the team's symbol sets (beyond the seed)")
def list_symbol_sets(
    request: Request, who: Annotated[Caller, Depends(caller(READ))], at: Annotated[Window, Depends(window)]
) -> Page[SymbolSetShape]:
    """Newest first, finished or not."""
    count, rows = use.symbol_set_page(who.deps, who.team_id, at.limit, at.offset)
    return page(request, [_shape(row) for row in rows], count, at)


@router.get(
    "/{symbol_set_id}", response_model=SymbolSetShape, summary="Retrieve a symbol set (beyond the seed)"
)
def retrieve_symbol_set(symbol_set_id: UUID, who: Annotated[Caller, Depends(caller(READ))]) -> SymbolSetShape:
    return _shape(use.get_symbol_set(who.deps, who.team_id, symbol_set_id))


@router.delete(
    "/{symbol_set_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a symbol set and its file (beyond the seed)",
)
def delete_symbol_set(symbol_set_id: UUID, who: Annotated[Caller, Depends(caller(WRITE))]) -> Response:
    """Its frames show minified again, saying no source map was uploaded."""
    use.delete_symbol_set(who.deps, who.team_id, symbol_set_id)
    return Response(status_code=204)


def _started(request: Request, project_id: int, started: Started) -> StartShape:
    url = str(
        request.url_for("upload_symbol_set", project_id=project_id, symbol_set_id=started.symbol_set_id)
    )
    fields = {"key": str(started.symbol_set_id), "token": started.token}
    return StartShape(
        presigned_url=PresignedUrl(url=url, fields=fields), symbol_set_id=str(started.symbol_set_id)
    )


@router.post("/start_upload", response_model=StartShape, summary="Start uploading one symbol set")
def start_upload(
    request: Request,
    who: Annotated[Caller, Depends(caller(WRITE))],
    chunk_id: Annotated[str, Query(min_length=1, max_length=MAX_REF)],
    release_id: Annotated[str | None, Query(max_length=255)] = None,
) -> StartShape:
    """`chunk_id`: the chunk id the build injected, or the minified file's URL."""
    started = use.start_upload(who.deps, who.team_id, Upload(chunk_id, release_id))
    return _started(request, who.team_id, started)


@router.post("/bulk_start_upload", response_model=BulkStartShape, summary="Start uploading symbol sets")
def bulk_start_upload(
    request: Request, body: BulkStartInput, who: Annotated[Caller, Depends(caller(WRITE))]
) -> BulkStartShape:
    uploads = [Upload(s.chunk_id, s.release_id, s.content_hash) for s in body.symbol_sets]
    uploads += [Upload(chunk, body.release_id) for chunk in body.chunk_ids]
    started = use.bulk_start_upload(who.deps, who.team_id, uploads)
    return BulkStartShape(id_map={ref: _started(request, who.team_id, s) for ref, s in started.items()})


@router.put("/{symbol_set_id}/finish_upload", response_model=Success, summary="Finish one upload")
def finish_upload(
    symbol_set_id: UUID, body: FinishInput, who: Annotated[Caller, Depends(caller(WRITE))]
) -> Success:
    use.finish_upload(who.deps, who.team_id, symbol_set_id, body.content_hash)
    return Success()


@router.post("/bulk_finish_upload", response_model=Success, summary="Finish uploads")
def bulk_finish_upload(body: BulkFinishInput, who: Annotated[Caller, Depends(caller(WRITE))]) -> Success:
    use.bulk_finish_upload(who.deps, who.team_id, body.content_hashes)
    return Success()


@router.post(
    "/{symbol_set_id}/upload",
    status_code=204,
    response_model=None,
    name="upload_symbol_set",
    summary="The file of a started set (the presigned URL)",
)
async def upload_symbol_set(
    request: Request,
    project_id: int,
    symbol_set_id: UUID,
    token: Annotated[str, Form(max_length=100)],
    file: Annotated[UploadFile, File(description="A source map, or the reference CLI's bundle.")],
) -> None:
    """Authorised by the `token` field of the start's `presigned_url`, not by a key."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise ApiError(400, "validation_error", "invalid_input", "the upload is empty: send the file")
    await run_in_threadpool(use.receive_upload, deps_of(request), project_id, symbol_set_id, token, data)
