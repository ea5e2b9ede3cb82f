"""Update and compile the translation catalogs from the templates and the l10n sources (``python scripts/i18n.py``)."""

from __future__ import annotations

import sys

from microfab.l10n import catalogs


def main() -> int:
    """Update every catalog, then report what still needs a translator."""
    for path in catalogs.update():
        print(f"wrote {path}")  # noqa: T201 - a developer script
    problems = catalogs.check()
    for problem in problems:
        print(problem)  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
