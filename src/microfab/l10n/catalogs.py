"""Keep the gettext catalogs in step with the sources: extract, update, compile, check.

One catalog per language holds every customer-facing string: the web templates
(``api/web/templates``) and the localized documents built in this package (quotes, order
confirmations, tracking). Run ``python scripts/i18n.py`` (or ``make i18n``) after changing
a text; the test suite runs `check`. The same extraction works with the Babel command line:
``pybabel extract -F babel.cfg -o messages.pot src/microfab`` then ``pybabel update`` and
``pybabel compile -d src/microfab/l10n/locales``.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

from babel.messages.catalog import Catalog, Message, TranslationError
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from microfab.l10n.languages import DEFAULT, DIRECTORY, DOMAIN, LOCALES

PACKAGE = Path(__file__).parent.parent
TEMPLATES = PACKAGE / "api" / "web" / "templates"
DOCUMENT_TEMPLATES = PACKAGE / "documents" / "templates"
SOURCES = Path(__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}

Key = tuple[str, str]
"""A message's key: its singular id and its context ("" without one), as Babel keys its catalogs."""


def template_catalog() -> Catalog:
    """Every message of the templates and of this package's Python sources (``_``, ``N_``, ``ngettext``)."""
    catalog = Catalog(project="microfab", domain=DOMAIN)
    found = [
        message
        for folder in (TEMPLATES, DOCUMENT_TEMPLATES)
        for message in extract_from_dir(
            str(folder),
            method_map=[("**.j2", "jinja2")],
            options_map={"**.j2": {"extensions": "jinja2.ext.i18n"}},
        )
    ]
    found += extract_from_dir(str(SOURCES), method_map=[("**.py", "python")], keywords=KEYWORDS)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _paths(language: str) -> tuple[Path, Path]:
    folder = DIRECTORY / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def _plural_forms(language: str) -> tuple[int, str]:
    """The CLDR plural rule of *language* as gettext wants it: the number of forms and the ``plural=`` expression."""
    count, expression = get_plural(language)
    return count, expression


def _header(language: str) -> str:
    count, expression = _plural_forms(language)
    return f"nplurals={count}; plural={expression};"


def _key(message: Message) -> Key:
    """Plural messages are keyed by their singular id, like every other one."""
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid, message.context or ""


def _ids(message: Message) -> tuple[str, ...]:
    """The singular id, and the plural id of a plural message."""
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def _label(key: Key) -> str:
    msgid, context = key
    return f"{msgid!r} (context {context!r})" if context else repr(msgid)


def _forms(message: Message) -> tuple[str, ...]:
    """The translation's forms: one for a plain message, one per plural form for a plural one."""
    string = message.string
    if isinstance(string, str):
        return (string,)
    return tuple(form or "" for form in string or ())


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
    """The compiled catalog, without plural messages that lack a form.

    `write_mo` would fill an empty form with the English id: in ja or vi (one form) every count would read as the
    singular. Left out, ``ngettext`` falls back to the English singular or plural as the count asks.
    """
    compiled = copy.deepcopy(catalog)
    for message in list(compiled):
        if message.id and message.pluralizable and not all(_forms(message)):
            compiled.delete(message.id, message.context)
    out = io.BytesIO()
    write_mo(out, compiled)
    return out.getvalue()


def _normalize(catalog: Catalog, language: str) -> None:
    """The CLDR ``Plural-Forms`` header, and exactly that many forms in every plural message (new ones left empty)."""
    catalog.mime_headers = [("Plural-Forms", _header(language))]
    catalog.fuzzy = False  # the header is written by this module; `pybabel compile` skips a catalog with a fuzzy header
    count = catalog.num_plurals
    for message in catalog:
        if message.id and message.pluralizable:
            forms = _forms(message)
            message.string = (forms + ("",) * count)[:count]


def update() -> list[Path]:
    """Merge the templates' messages into every catalog and compile it; return the files written."""
    template = template_catalog()
    written = []
    for language in LOCALES:
        if language == DEFAULT:
            continue
        po, mo = _paths(language)
        catalog = _read(po, language)
        _normalize(catalog, language)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _normalize(catalog, language)
        po.parent.mkdir(parents=True, exist_ok=True)
        po.write_bytes(_po_bytes(catalog))
        mo.write_bytes(_mo_bytes(_read(po, language)))
        written += [po, mo]
    return written


def _message_problems(language: str, key: Key, wanted: Message, message: Message, count: int) -> list[str]:
    """What is wrong with one translation: a stale id, the wrong number of forms, an empty form, fuzzy, placeholders."""
    label = _label(key)
    if _ids(wanted) != _ids(message):
        return [f"{language}: outdated {label}: the source now reads {wanted.id!r} (run scripts/i18n.py)"]
    forms = _forms(message)
    if message.pluralizable and len(forms) != count:
        return [f"{language}: {label} has {len(forms)} plural forms, {language} has {count}"]
    if not all(forms):
        return [f"{language}: untranslated {label}"]
    problems = []
    if message.fuzzy:
        problems.append(f"{language}: fuzzy {label} (left out of the .mo file)")
    try:
        python_format(None, message)
    except TranslationError as error:
        problems.append(f"{language}: {label}: {error}")
    return problems


def check() -> list[str]:
    """What is out of step: missing, untranslated, fuzzy or obsolete messages, .mo files not compiled from their .po.

    A plural message is untranslated until every form of its language's CLDR plural rule (one in ja and vi, two in
    es and de) is filled in; the ``Plural-Forms`` header must be that rule, or ``ngettext`` picks the wrong form.
    """
    problems = []
    wanted = {_key(m): m for m in template_catalog() if m.id}
    for language in LOCALES:
        if language == DEFAULT:
            continue
        po, mo = _paths(language)
        catalog = _read(po, language)
        have = {_key(m): m for m in catalog if m.id}
        count = _plural_forms(language)[0]
        if catalog.plural_forms != _header(language):
            problems.append(
                f"{language}: Plural-Forms is {catalog.plural_forms!r}, not {_header(language)!r} (run scripts/i18n.py)"
            )
        problems += [f"{language}: missing {_label(key)}" for key in sorted(wanted.keys() - have.keys())]
        for key in sorted(wanted.keys() & have.keys()):
            problems += _message_problems(language, key, wanted[key], have[key], count)
        problems += [f"{language}: obsolete {_label(key)}" for key in sorted(have.keys() - wanted.keys())]
        if not mo.exists() or mo.read_bytes() != _mo_bytes(catalog):
            problems.append(f"{language}: {mo.name} is not compiled from {po.name} (run scripts/i18n.py)")
    return problems
