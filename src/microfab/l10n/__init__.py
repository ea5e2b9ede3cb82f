"""Localization adapter: gettext catalogs (en, es, de, ja, vi), CLDR display, and localized documents."""
