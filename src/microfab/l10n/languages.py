"""Languages of the pages: gettext catalogs (en, es, de, ja, vi) and the choice URL -> cookie -> Accept-Language."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.core import get_locale_identifier

LOCALES = ("en", "es", "de", "ja", "vi")
DEFAULT = "en"
COOKIE = "mf_lang"
DIRECTORY = Path(__file__).parent / "locales"
DOMAIN = "messages"


def supported(tag: str | None) -> str | None:
    """The supported language of a BCP 47 tag (``de-DE`` -> ``de``), or None."""
    if not tag:
        return None
    try:
        language = Locale.parse(tag.replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in LOCALES else None


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language: an explicit ``?lang=``, then the cookie, then the browser's preferences, then English."""
    for candidate in (query, cookie):
        chosen = supported(candidate)
        if chosen:
            return chosen
    preferred = [part.split(";")[0].strip() for part in (accept_language or "").split(",") if part.strip()]
    return negotiate_locale([p.replace("-", "_") for p in preferred], list(LOCALES), sep="_") or DEFAULT


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of *language* (``de`` or a tag like ``de-DE``); English and unsupported ones: the source."""
    chosen = supported(language) or DEFAULT
    if chosen == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=DIRECTORY, languages=[chosen])


def html_lang(language: str) -> str:
    """The ``lang`` attribute for a page in *language*."""
    return get_locale_identifier((language, None, None, None), sep="-")
