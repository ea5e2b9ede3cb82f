"""RFC 9457 problem details for every error the API returns; a bad request is a 4xx, never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from microfab.control.jobs import JobQueueFullError
from microfab.domain.errors import (
    CurrencyMismatchError,
    DomainError,
    InvalidConfigurationError,
    NoEligibleSiteError,
    NoFxRateError,
    UnknownReferenceError,
)
from microfab.domain.trade import NoTaxRateError
from microfab.manifests import ManifestErrors
from microfab.store.base import ConcurrencyError, StoreUnavailableError

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
_TYPE_BASE = "https://microfab.dev/problems/"


class FieldError(BaseModel):
    """One invalid field: where (``body.quantity``, ``query.limit``, ``header.X``) and what was expected."""

    field: str
    message: str


class ProblemPublic(BaseModel):
    """An RFC 9457 problem: ``type``, ``title``, ``status``, ``detail``, ``instance``, optional field errors."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error *statuses*, as ``application/problem+json``."""
    ref = {"schema": {"$ref": "#/components/schemas/ProblemPublic"}}
    return {
        status: {
            "model": ProblemPublic,
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {MEDIA_TYPE: ref},
        }
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "Malformed request (e.g. a body that is not UTF-8 JSON)",
    401: "Missing, unknown or revoked API key",
    403: "The key's role may not do this",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    422: "Invalid request (the fields are named)",
    429: "Rate limit exceeded",
    503: "Store unavailable",
}


class Problem(Exception):  # noqa: N818 - RFC 9457 calls it a problem
    """An error with an HTTP status, a short title, a detail and optional per-field errors."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    """Render *problem* as ``application/problem+json``."""
    body: dict[str, Any] = {
        "type": _TYPE_BASE + problem.title.lower().replace(" ", "-"),
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
    }
    if problem.errors:
        body["errors"] = problem.errors
    return JSONResponse(body, status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers)


def from_domain(exc: Exception) -> Problem:  # noqa: PLR0911 - one mapping per error family
    """Map a domain or adapter error to its problem (the routes add the field where they know it)."""
    if isinstance(exc, UnknownReferenceError):
        return Problem(404, "Not found", str(exc))
    if isinstance(exc, InvalidConfigurationError | NoEligibleSiteError | CurrencyMismatchError):
        return Problem(422, "Unprocessable request", str(exc))
    if isinstance(exc, ManifestErrors):
        errors = [{"field": f"{e.file}:{e.line}:{e.column}:{e.field}", "message": e.message} for e in exc.errors]
        return Problem(422, "Invalid manifests", f"{len(exc.errors)} error(s)", errors=errors)
    if isinstance(exc, ConcurrencyError):
        return Problem(409, "Conflict", str(exc))
    if isinstance(exc, StoreUnavailableError):
        return Problem(503, "Store unavailable", str(exc))
    if isinstance(exc, DomainError | ValueError):
        return Problem(422, "Unprocessable request", str(exc))
    return Problem(500, "Internal error", "an unexpected error happened; it was logged")


def quote_problem(exc: Exception, *, unknown_status: int = 404) -> Problem:
    """A failed quote (or placement) as a problem naming the body field at fault.

    *unknown_status* is the status of an unknown product or market: 404 for a quote, 422 for an
    order (which has always answered so). Every other failure is a 422 like `from_domain`'s.
    """
    if isinstance(exc, UnknownReferenceError):
        named = {"product": "body.product", "market": "body.market"}.get(exc.kind, "body")
        title = "Not found" if unknown_status == 404 else "Unprocessable request"
        return Problem(unknown_status, title, str(exc), errors=[{"field": named, "message": str(exc)}])
    field = _quote_field(exc)
    if field is None:
        return from_domain(exc)
    return Problem(422, "Unprocessable request", str(exc), errors=[{"field": field, "message": str(exc)}])


def _quote_field(exc: Exception) -> str | None:
    """The request field a quote's domain error is about (None: not a quote error)."""
    if isinstance(exc, InvalidConfigurationError):
        return "body.config"
    if isinstance(exc, NoFxRateError):
        return "body.currency"
    if isinstance(exc, NoTaxRateError):
        return "body.tax_jurisdiction"
    if isinstance(exc, NoEligibleSiteError):
        return "body.market"
    if isinstance(exc, ValueError) and not isinstance(exc, DomainError):
        named = str(exc).partition(":")[0]  # engines name the argument first: "currency: expected …"
        return f"body.{named}" if named in ("currency", "quantity", "locale", "tax_jurisdiction") else "body"
    return None


def _allowed_methods(request: Request) -> list[str]:
    """Every method of every route whose path matches (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(request, Problem(422, "Invalid request", detail, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {
            400: "Bad request",
            404: "Not found",
            405: "Method not allowed",
            401: "Unauthorized",
            403: "Forbidden",
        }.get(exc.status_code, "HTTP error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(request, Problem(exc.status_code, title, str(exc.detail), headers=headers))

    @app.exception_handler(JobQueueFullError)
    async def _queue_full(request: Request, exc: JobQueueFullError) -> JSONResponse:
        """Every route and page that queues a job: a full queue is a 429 to retry later."""
        return problem_response(request, Problem(429, "Too many requests", str(exc), headers={"Retry-After": "10"}))

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, from_domain(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, from_domain(exc))
