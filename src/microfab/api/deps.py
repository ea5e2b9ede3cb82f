"""Request dependencies: the services, the authenticated principal, role checks (``Annotated`` aliases)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Cookie, Depends, Header, Request

from microfab.api.problems import Problem
from microfab.control.access import authenticate
from microfab.control.bootstrap import Services
from microfab.control.jobs import JobRunner
from microfab.domain.access import Principal, Role


def get_services(request: Request) -> Services:
    """The app's services (opened once, at start-up)."""
    services: Services = request.app.state.services
    return services


def get_lock(request: Request) -> asyncio.Lock:
    """The lock that serialises writes and catch-up on the shared state."""
    lock: asyncio.Lock = request.app.state.lock
    return lock


def get_jobs(request: Request) -> JobRunner:
    """The app's planning job runner."""
    jobs: JobRunner = request.app.state.jobs
    return jobs


ServicesDep = Annotated[Services, Depends(get_services)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
LockDep = Annotated[asyncio.Lock, Depends(get_lock)]


async def get_principal(
    services: ServicesDep,
    lock: LockDep,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
    mf_key: Annotated[str | None, Cookie(description="The pages' session (same key, HttpOnly cookie).")] = None,
) -> Principal:
    """Authenticate ``Authorization: Bearer <key>``, ``X-API-Key: <key>`` or the pages' cookie; 401 otherwise."""
    secret = x_api_key or mf_key
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("Authorization must be 'Bearer <key>'")
        secret = token.strip()
    if not secret:
        raise _unauthorized("an API key is required (Authorization: Bearer <key> or X-API-Key)")
    async with lock:
        services.state.catch_up(services.log)
        principal = authenticate(services.state, secret)
    if principal is None:
        raise _unauthorized("unknown or revoked API key")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets only *roles* through (403 otherwise)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Problem(403, "Forbidden", f"this needs one of the roles: {allowed}")
        return principal

    return check


Staff = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PLANNER, Role.ADMIN))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR, Role.ADMIN))]
Planner = Annotated[Principal, Depends(require(Role.PLANNER, Role.ADMIN))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})
