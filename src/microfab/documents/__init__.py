"""Invoice documents: a PDF per country, Factur-X (EN 16931) for German B2B, CFDI 4.0 XML for Mexico.

An adapter: it reads `microfab.domain.invoices.Invoice` objects and writes files, and takes
the reader's translations (`gettext.NullTranslations`) from its caller, which wires
``microfab.l10n`` in (adapters do not import each other). Rendering is offline: local fonts,
no network fetches. Modules:

- `microfab.documents.pdf`: HTML from the country's Jinja template, PDF with WeasyPrint;
- `microfab.documents.facturx`: EN 16931 CII XML and the Factur-X PDF/A-3;
- `microfab.documents.cfdi`: CFDI 4.0 XML (unsealed, unstamped) and its check against the SAT's XSD;
- `microfab.documents.vietnamese`: amounts in words for Vietnamese VAT invoices.
"""

from __future__ import annotations

import gettext
import os
import tempfile
from pathlib import Path

from microfab.documents.common import safe_filename
from microfab.domain.entities import Brand
from microfab.domain.invoices import Invoice

__all__ = ["files_for", "write_invoice_files"]


def files_for(invoice: Invoice) -> tuple[str, ...]:
    """The names `write_invoice_files` gives: ``<number>.pdf``, and ``<number>.xml`` for DE B2B and MX."""
    stem = safe_filename(invoice.number)
    xml = (invoice.country == "DE" and invoice.b2b) or invoice.country == "MX"
    return (f"{stem}.pdf", f"{stem}.xml") if xml else (f"{stem}.pdf",)


def _write(path: Path, data: bytes) -> Path:
    """Write *data* to *path* atomically (a reader never sees half a file)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temporary).chmod(0o644)  # mkstemp makes it private; an invoice file is an ordinary document
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_invoice_files(
    invoice: Invoice,
    folder: Path,
    *,
    translations: gettext.NullTranslations,
    brand: Brand | None = None,
    language: str | None = None,
) -> list[Path]:
    """Write the invoice's documents into *folder* and return their paths, the PDF first.

    - every country: ``<number>.pdf`` (the number made a safe file name);
    - DE B2B: the PDF is a Factur-X PDF/A-3b with ``factur-x.xml`` embedded, and the same
      EN 16931 XML is written beside it as ``<number>.xml``;
    - MX: ``<number>.xml`` is the CFDI 4.0, not sealed and not stamped (see `microfab.documents.cfdi`).
    """
    from microfab.documents import cfdi, facturx, pdf  # noqa: PLC0415 (WeasyPrint, lxml: load on use)

    folder.mkdir(parents=True, exist_ok=True)
    names = files_for(invoice)
    if invoice.country == "DE" and invoice.b2b:
        xml = facturx.facturx_xml(invoice)
        document = facturx.facturx_pdf(invoice, translations=translations, brand=brand, language=language, xml=xml)
    else:
        xml = cfdi.cfdi_xml(invoice) if invoice.country == "MX" else b""
        document = pdf.render_invoice_pdf(invoice, translations=translations, brand=brand, language=language)
    written = [_write(folder / names[0], document)]
    if len(names) > 1:
        written.append(_write(folder / names[1], xml))
    return written
