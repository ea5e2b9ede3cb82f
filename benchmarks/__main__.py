"""Run the benchmarks, each beside its peer baseline: ``python -m benchmarks [NAME ...] [--quick]``."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from benchmarks import api_load, configurator, event_log, expansion, opcua, planning, quote, scheduler, stress, twin

BENCHMARKS: dict[str, Callable[..., None]] = {
    "scheduler": scheduler.main,
    "configurator": configurator.main,
    "quote": quote.main,
    "planning": planning.main,
    "expansion": expansion.main,
    "stress": stress.main,
    "twin": twin.main,
    "eventlog": event_log.main,
    "api": api_load.main,
    "opcua": opcua.main,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("which", nargs="*", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="fewer instances, runs and events")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name, run in BENCHMARKS.items():  # always in this order, whatever the order asked
        if name in args.which:
            run(quick=args.quick)


if __name__ == "__main__":
    main()
