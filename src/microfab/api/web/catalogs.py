"""Keep the pages' gettext catalogs in step with the templates: extract, update, compile, check.

Run ``python scripts/i18n.py`` after changing a template's text; the test suite runs `check`.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from microfab.api.web.i18n import DEFAULT, DIRECTORY, DOMAIN, LOCALES

TEMPLATES = Path(__file__).parent / "templates"


def template_catalog() -> Catalog:
    """Every message of the templates."""
    catalog = Catalog(project="microfab", domain=DOMAIN)
    found = extract_from_dir(
        str(TEMPLATES),
        method_map=[("**.j2", "jinja2")],
        options_map={"**.j2": {"extensions": "jinja2.ext.i18n"}},
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _paths(language: str) -> tuple[Path, Path]:
    folder = DIRECTORY / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def _read(path: Path, language: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN, project="microfab")
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, omit_header=False, sort_output=True, width=120, no_location=True)
    return out.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def update() -> list[Path]:
    """Merge the templates' messages into every catalog and compile it; return the files written."""
    template = template_catalog()
    written = []
    for language in LOCALES:
        if language == DEFAULT:
            continue
        po, mo = _paths(language)
        catalog = _read(po, language)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        po.parent.mkdir(parents=True, exist_ok=True)
        po.write_bytes(_po_bytes(catalog))
        mo.write_bytes(_mo_bytes(_read(po, language)))
        written += [po, mo]
    return written


def check() -> list[str]:
    """What is out of step: untranslated or missing messages, obsolete ones, .mo files not compiled from their .po."""
    problems = []
    wanted = {m.id for m in template_catalog() if m.id}
    for language in LOCALES:
        if language == DEFAULT:
            continue
        po, mo = _paths(language)
        catalog = _read(po, language)
        have = {m.id: m.string for m in catalog if m.id}
        problems += [f"{language}: missing {msgid!r}" for msgid in sorted(wanted - set(have))]
        problems += [
            f"{language}: untranslated {msgid!r}" for msgid in sorted(wanted) if msgid in have and not have[msgid]
        ]
        problems += [f"{language}: obsolete {msgid!r}" for msgid in sorted(set(have) - wanted)]
        if not mo.exists() or mo.read_bytes() != _mo_bytes(catalog):
            problems.append(f"{language}: {mo.name} is not compiled from {po.name} (run scripts/i18n.py)")
    return problems
