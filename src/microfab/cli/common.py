"""What every CLI sub-app shares: the error line and an open store that turns expected failures into it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

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


def read_json_input(path: Path, error: type[ValueError]) -> Any:
    """The JSON document in *path* for ``--input``: numbers with a fraction as exact `Decimal`, no NaN or Infinity.

    A missing or unreadable file, invalid JSON or a non-number constant raises *error* naming
    ``--input`` (and the line and column of a syntax error).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"--input: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"--input: cannot read {path}: {exc}") from None

    def constant(name: str) -> None:
        raise error(f"--input: {name} is not a number")

    try:
        return json.loads(text, parse_float=Decimal, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise error(f"--input: invalid JSON in {path}: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


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
