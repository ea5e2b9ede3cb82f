"""Which locale a quote speaks: the one asked for if CLDR knows it, else the market's default, with a warning."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChosenLocale:
    """A BCP 47 tag (``de-DE``), its language (``de``), and why the asked-for locale was not used, if so."""

    tag: str
    language: str
    warning: str | None = None


def parse_locale(tag: str) -> Locale:
    """The CLDR locale of a BCP 47 tag or POSIX name (``de-DE``, ``de_DE``); `ValueError` when unknown."""
    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"locale: {tag!r} is not a locale CLDR knows") from exc


def choose_locale(requested: str | None, default: str) -> ChosenLocale:
    """The locale to quote in: *requested* when CLDR knows it, else *default* with a warning (never raises).

    A language without a territory (``de``) keeps the default's territory when the languages
    match (``de`` in market ``de-AT`` gives ``de-AT``), so numbers and currencies follow the
    market.
    """
    fallback = parse_locale(default)
    if not requested:
        return _chosen(fallback)
    try:
        wanted = parse_locale(requested)
    except ValueError:
        warning = f"unknown locale {requested!r}: quoting in the market's {_tag(fallback)}"
        log.warning(warning)
        return _chosen(fallback, warning)
    if wanted.territory is None and wanted.language == fallback.language:
        return _chosen(fallback)
    return _chosen(wanted)


def _chosen(locale: Locale, warning: str | None = None) -> ChosenLocale:
    return ChosenLocale(_tag(locale), locale.language, warning)


def _tag(locale: Locale) -> str:
    return "-".join(part for part in (locale.language, locale.script, locale.territory) if part)
