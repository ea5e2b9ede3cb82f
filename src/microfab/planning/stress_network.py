"""The network a stress test runs on: nodes, demand, bill of materials, alternative sources (checked on construction).

Units: quantities in units of the node's item, rates in units per day, times in days; a
product's ``weight`` is money (the network's ``currency``) lost per unit of unmet demand. What
each field means in the model is in ``docs/stress-tests.md``. Every error is a `NetworkError`
whose message starts with the field's path as the JSON input spells it (``bom[2].part``,
``nodes[4].inventory``, ``demand.stand``), so that the JSON reader can pass it on unchanged.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from microfab.domain.quantities import check_currency


class NetworkError(ValueError):
    """A network field is invalid; ``path`` names it (``bom[2].part``), the message starts with it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class NodeKind(enum.StrEnum):
    """What a node is: it decides where its units come from (see ``docs/stress-tests.md``)."""

    PRODUCT = "product"  # sold against demand; made from its bill of materials
    PART = "part"  # made from its bill of materials, or a stock point fed by the suppliers in `sources`
    RAW = "raw"  # bought in: the model's boundary, supplied at its capacity with no input
    SITE = "site"  # a capacity without stock: one of our sites, a lane, a module-type pool


def _quantity(value: object, path: str, what: str = "a number >= 0", *, unlimited: bool = False) -> float:
    """*value* as a float >= 0 (finite unless *unlimited* allows ``math.inf``), else a `NetworkError` at *path*."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise NetworkError(path, f"expected {what}, got {value!r}")
    number = float(value)
    if math.isnan(number) or number < 0 or (math.isinf(number) and not unlimited):
        raise NetworkError(path, f"expected {what}, got {value}")
    return number


@dataclass(frozen=True, slots=True)
class StressNode:
    """One node: its stock (units), capacity (units/day), days to recover, and for a product the margin per unit lost.

    Parameters
    ----------
    inventory
        Units on hand. They stay usable while the node is down (the disruption stops its output, not its stock).
    pipeline
        Units already on their way to the node, arriving within the window; counted with the inventory.
    capacity
        Units per day the node can make (a site: units of throughput per day, as its consumers' ``qty`` count them);
        ``math.inf``: no limit (the node still stops when it is the one disrupted).
    ttr_days
        Time to recover: days from a disruption until the node runs at full capacity again.
    weight
        Products only: money lost per unit of unmet demand (the margin); None means 1 (impact in units).
    """

    id: str
    kind: NodeKind
    ttr_days: float
    inventory: float = 0.0
    capacity: float = 0.0
    pipeline: float = 0.0
    weight: Decimal | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise NetworkError("id", f"expected a non-empty string, got {self.id!r}")
        if self.kind not in set(NodeKind):
            raise NetworkError("kind", f"expected one of {', '.join(NodeKind)}, got {self.kind!r}")
        object.__setattr__(self, "kind", NodeKind(self.kind))
        try:
            for name in ("ttr_days", "inventory", "pipeline"):
                what = "a number of days >= 0" if name == "ttr_days" else "a number >= 0"
                object.__setattr__(self, name, _quantity(getattr(self, name), name, what))
            capacity = _quantity(self.capacity, "capacity", "units/day >= 0 (inf: unlimited)", unlimited=True)
        except NetworkError as exc:
            raise NetworkError(exc.path, f"{self.kind} {self.id!r}: {exc.message}") from None
        object.__setattr__(self, "capacity", capacity)
        if self.weight is not None:
            if self.kind is not NodeKind.PRODUCT:
                raise NetworkError(
                    "weight", f"{self.kind} {self.id!r}: a weight is the margin lost per unit of a product's demand"
                )
            if not isinstance(self.weight, Decimal):
                raise NetworkError("weight", f"{self.kind} {self.id!r}: expected a Decimal, got {self.weight!r}")
            if not self.weight.is_finite() or self.weight <= 0:
                raise NetworkError("weight", f"{self.kind} {self.id!r}: expected money per unit > 0, got {self.weight}")
        if self.kind is NodeKind.SITE and (self.inventory or self.pipeline):
            raise NetworkError(
                "inventory" if self.inventory else "pipeline",
                f"site {self.id!r} holds no stock of its own: put finished goods on the product or part node",
            )

    @property
    def margin(self) -> Decimal:
        """Money lost per unit of unmet demand (1 when no weight is given)."""
        return self.weight if self.weight is not None else Decimal(1)

    @property
    def stock(self) -> float:
        """Inventory plus pipeline: the units the node can ship whatever happens."""
        return self.inventory + self.pipeline


@dataclass(frozen=True, slots=True)
class BomLine:
    """*parent* consumes *qty* units of *part* per unit it makes (a site: qty units of the site's throughput)."""

    parent: str
    part: str
    qty: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "qty", _quantity(self.qty, "qty", "a quantity > 0"))
        if self.qty == 0:
            raise NetworkError("qty", "expected a quantity > 0, got 0")


@dataclass(frozen=True, slots=True)
class Source:
    """*supplier* may deliver *part* to *parent* instead of the part node itself (an alternative source)."""

    part: str
    parent: str
    supplier: str


@dataclass(frozen=True, slots=True)
class StressNetwork:
    """Nodes, demand (units/day per product), bill of materials, alternative sources, the TTS horizon (days).

    Checked on construction: unique ids; known ids everywhere; numbers >= 0; demand for products
    only; BOM parents that are not raw; sources that name a BOM line, a supplier of a compatible
    kind; every part and product with a source (a BOM or a supplier); no cycle through the BOM
    and the sources.
    """

    nodes: tuple[StressNode, ...]
    demand: Mapping[str, float]
    bom: tuple[BomLine, ...]
    sources: tuple[Source, ...] = ()
    horizon_days: float = 90.0
    currency: str | None = None
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "bom", tuple(self.bom))
        object.__setattr__(self, "sources", tuple(self.sources))
        horizon = _quantity(self.horizon_days, "horizon_days", "a number of days > 0")
        if horizon == 0:
            raise NetworkError("horizon_days", "expected a number of days > 0, got 0")
        object.__setattr__(self, "horizon_days", horizon)
        if self.currency is not None:
            try:
                check_currency(self.currency)
            except ValueError as exc:
                raise NetworkError("currency", str(exc).removeprefix("currency: ")) from None
        index: dict[str, int] = {}
        for position, node in enumerate(self.nodes):
            if node.id in index:
                raise NetworkError(
                    f"nodes[{position}].id", f"duplicate id {node.id!r} (first at nodes[{index[node.id]}])"
                )
            index[node.id] = position
        object.__setattr__(self, "_index", MappingProxyType(index))
        object.__setattr__(self, "demand", MappingProxyType(self._checked_demand()))
        self._check_bom()
        self._check_sources()
        self._check_sourced()
        self._check_acyclic()

    def node(self, node_id: str) -> StressNode:
        """The node called *node_id* (`KeyError` if none)."""
        return self.nodes[self._index[node_id]]

    def position(self, node_id: str) -> int:
        """The position of *node_id* in `nodes`."""
        return self._index[node_id]

    def suppliers(self, line: BomLine) -> tuple[str, ...]:
        """Who may deliver *line*'s part to its parent: the part node itself, then its alternatives in `sources`."""
        extra = tuple(s.supplier for s in self.sources if s.part == line.part and s.parent == line.parent)
        return (line.part, *extra)

    def _known(self, node_id: object, path: str) -> StressNode:
        if not isinstance(node_id, str) or node_id not in self._index:
            raise NetworkError(path, f"unknown node {node_id!r}")
        return self.node(node_id)

    def _checked_demand(self) -> dict[str, float]:
        demand: dict[str, float] = {}
        for product, rate in self.demand.items():
            node = self._known(product, f"demand.{product}")
            if node.kind is not NodeKind.PRODUCT:
                raise NetworkError(f"demand.{product}", f"{product!r} is a {node.kind}: only products have demand")
            demand[product] = _quantity(rate, f"demand.{product}", "a rate >= 0 units/day")
        return demand

    def _check_bom(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        for position, line in enumerate(self.bom):
            parent = self._known(line.parent, f"bom[{position}].parent")
            self._known(line.part, f"bom[{position}].part")
            if parent.kind is NodeKind.RAW:
                raise NetworkError(
                    f"bom[{position}].parent", f"raw material {parent.id!r} is bought in: it has no bill of materials"
                )
            if line.parent == line.part:
                raise NetworkError(f"bom[{position}]", f"cycle: {line.part!r} is a part of itself")
            key = (line.parent, line.part)
            if key in seen:
                raise NetworkError(
                    f"bom[{position}]", f"duplicate line {line.parent!r} <- {line.part!r} (first at bom[{seen[key]}])"
                )
            seen[key] = position

    def _check_sources(self) -> None:
        lines = {(line.parent, line.part) for line in self.bom}
        seen: dict[tuple[str, str, str], int] = {}
        for position, source in enumerate(self.sources):
            part = self._known(source.part, f"sources[{position}].part")
            self._known(source.parent, f"sources[{position}].parent")
            supplier = self._known(source.supplier, f"sources[{position}].supplier")
            if (source.parent, source.part) not in lines:
                raise NetworkError(
                    f"sources[{position}]", f"{source.part!r} is not in the bill of materials of {source.parent!r}"
                )
            if source.supplier == source.part:
                raise NetworkError(
                    f"sources[{position}].supplier", f"{source.part!r} always supplies itself: name an alternative"
                )
            if (part.kind is NodeKind.SITE) != (supplier.kind is NodeKind.SITE):
                raise NetworkError(
                    f"sources[{position}].supplier",
                    f"{supplier.kind} {supplier.id!r} cannot stand in for {part.kind} {part.id!r}: "
                    "a site is replaced by a site, an item by an item",
                )
            key = (source.part, source.parent, source.supplier)
            if key in seen:
                raise NetworkError(f"sources[{position}]", f"duplicate of sources[{seen[key]}]")
            seen[key] = position

    def _check_sourced(self) -> None:
        made = {line.parent for line in self.bom}
        supplied = {source.part for source in self.sources}
        for position, node in enumerate(self.nodes):
            if node.kind not in (NodeKind.PART, NodeKind.PRODUCT) or node.id in made:
                continue
            if node.id not in supplied:
                raise NetworkError(
                    f"nodes[{position}]",
                    f"{node.kind} {node.id!r} has no source: list what it is made of in bom, name its suppliers "
                    "in sources, or declare it kind 'raw' (bought in at its capacity per day)",
                )
            if node.capacity:
                raise NetworkError(
                    f"nodes[{position}].capacity",
                    f"{node.kind} {node.id!r} has no bill of materials, so its capacity would make it from nothing: "
                    "give it a bom, set its capacity to 0 (a stock point fed by its sources) or declare it 'raw'",
                )

    def _check_acyclic(self) -> None:
        """No item may need itself: depth-first over parent -> part and parent -> supplier edges."""
        edges: dict[str, list[tuple[str, str]]] = {}
        for position, line in enumerate(self.bom):
            edges.setdefault(line.parent, []).append((line.part, f"bom[{position}]"))
        for position, source in enumerate(self.sources):
            edges.setdefault(source.parent, []).append((source.supplier, f"sources[{position}]"))
        state: dict[str, int] = {}  # 1 on the current path, 2 done
        for root in self._index:
            if state.get(root):
                continue
            path: list[tuple[str, str]] = [(root, "")]
            stack = [iter(edges.get(root, ()))]
            state[root] = 1
            while stack:
                step = next(stack[-1], None)
                if step is None:
                    state[path.pop()[0]] = 2
                    stack.pop()
                    continue
                target, where = step
                if state.get(target) == 1:
                    start = next(i for i, (n, _) in enumerate(path) if n == target)
                    cycle = " -> ".join([*(n for n, _ in path[start:]), target])
                    raise NetworkError(where, f"cycle through {target!r}: {cycle}")
                if not state.get(target):
                    state[target] = 1
                    path.append((target, where))
                    stack.append(iter(edges.get(target, ())))
