"""`Resource`: one manifest document reduced to kind, name and a plain JSON spec, with its digest.

A `Resource` is what the control layer stores in the event log and compares on ``apply``. Its
``positions`` side table (line and column of every key of the document, filled by
`~microfab.manifests.load_resources`) is excluded from equality and from the digest, so a
resource rebuilt from the log without it compares equal to the one read from YAML; errors
about such a resource fall back to its ``line``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from microfab.manifests.errors import FieldPath

API_VERSION: Final = "microfab.dev/v1"
"""The only ``apiVersion`` this release reads."""

KINDS: Final = (
    "Network",
    "Site",
    "Market",
    "Lane",
    "ModuleType",
    "Module",
    "Product",
    "Entity",
    "TaxJurisdiction",
    "Tariff",
    "TradeAgreement",
)
"""Every kind of document, in the order a network is built (``Entity`` is listed after ``Product``
so messages that list the kinds keep the older kinds first; references are checked by name, so the
position does not change what a network means)."""

Position = tuple[int, int]
"""1-based ``(line, column)`` of a key or list item in its file."""


@dataclass(frozen=True)
class Resource:
    """One declared object: ``kind``, ``metadata.name`` and ``spec`` as written, where it came from, its digest.

    Parameters
    ----------
    kind
        One of `KINDS`.
    name
        ``metadata.name``.
    spec
        The ``spec`` mapping as plain JSON data (camelCase keys; str, int, float, bool, None, list, dict).
    file, line
        Where the document starts (``"<log>"`` and the stored line for resources rebuilt from the log).
    digest
        `digest_of` the kind, name and spec: equal digests mean nothing to apply.
    positions
        ``{field path: (line, column)}`` of every key and list item of the document, paths from the
        document root (``("spec", "routing", 2, "duration")``). Not compared, not hashed, not stored.
    """

    kind: str
    name: str
    spec: dict[str, Any]
    file: str
    line: int
    digest: str
    positions: Mapping[FieldPath, Position] = field(default_factory=dict, compare=False, repr=False)

    def position(self, path: FieldPath) -> Position:
        """Where *path* is written, else its nearest written parent, else the document start."""
        for end in range(len(path), 0, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return found
        return (self.line, 1 if self.line else 0)

    @property
    def ref(self) -> str:
        """``Kind/name``, as used in messages."""
        return f"{self.kind}/{self.name}"


def canonical_json(kind: str, name: str, spec: Mapping[str, Any]) -> str:
    """Return the canonical JSON text of a resource: sorted keys, no spaces, UTF-8 kept as is."""
    document = {"kind": kind, "name": name, "spec": spec}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest_of(kind: str, name: str, spec: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of `canonical_json` of the resource."""
    return hashlib.sha256(canonical_json(kind, name, spec).encode("utf-8")).hexdigest()
