"""Customer documents beyond the quote: the order confirmation and the tracking page's status texts."""

from __future__ import annotations

from dataclasses import dataclass

from microfab.commerce import Quote
from microfab.domain.entities import Brand
from microfab.domain.orders import Order, OrderStatus
from microfab.l10n import format as fmt
from microfab.l10n.languages import translations
from microfab.l10n.quote_view import N_, quote_view

STATUS = {
    OrderStatus.PLACED: N_("Order received"),
    OrderStatus.ALLOCATED: N_("Scheduled for production"),
    OrderStatus.IN_PRODUCTION: N_("In production"),
    OrderStatus.SHIPPED: N_("Shipped"),
    OrderStatus.DELIVERED: N_("Delivered"),
}
"""What a customer reads for each order status."""


def status_label(status: OrderStatus, language: str) -> str:
    """The customer's words for *status* in *language*."""
    return translations(language).gettext(STATUS[status])


@dataclass(frozen=True, slots=True)
class Confirmation:
    """An order confirmation as text (rendered, not sent): subject and paragraphs."""

    language: str
    subject: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        """The whole message as plain text."""
        return "\n\n".join((self.subject, *self.paragraphs))


def confirmation(order: Order, quote: Quote, *, brand: Brand | None = None) -> Confirmation:
    """The confirmation of *order*, placed at *quote*, in the quote's language, signed by the market's *brand*."""
    language, tag = quote.locale.language, quote.locale.tag
    t = translations(language)
    _ = t.gettext
    view = quote_view(quote, brand=brand)
    units = t.ngettext("%(num)d unit of %(product)s", "%(num)d units of %(product)s", order.quantity) % {
        "num": order.quantity,
        "product": order.product,
    }
    paragraphs = [
        _("Thank you for your order."),
        _("We are making %(units)s for you.") % {"units": units},
        f"{view.price_label}: {view.price} ({view.tax_note})",
        view.delivery,
        _("Follow every step of your order with its number %(order)s.") % {"order": order.id},
    ]
    if view.label:
        paragraphs.insert(3, view.label)
    if brand is not None:
        paragraphs.append("\n".join(p for p in (brand.name, brand.tagline, brand.support) if p))
        if brand.legal_footer:
            paragraphs.append(brand.legal_footer)
    subject = _("Order %(order)s confirmed") % {"order": order.id}
    if brand is not None:
        subject = f"{brand.name}: {subject}"
    if quote.chosen.lead_time is not None:
        subject += " · " + fmt.day(quote.chosen.lead_time.delivery_date, tag, "medium")
    return Confirmation(language, subject, tuple(paragraphs))
