"""Page sessions: the API key kept in an HttpOnly, SameSite=Strict cookie; pages redirect to /login without one."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Cookie, Depends, Request

from microfab.api.deps import LockDep, ServicesDep
from microfab.control.access import authenticate
from microfab.domain.access import Principal

COOKIE = "mf_key"


class LoginRequiredError(Exception):
    """The page needs a signed-in user; carries where to come back to."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def page_principal(
    request: Request, services: ServicesDep, lock: LockDep, mf_key: Annotated[str | None, Cookie()] = None
) -> Principal:
    """The signed-in principal, or a redirect to the login page."""
    principal = None
    if mf_key:
        async with lock:
            services.state.catch_up(services.log)
            principal = authenticate(services.state, mf_key)
    if principal is None:
        query = request.url.query
        raise LoginRequiredError(f"{request.url.path}?{query}" if query else request.url.path)
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def safe_next(path: str | None, default: str) -> str:
    """Only same-site relative paths are followed after login (no open redirects)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


def login_url(next_path: str) -> str:
    """The login page that comes back to *next_path*."""
    return f"/login?next={quote(next_path, safe='/')}"
