"""Traceability: which units a module worked on between two times (the same log as the passports)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel

from microfab.api.deps import LockDep, Operator, ServicesDep
from microfab.api.problems import Problem, documented
from microfab.api.schemas import Page
from microfab.control import genealogy
from microfab.domain.errors import UnknownReferenceError

router = APIRouter(prefix="/v1", tags=["traceability"])


class WorkRecordPublic(BaseModel):
    """One attempt of one operation of one unit on the module; ``good`` is null while it runs."""

    serial: str
    order_id: str
    product: str
    site: str | None
    operation_id: str
    step: str
    module: str
    attempt: int
    started_at: datetime | None
    completed_at: datetime | None
    good: bool | None


@router.get("/modules/{name}/units", response_model=Page[WorkRecordPublic], responses=documented(404, 422))
async def module_units(
    name: Annotated[str, Path(max_length=63, description="The module.")],
    services: ServicesDep,
    lock: LockDep,
    _: Operator,
    since: Annotated[
        AwareDatetime | None, Query(description="Window start (ISO 8601 with offset); default: the beginning.")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Window end (ISO 8601 with offset); default: now.")
    ] = None,
    cursor: Annotated[int, Query(ge=0, description="How many records to skip (from next_cursor).")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[WorkRecordPublic]:
    """Every unit the module worked on whose work overlaps the window, one record per attempt, by start time."""
    if since is not None and until is not None and until < since:
        message = "expected a time at or after since"
        raise Problem(
            422, "Invalid request", f"query.until: {message}", errors=[{"field": "query.until", "message": message}]
        )
    async with lock:
        try:
            records = genealogy.module_units(services.state, services.log, name, since=since, until=until)
        except UnknownReferenceError as exc:
            raise Problem(404, "Not found", str(exc)) from None
    items = [
        WorkRecordPublic(
            serial=r.serial,
            order_id=r.order_id,
            product=r.product,
            site=r.site,
            operation_id=r.operation_id,
            step=r.step,
            module=r.module,
            attempt=r.attempt,
            started_at=r.started_at,
            completed_at=r.completed_at,
            good=r.good,
        )
        for r in records[cursor : cursor + limit]
    ]
    more = cursor + limit < len(records)
    return Page[WorkRecordPublic](items=items, next_cursor=str(cursor + limit) if more else None)
