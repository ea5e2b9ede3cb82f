"""What every CLI sub-app shares: the error line and an open store that turns expected failures into it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from microfab.control.bootstrap import Services, bootstrap
from microfab.domain.errors import DomainError
from microfab.settings import Settings
from microfab.store.base import ConcurrencyError, StoreUnavailableError

errors = Console(stderr=True, width=None if sys.stderr.isatty() else 150)


def fail(message: str) -> NoReturn:
    """Print one error line (whitespace collapsed) and exit with status 1."""
    errors.print(f"[red]error[/]: {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def services_for(db: str | None) -> Iterator[Services]:
    """Open the store at *db*; every expected failure becomes one error line and exit status 1."""
    services: Services | None = None
    try:
        services = bootstrap(Settings.from_env(db))
        yield services
    except (StoreUnavailableError, DomainError, ConcurrencyError, LookupError, ValueError) as exc:
        fail(str(exc))
    finally:
        if services is not None:
            services.close()
