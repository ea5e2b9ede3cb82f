"""Locate the read-only ``shared/`` folder that sits beside the repository (also in CI)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]


def unavailable(message: str) -> NoReturn:
    """A test needs something this machine lacks: fail in CI (``CI`` set), skip loudly elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def shared_dir(*parts: str) -> Path:
    """Return ``shared/<parts>``; fail in CI and skip loudly elsewhere when it is missing.

    ``MICROFAB_SHARED`` overrides the default location ``<repo>/../shared``.
    """
    base = Path(os.environ.get("MICROFAB_SHARED", ROOT.parent / "shared"))
    path = base.joinpath(*parts)
    if not path.exists():
        unavailable(f"{path} not found: shared/ must sit beside the repository (or set MICROFAB_SHARED)")
    return path
