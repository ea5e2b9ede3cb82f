"""Refuse YAML that nests too deep or expands too far before it is read into data.

Reading builds plain data recursively, so a deep nesting would exhaust the stack and a few
aliases of aliases ("billion laughs") the memory. `yaml_size` counts the values a text holds
once aliases are expanded on the parser's events alone, without building anything, and stops
at the first limit crossed with a `ManifestError` at that line. A syntax error stops the count:
each document (between ``---`` lines) is then counted alone, as `parse_text` reads them, and the
reader reports the syntax error itself. Every reader of YAML from outside uses it: the manifest
folders of the CLI, the manifests and planning routes of the API, the forecasts.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

from microfab.manifests.errors import ManifestError

__all__ = ["MAX_DEPTH", "MAX_VALUES", "yaml_size"]

MAX_DEPTH: Final = 64
"""Nesting of mappings and lists (the reader recurses); real manifests stay under 10."""
MAX_VALUES: Final = 200_000
"""Values once aliases are expanded; the example network holds about 6,000."""
_DOCUMENT_START: Final = re.compile(r"^(?=---(?:\s|$))", re.MULTILINE)


def yaml_size(
    text: str, file: str, budget: int = MAX_VALUES, *, depth: int = MAX_DEPTH, limit: int | None = None
) -> int | ManifestError:
    """The values *text* holds once aliases are expanded, or the error when it nests or expands too far.

    *budget* is what the caller has left (several files of one request may share one *limit*,
    which the error names; the budget by default), *depth* the deepest nesting allowed; *file*
    names the error's file.
    """
    limit = budget if limit is None else limit
    total, failed = _count(text, file, budget, depth, limit)
    if not failed or isinstance(total, ManifestError):
        return total
    total, lines = 0, 0
    for chunk in _DOCUMENT_START.split(text):
        counted, _ = _count("\n" * lines + chunk, file, budget - total, depth, limit)  # padded: the file's line numbers
        if isinstance(counted, ManifestError):
            return counted
        total, lines = total + counted, lines + chunk.count("\n")
    return total


def _count(text: str, file: str, budget: int, depth: int, limit: int) -> tuple[int | ManifestError, bool]:
    """``(values or error, whether a syntax error stopped the count)``."""
    sizes: dict[str, int] = {}
    open_at: list[tuple[str | None, int]] = []
    seen = 0
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, CollectionStartEvent):
                open_at.append((event.anchor, seen))
                seen += 1
                if len(open_at) > depth:
                    return _where(file, event, f"nested deeper than {depth} levels"), False
            elif isinstance(event, CollectionEndEvent) and open_at:
                anchor, start = open_at.pop()
                if anchor is not None:
                    sizes[anchor] = seen - start
            elif isinstance(event, ScalarEvent):
                seen += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, AliasEvent):
                seen += sizes.get(str(event.anchor), 1)
            if seen > budget:
                return _where(file, event, f"holds more than {limit} values once aliases are expanded"), False
    except YAMLError:
        return seen, True
    return seen, False


def _where(file: str, event: Any, message: str) -> ManifestError:
    mark = getattr(event, "start_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return ManifestError(file, line, column, "", message)
