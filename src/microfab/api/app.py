"""The FastAPI application: built by `create_app`, services opened at start-up (never at import)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from microfab import __version__
from microfab.api import problems, web
from microfab.api.routes import (
    catalog,
    configure,
    events,
    genealogy,
    keys,
    manifests,
    operations,
    orders,
    plans,
    quotes,
)
from microfab.control.bootstrap import Services, bootstrap
from microfab.control.jobs import JobRunner
from microfab.settings import Settings

PLAN_TEXT_PATHS = (
    "/v1/plans/stress",
    "/v1/plans/expansions",
    "/v1/plans/whatifs",
    "/planner/stress",
    "/planner/expansions",
    "/planner/whatifs",
)
"""Planning routes and planner forms whose bodies carry a network, a forecast or a what-if file (1 MiB)."""


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Limits of the HTTP edge."""

    max_body_bytes: int = 64 * 1024
    manifest_body_bytes: int = 1024 * 1024  # a whole network's manifests (the example is about 51 KB); plan texts too
    order_rate_per_s: float = 5.0
    order_burst: int = 20
    plan_workers: int = 1  # worker processes for planning jobs (the API keeps a core)
    plan_queue: int = 8  # jobs that may wait; more is a 429


def create_app(
    settings: Settings | None = None, *, services: Services | None = None, api: ApiSettings | None = None
) -> FastAPI:
    """Build the app; pass *services* to share already-open adapters (tests), else they open at start-up."""
    limits = api or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = services or bootstrap(settings or Settings.from_env())
        app.state.services = opened
        app.state.jobs = JobRunner(workers=limits.plan_workers, max_pending=limits.plan_queue)
        try:
            yield
        finally:
            app.state.jobs.close()
            if services is None:
                opened.close()

    app = FastAPI(
        title="microfab",
        version=__version__,
        description="REST API of microfab: the network, quotes, orders and their passports, the event log.",
        lifespan=lifespan,
    )
    app.state.lock = asyncio.Lock()
    app.state.rate_limiter = orders.RateLimiter(limits.order_rate_per_s, limits.order_burst)
    if services is not None:
        app.state.services = services
    problems.install(app)
    wider = dict.fromkeys(("/v1/manifests/", *PLAN_TEXT_PATHS), limits.manifest_body_bytes)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes, wider=wider)
    for router in (
        catalog.router,
        configure.router,
        quotes.router,
        orders.router,
        operations.router,
        plans.router,
        events.router,
        keys.router,
        manifests.router,
        genealogy.router,
    ):
        app.include_router(router, responses=problems.documented(400, 401, 403, 404, 405, 413, 422, 429, 503))

    web.install(app)

    @app.get("/healthz", tags=["health"], responses=problems.documented(405))
    async def health() -> dict[str, Any]:
        """Liveness: the process answers (no key needed)."""
        return {"status": "ok", "version": __version__}

    return app


class BodyLimit:
    """Refuse request bodies over *max_bytes* with 413, whether or not Content-Length is sent.

    *wider* gives path prefixes a larger (still bounded) limit: a network's manifests.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, wider: Mapping[str, int] | None = None) -> None:
        self.app, self.default, self.wider = app, max_bytes, dict(wider or {})

    def limit(self, path: str) -> int:
        """The byte limit for a request to *path*."""
        return next((n for prefix, n in self.wider.items() if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting body bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit(scope.get("path", ""))
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await _too_large(scope, send, max_bytes)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLargeError:
            await _too_large(scope, send, max_bytes)


class _BodyTooLargeError(Exception):
    pass


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "https://microfab.dev/problems/payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"request bodies are limited to {limit} bytes",
            "instance": scope.get("path", ""),
        }
    ).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
