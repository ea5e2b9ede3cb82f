"""Quotes: a configured product priced for a market, in the buyer's currency, tax and language (nothing recorded)."""

from __future__ import annotations

from fastapi import APIRouter

from microfab.api.deps import LockDep, PrincipalDep, ServicesDep
from microfab.api.problems import Problem, quote_problem
from microfab.api.schemas import QuoteCreate, QuotePublic
from microfab.commerce.export import quote_json
from microfab.control import operations
from microfab.domain.access import Principal, Role
from microfab.domain.errors import DomainError

router = APIRouter(prefix="/v1", tags=["quotes"])


@router.post("/quotes", response_model=QuotePublic)
async def create_quote(body: QuoteCreate, services: ServicesDep, lock: LockDep, principal: PrincipalDep) -> QuotePublic:
    """Price *quantity* units of a configured product for a market, with every candidate site's landed cost.

    Every role may ask. The configuration is checked against the product's rules first; the
    price is in ``currency`` (default: the market's), taxed for ``tax_jurisdiction`` (default:
    the market's) and shown per its display rule for a consumer or, with ``b2b``, a business.
    """
    market = quote_market(body.market, principal)
    async with lock:
        services.state.catch_up(services.log)
        try:
            priced = operations.quote_order(
                services,
                body.product,
                body.config,
                body.quantity,
                market,
                locale=body.locale,
                currency=body.currency,
                tax_jurisdiction=body.tax_jurisdiction,
                b2b=body.b2b,
            )
        except (DomainError, ValueError) as exc:
            raise quote_problem(exc, unknown_status=404) from None
    return QuotePublic.model_validate(quote_json(priced))


def quote_market(asked: str | None, principal: Principal) -> str:
    """The market to quote in: a customer key bound to a market quotes there only; others must name one."""
    if principal.role is Role.CUSTOMER and principal.market is not None:
        if asked not in (None, principal.market):
            raise Problem(
                403,
                "Forbidden",
                f"this key quotes in market {principal.market!r} only",
                errors=[{"field": "body.market", "message": f"must be {principal.market}"}],
            )
        return principal.market
    if asked is None:
        raise Problem(
            422, "Invalid request", "market is required", errors=[{"field": "body.market", "message": "required"}]
        )
    return asked
