"""Locate the read-only ``shared/`` folder that sits beside the repository (also in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def shared_dir(*parts: str) -> Path:
    """Return ``shared/<parts>``; fail in CI and skip loudly elsewhere when it is missing.

    ``MICROFAB_SHARED`` overrides the default location ``<repo>/../shared``.
    """
    base = Path(os.environ.get("MICROFAB_SHARED", ROOT.parent / "shared"))
    path = base.joinpath(*parts)
    if not path.exists():
        message = f"{path} not found: shared/ must sit beside the repository (or set MICROFAB_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
