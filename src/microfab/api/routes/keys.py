"""API keys (admin only): issue, list, revoke. Secrets are shown once and stored only as digests."""

from __future__ import annotations

from fastapi import APIRouter, Response

from microfab.api.deps import Admin, LockDep, ServicesDep
from microfab.api.problems import Problem, documented, from_domain
from microfab.api.schemas import KeyCreate, KeyPublic
from microfab.control import access
from microfab.domain.access import Role
from microfab.domain.errors import DomainError

router = APIRouter(prefix="/v1", tags=["keys"])


@router.post("/keys", response_model=KeyPublic, status_code=201)
async def create_key(body: KeyCreate, services: ServicesDep, lock: LockDep, _: Admin) -> KeyPublic:
    """Issue a key; the response is the only place its secret ever appears."""
    async with lock:
        services.state.catch_up(services.log)
        try:
            key_id, secret = access.create_key(
                services.state,
                services.log,
                role=Role(body.role),
                customer=body.customer,
                market=body.market,
                label=body.label,
                at=services.now(),
            )
        except DomainError as exc:
            raise from_domain(exc) from None
    return KeyPublic(
        key_id=key_id, role=body.role, customer=body.customer, market=body.market, label=body.label, secret=secret
    )


@router.get("/keys", response_model=list[KeyPublic])
async def list_keys(services: ServicesDep, _: Admin) -> list[KeyPublic]:
    """Every key (never a secret)."""
    return [
        KeyPublic(key_id=k.key_id, role=k.role, customer=k.customer, market=k.market, label=k.label, revoked=k.revoked)
        for k in services.state.keys.values()
    ]


@router.delete("/keys/{key_id}", status_code=204, response_class=Response, responses=documented(409))
async def revoke_key(key_id: str, services: ServicesDep, lock: LockDep, principal: Admin) -> Response:
    """Revoke a key (not the one making the call)."""
    if key_id == principal.key_id:
        raise Problem(409, "Conflict", "an admin key cannot revoke itself")
    async with lock:
        services.state.catch_up(services.log)
        try:
            access.revoke_key(services.state, services.log, key_id, at=services.now())
        except DomainError as exc:
            raise from_domain(exc) from None
    return Response(status_code=204)
