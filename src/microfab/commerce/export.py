"""A quote as plain JSON data: amounts as exact decimal strings, dates in ISO 8601 (for the CLI and the API)."""

from __future__ import annotations

from typing import Any

from microfab.commerce.offers import SiteOffer
from microfab.commerce.quote import Quote


def quote_json(quote: Quote) -> dict[str, Any]:
    """The quote as JSON data: amounts as exact decimal strings with their currency."""
    return {
        "product": quote.product,
        "product_version": quote.product_version,
        "config": quote.config,
        "quantity": quote.quantity,
        "market": quote.market,
        "locale": quote.locale.tag,
        "warnings": list(quote.warnings),
        "currency": quote.currency,
        "tax_jurisdiction": quote.tax_jurisdiction,
        "b2b": quote.b2b,
        "at": quote.at.isoformat(),
        "valid_until": quote.valid_until.isoformat(),
        "fx": {
            "base": quote.fx.base,
            "quote": quote.fx.quote,
            "rate": str(quote.fx.rate),
            "source": quote.fx.source,
            "as_of": quote.fx.as_of.isoformat(),
        },
        "unit_net": str(quote.unit_net.amount),
        "net": str(quote.net.amount),
        "tax": {"name": quote.tax_name, "rate": str(quote.tax.rate.rate), "amount": str(quote.tax.tax.amount)},
        "gross": str(quote.gross.amount),
        "display": quote.display.value,
        "shown": str(quote.shown.amount),
        "chosen_site": quote.chosen.site,
        "sites": [_offer_json(o) for o in quote.offers],
    }


def _amount(value: Any) -> str | None:
    return None if value is None else str(value.amount)


def _offer_json(offer: SiteOffer) -> dict[str, Any]:
    if not offer.eligible:
        return {"site": offer.site, "country": offer.country, "eligible": False, "reason": offer.reason}
    assert offer.lead_time is not None
    origin = offer.origin
    return {
        "site": offer.site,
        "country": offer.country,
        "eligible": True,
        "lane": offer.lane,
        "materials": _amount(offer.materials),
        "production": _amount(offer.production),
        "freight": _amount(offer.freight),
        "duty": _amount(offer.duty),
        "duty_lines": [
            {
                "name": d.name,
                "rate": str(d.rate),
                "amount": str(d.amount.amount),
                "exempt": d.exempt,
                "reason": d.reason,
            }
            for assessment in (offer.component_duty, offer.import_duty)
            if assessment is not None
            for d in assessment.lines
        ],
        "import_vat": _amount(offer.import_vat),
        "landed_cost": _amount(offer.landed_cost),
        "production_days": offer.lead_time.production_days,
        "ship_date": offer.lead_time.ship_date.isoformat(),
        "delivery": offer.lead_time.delivery.isoformat(),
        "agreement": offer.agreement,
        "originating": origin.originating if origin else None,
        "origin_test": origin.test_passed if origin else None,
        "non_preferential_origin": origin.non_preferential_origin if origin else None,
        "claims": [{"name": c.name, "status": c.status.value, "reasons": list(c.reasons)} for c in offer.claims],
        "review_note": origin.review_note if origin else "no HS code declared: origin not determined",
    }
