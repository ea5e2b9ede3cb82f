"""The event log over HTTP: pages of events, and a Server-Sent Events stream that resumes from Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from microfab.api.deps import Operator, ServicesDep
from microfab.api.problems import Problem
from microfab.api.schemas import EventPublic, Page
from microfab.control.bootstrap import Services
from microfab.domain.codec import EVENT_TYPES, encode
from microfab.store.base import RecordedEvent

router = APIRouter(prefix="/v1", tags=["events"])
StreamFilter = Annotated[str | None, Query(max_length=200, description="Only streams starting with this.")]
TypeFilter = Annotated[list[str] | None, Query(alias="type", description="Only these event types.")]
_POLL_SECONDS = 0.5
_HEARTBEAT_SECONDS = 15.0


def _public(r: RecordedEvent) -> EventPublic:
    _, data = encode(r.event)
    data.pop("at", None)
    return EventPublic(position=r.position, stream=r.stream, version=r.version, type=r.type, at=r.event.at, data=data)


def _check_types(types: list[str] | None) -> None:
    unknown = sorted(set(types or ()) - set(EVENT_TYPES))
    if unknown:
        raise Problem(
            422,
            "Invalid request",
            f"unknown event type(s): {', '.join(unknown)}",
            errors=[{"field": "query.type", "message": f"unknown: {', '.join(unknown)}"}],
        )


@router.get("/events", response_model=Page[EventPublic])
async def list_events(
    services: ServicesDep,
    _: Operator,
    stream: StreamFilter = None,
    type_: TypeFilter = None,
    cursor: Annotated[int, Query(ge=0, description="Position to start after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[EventPublic]:
    """Events after position *cursor*, oldest first."""
    _check_types(type_)
    rows = services.log.read_all(after_position=cursor, types=type_, stream_prefix=stream, limit=limit + 1)
    items = [_public(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page[EventPublic](items=items, next_cursor=str(items[-1].position) if more and items else None)


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream_events(
    services: ServicesDep,
    _: Operator,
    stream: StreamFilter = None,
    type_: TypeFilter = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", pattern=r"^\d{1,18}$")] = None,
    after: Annotated[int, Query(ge=0, description="Start after this position (Last-Event-ID wins).")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="Close after this many events.")] = None,
) -> StreamingResponse:
    """Follow the log live; each event's ``id`` is its position, so a client resumes with ``Last-Event-ID``."""
    _check_types(type_)
    start = int(last_event_id) if last_event_id else after
    return StreamingResponse(
        _follow(services, start, stream, type_, limit),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _follow(
    services: Services, after: int, stream: str | None, types: list[str] | None, limit: int | None
) -> AsyncIterator[str]:
    sent, idle = 0, 0.0
    yield "retry: 2000\n\n"
    while limit is None or sent < limit:
        rows = services.log.read_all(after_position=after, types=types, stream_prefix=stream, limit=500)
        for r in rows:
            after = r.position
            payload = json.dumps(_public(r).model_dump(mode="json"), separators=(",", ":"))
            yield f"id: {r.position}\nevent: {r.type}\ndata: {payload}\n\n"
            sent += 1
            if limit is not None and sent >= limit:
                return
        if rows:
            idle = 0.0
            continue
        await asyncio.sleep(_POLL_SECONDS)
        idle += _POLL_SECONDS
        if idle >= _HEARTBEAT_SECONDS:
            idle = 0.0
            yield ": keep-alive\n\n"
