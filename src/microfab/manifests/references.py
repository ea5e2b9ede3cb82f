"""Cross-reference checks between resources, done on the raw specs.

The checks read the plain spec dicts defensively (a value of the wrong type is skipped, the
schema reports it), so they run even when a spec has other errors and the operator sees every
problem in one pass. A name declared by a document too broken to become a resource still
counts as existing, so one broken document does not cascade into errors elsewhere.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from microfab.domain.formula import FormulaError, placeholders
from microfab.domain.formula import parse as parse_formula
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
    _check_entities(catalog, report)
    _check_transfer_families(catalog, report)


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


def check_product_references(resource: Resource, offered: set[str] | None, report: Report) -> None:
    """Check a Product's names: options, derived values, rules, formulas; capabilities against *offered*."""
    _check_product(resource, offered, report)


def _check_product(resource: Resource, offered: set[str] | None, report: Report) -> None:
    options = _check_options(resource, report)
    known = set(options) | _check_derived(resource, options, report)
    _check_rules(resource, options, known, report)
    for key in ("price", "mass"):
        _check_formula(resource, (*SPEC, key), resource.spec.get(key), known, report, options)
    for section, formulas in (("routing", ("duration", "when")), ("bom", ("quantity", "when"))):
        seen: set[str] = set()
        for index, entry in _entries(resource.spec, section):
            path = (*SPEC, section, index)
            for key in formulas:
                _check_formula(resource, (*path, key), entry.get(key), known, report, options)
            if section != "routing":
                continue
            name = entry.get("name")
            if isinstance(name, str):
                if name in seen:
                    report.at(resource, (*path, "name"), f"step name {name!r} is used twice in the routing")
                seen.add(name)
            capability = entry.get("capability")
            if offered is not None and isinstance(capability, str) and capability not in offered:
                report.at(resource, (*path, "capability"), _not_offered(capability, offered))


def _not_offered(capability: str, offered: set[str]) -> str:
    close = difflib.get_close_matches(capability, sorted(offered), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"no ModuleType offers capability {capability!r}{hint}; offered: {', '.join(sorted(offered)) or 'none'}"


def _check_options(resource: Resource, report: Report) -> dict[str, list[Any] | None]:
    """Check option names are unique; return each option's values (enum), or None for other kinds."""
    options: dict[str, list[Any] | None] = {}
    for index, option in _entries(resource.spec, "options"):
        name = option.get("name")
        if not isinstance(name, str):
            continue
        if name in options:
            report.at(resource, (*SPEC, "options", index, "name"), f"option {name!r} is declared twice")
        values = option.get("values")
        options[name] = values if option.get("type") == "enum" and isinstance(values, list) else None
    return options


def _check_derived(resource: Resource, options: Mapping[str, Any], report: Report) -> set[str]:
    known = set(options)
    for index, entry in _entries(resource.spec, "derived"):
        path = (*SPEC, "derived", index)
        _check_formula(resource, (*path, "formula"), entry.get("formula"), known, report)
        name = entry.get("name")
        if isinstance(name, str):
            if name in known:
                report.at(resource, (*path, "name"), f"{name!r} is already an option or a derived value")
            known.add(name)
    return known - set(options)


def _check_rules(resource: Resource, options: Mapping[str, list[Any] | None], known: set[str], report: Report) -> None:
    ids: set[str] = set()
    for index, rule in _entries(resource.spec, "rules"):
        path = (*SPEC, "rules", index)
        rule_id = rule.get("id")
        if isinstance(rule_id, str):
            if rule_id in ids:
                report.at(resource, (*path, "id"), f"rule id {rule_id!r} is used twice")
            ids.add(rule_id)
        for key in ("then", "expr"):
            _check_formula(resource, (*path, key), rule.get(key), known, report, options)
        when = rule.get("when")
        for i, formula in enumerate(when if isinstance(when, list) else []):
            _check_formula(resource, (*path, "when", i), formula, known, report, options)
        _check_table(resource, path, rule, options, report)
        message = rule.get("message")
        for name in placeholders(message) if isinstance(message, str) else []:
            if name not in known:
                report.at(resource, (*path, "message"), unknown("option", name, known))


def _check_table(
    resource: Resource,
    path: FieldPath,
    rule: Mapping[str, Any],
    options: Mapping[str, list[Any] | None],
    report: Report,
) -> None:
    columns = rule.get("options")
    if not isinstance(columns, list):
        return
    for i, column in enumerate(columns):
        if isinstance(column, str) and column not in options:
            report.at(resource, (*path, "options", i), unknown("option", column, set(options)))
    rows = rule.get("rows")
    for r, row in enumerate(rows if isinstance(rows, list) else []):
        if not isinstance(row, list):
            continue
        for column, value in zip(columns, row, strict=False):
            values = options.get(column) if isinstance(column, str) else None
            if values is not None and value != "*" and value not in values:
                choices = ", ".join(str(v) for v in values)
                report.at(resource, (*path, "rows", r), f"option {column!r} has no value {value!r}; values: {choices}")


def _check_formula(
    resource: Resource,
    path: FieldPath,
    source: Any,
    known: set[str],
    report: Report,
    enums: Mapping[str, list[Any] | None] | None = None,
) -> None:
    """Report the first unknown name or enum value a formula reads (one that does not parse is the schema's job)."""
    enums = enums or {}
    if source is None or isinstance(source, bool):
        return
    try:
        formula = parse_formula(source)
    except FormulaError:
        return
    for name in sorted(formula.names - known):
        report.at(resource, path, f"formula {formula.source!r}: {unknown('option', name, known)}")
        return
    for name, value, values in _enum_literals(formula.tree, enums):
        choices = ", ".join(str(v) for v in values)
        report.at(
            resource, path, f"formula {formula.source!r}: option {name!r} has no value {value!r}; values: {choices}"
        )
        return


def _enum_literals(tree: ast.expr, enums: Mapping[str, list[Any] | None]) -> Iterator[tuple[str, str, list[Any]]]:
    """``(option, text, values)`` for each text an enum option is compared with that it does not offer."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        names = [o.id for o in operands if isinstance(o, ast.Name) and enums.get(o.id) is not None]
        for name in names:
            values = enums[name] or []
            for operand in operands:
                listed = operand.elts if isinstance(operand, ast.Tuple | ast.List) else [operand]
                for item in listed:
                    if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value not in values:
                        yield name, item.value, values


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


_ENTITY_ROLES = (("Market", "a market needs a selling entity"), ("Site", "a site needs an operating entity"))


def _check_entities(catalog: Catalog, report: Report) -> None:
    """Each Market and Site names a declared Entity; naming one is required once any Entity is declared.

    Networks without Entity documents leave ``entity`` out everywhere (the domain keeps ``""``).
    """
    entities = catalog.names("Entity")
    for kind, role in _ENTITY_ROLES:
        for resource in catalog.of(kind).values():
            name = resource.spec.get("entity")
            if isinstance(name, str) and name:
                if name not in entities:
                    report.at(resource, (*SPEC, "entity"), unknown("Entity", name, entities))
            elif name in (None, "") and entities:
                known = ", ".join(sorted(entities))
                report.at(resource, SPEC, f"{role}: add spec.entity, one of {known}")


def _check_transfer_families(catalog: Catalog, report: Report) -> None:
    """Each ``transferPricing`` family of the Network is ``*`` or a family some Product declares."""
    families: set[str] = set()
    for product in catalog.of("Product").values():
        family = product.spec.get("family")
        if not isinstance(family, str):
            return  # a product the schema rejects: its family is unknown, so no family is suspect
        families.add(family)
    if len(catalog.of("Product")) != len(catalog.names("Product")):
        return
    for network in catalog.of("Network").values():
        for index, entry in _entries(network.spec, "transferPricing"):
            family = entry.get("family")
            if isinstance(family, str) and family != "*" and family not in families:
                message = unknown("product family", family, families)
                report.at(network, (*SPEC, "transferPricing", index, "family"), f"{message}; or '*' for every other")
