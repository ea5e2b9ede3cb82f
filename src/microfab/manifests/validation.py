"""Validate specs with the pydantic models and turn every failure into a `ManifestError` at its line."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from microfab.manifests.errors import FieldPath, ManifestError, dotted
from microfab.manifests.resources import Resource
from microfab.manifests.schema import SPEC_MODELS, SpecModel

SPEC: FieldPath = ("spec",)


class Report:
    """Collects errors about resources, each placed at the line of the field it names."""

    def __init__(self) -> None:
        self.errors: list[ManifestError] = []
        self._paths: dict[int, list[FieldPath]] = {}

    def at(self, resource: Resource, path: FieldPath, message: str) -> None:
        """Record *message* about *path* (from the document root) of *resource*."""
        line, column = resource.position(path)
        self.errors.append(ManifestError(resource.file, line, column, dotted(path), message))
        self._paths.setdefault(id(resource), []).append(path)

    def has_errors(self, resource: Resource, under: FieldPath) -> bool:
        """Whether an error was already recorded at *under* or inside it, for this very resource."""
        return any(path[: len(under)] == under for path in self._paths.get(id(resource), []))

    def add(self, errors: Iterable[ManifestError]) -> None:
        """Record errors found elsewhere."""
        self.errors.extend(errors)


def validate_spec(resource: Resource, report: Report) -> SpecModel | None:
    """Return the spec of *resource* as its kind's model, or None after reporting every problem."""
    model = SPEC_MODELS[resource.kind]
    try:
        return model.model_validate(resource.spec)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = (*SPEC, *error["loc"])
            report.at(resource, path, describe(error, model))
        return None


def describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """Say what is wrong and what was expected, in the operator's words."""
    kind, loc, given = error["type"], error["loc"], error.get("input")
    message = error["msg"]
    if kind == "missing":
        info = _field_at(model, loc)
        wanted = info.description if info is not None and info.description else "a value"
        return f"missing: expected {wanted}"
    if kind == "extra_forbidden":
        return _unknown_field(model, loc)
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"expected a mapping, got {given!r}"
    if kind == "too_short":
        return f"expected at least one item, got {given!r}"
    if message.startswith("expected"):  # our own field types already say it all
        return message
    if message.startswith("Input should be "):
        wanted = message.removeprefix("Input should be ")
        message = f"expected {'a value ' if wanted.startswith(('greater', 'less')) else ''}{wanted}"
    return f"{message}, got {given!r}"


def _unknown_field(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    key = str(loc[-1])
    parent = _model_at(model, loc[:-1])
    if parent is None:  # pragma: no cover - pydantic only forbids extras on models
        return f"unknown field {key!r}"
    allowed = [info.alias or name for name, info in parent.model_fields.items()]
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {key!r}{hint}; expected one of: {', '.join(allowed)}"


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = _by_alias(current, part) if current is not None else None
        current = _model_in(info.annotation) if info is not None else None
    return current


def _field_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> FieldInfo | None:
    parent = _model_at(model, loc[:-1])
    return _by_alias(parent, str(loc[-1])) if parent is not None else None


def _by_alias(model: type[BaseModel], alias: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if (info.alias or name) == alias:
            return info
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """Find the model class an annotation holds, through ``list[...]``, ``X | None`` and the like."""
    if typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
