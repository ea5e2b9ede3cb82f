"""Commerce engine: localized quotes (FX lock, tax, lead time), landed cost, origin, claims and tariffs per site."""

from microfab.commerce.locale import ChosenLocale, choose_locale
from microfab.commerce.offers import SiteOffer
from microfab.commerce.quote import Quote, quote

__all__ = ["ChosenLocale", "Quote", "SiteOffer", "choose_locale", "quote"]
