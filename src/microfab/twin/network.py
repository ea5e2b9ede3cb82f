"""The standalone model of a declared network: one `StationSpec` per module of the manifests.

Times are seconds (``Scenario.time_unit = 1``). Each module's type gives its capabilities,
speed, setup, exponential MTBF / MTTR, yield, failure clock and repair policy; *maintenance*
(planned downtime), *outages* (forced, unplanned downtime: a site outage, a recall), *deploy_at*
and *retire_at* (seconds from the run's start, by module name) add the plans.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from microfab.domain.network import Network
from microfab.twin.distributions import Constant, Exponential
from microfab.twin.scenario import StationSpec, Window


def stations_of(
    network: Network,
    *,
    breakdowns: bool = True,
    maintenance: Mapping[str, Sequence[Window]] | None = None,
    outages: Mapping[str, Sequence[Window]] | None = None,
    deploy_at: Mapping[str, float] | None = None,
    retire_at: Mapping[str, float] | None = None,
) -> tuple[StationSpec, ...]:
    """The modules of *network*, in name order (which fixes each module's random streams)."""
    maintenance, outages = maintenance or {}, outages or {}
    deploy_at, retire_at = deploy_at or {}, retire_at or {}
    known = set(network.modules)
    tables = (("maintenance", maintenance), ("outages", outages), ("deploy_at", deploy_at), ("retire_at", retire_at))
    for label, table in tables:
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(f"{label}: no module named {', '.join(map(repr, unknown))} in network {network.name!r}")
    out: list[StationSpec] = []
    for name in sorted(network.modules):
        module = network.modules[name]
        kind = network.module_types[module.module_type]
        mttr = float(kind.mttr.seconds)
        out.append(
            StationSpec(
                name=name,
                capabilities=kind.capabilities,
                site=module.site,
                setup=float(kind.setup_time.seconds),
                speed=float(kind.speed),
                time_to_failure=Exponential(float(kind.mtbf.seconds)) if breakdowns else None,
                time_to_repair=Exponential(mttr) if mttr > 0 else Constant(0.0),
                failure_clock=kind.failure_clock,
                repair_policy=kind.repair_policy,
                yield_rate=float(kind.yield_rate),
                maintenance=tuple(maintenance.get(name, ())),
                outages=tuple(outages.get(name, ())),
                deploy_at=deploy_at.get(name, 0.0),
                retire_at=retire_at.get(name, math.inf),
            )
        )
    return tuple(out)
