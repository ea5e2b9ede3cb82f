"""The validator and what it relies on never import the solver (it must stay an independent check)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import microfab.scheduling

PACKAGE = Path(microfab.scheduling.__file__).parent


@pytest.mark.parametrize("module", ["validate.py", "evaluate.py", "problem.py", "result.py", "heuristics.py"])
def test_module_does_not_import_ortools(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [name for name in imported if name.startswith(("ortools", "microfab.scheduling.cpsat"))]
    assert not [name for name in imported if name in ("microfab.scheduling.solve", "microfab.scheduling.repair")]
