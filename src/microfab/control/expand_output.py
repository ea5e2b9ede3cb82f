"""An expansion plan in the network's terms: module names, Module documents, the twin's case, JSON.

Module names
    A deployment of *k* modules of type *t* at site *s* productive from period *p* is one Module
    document ``<s>-<t>-<label of p>`` (``vietnam-anodizing-2027-07``) with ``replicas: k``, so
    its modules are ``<name>-1 .. <name>-k``. A retirement takes the modules of that type at the
    site last in, first out: the newest deployment first, then the existing documents from the
    last one (by name) and, in a document, the highest replica first — so what stays of a
    document is always ``<name>-1 .. <name>-r`` and its ``replicas`` drops to *r* (the document
    is dropped at 0).
The documents
    `write_modules` writes, for every site, ``<site>.yaml`` holding all its Module documents at
    the end of the horizon: existing ones as applied (``replicas`` lowered by retirements; their
    labels are not kept: the applied state does not record them) and the new ones, labelled
    ``microfab.dev/planned-by: plan-expand``, ``microfab.dev/order-by`` (the day to order it,
    productive day minus the type's deploy lead time) and ``microfab.dev/productive-from``
    (the Module kind has no deploy date: the labels carry it). The folder replaces the network's
    Module documents: with the rest of the network it is a whole network (``microfab validate``
    checks it; in ``examples/network`` the files replace ``modules/<site>.yaml`` one for one).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from microfab.control.expand import ExpansionInputs
from microfab.control.network_twin import DemandLine, NetworkCase, NetworkEstimates
from microfab.domain.modules import Module
from microfab.manifests import API_VERSION, Resource
from microfab.manifests.writer import dump_documents
from microfab.planning.expand_problem import ExpansionCosts, ExpansionPlan

PLANNED_BY = "microfab.dev/planned-by"
ORDER_BY = "microfab.dev/order-by"
PRODUCTIVE_FROM = "microfab.dev/productive-from"


@dataclass(frozen=True, slots=True)
class Action:
    """One line of the plan for people: deploy or retire *count* modules of a type at a site, from when."""

    action: str  # "deploy" or "retire"
    site: str
    module_type: str
    count: int
    period: str
    at: datetime
    order_by: datetime | None
    modules: tuple[str, ...]
    document: str


@dataclass(slots=True)
class ModulePlan:
    """The plan's modules: documents at the end of the horizon, per site; when each module enters and leaves."""

    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    new_modules: dict[str, Module] = field(default_factory=dict)
    deploy_at: dict[str, datetime] = field(default_factory=dict)
    retire_at: dict[str, datetime] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)


@dataclass(slots=True)
class _Doc:
    name: str
    spec: dict[str, Any]
    replicas: int | None  # None: a single module named like the document
    labels: dict[str, str] = field(default_factory=dict)

    def module(self, index: int | None) -> str:
        return self.name if index is None else f"{self.name}-{index}"


def module_plan(inputs: ExpansionInputs, plan: ExpansionPlan, resources: Iterable[Resource]) -> ModulePlan:
    """Name the plan's modules and build the Module documents (see the module docstring).

    *resources* are the network's declared resources (the applied ones, or a folder's); only
    ``kind: Module`` ones are used.
    """
    network, spans = inputs.network, inputs.forecast.spans
    docs: dict[str, _Doc] = {}
    stacks: dict[tuple[str, str], list[tuple[_Doc, int | None]]] = {}
    for r in sorted((r for r in resources if r.kind == "Module"), key=lambda r: r.name):
        replicas = r.spec.get("replicas")
        doc = _Doc(r.name, dict(r.spec), replicas if isinstance(replicas, int) else None)
        docs[r.name] = doc
        units = [None] if doc.replicas is None else list(range(1, doc.replicas + 1))
        stacks.setdefault((str(r.spec["site"]), str(r.spec["type"])), []).extend((doc, i) for i in units)
    out = ModulePlan()
    changes = sorted(
        [(c.period, 0, "retire", c) for c in plan.retirements] + [(c.period, 1, "deploy", c) for c in plan.deployments],
        key=lambda item: (item[0], item[1], item[3].site, item[3].module_type),
    )
    for period, _, kind, change in changes:
        span = spans[period]
        stack = stacks.setdefault((change.site, change.module_type), [])
        if kind == "retire":
            gone = [stack.pop() for _ in range(min(change.count, len(stack)))]
            names = []
            for doc, index in gone:
                name = doc.module(index)
                out.retire_at[name] = span.start
                names.append(name)
                doc.replicas = 0 if doc.replicas is None else doc.replicas - 1  # 0: the document goes
            out.actions.append(
                Action(
                    "retire",
                    change.site,
                    change.module_type,
                    change.count,
                    span.label,
                    span.start,
                    None,
                    tuple(names),
                    gone[0][0].name if gone else "",
                )
            )
            continue
        lead = network.module_types[change.module_type].deploy_lead_time
        order_by = span.start - timedelta(seconds=lead.seconds)
        name = _unique(f"{change.site}-{change.module_type}-{span.label}", docs)
        doc = _Doc(
            name,
            {"type": change.module_type, "site": change.site, "replicas": change.count},
            change.count,
            {
                PLANNED_BY: "plan-expand",
                ORDER_BY: order_by.date().isoformat(),
                PRODUCTIVE_FROM: span.start.date().isoformat(),
            },
        )
        docs[name] = doc
        for i in range(1, change.count + 1):
            module = doc.module(i)
            out.new_modules[module] = Module(module, change.module_type, change.site)
            out.deploy_at[module] = span.start
            stack.append((doc, i))
        created = tuple(doc.module(i) for i in range(1, change.count + 1))
        out.actions.append(
            Action(
                "deploy", change.site, change.module_type, change.count, span.label, span.start, order_by, created, name
            )
        )
    for doc in docs.values():
        if doc.replicas == 0:
            continue
        spec = dict(doc.spec)
        if doc.replicas is not None:
            spec["replicas"] = doc.replicas
        metadata: dict[str, Any] = {"name": doc.name}
        if doc.labels:
            metadata["labels"] = dict(doc.labels)
        document = {"apiVersion": API_VERSION, "kind": "Module", "metadata": metadata, "spec": spec}
        out.documents.setdefault(str(spec["site"]), []).append(document)
    for site in network.sites:
        out.documents.setdefault(site, [])
    return out


def _unique(name: str, taken: Mapping[str, object]) -> str:
    name = name[:60].rstrip("-")
    if name not in taken:
        return name
    n = 2
    while f"{name}-v{n}" in taken:
        n += 1
    return f"{name}-v{n}"


def twin_case(
    inputs: ExpansionInputs, plan: ExpansionPlan, modules: ModulePlan, *, breakdowns: bool = True
) -> NetworkCase:
    """The network under the plan's flows: its new modules deployed and retired when the plan says."""
    forecast, network = inputs.forecast, inputs.network
    lines = []
    for flow in plan.flows:
        variant = inputs.variants[flow.family]
        span = forecast.spans[flow.period]
        lines.append(
            DemandLine(
                site=flow.site,
                market=flow.market,
                family=variant.family,
                product=variant.product,
                mix=variant.mix,
                units=flow.units,
                start=span.start,
                end=span.end,
                order_size=variant.order_size,
                due_window=timedelta(seconds=forecast.delivery_window.seconds),
            )
        )
    demanded: dict[str, float] = {}
    for d in forecast.demand:
        demanded[d.market] = demanded.get(d.market, 0.0) + sum(d.units)
    planned = replace(network, modules={**network.modules, **modules.new_modules})
    return NetworkCase(
        network=planned,
        start=forecast.start,
        end=forecast.end,
        demand=tuple(lines),
        deploy_at=dict(modules.deploy_at),
        retire_at=dict(modules.retire_at),
        demanded=demanded,
        breakdowns=breakdowns,
    )


def write_modules(modules: ModulePlan, out: Path, *, header: str, extra: Mapping[str, str] | None = None) -> list[Path]:
    """Write ``<site>.yaml`` per site (and *extra* files, name -> text) into *out*, all or nothing.

    Each file is written beside its target and renamed into place once every file is written.
    """
    out.mkdir(parents=True, exist_ok=True)
    texts = {f"{site}.yaml": _yaml(site, docs, header) for site, docs in sorted(modules.documents.items())}
    texts.update(extra or {})
    temporary: list[tuple[Path, Path]] = []
    try:
        for name, text in texts.items():
            target = out / name
            tmp = out / f".{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            temporary.append((tmp, target))
    except OSError:
        for tmp, _ in temporary:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in temporary:
        os.replace(tmp, target)
    return [target for _, target in temporary]


def _yaml(site: str, documents: list[dict[str, Any]], header: str) -> str:
    stream = io.StringIO()
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    stream.write("\n".join(lines) + "\n")
    stream.write(f"# Module documents of site {site} at the end of the plan's horizon.\n")
    dump_documents(documents, stream)
    return stream.getvalue()


def plan_json(
    inputs: ExpansionInputs,
    plan: ExpansionPlan,
    modules: ModulePlan,
    estimates: NetworkEstimates | None,
) -> dict[str, Any]:
    """The plan as JSON: the solve, costs by kind, actions, fleet, flows by site, lost sales, the twin's figures."""
    problem = inputs.problem
    labels = [p.label for p in problem.periods]
    served = sum(f.units for f in plan.flows)
    wanted = sum(sum(d.units) for d in problem.demands)
    return {
        "status": plan.status.value,
        "solver": plan.solver,
        "currency": problem.currency,
        "objective": round(plan.objective, 2),
        "lower_bound": None if plan.lower_bound is None else round(plan.lower_bound, 2),
        "gap": plan.gap,
        "runtime_s": round(plan.runtime, 3),
        "variables": plan.variables,
        "constraints": plan.constraints,
        "periods": labels,
        "costs": {name: str(getattr(plan.costs, name).amount) for name in ExpansionCosts.NAMES}
        | {"total": str(plan.costs.total.amount)},
        "actions": [
            {
                "action": a.action,
                "site": a.site,
                "module_type": a.module_type,
                "count": a.count,
                "period": a.period,
                "from": a.at.isoformat(),
                "order_by": a.order_by.isoformat() if a.order_by else None,
                "document": a.document,
                "modules": list(a.modules),
            }
            for a in modules.actions
        ],
        "fleet": {f"{s}/{t}": list(counts) for (s, t), counts in sorted(plan.fleet.items()) if any(counts)},
        "units": {"demanded": round(wanted, 3), "served": round(served, 3), "lost": round(wanted - served, 3)},
        "flows": _flows(inputs, plan),
        "lost": [
            {"market": x.market, "family": x.family, "period": labels[x.period], "units": round(x.units, 3)}
            for x in plan.lost
        ],
        "twin": estimates.as_json() if estimates is not None else None,
    }


def _flows(inputs: ExpansionInputs, plan: ExpansionPlan) -> list[dict[str, Any]]:
    """Units per (site, market, family variant) over the horizon, with each period's."""
    periods = len(inputs.problem.periods)
    rows: dict[tuple[str, str, str], list[float]] = {}
    for f in plan.flows:
        rows.setdefault((f.site, f.market, f.family), [0.0] * periods)[f.period] += f.units
    return [
        {"site": s, "market": m, "family": f, "units": round(sum(u), 3), "by_period": [round(x, 3) for x in u]}
        for (s, m, f), u in sorted(rows.items())
    ]
