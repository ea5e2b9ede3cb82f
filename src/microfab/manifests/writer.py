"""Write manifest documents as YAML the way the folders are written: block style, keys in the order given."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any

from ruamel.yaml import YAML

__all__ = ["dump_documents"]


def dump_documents(documents: Iterable[Mapping[str, Any]], stream: IO[str], *, explicit_start: bool = True) -> None:
    """Append *documents* to *stream* as a YAML stream (each after ``---`` when *explicit_start*); none: nothing."""
    items = [dict(d) for d in documents]
    if not items:
        return
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # typed None in ruamel
    yaml.explicit_start = explicit_start
    yaml.dump_all(items, stream)
