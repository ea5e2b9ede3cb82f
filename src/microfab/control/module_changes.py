"""Deploy and retire modules from the console, as manifests: one Module document changed, planned, applied.

The console never edits the network behind the manifests' back. A change is the applied
resources with one ``kind: Module`` document added, re-scaled (``replicas``) or removed; it is
planned exactly like ``microfab apply`` (`microfab.control.apply.plan`: the whole declared
network is validated, so a site out of container slots or an unknown module type is refused
with the manifest error), and recorded only against the network version it was planned on:
someone else's apply in between is a `StalePlanError`, never a silent overwrite.

The document the console writes is shown as YAML, so what the console did can be copied into
the manifests folder that is the source of truth (the next ``microfab apply`` of a folder
without it would retire the module again, and says so in its plan).
"""

from __future__ import annotations

import enum
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from microfab.control.apply import ApplyPlan, plan, record
from microfab.control.state import State
from microfab.domain.events import Event
from microfab.manifests import Resource
from microfab.manifests.resources import API_VERSION, digest_of
from microfab.manifests.writer import dump_documents
from microfab.store.base import EventLog

__all__ = [
    "ModuleAction",
    "ModuleChange",
    "ModuleChangeError",
    "StalePlanError",
    "apply_change",
    "document_yaml",
    "module_documents",
    "plan_change",
]

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
SOURCE = "<console>"
"""The file name of documents the console writes (where a manifest error points)."""


class ModuleAction(enum.StrEnum):
    """What the console does to one Module document."""

    DEPLOY = "deploy"  # a new document
    SCALE = "scale"  # the same document with another number of replicas
    RETIRE = "retire"  # the document removed: every module it declares retires


class ModuleChangeError(ValueError):
    """The change itself is malformed (the message names the field)."""


class StalePlanError(RuntimeError):
    """The network changed after the plan was made: plan again."""


@dataclass(frozen=True, slots=True)
class ModuleChange:
    """One change to a site's Module documents.

    Parameters
    ----------
    action
        Deploy a new document, scale an existing one, or retire one.
    name
        ``metadata.name`` of the document (modules are named ``<name>`` or ``<name>-1..N``).
    site
        The site the document is (or will be) at; a document of another site is refused.
    module_type
        The ModuleType of a new document.
    replicas
        How many modules the document declares after the change (deploy and scale; 1 or more).
    """

    action: ModuleAction
    name: str
    site: str
    module_type: str | None = None
    replicas: int = 1


def module_documents(state: State, site: str) -> list[Resource]:
    """The applied Module documents of *site*, by name."""
    return sorted(
        (r for r in state.resources.values() if r.kind == "Module" and r.spec.get("site") == site),
        key=lambda r: r.name,
    )


def plan_change(state: State, change: ModuleChange) -> tuple[ApplyPlan, Resource | None]:
    """The apply plan of *change* on the applied network, and the document as it will read (None: removed).

    Raises `ModuleChangeError` for a malformed change and `microfab.manifests.ManifestErrors`
    when the network it leads to is invalid (the errors point at ``<console>``).
    """
    current = state.resources.get(("Module", change.name))
    if not _NAME.match(change.name):
        raise ModuleChangeError(f"name: expected lowercase letters, digits and '-' (at most 63), got {change.name!r}")
    if change.action is not ModuleAction.RETIRE and not 1 <= change.replicas <= 100:
        raise ModuleChangeError(f"replicas: expected 1 to 100, got {change.replicas}")
    if change.action is ModuleAction.DEPLOY:
        if current is not None:
            raise ModuleChangeError(f"name: a Module document {change.name!r} exists already (scale it instead)")
        if not change.module_type:
            raise ModuleChangeError("module_type: expected the ModuleType to deploy")
        spec: dict[str, Any] = {"type": change.module_type, "site": change.site}
        if change.replicas > 1:
            spec["replicas"] = change.replicas
    else:
        if current is None or current.spec.get("site") != change.site:
            raise ModuleChangeError(f"name: no Module document {change.name!r} at site {change.site!r}")
        spec = {k: v for k, v in current.spec.items() if k != "replicas"}
        if change.action is ModuleAction.SCALE and (change.replicas > 1 or "replicas" in current.spec):
            spec["replicas"] = change.replicas
    desired = [r for key, r in state.resources.items() if key != ("Module", change.name)]
    document = None
    if change.action is not ModuleAction.RETIRE:
        document = Resource("Module", change.name, spec, SOURCE, 1, digest_of("Module", change.name, spec))
        desired.append(document)
    return plan(desired, state), document


def apply_change(
    state: State, log: EventLog, change: ModuleChange, *, base_version: int, at: datetime
) -> tuple[ApplyPlan, list[Event]]:
    """Plan *change* again and record it, if the network is still at *base_version* (else `StalePlanError`)."""
    if state.network_version != base_version:
        raise StalePlanError(
            f"the network moved from version {base_version} to {state.network_version} since the plan: plan again"
        )
    planned, _ = plan_change(state, change)
    return planned, record(planned, log, at)


def document_yaml(document: Resource | None, *, name: str) -> str:
    """The Module document as YAML for the manifests folder (or a comment when it is removed)."""
    if document is None:
        return f"# kind: Module {name!r} removed: delete its document from the manifests folder\n"
    stream = io.StringIO()
    dump_documents(
        [{"apiVersion": API_VERSION, "kind": "Module", "metadata": {"name": document.name}, "spec": document.spec}],
        stream,
        explicit_start=False,
    )
    return stream.getvalue()
