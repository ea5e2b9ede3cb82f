"""Commerce engine: quotes in the market's currency (the localization issue deepens it)."""

from microfab.commerce.quote import Quote, quote

__all__ = ["Quote", "quote"]
