"""Cross-reference checks between resources, done on the raw specs.

The checks read the plain spec dicts defensively (a value of the wrong type is skipped, the
schema reports it), so they run even when a spec has other errors and the operator sees every
problem in one pass. A name declared by a document too broken to become a resource still
counts as existing, so one broken document does not cascade into errors elsewhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from microfab.manifests.errors import FieldPath
from microfab.manifests.resources import Resource
from microfab.manifests.validation import SPEC, Report


@dataclass
class Catalog:
    """The first resource of each kind and name, plus names declared by broken documents."""

    resources: dict[str, dict[str, Resource]] = field(default_factory=dict)
    declared: set[tuple[str, str]] = field(default_factory=set)

    def of(self, kind: str) -> dict[str, Resource]:
        """Resources of *kind* by name."""
        return self.resources.get(kind, {})

    def names(self, kind: str) -> set[str]:
        """Every declared name of *kind*."""
        return set(self.of(kind)) | {name for k, name in self.declared if k == kind}


def catalog_of(resources: Sequence[Resource], declared: set[tuple[str, str]], report: Report) -> Catalog:
    """Index *resources* by kind and name, reporting each duplicate with the place of the first."""
    catalog = Catalog(declared=set(declared))
    for resource in resources:
        same_kind = catalog.resources.setdefault(resource.kind, {})
        first = same_kind.get(resource.name)
        if first is None:
            same_kind[resource.name] = resource
            continue
        report.at(
            resource,
            ("metadata", "name"),
            f"duplicate {resource.kind} {resource.name!r}: already declared at {first.file}:{first.line}",
        )
    return catalog


def check_references(catalog: Catalog, report: Report) -> None:
    """Report every dangling reference and every rule that spans resources."""
    for resource in catalog.of("Module").values():
        _check_ref(catalog, report, resource, "type", "ModuleType")
        _check_ref(catalog, report, resource, "site", "Site")
    for resource in catalog.of("Lane").values():
        _check_ref(catalog, report, resource, "from", "Site")
        _check_ref(catalog, report, resource, "to", "Market")
    offered = _offered_capabilities(catalog)
    for resource in catalog.of("Product").values():
        _check_product(resource, offered, report)
    _check_site_slots(catalog, report)


def unknown(kind: str, name: str, known: set[str]) -> str:
    """Message for a name that refers to nothing, with a suggestion and the known names."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listing = f"known: {', '.join(sorted(known))}" if known else f"no {kind} is declared"
    return f"unknown {kind} {name!r}{hint}; {listing}"


def _check_ref(catalog: Catalog, report: Report, resource: Resource, key: str, kind: str) -> None:
    name = resource.spec.get(key)
    known = catalog.names(kind)
    if isinstance(name, str) and name not in known:
        report.at(resource, (*SPEC, key), unknown(kind, name, known))


def _entries(container: Mapping[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(index, mapping)`` for each mapping in the list at *key* (other values are the schema's job)."""
    items = container.get(key)
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


def _offered_capabilities(catalog: Catalog) -> set[str] | None:
    """Every capability some ModuleType offers, or None when a ModuleType's list cannot be read."""
    offered: set[str] = set()
    if len(catalog.of("ModuleType")) != len(catalog.names("ModuleType")):
        return None
    for resource in catalog.of("ModuleType").values():
        capabilities = resource.spec.get("capabilities")
        if not isinstance(capabilities, list):
            return None
        offered |= {c for c in capabilities if isinstance(c, str)}
    return offered


def _check_product(resource: Resource, offered: set[str] | None, report: Report) -> None:
    options = _check_options(resource, report)
    for section in ("routing", "bom"):
        seen: set[str] = set()
        for index, entry in _entries(resource.spec, section):
            path = (*SPEC, section, index)
            _check_when(resource, path, entry.get("when"), options, report)
            name = entry.get("name")
            if section == "routing" and isinstance(name, str):
                if name in seen:
                    report.at(resource, (*path, "name"), f"step name {name!r} is used twice in the routing")
                seen.add(name)
            capability = entry.get("capability")
            if (
                section == "routing"
                and offered is not None
                and isinstance(capability, str)
                and capability not in offered
            ):
                report.at(resource, (*path, "capability"), _not_offered(capability, offered))


def _not_offered(capability: str, offered: set[str]) -> str:
    close = difflib.get_close_matches(capability, sorted(offered), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"no ModuleType offers capability {capability!r}{hint}; offered: {', '.join(sorted(offered)) or 'none'}"


def _check_options(resource: Resource, report: Report) -> dict[str, set[str]]:
    """Check option names, choice values and defaults; return the values of each option."""
    options: dict[str, set[str]] = {}
    for index, option in _entries(resource.spec, "options"):
        path = (*SPEC, "options", index)
        name = option.get("name")
        values: set[str] = set()
        for choice_index, choice in _entries(option, "choices"):
            value = choice.get("value")
            if isinstance(value, str):
                if value in values:
                    report.at(resource, (*path, "choices", choice_index, "value"), f"value {value!r} is listed twice")
                values.add(value)
        if not isinstance(name, str):
            continue
        if name in options:
            report.at(resource, (*path, "name"), f"option {name!r} is declared twice")
        options[name] = values
        default = option.get("default")
        if isinstance(default, str) and values and default not in values:
            choices = ", ".join(sorted(values))
            report.at(
                resource, (*path, "default"), f"{default!r} is not a choice of option {name!r}; choices: {choices}"
            )
    return options


def _check_when(resource: Resource, path: FieldPath, when: Any, options: dict[str, set[str]], report: Report) -> None:
    if not isinstance(when, dict):
        return
    for option, wanted in when.items():
        where = (*path, "when", option)
        if option not in options:
            report.at(resource, where, unknown("option", option, set(options)))
            continue
        listed = [(where, wanted)] if isinstance(wanted, str) else []
        if isinstance(wanted, list):
            listed = [((*where, i), value) for i, value in enumerate(wanted) if isinstance(value, str)]
        for value_path, value in listed:
            if value not in options[option]:
                choices = ", ".join(sorted(options[option]))
                report.at(resource, value_path, f"option {option!r} has no value {value!r}; choices: {choices}")


def _check_site_slots(catalog: Catalog, report: Report) -> None:
    """Check each site has room for its modules: the sum of their types' slots <= containerSlots."""
    used: dict[str, int] = {}
    count: dict[str, int] = {}
    for module in catalog.of("Module").values():
        site, size = module.spec.get("site"), _module_slots(catalog, module)
        if isinstance(site, str) and size is not None:
            used[site] = used.get(site, 0) + size
            count[site] = count.get(site, 0) + 1
    for name, site in catalog.of("Site").items():
        slots = site.spec.get("containerSlots")
        if isinstance(slots, int) and not isinstance(slots, bool) and 0 <= slots < used.get(name, 0):
            message = f"modules at site {name!r} need {used[name]} slots ({count[name]} Module documents)"
            report.at(site, (*SPEC, "containerSlots"), f"{message} but containerSlots is {slots}")


def _module_slots(catalog: Catalog, module: Resource) -> int | None:
    """Slots a Module document takes (type slots x replicas), or None when unknown."""
    module_type = catalog.of("ModuleType").get(str(module.spec.get("type")))
    if module_type is None:
        return None
    slots, replicas = module_type.spec.get("slots", 1), module.spec.get("replicas", 1)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in (slots, replicas)):
        return None
    return int(slots) * int(replicas)
