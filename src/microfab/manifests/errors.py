"""Manifest errors: each names the file, the line, the column, the field and what was expected."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FieldPath = tuple[str | int, ...]
"""Where a value sits in a document: ``("spec", "routing", 2, "duration")``."""


@dataclass(frozen=True, slots=True)
class ManifestError:
    """One problem in a manifest, at a 1-based line and column (0 when the place is unknown).

    Parameters
    ----------
    file
        The file as it was found (``examples/network/sites.yaml``), ``"<log>"`` for resources rebuilt
        from the event log, or the folder for problems of the whole network (no Network document).
    line, column
        1-based position of the offending key (or list item); 0 means "the file or folder as a whole".
    field
        Dotted path of the offending field, like ``spec.routing[2].duration``; empty for YAML syntax errors.
    message
        What is wrong and what was expected.
    """

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order by file, then line, column, field and message."""
        return (self.file, self.line, self.column, self.field, self.message)


class ManifestErrors(Exception):  # noqa: N818 - the public name the control layer and CLI use
    """Every problem found in a set of manifests, sorted by file then line; ``str()`` lists one per line."""

    def __init__(self, errors: Iterable[ManifestError]) -> None:
        self.errors: list[ManifestError] = sorted(set(errors), key=ManifestError.sort_key)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def dotted(path: FieldPath) -> str:
    """Render a field path as ``spec.routing[2].duration``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text
