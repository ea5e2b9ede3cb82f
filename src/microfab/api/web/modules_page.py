"""The console's modules-as-code page: deploy, scale and retire a site's container modules through manifests.

Staff see a site's Module documents and the modules they declare; admins change one document at
a time. A change is planned first (`microfab.control.module_changes.plan_change`, the same plan as
``microfab apply``: slots, types and references checked on the whole network), shown with the
document's YAML and what deploys and retires, and applied only by a second post that carries the
network version the plan was made on — someone else's apply in between is a 409 page asking to
plan again, never an overwrite. The forms post with the same-site session cookie (SameSite=Strict).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from microfab.api.deps import LockDep, ServicesDep
from microfab.api.problems import Problem
from microfab.api.web.pages import PageLanguage, render_page
from microfab.api.web.session import PagePrincipal
from microfab.control.bootstrap import Services
from microfab.control.module_changes import (
    ModuleAction,
    ModuleChange,
    ModuleChangeError,
    StalePlanError,
    apply_change,
    document_yaml,
    module_documents,
    plan_change,
)
from microfab.domain.access import Principal, Role
from microfab.manifests import ManifestErrors
from microfab.store.base import ConcurrencyError

router = APIRouter(include_in_schema=False)
_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"


def _site(services: Services, principal: Principal, site: str) -> None:
    if principal.role is Role.CUSTOMER:
        raise Problem(403, "Forbidden", "the console is for operators, planners and admins")
    if site not in services.state.network.sites:
        raise Problem(404, "Not found", f"unknown site {site!r}")


def _admin(principal: Principal) -> None:
    if principal.role is not Role.ADMIN:
        raise Problem(403, "Forbidden", "deploying and retiring modules needs the admin role")


@router.get("/console/sites/{site}/modules", response_class=HTMLResponse)
async def modules_page(
    request: Request,
    language: PageLanguage,
    site: str,
    services: ServicesDep,
    lock: LockDep,
    principal: PagePrincipal,
    applied: int | None = None,
) -> HTMLResponse:
    """The site's Module documents, the modules each declares with their state, and the change forms (admins)."""
    _site(services, principal, site)
    async with lock:
        services.state.catch_up(services.log)
        return _page(request, language, services, principal, site, applied=applied)


def _page(
    request: Request,
    language: str,
    services: Services,
    principal: Principal,
    site: str,
    *,
    applied: int | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    network = services.state.network
    documents = module_documents(services.state, site)
    declared = {
        d.name: sorted(
            (m for m in network.modules.values() if m.name == d.name or m.name.startswith(f"{d.name}-")),
            key=lambda m: m.name,
        )
        for d in documents
    }
    used = sum(network.module_types[m.module_type].slots for m in network.modules_at(site))
    response = render_page(
        request,
        "modules.html.j2",
        principal,
        language=language,
        site=network.sites[site],
        documents=documents,
        declared=declared,
        types=sorted(network.module_types.values(), key=lambda t: t.name),
        used=used,
        admin=principal.role is Role.ADMIN,
        applied=applied,
        errors=errors or [],
    )
    response.status_code = status
    return response


@router.post("/console/sites/{site}/modules/plan", response_class=HTMLResponse)
async def plan_module_change(  # noqa: PLR0913, PLR0917 - the form's own fields
    request: Request,
    language: PageLanguage,
    site: str,
    services: ServicesDep,
    lock: LockDep,
    principal: PagePrincipal,
    action: Annotated[ModuleAction, Form()],
    name: Annotated[str, Form(max_length=63, pattern=_NAME)],
    module_type: Annotated[str | None, Form(max_length=63)] = None,
    replicas: Annotated[int, Form(ge=1, le=100)] = 1,
) -> HTMLResponse:
    """Plan one change and show it: the document's YAML, what deploys and retires, and an Apply button."""
    _site(services, principal, site)
    _admin(principal)
    change = ModuleChange(action, name, site, module_type or None, replicas)
    async with lock:
        services.state.catch_up(services.log)
        try:
            planned, document = plan_change(services.state, change)
        except (ModuleChangeError, ManifestErrors) as exc:
            return _page(request, language, services, principal, site, errors=_messages(exc), status=422)
        return render_page(
            request,
            "module_plan.html.j2",
            principal,
            language=language,
            site=services.state.network.sites[site],
            change=change,
            planned=planned,
            document=document_yaml(document, name=name),
        )


@router.post("/console/sites/{site}/modules/apply")
async def apply_module_change(  # noqa: PLR0913, PLR0917 - the form's own fields
    request: Request,
    language: PageLanguage,
    site: str,
    services: ServicesDep,
    lock: LockDep,
    principal: PagePrincipal,
    action: Annotated[ModuleAction, Form()],
    name: Annotated[str, Form(max_length=63, pattern=_NAME)],
    base_version: Annotated[int, Form(ge=0)],
    module_type: Annotated[str | None, Form(max_length=63)] = None,
    replicas: Annotated[int, Form(ge=1, le=100)] = 1,
) -> Response:
    """Record the planned change if the network has not moved since the plan; back to the site's modules."""
    _site(services, principal, site)
    _admin(principal)
    change = ModuleChange(action, name, site, module_type or None, replicas)
    async with lock:
        services.state.catch_up(services.log)
        try:
            planned, events = apply_change(
                services.state, services.log, change, base_version=base_version, at=services.now()
            )
        except (StalePlanError, ConcurrencyError) as exc:
            return _page(request, language, services, principal, site, errors=[str(exc)], status=409)
        except (ModuleChangeError, ManifestErrors) as exc:
            return _page(request, language, services, principal, site, errors=_messages(exc), status=422)
        services.state.catch_up(services.log)
    changed = len(planned.deployed) + len(planned.retired) if events else 0
    return RedirectResponse(f"/console/sites/{site}/modules?applied={changed}", status_code=303)


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ManifestErrors):
        return [str(e) for e in exc.errors]
    return [str(exc)]
