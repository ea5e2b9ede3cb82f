"""``microfab apply``: diff declared resources against the log, then record the changes as events."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from microfab.control.state import NETWORK_STREAM, State
from microfab.domain.events import Event, ModuleDeployed, ModuleRetired, ResourceApplied, ResourceDeleted
from microfab.domain.modules import Module
from microfab.domain.network import Network
from microfab.manifests import Resource, build_network
from microfab.store.base import EventLog

# Deletions go first, then creations in dependency order, so the log replays cleanly.
_KIND_ORDER = [
    "Network",
    "Entity",
    "TaxJurisdiction",
    "Tariff",
    "TradeAgreement",
    "Site",
    "Market",
    "Lane",
    "ModuleType",
    "Module",
    "Product",
]


class Action(enum.StrEnum):
    """What apply does to one resource."""

    CREATE = "create"
    CHANGE = "change"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Change:
    """One resource to create, change or delete."""

    action: Action
    kind: str
    name: str
    resource: Resource | None


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    """Changes that turn the applied state into the declared one, like ``terraform plan``."""

    changes: tuple[Change, ...]
    unchanged: int
    deployed: tuple[str, ...]
    retired: tuple[tuple[str, str], ...]
    network: Network
    base_version: int

    @property
    def empty(self) -> bool:
        """Whether applying would change nothing."""
        return not self.changes

    def count(self, action: Action) -> int:
        """How many changes of one kind."""
        return sum(c.action is action for c in self.changes)


def plan(desired: Sequence[Resource], state: State) -> ApplyPlan:
    """Validate *desired* as a whole network and diff it against *state*.

    Raises `microfab.manifests.ManifestErrors` when the declared network is invalid: then
    nothing may be applied.
    """
    network = build_network(desired)
    wanted = {(r.kind, r.name): r for r in desired}
    changes: list[Change] = []
    for key, applied in state.resources.items():
        if key not in wanted:
            changes.append(Change(Action.DELETE, key[0], key[1], applied))
    for key, resource in wanted.items():
        current = state.resources.get(key)
        if current is None:
            changes.append(Change(Action.CREATE, key[0], key[1], resource))
        elif current.digest != resource.digest:
            changes.append(Change(Action.CHANGE, key[0], key[1], resource))
    changes.sort(key=_order)
    before = state.network.modules if state.has_network else {}
    deployed, retired = _module_diff(before, network)
    unchanged = len(wanted) - sum(c.action is not Action.DELETE for c in changes)
    return ApplyPlan(tuple(changes), unchanged, deployed, retired, network, state.network_version)


def record(plan: ApplyPlan, log: EventLog, at: datetime) -> list[Event]:
    """Append the plan's events to the ``network`` stream in one transaction.

    Raises `microfab.store.base.ConcurrencyError` when someone applied in between.
    """
    events: list[Event] = []
    for change in plan.changes:
        if change.action is Action.DELETE:
            events.append(ResourceDeleted(at, change.kind, change.name))
        else:
            assert change.resource is not None
            r = change.resource
            events.append(ResourceApplied(at, r.kind, r.name, r.digest, change.action.value, r.spec))
    for name, site in plan.retired:
        events.append(ModuleRetired(at, name, site))
    for name in plan.deployed:
        module = plan.network.modules[name]
        events.append(ModuleDeployed(at, name, module.module_type, module.site))
    if events:
        log.append(NETWORK_STREAM, events, expected_version=plan.base_version)
    return events


def _module_diff(before: Mapping[str, Module], after: Network) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Modules to deploy, and (module, site) to retire; a module whose type or site changed is both."""
    deployed, retired = [], []
    for name, module in after.modules.items():
        old = before.get(name)
        if old is None:
            deployed.append(name)
        elif (old.module_type, old.site, old.endpoint) != (module.module_type, module.site, module.endpoint):
            retired.append((name, old.site))
            deployed.append(name)
    retired.extend((name, old.site) for name, old in before.items() if name not in after.modules)
    return tuple(sorted(deployed)), tuple(sorted(retired))


def _order(change: Change) -> tuple[int, int, str]:
    rank = _KIND_ORDER.index(change.kind) if change.kind in _KIND_ORDER else len(_KIND_ORDER)
    if change.action is Action.DELETE:
        return (0, -rank, change.name)
    return (1, rank, change.name)
