"""Read manifest files with ruamel.yaml (round-trip, for line numbers) into `Resource` objects.

This module checks what every document shares: YAML syntax, the mapping shape, ``apiVersion``,
``kind``, ``metadata`` and that ``spec`` is a mapping. What a spec holds is checked by
`microfab.manifests.mapping`.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from microfab.manifests.errors import FieldPath, ManifestError, dotted
from microfab.manifests.guard import MAX_VALUES, yaml_size
from microfab.manifests.resources import API_VERSION, KINDS, Position, Resource, digest_of

log = logging.getLogger(__name__)

SUFFIXES: Final = (".yaml", ".yml")
NAME_PATTERN: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_TOP_FIELDS: Final = ("apiVersion", "kind", "metadata", "spec")
_METADATA_FIELDS: Final = ("name", "labels")
_DOCUMENT_START: Final = re.compile(r"---(\s|$)")
_KIND_LINE: Final = re.compile(r"^kind:\s*['\"]?([A-Za-z]+)", re.MULTILINE)
_NAME_LINE: Final = re.compile(
    r"^metadata:\s*(?:"
    r"\{[^}]*?\bname:\s*['\"]?([a-z0-9][-a-z0-9]*)"  # metadata: {name: x}
    r"|\n(?:[ \t]+.*\n)*?[ \t]+name:\s*['\"]?([a-z0-9][-a-z0-9]*))",  # metadata:\n  name: x
    re.MULTILINE,
)


@dataclass
class ParseResult:
    """What reading manifests gave: the resources, every error, and names declared by broken documents.

    ``declared`` holds ``(kind, name)`` of documents whose kind and name could be read but whose
    spec could not; later checks treat those names as existing, so one broken document does not
    also report every reference to it.
    """

    resources: list[Resource] = field(default_factory=list)
    errors: list[ManifestError] = field(default_factory=list)
    declared: set[tuple[str, str]] = field(default_factory=set)

    def extend(self, other: ParseResult) -> None:
        """Add everything *other* found."""
        self.resources.extend(other.resources)
        self.errors.extend(other.errors)
        self.declared |= other.declared


def manifest_files(path: Path) -> list[Path]:
    """List the manifest files under *path* (``*.yaml``, ``*.yml``, recursively, sorted, hidden ones skipped)."""
    if path.is_file():
        return [path]
    found = [
        p
        for p in path.rglob("*")
        if p.suffix in SUFFIXES and p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]
    return sorted(found)


def parse_path(path: Path) -> ParseResult:
    """Read every manifest file under *path* (a folder or one file)."""
    result = ParseResult()
    if not path.exists():
        result.errors.append(ManifestError(str(path), 0, 0, "", "no such file or folder"))
        return result
    budget = MAX_VALUES
    for file in manifest_files(path):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.errors.append(ManifestError(str(file), 0, 0, "", f"cannot read the file: {exc}"))
            continue
        size = yaml_size(text, str(file), budget, limit=MAX_VALUES)  # before reading: no stack or memory blow-up
        if isinstance(size, ManifestError):
            result.errors.append(size)
            continue
        budget -= size
        result.extend(parse_text(text, str(file)))
    log.debug("read %d resources and %d errors from %s", len(result.resources), len(result.errors), path)
    return result


def parse_text(text: str, file: str) -> ParseResult:
    """Read the documents of one file's *text*; *file* is the name used in errors.

    When the file has a YAML syntax error, each document (between ``---`` lines) is read on
    its own, so one broken document does not hide the others; the kind and name of a broken
    document are recovered when they can be read, so references to it are not reported too.
    """
    try:
        documents = list(YAML(typ="rt").load_all(text))
    except YAMLError as exc:
        return _parse_documents_apart(text, file, exc)
    return _read_documents(documents, text, file)


def _read_documents(documents: list[Any], text: str, file: str) -> ParseResult:
    result = ParseResult()
    for index, document in enumerate(documents):
        if document is None:
            continue  # an empty document, e.g. a trailing '---'
        if not isinstance(document, CommentedMap):
            got = "a list" if isinstance(document, list) else f"{document!r}"
            message = f"expected a mapping with apiVersion, kind, metadata and spec, got {got}"
            result.errors.append(ManifestError(file, _document_line(text, index), 1, "", message))
            continue
        result.extend(_DocumentReader(file, document).read())
    return result


def _parse_documents_apart(text: str, file: str, whole_file_error: YAMLError) -> ParseResult:
    result = ParseResult()
    for start, chunk in _split_documents(text):
        padded = "\n" * start + chunk  # keep line numbers those of the file
        try:
            documents = list(YAML(typ="rt").load_all(padded))
        except YAMLError as exc:
            result.errors.append(_syntax_error(file, exc))
            result.declared |= _recover_kind_and_name(chunk)
            continue
        result.extend(_read_documents(documents, padded, file))
    if not any(error.field == "" and error.message.startswith("invalid YAML") for error in result.errors):
        result.errors.append(_syntax_error(file, whole_file_error))  # an error of the stream as a whole
    return result


def _split_documents(text: str) -> list[tuple[int, str]]:
    """``(first line index, text)`` of each document, split at ``---`` lines."""
    chunks: list[tuple[int, str]] = []
    start, lines = 0, text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if _DOCUMENT_START.match(line) and number > start:
            chunks.append((start, "".join(lines[start:number])))
            start = number
    chunks.append((start, "".join(lines[start:])))
    return chunks


def _recover_kind_and_name(chunk: str) -> set[tuple[str, str]]:
    kind, name = _KIND_LINE.search(chunk), _NAME_LINE.search(chunk)
    if kind is None or name is None or kind.group(1) not in KINDS:
        return set()
    return {(kind.group(1), name.group(1) or name.group(2))}


def _document_line(text: str, index: int) -> int:
    for number, node in enumerate(YAML(typ="rt").compose_all(text)):
        if number == index:
            return int(node.start_mark.line) + 1
    return 1  # pragma: no cover - the document was just loaded


def _syntax_error(file: str, exc: YAMLError) -> ManifestError:
    if not isinstance(exc, MarkedYAMLError):  # pragma: no cover - ruamel marks its errors
        return ManifestError(file, 1, 1, "", f"invalid YAML: {exc}")
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
    if exc.context and exc.problem and exc.context_mark is not None:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    return ManifestError(file, line, column, "", message)


class _DocumentReader:
    """Checks one document's envelope and turns it into a `Resource`."""

    def __init__(self, file: str, document: CommentedMap) -> None:
        self.file = file
        self.document = document
        self.line = int(document.lc.line) + 1
        self.positions: dict[FieldPath, Position] = {}
        self.result = ParseResult()

    def error(self, path: FieldPath, message: str) -> None:
        """Record an error at *path* (or its nearest written parent)."""
        line, column = self.where(path)
        self.result.errors.append(ManifestError(self.file, line, column, dotted(path), message))

    def where(self, path: FieldPath) -> Position:
        """Line and column of *path*, its nearest written parent, or the document start."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return (self.line, 1)

    def read(self) -> ParseResult:
        """Check the envelope; add a `Resource` when kind, name and spec are usable."""
        plain = self.plain(self.document, ())
        for key in plain:
            if key not in _TOP_FIELDS:
                self.error((key,), f"unknown field {key!r}; expected {', '.join(_TOP_FIELDS)}")
        self.check_api_version(plain.get("apiVersion"))
        kind, suggested = self.check_kind(plain.get("kind"))
        name = self.check_metadata(plain.get("metadata"))
        spec = self.check_spec(plain.get("spec"))
        if suggested is not None and name is not None:
            self.result.declared.add((suggested, name))  # 'Markt' was surely meant to be a Market
        # A spec holding values JSON cannot (tags, .inf, non-text keys) is not validated further:
        # its errors are reported here, and the schema would only repeat them.
        spec_broken = any(e.field == "spec" or e.field.startswith(("spec.", "spec[")) for e in self.result.errors)
        if kind is not None and name is not None:
            if spec is None or spec_broken:
                self.result.declared.add((kind, name))
            else:
                digest = digest_of(kind, name, spec)
                resource = Resource(kind, name, spec, self.file, self.line, digest, dict(self.positions))
                self.result.resources.append(resource)
        return self.result

    def check_api_version(self, value: Any) -> None:
        """``apiVersion`` must be `API_VERSION`."""
        if value is None:
            self.error(("apiVersion",), f"missing: expected apiVersion: {API_VERSION}")
        elif value != API_VERSION:
            self.error(("apiVersion",), f"expected {API_VERSION!r}, got {value!r}")

    def check_kind(self, value: Any) -> tuple[str | None, str | None]:
        """Check ``kind`` is one of `KINDS`; return it (or None) and the kind a misspelling suggests."""
        if value is None:
            self.error(("kind",), f"missing: expected one of {', '.join(KINDS)}")
            return None, None
        if value not in KINDS:
            close = difflib.get_close_matches(str(value), KINDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.error(("kind",), f"unknown kind {value!r}{hint}; expected one of {', '.join(KINDS)}")
            return None, close[0] if close else None
        return str(value), None

    def check_metadata(self, value: Any) -> str | None:
        """``metadata`` must hold a valid ``name`` and optional text ``labels``; return the name, or None."""
        if not isinstance(value, dict):
            got = "nothing" if value is None else repr(value)
            self.error(("metadata",), f"expected a mapping with name and optional labels, got {got}")
            return None
        for key in value:
            if key not in _METADATA_FIELDS:
                self.error(("metadata", key), f"unknown field {key!r}; expected {', '.join(_METADATA_FIELDS)}")
        self.check_labels(value.get("labels"))
        name = value.get("name")
        if name is None:
            self.error(("metadata", "name"), "missing: expected a name like 'ohio' or 'cnc-mill'")
            return None
        if not isinstance(name, str):
            self.error(("metadata", "name"), f"expected text, got {name!r}")
            return None
        if len(name) > 63 or not NAME_PATTERN.fullmatch(name):
            message = "expected lowercase letters, digits and '-', starting and ending with a letter or digit"
            self.error(("metadata", "name"), f"{message}, at most 63 characters, got {name!r}")
        return name if name else None

    def check_labels(self, labels: Any) -> None:
        """Labels, when given, map text to text."""
        if labels is None:
            return
        if not isinstance(labels, dict):
            self.error(("metadata", "labels"), f"expected a mapping of text to text, got {labels!r}")
            return
        for key, value in labels.items():
            if not isinstance(value, str):
                self.error(("metadata", "labels", key), f"expected text, got {value!r}")

    def check_spec(self, value: Any) -> dict[str, Any] | None:
        """``spec`` must be a mapping; return it, or None."""
        if isinstance(value, dict):
            return value
        got = "nothing" if value is None else repr(value)
        self.error(("spec",), f"expected a mapping, got {got}")
        return None

    def plain(self, node: dict[Any, Any], path: FieldPath) -> dict[str, Any]:
        """Convert a mapping to plain JSON data, recording where each key is written."""
        out: dict[str, Any] = {}
        for key, item in node.items():
            position = _key_position(node, key)
            if not isinstance(key, str):
                if position is not None:
                    self.positions[(*path, str(key))] = position
                self.error((*path, str(key)), f"expected a text key, got {key!r}")
                continue
            if position is not None:
                self.positions[(*path, key)] = position
            out[key] = self.value(item, (*path, key))
        return out

    def value(self, node: Any, path: FieldPath) -> Any:
        """Convert one YAML value to plain JSON data (dates become ISO text)."""
        if isinstance(node, dict):
            return self.plain(node, path)
        if isinstance(node, list):
            items = []
            for index, item in enumerate(node):
                if isinstance(node, CommentedSeq):
                    line, column = node.lc.item(index)
                    self.positions[(*path, index)] = (int(line) + 1, int(column) + 1)
                items.append(self.value(item, (*path, index)))
            return items
        return self.scalar(node, path)

    def scalar(self, node: Any, path: FieldPath) -> Any:
        """Convert a scalar: ruamel's subclasses become plain values, dates ISO text."""
        if node is None or isinstance(node, bool):
            return node
        if isinstance(node, int | float | str) and _finite(node):
            return _scalar(node)
        if isinstance(node, date):  # datetime is a date too
            return node.isoformat()
        expected = "a finite number" if isinstance(node, float) else "text, a number, true/false, a list or a mapping"
        self.unsupported(node, path, expected)
        return None

    def unsupported(self, node: Any, path: FieldPath, expected: str) -> None:
        """Record a value JSON cannot hold."""
        tag = getattr(getattr(node, "tag", None), "value", None)
        got = f"a value tagged {tag}" if tag else repr(node)
        self.error(path, f"expected {expected}, got {got}")


def _key_position(node: dict[Any, Any], key: Any) -> Position | None:
    try:
        line, column = node.lc.key(key)  # type: ignore[attr-defined]
    except (KeyError, TypeError, AttributeError):  # a key merged in with '<<' has no position of its own
        return None
    return (int(line) + 1, int(column) + 1)


def _finite(node: int | float | str) -> bool:
    return not isinstance(node, float) or math.isfinite(node)


def _scalar(node: int | float | str) -> int | float | str:
    # Drop ruamel's subclasses (ScalarFloat, LiteralScalarString...) so specs are plain JSON data.
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)
